// Self-disposing Kafka fixtures: a dev cluster (librdkafka mock) per test, a temp lake and config pointing at it,
// an independent kafkajs producer that records where the acks say each event landed, and an independent lake reader
// (its own file walk and its own DuckDB) to compare the lake with the produced set.

import { mkdtempSync, rmSync, writeFileSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import pino from 'pino';
import { loadConfig, type Catalog } from '../../config';
import { createKafkaClient, type KafkaClient } from '../../kafka';
import { createLakeEngine, type LakeEngine } from '../../lake';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster';
import { TEST_CONFIG } from './lake-fixture';

const run = promisify(execFile);
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export async function buildDevCluster(): Promise<void> {
  await run('bash', [path.join(repoRoot, 'tools', 'dev-cluster', 'build.sh')]);
}

export const quietLogger = () => pino({ level: process.env.LAKEGATE_TEST_LOG ?? 'silent' });

/** Disposers run last-registered first (node:test runs t.after hooks in registration order). */
export function cleanupStack(t: TestContext): (fn: () => unknown) => void {
  const stack: Array<() => unknown> = [];
  t.after(async () => {
    while (stack.length > 0) {
      try {
        await stack.pop()!();
      } catch (err) {
        console.error('cleanup failed:', err);
      }
    }
  });
  return (fn) => void stack.push(fn);
}

export interface KafkaLake {
  /** Register a disposer; they run in reverse order after the test. */
  defer: (fn: () => unknown) => void;
  dc: DevCluster;
  dir: string;
  lakePath: string;
  configFile: string;
  catalog: Catalog;
}

/** A dev cluster with the fixture topics and a lake + config (TEST_CONFIG's datasets) wired to it. */
export async function createKafkaLake(
  t: TestContext,
  opts: { brokers?: number; partitions?: number; ingest?: string; keep?: boolean } = {},
): Promise<KafkaLake> {
  const partitions = opts.partitions ?? 4;
  const defer = cleanupStack(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lakegate-ingest-'));
  if (!opts.keep) defer(() => rmSync(dir, { recursive: true, force: true }));
  const dc = await startDevCluster({ brokers: opts.brokers ?? 3, topics: { orders: partitions, customers: 1, 'orders.dlq': 1 } });
  defer(() => dc.stop());
  const lakePath = path.join(dir, 'lake');
  const configFile = path.join(dir, 'lakegate.yaml');
  const ingest = opts.ingest ?? `ingest:\n  flushIntervalMs: 500\n  groupId: test-ingest\n`;
  writeFileSync(configFile, TEST_CONFIG(lakePath, `kafka:\n  brokers: ${JSON.stringify(dc.brokers)}\n  clientId: lakegate-test\n${ingest}`));
  return { defer, dc, dir, lakePath, configFile, catalog: loadConfig(configFile) };
}

/** lakegate's DuckDB engine over the fixture's lake and its Kafka client for the fixture's cluster, closed after the test. */
export async function lakeEngineAndKafka(kl: KafkaLake): Promise<{ engine: LakeEngine; kafka: KafkaClient }> {
  const engine = await createLakeEngine({ lakePath: kl.lakePath });
  kl.defer(() => engine.close());
  const kafka = createKafkaClient(kl.catalog.kafka);
  kl.defer(() => kafka.close());
  return { engine, kafka };
}

/** Produced events: "partition:offset" → the JSON value, as the broker's acks placed them. */
export type Produced = Map<string, string>;

export function orderEvent(i: number, opts: { day?: string } = {}): Record<string, unknown> {
  const day = opts.day ?? '2026-11-21';
  const ms = Date.parse(`${day}T00:00:00Z`) + (i * 7_919) % 86_400_000;
  return {
    id: `o-${i}`,
    customerId: `c-${i % 97}`,
    amount: Math.round(i * 137.5) / 100,
    quantity: i % 13 === 0 ? null : (i % 9) + 1,
    total: String(BigInt(i) * 1_000_000_007n),
    paid: i % 3 === 0,
    status: ['new', 'paid', 'shipped', 'ünïcödé'][i % 4],
    createdAt: new Date(ms).toISOString(),
    tags: i % 5 === 0 ? [] : [`t${i % 7}`, 'x'],
    scores: [i % 100, 1],
    attributes: i % 6 === 0 ? null : { n: i, nested: { ok: true } },
  };
}

export interface TrackedProducer {
  producer: Producer;
  produced: Produced;
  /** Sends events (values already serialized) and records the acked offsets of each. */
  /** timestamp: the record's CreateTime in epoch ms (default: the producer's clock). */
  send(values: Array<{ key: string | null; value: string; partition?: number; timestamp?: number }>): Promise<void>;
}

export async function trackedProducer(kl: KafkaLake, topic = 'orders'): Promise<TrackedProducer> {
  const dc = kl.dc;
  const kafka = new Kafka({ brokers: dc.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 2_000, requestTimeout: 10_000 });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 2_000 } });
  await producer.connect();
  kl.defer(() => producer.disconnect());
  const produced: Produced = new Map();
  return {
    producer,
    produced,
    async send(values) {
      // One message per partition per request, so baseOffset + rank is exact for every message.
      const byPart = new Map<number, typeof values>();
      for (const v of values) {
        const p = v.partition ?? 0;
        let a = byPart.get(p);
        if (!a) byPart.set(p, (a = []));
        a.push(v);
      }
      await Promise.all(
        [...byPart].map(async ([p, vs]) => {
          const res = await producer.send({ topic, acks: -1, messages: vs.map((v) => ({ key: v.key, value: v.value, partition: p, ...(v.timestamp === undefined ? {} : { timestamp: String(v.timestamp) }) })) });
          const base = BigInt(res[0]!.baseOffset!);
          vs.forEach((v, k) => produced.set(`${p}:${base + BigInt(k)}`, v.value));
        }),
      );
    },
  };
}

/** Visible data files, walked independently of lake/layout.ts: `_` and `.` names are not data. */
export async function visibleFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('_') || e.name.startsWith('.')) continue;
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.name.endsWith('.parquet')) out.push(full);
    }
  };
  await walk(root);
  return out.sort();
}

export interface LakeRow {
  key: string;
  id: string;
  count: number;
}

/** What a plain DuckDB reader (no lakegate code) finds: every (partition, offset) with its row count and id. */
export async function readLakeIndependently(datasetDir: string): Promise<{ rows: Map<string, { id: string; n: number }>; duplicates: number; files: number }> {
  const files = await visibleFiles(datasetDir);
  const rows = new Map<string, { id: string; n: number }>();
  if (files.length === 0) return { rows, duplicates: 0, files: 0 };
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    const reader = await conn.runAndReadAll(
      `SELECT _partition AS p, CAST(_offset AS VARCHAR) AS o, min(id) AS id, count(*) AS n FROM read_parquet([${list}], union_by_name = true) GROUP BY ALL`,
    );
    let duplicates = 0;
    for (const r of reader.getRowObjectsJson()) {
      const n = Number(r.n);
      if (n > 1) duplicates += n - 1;
      rows.set(`${r.p}:${r.o}`, { id: String(r.id), n });
    }
    return { rows, duplicates, files: files.length };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Compare the lake with the produced set: missing and extra keys, duplicates, ids that do not match. */
export async function compareLake(datasetDir: string, expected: Map<string, string>) {
  const { rows, duplicates, files } = await readLakeIndependently(datasetDir);
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [k, v] of expected) {
    const got = rows.get(k);
    if (!got) missing.push(k);
    else if (got.id !== String(JSON.parse(v).id)) wrong.push(k);
  }
  const extra = [...rows.keys()].filter((k) => !expected.has(k));
  return { missing, extra, duplicates, wrong, files, rows: rows.size };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | false | null | undefined> | T | false | null | undefined, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
