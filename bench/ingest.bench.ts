// Ingestion benchmark, on one dev Kafka cluster (librdkafka mock) in one run:
//  (1) sustained events/s from a pre-produced backlog into committed Parquet files by `lakegate ingest` (a child
//      process), against a plain kafkajs consumer group doing JSON.parse of every value (another child process);
//  (2) peak RSS of the ingester while it catches up that backlog;
//  (3) produce → queryable latency p50/p99 through POST /graphql: ingestion in the gateway process (`serve --ingest`)
//      and out of process (`ingest` + a separate `serve`, where a record waits for its file).
// Prints figures and ratios; never asserts.
//
//   node dist/bench/ingest.bench.js [--events 400000] [--partitions auto] [--rate 200] [--seconds 20] [--poll-ms 20]
//                                   [--rounds 1] [--flush-ms N] [--ingest-extra 'maxBufferedBytes: 33554432']
//                                   [--latency-partitions 4] [--phases throughput,latency] [--cpu-prof DIR] [--timeout S] [--keep]
//                                   [--child-log DIR [--child-log-level debug]]
//
// --child-log keeps the throughput ingester's whole log of each round in DIR/ingest-backlog-<round>.log (at
// --child-log-level, default info; debug adds each Kafka request and each committed file, for timelines).
//
// Internal role (the raw baseline's child): node dist/bench/ingest.bench.js --role raw --brokers B --topic T --events N

import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { loadConfig } from '../config';
import { startDevCluster } from '../tools/dev-cluster';
import { orderEvent, visibleFiles } from '../tests/helpers/kafka-fixture';
import { TEST_CONFIG } from '../tests/helpers/lake-fixture';
import { MiB, cpuProfileHotspots, fmt, procCpuSeconds, procMemory, spawnServer, spawnWatched, stopChild, summary, type WatchedChild } from './common';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli/main.js');
/** Wall-clock milliseconds with sub-millisecond resolution, comparable with pino's `time` in the children's logs. */
const wall = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes the mock cluster keeps per partition (it deletes the oldest message sets past ~5 MiB); we stay under this. */
const MOCK_PARTITION_BUDGET = 4 * MiB;
/** Size of a backlog event: the fixture's order, padded with a note to about this many bytes of JSON. */
const EVENT_BYTES = 300;

function backlogEvent(i: number): string {
  const base = orderEvent(i);
  const len = JSON.stringify(base).length + ',"note":""'.length;
  const filler = `bench order ${i}: ` + 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '.repeat(4);
  return JSON.stringify({ ...base, note: filler.slice(0, Math.max(0, EVENT_BYTES - len)) });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      events: { type: 'string', default: '400000' },
      partitions: { type: 'string', default: 'auto' },
      brokers: { type: 'string', default: '3' },
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '20' },
      'poll-ms': { type: 'string', default: '20' },
      'latency-partitions': { type: 'string', default: '4' },
      'flush-ms': { type: 'string' },
      phases: { type: 'string', default: 'throughput,latency' },
      'cpu-prof': { type: 'string' },
      timeout: { type: 'string' },
      rounds: { type: 'string', default: '1' },
      'ingest-extra': { type: 'string' },
      'child-log': { type: 'string' },
      'child-log-level': { type: 'string', default: 'info' },
      keep: { type: 'boolean', default: false },
      // raw role only
      topic: { type: 'string' },
      group: { type: 'string' },
    },
  });
  if (values.role === 'raw') return rawConsumerRole(values.brokers!.split(','), values.topic!, values.group!, Number(values.events));
  if (values.role) throw new Error(`unknown --role ${values.role}`);

  const events = Number(values.events);
  const phases = new Set(values.phases!.split(','));
  // Enough partitions that the mock's per-partition retention keeps the whole backlog (and at least 16).
  const partitions = values.partitions === 'auto' ? Math.max(16, Math.ceil((events * (EVENT_BYTES + 40)) / MOCK_PARTITION_BUDGET / 8) * 8) : Number(values.partitions);
  const dir = path.join(root, '.tmp', `bench-ingest-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const brokerCount = Number(values.brokers);
  const latParts = Number(values['latency-partitions']);
  const dc = await startDevCluster({
    brokers: brokerCount,
    topics: { orders: partitions, 'orders.dlq': 1, customers: 1, 'customers.dlq': 1, lat_inproc: latParts, 'lat_inproc.dlq': 1, lat_sep: latParts, 'lat_sep.dlq': 1 },
  });
  const kafka = new Kafka({ clientId: 'bench', brokers: dc.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();

  /** A config for one scenario: the fixture catalog, its own lake, `orders` read from `topic`, its own group. */
  const writeConfig = (name: string, topic: string): { file: string; lakePath: string; flushMs: number } => {
    const lakePath = path.join(dir, name, 'lake');
    mkdirSync(lakePath, { recursive: true });
    // --ingest-extra adds raw YAML lines to the ingest section, e.g. "maxBufferedBytes: 33554432; rowGroupSize: 8192".
    const extra = (values['ingest-extra'] ?? '').split(';').map((l) => l.trim()).filter(Boolean).map((l) => `  ${l}\n`).join('');
    const ingest = `ingest:\n  groupId: bench-${name}\n${values['flush-ms'] ? `  flushIntervalMs: ${Number(values['flush-ms'])}\n` : ''}${extra}`;
    let text = TEST_CONFIG(lakePath, `kafka:\n  brokers: ${JSON.stringify(dc.brokers)}\n  clientId: lakegate-bench\n${ingest}`);
    text = text.replace(/(\n  orders:\n    typeName: Order\n)/, `$1    topic: ${topic}\n`);
    const file = path.join(dir, name, 'lakegate.yaml');
    writeFileSync(file, `# generated by bench/ingest.bench.ts\n${text}`);
    return { file, lakePath, flushMs: loadConfig(file, { env: {} }).ingest.flushIntervalMs };
  };

  try {
    console.log(`dev cluster: ${brokerCount} brokers (librdkafka mock); node ${process.version}; ${os.cpus().length} CPUs`);
    if (phases.has('throughput')) await throughputPhase();
    if (phases.has('latency')) await latencyPhase();
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    await dc.stop();
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`\nkept ${dir}`);
  }

  // ---- (1) + (2): backlog catch-up, lakegate ingest vs raw kafkajs ---------------------------------------------
  async function throughputPhase(): Promise<void> {
    const cfg = writeConfig('throughput', 'orders');
    console.log(`\nproducing a backlog of ${events} events (~${EVENT_BYTES} B JSON each) over ${partitions} partitions...`);
    const t0 = wall();
    let valueBytes = 0;
    const perRequest = 500;
    const inFlight = new Set<Promise<unknown>>();
    for (let b = 0; b < events; b += perRequest * partitions) {
      for (let p = 0; p < partitions; p++) {
        const messages = [];
        for (let i = b + p; i < Math.min(events, b + perRequest * partitions); i += partitions) {
          const value = backlogEvent(i);
          valueBytes += value.length;
          messages.push({ key: `o-${i}`, value, partition: p });
        }
        if (messages.length === 0) continue;
        const sent = producer.send({ topic: 'orders', acks: -1, messages });
        inFlight.add(sent);
        void sent.finally(() => inFlight.delete(sent));
        if (inFlight.size >= 8) await Promise.race(inFlight);
      }
    }
    await Promise.all(inFlight);
    console.log(`  produced in ${fmt((wall() - t0) / 1000)} s (${fmt(events / ((wall() - t0) / 1000), 0)} ev/s), ${fmt(valueBytes / MiB)} MiB of values, avg ${fmt(valueBytes / events, 0)} B`);
    const offsets = (await admin.fetchTopicOffsets('orders')).map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
    const backlog = Number(offsets.reduce((a, o) => a + (o.high - o.low), 0n));
    const dropped = events - backlog;
    if (dropped > 0) console.log(`  WARNING: the mock's retention dropped ${dropped} events (use more --partitions); measuring the ${backlog} it kept`);

    // Rounds alternate the raw baseline and lakegate over the same backlog (new groups, a new lake each time), so
    // that both see the same machine state; with --rounds > 1 the medians are the headline.
    const rounds = Number(values.rounds);
    const runs: Array<{ raw: RawRun; ing: IngestRun }> = [];
    for (let k = 1; k <= rounds; k++) {
      const raw = await runRaw(k, backlog);
      const ing = await runIngest(k, backlog, offsets);
      runs.push({ raw, ing });
      if (rounds > 1) console.log(`  round ${k}: raw ${fmt(raw.rate, 0)} ev/s, ingest ${fmt(ing.rate, 0)} ev/s, ratio ${fmt(ing.rate / raw.rate, 3)}x, ingest VmHWM ${fmt(ing.hwm / MiB, 0)} MiB`);
    }
    const med = (xs: number[]) => summary(xs).p50;
    const range = (xs: number[], d = 0) => (xs.length > 1 ? ` [${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)}]` : '');
    const col = <T>(f: (r: { raw: RawRun; ing: IngestRun }) => T) => runs.map(f);
    const rawRate = col((r) => r.raw.rate);
    const ingRate = col((r) => r.ing.rate);
    const ratio = col((r) => r.ing.rate / r.raw.rate);
    const steady = col((r) => r.ing.steady).filter(Number.isFinite);
    const last = runs[runs.length - 1]!;
    const of = rounds > 1 ? `median of ${rounds} rounds [min–max]` : '1 round';

    console.log(`\n(1) backlog of ${backlog} events (avg ${fmt(valueBytes / events, 0)} B JSON) over ${partitions} partitions, ${of}; rates from group join (the ~3 s join excluded)`);
    console.log(`    raw kafkajs consume + JSON.parse   ${fmt(med(rawRate), 0).padStart(7)} ev/s${range(rawRate)}   (${fmt(med(col((r) => r.raw.seconds)))} s; from its first batch ${fmt(med(col((r) => r.raw.rateFromFirst)), 0)} ev/s)   CPU ${fmt(med(col((r) => r.raw.cpu)))} s (${fmt((med(col((r) => r.raw.cpu)) * 1e6) / backlog)} µs/event)`);
    console.log(`    lakegate ingest → committed files  ${fmt(med(ingRate), 0).padStart(7)} ev/s${range(ingRate)}   (${fmt(med(col((r) => r.ing.seconds)))} s until the lake held all; 10%→90% committed ${steady.length ? `${fmt(med(steady), 0)} ev/s` : 'n/a: files landed together'})   CPU ${fmt(med(col((r) => r.ing.cpu)))} s (${fmt((med(col((r) => r.ing.cpu)) * 1e6) / backlog)} µs/event, all threads)`);
    console.log(`    ratio ingest/raw = ${fmt(med(ratio), 3)}x${range(ratio, 3)}  (target >= 0.7x); the ingest time includes the last flush (flushIntervalMs ${cfg.flushMs})`);
    for (const { ing } of runs) {
      const v = ing.verified;
      if (!ing.complete) console.log(`    WARNING: round ${ing.round} timed out with ${ing.committed} of ${backlog} committed (its rate counts those)`);
      if (v.rows !== backlog || v.distinct !== backlog) console.log(`    WARNING: round ${ing.round}: the lake holds ${v.rows} rows, ${v.distinct} distinct (partition, offset); expected ${backlog}`);
    }
    const v = last.ing.verified;
    console.log(`    lake check (independent DuckDB over the visible files): ${v.rows} rows, ${v.distinct} distinct (partition, offset), ${v.files} files, ${fmt(v.bytes / MiB)} MiB` +
      (runs.every((r) => r.ing.verified.rows === backlog && r.ing.verified.distinct === backlog) ? ' — complete, no duplicates' : ' — INCOMPLETE (see above)'));
    const hwm = col((r) => r.ing.hwm / MiB);
    console.log(`\n(2) peak RSS of lakegate ingest while catching up ${backlog} events`);
    console.log(`    VmHWM ${fmt(med(hwm), 0)} MiB${range(hwm)}  (target <= 512 MiB);  raw kafkajs consumer: ${fmt(med(col((r) => r.raw.hwm / MiB)), 0)} MiB`);
    await printProfile('ingest-backlog-1', 'the ingester catching up the backlog (round 1)');

    async function runRaw(round: number, n: number): Promise<RawRun> {
      const raw = spawnWatched(process.execPath, [__filename, '--role', 'raw', '--brokers', dc.brokers.join(','), '--topic', 'orders', '--group', `bench-raw-${process.pid}-${round}`, '--events', String(n)]);
      let peak = 0;
      const sampler = setInterval(() => { peak = Math.max(peak, procMemory(raw.child.pid!)?.rss ?? 0); }, 100);
      const line = await raw.waitForLine(/^RESULT /, timeoutMs(n)).finally(() => clearInterval(sampler));
      await raw.exited;
      const r = JSON.parse(line.slice('RESULT '.length)) as { join: number; first: number; done: number; n: number; cpu: number; hwm: number };
      return { rate: r.n / ((r.done - r.join) / 1000), rateFromFirst: r.n / ((r.done - r.first) / 1000), seconds: (r.done - r.join) / 1000, cpu: r.cpu, hwm: Math.max(r.hwm, peak) };
    }

    // lakegate ingest, as deployed: the CLI in its own process, a lake of its own; done when the visible files
    // cover every partition up to its high watermark.
    async function runIngest(round: number, n: number, offs: typeof offsets): Promise<IngestRun> {
      const c = round === 1 ? cfg : writeConfig(`throughput-${round}`, 'orders');
      const ing = spawnWatched(process.execPath, [...profArgs(`ingest-backlog-${round}`), cli, 'ingest', '--config', c.file], { LAKEGATE_LOG_LEVEL: values['child-log'] ? values['child-log-level']! : 'info' });
      const datasetDir = path.join(c.lakePath, 'orders');
      const progress: Array<[number, number]> = [];
      let tJoin = NaN;
      let tDone = NaN;
      let committed = 0;
      let mem: { rss: number; hwm: number } | null = null;
      let cpu: number | null = null;
      try {
        const joinLine = await ing.waitForLine(/joined the ingestion group/, 60_000);
        tJoin = Number((JSON.parse(joinLine) as { time: number }).time);
        const deadline = wall() + timeoutMs(n);
        let lastReport = wall();
        const want = new Map(offs.map((o) => [o.partition, o.high - 1n]));
        while (wall() < deadline) {
          if (ing.child.exitCode !== null || ing.child.signalCode !== null) throw new Error(`lakegate ingest exited early:\n${ing.lines.slice(-20).join('\n')}`);
          const files = await visibleFiles(datasetDir);
          const maxEnd = new Map<number, bigint>();
          committed = 0;
          for (const f of files) {
            // <topic>+<partition>+<start>+<end>.parquet, read here without lakegate's layout code.
            const m = /\+(\d+)\+(\d+)\+(\d+)\.parquet$/.exec(path.basename(f));
            if (!m) continue;
            const p = Number(m[1]);
            const end = BigInt(m[3]!);
            committed += Number(end - BigInt(m[2]!) + 1n);
            if (end > (maxEnd.get(p) ?? -1n)) maxEnd.set(p, end);
          }
          const now = wall();
          progress.push([now, committed]);
          if ([...want].every(([p, end]) => (maxEnd.get(p) ?? -1n) >= end)) {
            tDone = now;
            break;
          }
          if (now - lastReport > 10_000) {
            lastReport = now;
            console.log(`  ingest: ${committed}/${n} committed after ${fmt((now - tJoin) / 1000)} s, RSS ${fmt((procMemory(ing.child.pid!)?.rss ?? 0) / MiB, 0)} MiB`);
          }
          await sleep(100);
        }
        mem = procMemory(ing.child.pid!);
        cpu = procCpuSeconds(ing.child.pid!);
      } finally {
        await stopChild(ing.child);
        if (values['child-log']) {
          const logDir = path.resolve(values['child-log']);
          mkdirSync(logDir, { recursive: true });
          writeFileSync(path.join(logDir, `ingest-backlog-${round}.log`), ing.lines.join('\n') + '\n');
        }
      }
      const complete = Number.isFinite(tDone);
      const seconds = ((complete ? tDone : wall()) - tJoin) / 1000;
      // Steady state: between 10% and 90% of the backlog committed (leaves out the first files and the last flush).
      const at = (frac: number) => progress.find(([, x]) => x >= frac * n);
      const p10 = at(0.1);
      const p90 = at(0.9);
      const steady = p10 && p90 && p90[0] > p10[0] ? (p90[1] - p10[1]) / ((p90[0] - p10[0]) / 1000) : NaN;
      return { round, rate: (complete ? n : committed) / seconds, seconds, steady, complete, committed, cpu: cpu ?? NaN, hwm: mem?.hwm ?? NaN, verified: await countLake(datasetDir) };
    }
  }

  /** node flags that write a CPU profile of a child to --cpu-prof DIR under a fixed name (none without --cpu-prof). */
  function profArgs(name: string): string[] {
    return values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(values['cpu-prof']), '--cpu-prof-name', `${name}.cpuprofile`] : [];
  }

  async function printProfile(name: string, what: string): Promise<void> {
    if (!values['cpu-prof']) return;
    const file = path.join(path.resolve(values['cpu-prof']), `${name}.cpuprofile`);
    for (let i = 0; i < 50 && !existsSync(file); i++) await sleep(100);
    if (!existsSync(file)) return void console.log(`    (no CPU profile at ${file})`);
    console.log(`\n    CPU profile of ${what} (main thread only; DuckDB's own threads are not in it): ${file}`);
    for (const h of cpuProfileHotspots(file, 20)) console.log(`      ${fmt(h.pct).padStart(5)}%  ${fmt(h.ms, 0).padStart(7)} ms  ${h.fn}  ${h.where}`);
  }

  function timeoutMs(n: number): number {
    return values.timeout ? Number(values.timeout) * 1000 : Math.max(180_000, n * 2);
  }

  // ---- (3) produce → queryable latency --------------------------------------------------------------------------
  async function latencyPhase(): Promise<void> {
    const rate = Number(values.rate);
    const seconds = Number(values.seconds);
    const pollMs = Number(values['poll-ms']);

    const a = writeConfig('lat-inproc', 'lat_inproc');
    const gwA = await spawnServer(process.execPath, [...profArgs('serve-ingest-latency'), cli, 'serve', '--ingest', '--config', a.file, '--port', '0'], { LAKEGATE_LOG_LEVEL: 'warn' }, /GraphiQL at (http:\/\/\S+)/);
    let inproc: LatencyResult;
    try {
      inproc = await measureLatency(producer, 'lat_inproc', gwA.url, { rate, seconds, pollMs, tailMs: 10_000 });
    } finally {
      await stopChild(gwA.child);
    }

    const b = writeConfig('lat-sep', 'lat_sep');
    const ingB: WatchedChild = spawnWatched(process.execPath, [cli, 'ingest', '--config', b.file], { LAKEGATE_LOG_LEVEL: 'info' });
    let sep: LatencyResult;
    try {
      await ingB.waitForLine(/joined the ingestion group/, 60_000);
      const gwB = await spawnServer(process.execPath, [cli, 'serve', '--config', b.file, '--port', '0'], { LAKEGATE_LOG_LEVEL: 'warn' }, /GraphiQL at (http:\/\/\S+)/);
      try {
        sep = await measureLatency(producer, 'lat_sep', gwB.url, { rate, seconds, pollMs, tailMs: b.flushMs * 3 + 10_000 });
      } finally {
        await stopChild(gwB.child);
      }
    } finally {
      await stopChild(ingB.child);
    }

    console.log(`\n(3) produce → visible through POST /graphql, ${rate} events/s over ${latParts} partitions for ${seconds} s, polled every ${pollMs} ms (orders(where: {id: {in: pending}}))`);
    const row = (label: string, x: LatencyResult) =>
      console.log(`    ${label.padEnd(40)} p50 ${fmt(x.lat.p50, 0).padStart(5)} ms   p95 ${fmt(x.lat.p95, 0).padStart(5)} ms   p99 ${fmt(x.lat.p99, 0).padStart(5)} ms   max ${fmt(x.max, 0).padStart(5)} ms   ` +
        `seen ${x.lat.n}/${x.sent}   poll query p50 ${fmt(x.poll.p50)} ms`);
    row('serve --ingest (in-process)', inproc);
    row(`ingest + serve (flushIntervalMs ${b.flushMs})`, sep);
    console.log(`    target: in-process p99 <= 1000 ms; out of process ≈ flushIntervalMs (a record waits for its file)`);
    await printProfile('serve-ingest-latency', 'the serve --ingest gateway during the in-process latency run');
  }
}

interface RawRun {
  rate: number;
  rateFromFirst: number;
  seconds: number;
  cpu: number;
  hwm: number;
}

interface IngestRun {
  round: number;
  rate: number;
  seconds: number;
  steady: number;
  complete: boolean;
  committed: number;
  cpu: number;
  hwm: number;
  verified: { rows: number; distinct: number; files: number; bytes: number };
}

interface LatencyResult {
  lat: ReturnType<typeof summary>;
  max: number;
  sent: number;
  poll: ReturnType<typeof summary>;
}

/**
 * Produce `rate` events/s for `seconds` (one request per event, acks=all), each with a unique id; poll the gateway
 * back to back (at most every `pollMs`) for the ids not yet seen; an event's latency is from just before its send to
 * the response of the first poll that returned it (so it includes one poll's duration at most).
 */
async function measureLatency(producer: Producer, topic: string, url: string, o: { rate: number; seconds: number; pollMs: number; tailMs: number }): Promise<LatencyResult> {
  const run = `${topic}-${process.pid}`;
  const sentAt = new Map<string, number>();
  const seenAfter = new Map<string, number>();
  const pollTimes: number[] = [];
  const send = (id: string, i: number) => {
    const value = JSON.stringify({ ...orderEvent(i), id, createdAt: new Date().toISOString() });
    sentAt.set(id, performance.now());
    return producer.send({ topic, acks: -1, messages: [{ key: id, value }] });
  };
  const query = `query($ids: [String!]) { orders(where: { id: { in: $ids } }, limit: 5000) { id } }`;
  const poll = async (ids: string[]): Promise<string[]> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { ids } }) });
    const body = (await res.json()) as { data?: { orders: Array<{ id: string }> }; errors?: unknown };
    if (!body.data) throw new Error(JSON.stringify(body.errors));
    return body.data.orders.map((x) => x.id);
  };

  // Warm-up: the ingester has joined its group and the gateway answers (not measured).
  const warm = `${run}-warm`;
  await send(warm, 0);
  const warmDeadline = performance.now() + 120_000;
  while (!(await poll([warm])).includes(warm)) {
    if (performance.now() > warmDeadline) throw new Error(`${topic}: the warm-up event never became visible`);
    await sleep(50);
  }

  const total = Math.round(o.rate * o.seconds);
  const pending = new Set<string>();
  let producing = true;
  const sends: Promise<unknown>[] = [];
  const producerLoop = (async () => {
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / o.rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const id = `${run}-${i}`;
      pending.add(id);
      sends.push(send(id, i));
    }
    await Promise.all(sends);
    producing = false;
  })();
  const pollLoop = (async () => {
    let tailDeadline = Infinity;
    for (;;) {
      if (!producing && tailDeadline === Infinity) tailDeadline = performance.now() + o.tailMs;
      if (!producing && (pending.size === 0 || performance.now() > tailDeadline)) return;
      const t0 = performance.now();
      if (pending.size > 0) {
        const ids = [...pending];
        let got: string[] = [];
        try {
          got = await poll(ids);
        } catch (e) {
          console.log(`    poll failed: ${(e as Error).message}`);
        }
        const t1 = performance.now();
        pollTimes.push(t1 - t0);
        for (const id of got) {
          if (pending.delete(id)) seenAfter.set(id, t1 - sentAt.get(id)!);
        }
      }
      const rest = o.pollMs - (performance.now() - t0);
      if (rest > 0) await sleep(rest);
    }
  })();
  await Promise.all([producerLoop, pollLoop]);
  const lat = [...seenAfter.values()];
  return { lat: summary(lat), max: Math.max(...lat), sent: total, poll: summary(pollTimes) };
}

/** What an independent DuckDB finds in the visible files: rows, distinct (partition, offset), files, bytes. */
async function countLake(datasetDir: string): Promise<{ rows: number; distinct: number; files: number; bytes: number }> {
  const files = await visibleFiles(datasetDir);
  if (files.length === 0) return { rows: 0, distinct: 0, files: 0, bytes: 0 };
  const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    const r = await conn.runAndReadAll(
      `SELECT count(*) AS n, (SELECT count(*) FROM (SELECT DISTINCT _partition, _offset FROM read_parquet([${list}]))) AS d FROM read_parquet([${list}])`,
    );
    const row = r.getRowObjectsJson()[0]!;
    return { rows: Number(row.n), distinct: Number(row.d), files: files.length, bytes };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/**
 * The baseline, in its own process: a plain kafkajs consumer group (same fetch settings as lakegate's consumer), each
 * batch's values JSON.parse'd. Prints one `RESULT {...}` line once `target` messages are in, then exits.
 */
async function rawConsumerRole(brokers: string[], topic: string, groupId: string, target: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, rebalanceTimeout: 20_000, maxBytesPerPartition: 1024 * 1024, maxWaitTimeInMs: 100 });
  let join = NaN;
  let first = NaN;
  let n = 0;
  let parsed = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (Number.isNaN(join)) join = wall();
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch, heartbeat }) => {
          if (Number.isNaN(first)) first = wall();
          for (const m of batch.messages) {
            if (m.value) {
              const doc = JSON.parse(m.value.toString('utf8')) as { id?: string };
              if (doc.id) parsed++;
            }
            n++;
          }
          await heartbeat();
          if (n >= target) resolve();
        },
      })
      .catch(reject);
  });
  const done = wall();
  const cpu = process.cpuUsage();
  const hwm = procMemory(process.pid)?.hwm ?? NaN;
  process.stdout.write(`RESULT ${JSON.stringify({ join, first, done, n, parsed, cpu: (cpu.user + cpu.system) / 1e6, hwm })}\n`);
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
