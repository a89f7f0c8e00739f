// Fixtures for the live tests (subscriptions, replays, publishes): a dev cluster + lake + gateway per test, independent
// oracles (kcat reading Kafka, a plain DuckDB over the lake's visible files), and a raw graphql-transport-ws client
// that can stop reading its socket (a stalled subscriber).

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import pino, { type Logger } from 'pino';
import WebSocket from 'ws';
import { loadConfig, type Catalog } from '../../config';
import { startGateway, type Gateway } from '../../server';
import { createKafkaLake, quietLogger, visibleFiles, type KafkaLake } from './kafka-fixture';
import { TEST_CONFIG } from './lake-fixture';

const run = promisify(execFile);

export interface LiveEnv {
  kl: KafkaLake;
  gw: Gateway;
}

/** Config text after `datasets:` is the fixture's; `extra` is YAML for the top level (ingest:, subscriptions:). */
export const DEFAULT_INGEST = `ingest:\n  flushIntervalMs: 300\n  groupId: live-test-ingest\n  compaction:\n    enabled: false\n`;

/** A dev cluster, a lake and a gateway (in-process ingestion when `ingest`), all disposed after the test. */
export async function startLive(
  t: TestContext,
  opts: { extra?: string; ingest?: boolean; partitions?: number; brokers?: number; beforeStart?: (kl: KafkaLake) => Promise<void>; logger?: Logger } = {},
): Promise<LiveEnv> {
  const kl = await createKafkaLake(t, { partitions: opts.partitions ?? 4, brokers: opts.brokers, ingest: opts.extra ?? DEFAULT_INGEST });
  await opts.beforeStart?.(kl);
  const gw = await startGateway({ catalog: kl.catalog, logger: opts.logger ?? quietLogger(), port: 0, host: '127.0.0.1', ingest: opts.ingest ?? false });
  kl.defer(() => gw.stop());
  return { kl, gw };
}

/** A valid OrderInput of the test catalog, every field set (quotes and a non-ASCII character in `note`). */
export function orderInput(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    customerId: `cust-${id}`,
    amount: 12.5,
    quantity: 3,
    total: '9007199254740993',
    paid: true,
    status: 'paid',
    note: `it's "quoted" ☕`,
    shipDate: '2026-11-22',
    createdAt: '2026-11-21T10:00:00.123Z',
    tags: ['a', 'b'],
    scores: [1, -2],
    attributes: { x: { y: [1, null, 'z'] } },
    ...extra,
  };
}

/** Another catalog for the same lake and cluster, with its own top-level YAML (same datasets: same GraphQL types). */
export function catalogWith(kl: KafkaLake, name: string, extra: string): Catalog {
  const file = path.join(kl.dir, `${name}.yaml`);
  writeFileSync(file, TEST_CONFIG(kl.lakePath, `kafka:\n  brokers: ${JSON.stringify(kl.dc.brokers)}\n  clientId: lakegate-test\n${extra}`));
  return loadConfig(file, { env: {} });
}

// ---- kcat: an independent Kafka client -------------------------------------------------------------------------------

export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
}

/** The one message at (partition, offset), read by kcat. */
export async function kcatAt(brokers: string, topic: string, partition: number, offset: number | string): Promise<KcatMessage> {
  const { stdout } = await run('kcat', ['-C', '-b', brokers, '-t', topic, '-p', String(partition), '-o', String(offset), '-c', '1', '-e', '-q', '-J'], { timeout: 20_000 });
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`kcat found no message at ${topic}[${partition}]@${offset}: ${JSON.stringify(stdout)}`);
  return JSON.parse(line) as KcatMessage;
}

/** Every message of a topic, read by kcat from the beginning to the end. */
export async function kcatAll(brokers: string, topic: string): Promise<KcatMessage[]> {
  const { stdout } = await run('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-J'], { timeout: 60_000, maxBuffer: 512 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as KcatMessage);
}

/** High watermark of every partition (kcat -Q with timestamp -1: the end offset). */
export async function kcatEnds(brokers: string, topic: string, partitions: number): Promise<Map<number, number>> {
  const args = ['-Q', '-b', brokers];
  for (let p = 0; p < partitions; p++) args.push('-t', `${topic}:${p}:-1`);
  const { stdout } = await run('kcat', args, { timeout: 20_000 });
  const out = new Map<number, number>();
  for (const m of stdout.matchAll(/\[(\d+)\] offset (-?\d+)/g)) out.set(Number(m[1]), Number(m[2]));
  if (out.size !== partitions) throw new Error(`kcat -Q answered ${JSON.stringify(stdout)}`);
  return out;
}

// ---- a plain DuckDB over the lake's visible files ---------------------------------------------------------------------

export interface LakeSql {
  /** Runs `text` with `{src}` replaced by a read_parquet of the dataset's visible files (taken now). */
  query(dataset: string, text: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

export async function lakeSql(kl: KafkaLake): Promise<LakeSql> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`SET TimeZone = 'UTC'`);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.closeSync();
    db.closeSync();
  };
  kl.defer(close);
  return {
    async query(dataset, text) {
      const files = await visibleFiles(path.join(kl.lakePath, dataset));
      if (files.length === 0) return [];
      const src = `read_parquet([${files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}], union_by_name = true)`;
      const r = await conn.runAndReadAll(text.replaceAll('{src}', src));
      return r.getRowObjectsJson() as Record<string, unknown>[];
    },
    close,
  };
}

// ---- raw graphql-transport-ws ----------------------------------------------------------------------------------------

export interface RawWs {
  ws: WebSocket;
  /** Messages received (parsed), in order. */
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  subscribe(id: string, query: string, variables?: Record<string, unknown>): void;
  /** Stop reading the socket: the kernel buffers fill, then the server's. */
  pause(): void;
  resume(): void;
}

/** Connects and completes connection_init/ack. */
export async function rawWs(url: string, opts: { origin?: string } = {}): Promise<RawWs> {
  const ws = new WebSocket(url, 'graphql-transport-ws', { origin: opts.origin, perMessageDeflate: false });
  const messages: any[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode} on upgrade`)));
  });
  ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  const deadline = Date.now() + 10_000;
  while (!messages.some((m) => m.type === 'connection_ack')) {
    if (Date.now() > deadline) throw new Error('no connection_ack');
    await new Promise((r) => setTimeout(r, 10));
  }
  const sock = () => (ws as unknown as { _socket: import('node:net').Socket })._socket;
  return {
    ws,
    messages,
    closed,
    subscribe(id, query, variables) {
      ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    },
    pause: () => sock().pause(),
    resume: () => sock().resume(),
  };
}

/** The HTTP status of a websocket upgrade with this Origin (101 when accepted). */
export function upgradeStatus(url: string, origin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', origin === undefined ? {} : { origin });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

// ---- misc -------------------------------------------------------------------------------------------------------------

/** "p:o" of a delivered event's _meta. */
export const posOf = (e: { _meta: { partition: number; offset: string } }) => `${e._meta.partition}:${e._meta.offset}`;

/** Per partition, offsets strictly increasing (in order, no duplicate); returns the first violation or null. */
export function orderViolation(events: Array<{ _meta: { topic?: string; partition: number; offset: string } }>): string | null {
  const last = new Map<string, bigint>();
  for (const [i, e] of events.entries()) {
    const k = `${e._meta.topic ?? ''}/${e._meta.partition}`;
    const o = BigInt(e._meta.offset);
    const prev = last.get(k);
    if (prev !== undefined && o <= prev) return `event #${i} ${k}@${o} after ${k}@${prev}`;
    last.set(k, o);
  }
  return null;
}

/** Set difference both ways, for readable assertion messages. */
export function diffSets(got: Iterable<string>, want: Iterable<string>): { missing: string[]; extra: string[] } {
  const g = new Set(got);
  const w = new Set(want);
  return { missing: [...w].filter((x) => !g.has(x)), extra: [...g].filter((x) => !w.has(x)) };
}

export function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Visible data files of a dataset (the independent walk of kafka-fixture). */
export function visibleFilesOf(kl: KafkaLake, dataset: string): Promise<string[]> {
  return visibleFiles(path.join(kl.lakePath, dataset));
}

/** A logger at info level that keeps the message of every line (what the gateway said it did), printing nothing. */
export function recordingLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const logger = pino({ level: 'info' }, {
    write(line: string) {
      try {
        messages.push(String(JSON.parse(line).msg));
      } catch {
        /* not JSON */
      }
    },
  });
  return { logger, messages };
}
