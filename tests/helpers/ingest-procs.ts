// Real `lakegate ingest` / `lakegate compact` child processes for fault tests, a producer that keeps producing while
// faults happen (the acked (partition, offset) set stays the oracle), and lake checks that need no lakegate code.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { KafkaLake, TrackedProducer } from './kafka-fixture';
import { orderEvent, repoRoot, visibleFiles } from './kafka-fixture';
import { TEST_CONFIG } from './lake-fixture';

/** The `lakegate` CLI the children run (LAKEGATE_TEST_MAIN: another build of it, e.g. an instrumented copy). */
export const MAIN = process.env.LAKEGATE_TEST_MAIN ?? path.join(repoRoot, 'dist', 'cli', 'main.js');
const OUTPUT_KEEP = 64_000;

/** The environment without any LAKEGATE_* override from the developer's shell; children log at warn. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LAKEGATE_') && k !== 'NODE_ENV') env[k] = v;
  return { ...env, LAKEGATE_LOG_LEVEL: process.env.LAKEGATE_TEST_CHILD_LOG ?? 'warn', ...extra };
}

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout + stderr so far (the tail, if long). */
  output(): string;
  /** Every whole output line so far that matched the `record` pattern given to spawn (never cut, however long the output). */
  recorded(): string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** SIGKILL (kill -9) this process only, and wait for it to be gone. */
  kill9(): Promise<void>;
  /** SIGTERM (clean drain), SIGKILL after graceMs. Resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Every child started by a test, for failure reports. */
export class Procs {
  readonly all: Proc[] = [];
  constructor(private readonly kl: KafkaLake) {}

  spawn(name: string, args: string[], env: Record<string, string> = {}, opts: { record?: RegExp } = {}): Proc {
    const child = spawn(process.execPath, [MAIN, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    // LAKEGATE_TEST_CHILD_LOG_DIR: every child's whole output in a file of its own (the report keeps only a tail).
    const dir = process.env.LAKEGATE_TEST_CHILD_LOG_DIR;
    const file = dir ? createWriteStream(path.join(dir, `${child.pid}-${name}.log`)) : null;
    const keep = (c: Buffer | string) => {
      out = (out + String(c)).slice(-OUTPUT_KEEP);
      file?.write(c);
    };
    // Lines worth keeping whole (e.g. assignments), per stream so that chunks of stdout and stderr do not interleave.
    const recorded: string[] = [];
    const recorder = () => {
      let partial = '';
      return (c: Buffer | string) => {
        const lines = (partial + String(c)).split('\n');
        partial = lines.pop()!;
        if (opts.record) for (const l of lines) if (opts.record.test(l)) recorded.push(l);
      };
    };
    const recOut = recorder();
    const recErr = recorder();
    child.stdout!.on('data', (c: Buffer) => {
      keep(c);
      recOut(c);
    });
    child.stderr!.on('data', (c: Buffer) => {
      keep(c);
      recErr(c);
    });
    let done = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('close', (code, signal) => {
        file?.end();
        done = true;
        resolve({ code, signal });
      });
      child.on('error', (err) => {
        keep(`spawn error: ${err.message}\n`);
        done = true;
        resolve({ code: null, signal: null });
      });
    });
    const p: Proc = {
      name,
      child,
      pid: child.pid!,
      output: () => out,
      recorded: () => recorded,
      exited,
      alive: () => !done,
      async kill9() {
        if (done) return;
        child.kill('SIGKILL');
        await exited;
      },
      async stop(graceMs = 20_000) {
        if (done) return (await exited).code;
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          keep(`\n[test] no exit ${graceMs} ms after SIGTERM: SIGKILL\n`);
          child.kill('SIGKILL');
        }, graceMs);
        const r = await exited;
        clearTimeout(timer);
        return r.code;
      },
    };
    this.all.push(p);
    this.kl.defer(() => p.kill9());
    return p;
  }

  /** `lakegate ingest` on the lake's config, or on another config file of the same lake (see writeConfig). */
  ingest(name: string, configFile = this.kl.configFile): Proc {
    return this.spawn(name, ['ingest', '--config', configFile]);
  }

  /** One `lakegate compact` run to its end. */
  async compact(name = 'compact', timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
    const p = this.spawn(name, ['compact', '--config', this.kl.configFile]);
    const timer = setTimeout(() => void p.kill9(), timeoutMs);
    const r = await p.exited;
    clearTimeout(timer);
    return { code: r.code, output: p.output() };
  }

  /** How often each warning or error of lakegate itself (not kafkajs') was logged by the children, e.g. fenced commits. */
  warnings(): string {
    const counts = new Map<string, number>();
    for (const p of this.all) {
      for (const line of p.output().split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const o = JSON.parse(line) as { level?: number; component?: string; msg?: string };
          if ((o.level ?? 0) >= 40 && o.component !== 'kafka') counts.set(String(o.msg), (counts.get(String(o.msg)) ?? 0) + 1);
        } catch {
          /* a line cut by the output tail */
        }
      }
    }
    return counts.size ? [...counts].map(([m, n]) => `${n}× "${m}"`).join(', ') : 'none';
  }

  /** The children's output, for assertion messages. */
  report(): string {
    return this.all
      .map((p) => `--- ${p.name} (pid ${p.pid}${p.alive() ? ', running' : ''}) ---\n${p.output().trim() || '(no output)'}`)
      .join('\n');
  }
}

/** Another config file for the same lake and cluster, with its own `ingest:` section (YAML text, top level). */
export function writeConfig(kl: KafkaLake, name: string, ingest: string): string {
  const file = path.join(kl.dir, `${name}.yaml`);
  writeFileSync(file, TEST_CONFIG(kl.lakePath, `kafka:\n  brokers: ${JSON.stringify(kl.dc.brokers)}\n  clientId: lakegate-test\n${ingest}`));
  return file;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const randInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

export interface ProducerLoop {
  /** Resolves once `total` events are acked (rejects on a send that failed for good). */
  readonly done: Promise<void>;
  /** Events acked so far. */
  acked(): number;
  /** Stop starting new sends and wait for those in flight; `resume` restarts. */
  quiesce(): Promise<void>;
  resume(): void;
}

/**
 * Produces `total` order events in batches, one independent loop per partition, so a partition whose leader is down
 * stalls only itself while the others keep flowing. Paced to `perSecond` overall (the mock keeps ~5 MiB per partition).
 */
export function produceContinuously(
  prod: TrackedProducer,
  opts: { total: number; partitions: number; batch?: number; perSecond?: number },
): ProducerLoop {
  const batch = opts.batch ?? 100;
  const perSecond = opts.perSecond ?? 5_000;
  let next = 0;
  let acked = 0;
  let paused = false;
  let resumeWaiters: Array<() => void> = [];
  const inFlight = new Set<Promise<void>>();
  const t0 = Date.now();
  const loop = async (partition: number) => {
    for (;;) {
      while (paused) await new Promise<void>((r) => resumeWaiters.push(r));
      if (next >= opts.total) return;
      const from = next;
      const n = Math.min(batch, opts.total - from);
      next += n;
      const values = Array.from({ length: n }, (_, k) => ({ key: `o-${from + k}`, value: JSON.stringify(orderEvent(from + k)), partition }));
      const send = prod.send(values);
      inFlight.add(send);
      try {
        await send;
      } finally {
        inFlight.delete(send);
      }
      acked += n;
      // Pacing: never ahead of perSecond overall.
      const ahead = (next / perSecond) * 1000 - (Date.now() - t0);
      if (ahead > 0) await sleep(ahead);
    }
  };
  const done = Promise.all(Array.from({ length: opts.partitions }, (_, p) => loop(p))).then(() => undefined);
  done.catch(() => undefined);
  return {
    done,
    acked: () => acked,
    async quiesce() {
      paused = true;
      await Promise.allSettled([...inFlight]);
    },
    resume() {
      paused = false;
      const w = resumeWaiters;
      resumeWaiters = [];
      for (const r of w) r();
    },
  };
}

export interface FileCheck {
  file: string;
  rows: number;
  minOffset: bigint;
  maxOffset: bigint;
  startOffset: bigint;
  endOffset: bigint;
  error?: string;
}

/**
 * Opens every visible data file on its own (a plain DuckDB, no lakegate code): a torn or partial file fails to read.
 * Returns the files whose content does not match their name: unreadable, or offsets other than start..end in full.
 */
export async function checkFilesWhole(datasetDir: string): Promise<{ files: number; bad: FileCheck[] }> {
  const files = await visibleFiles(datasetDir);
  const bad: FileCheck[] = [];
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    for (const f of files) {
      const m = /\+(\d+)\+(\d+)\.parquet$/.exec(path.basename(f));
      const startOffset = m ? BigInt(m[1]!) : -1n;
      const endOffset = m ? BigInt(m[2]!) : -1n;
      try {
        const r = await conn.runAndReadAll(
          `SELECT count(*)::BIGINT AS n, count(DISTINCT _offset)::BIGINT AS d, min(_offset) AS lo, max(_offset) AS hi FROM read_parquet('${f.replace(/'/g, "''")}')`,
        );
        const row = r.getRowObjectsJson()[0]!;
        const c: FileCheck = { file: f, rows: Number(row.n), minOffset: BigInt(String(row.lo)), maxOffset: BigInt(String(row.hi)), startOffset, endOffset };
        // Every offset of these tests' topics is a record (no dead letters), so a whole file holds its full range once.
        if (c.minOffset !== startOffset || c.maxOffset !== endOffset || BigInt(c.rows) !== endOffset - startOffset + 1n || Number(row.d) !== c.rows) bad.push(c);
      } catch (e) {
        bad.push({ file: f, rows: -1, minOffset: -1n, maxOffset: -1n, startOffset, endOffset, error: String(e) });
      }
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return { files: files.length, bad };
}

/** "p:o" keys (as TrackedProducer records them) summarised as ranges per partition, for readable failures. */
export function summarizeKeys(keys: readonly string[], max = 20): string {
  if (keys.length === 0) return '(none)';
  const byP = new Map<number, bigint[]>();
  for (const k of keys) {
    const [p, o] = k.split(':');
    let a = byP.get(Number(p));
    if (!a) byP.set(Number(p), (a = []));
    a.push(BigInt(o!));
  }
  const parts: string[] = [];
  for (const [p, offs] of [...byP].sort((a, b) => a[0] - b[0])) {
    offs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const ranges: string[] = [];
    let lo = offs[0]!;
    let hi = lo;
    for (const o of offs.slice(1)) {
      if (o === hi + 1n) hi = o;
      else {
        ranges.push(lo === hi ? `${lo}` : `${lo}-${hi}`);
        lo = hi = o;
      }
    }
    ranges.push(lo === hi ? `${lo}` : `${lo}-${hi}`);
    parts.push(`p${p}: ${ranges.slice(0, max).join(', ')}${ranges.length > max ? ` … (${ranges.length} ranges)` : ''}`);
  }
  return `${keys.length} keys: ${parts.join('; ')}`;
}
