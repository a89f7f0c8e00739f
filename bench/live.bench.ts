// Issue #4 benchmark (subscriptions and mutations), on one dev Kafka cluster (librdkafka mock) in one run:
//  (1) fan-out: deliveries/s to N subscribers of one subscription (same document and variables), lakegate (`serve`)
//      against a plain graphql-ws server (`useServer` on `ws`, this file with --role baseline-server) on the SAME
//      generated schema that executes per subscriber, fed per subscriber by an async-iterator pubsub over a plain
//      kafkajs consumer in that process. Both servers read the same events from the same topic with their own
//      kafkajs consumer (lakegate: its shared tail; baseline: a consumer group of its own). Clients are real
//      graphql-ws clients on `ws` in a child process (--role clients); the server is another child.
//  (2) produce → subscriber latency p50/p99 at R events/s with 100 subscribers, against a raw kafkajs consumer's
//      produce → consume latency (--role raw-consumer), both in the same run; the producer stamps the send time.
//  (3) batch publish events/s: publishOrderBatch over HTTP vs raw kafkajs producer.send of the same events, same batch
//      size, acks=-1.
//  (4) RSS of the gateway process (alone in its child) before and after 10,000 idle subscriptions.
// Prints figures and ratios; never asserts.
//
//   node dist/bench/live.bench.js [--phases fanout,latency,publish,rss] [--subs 1000] [--per-conn 1] [--events 1000]
//        [--window 200] [--impls baseline,lakegate] [--lat-rate 10000] [--lat-seconds 15] [--lat-subs 100]
//        [--lat-mode filtered|shared] [--lat-control] [--lat-producer fast|stock] [--lat-stall MS] [--lat-stall-every MS]
//        [--lat-windows N]
//        [--lat-impls baseline,lakegate] [--batch 500,1000] [--pub-seconds 8] [--pub-concurrency 1]
//        [--rss-conns 100] [--rss-per-conn 100] [--rss-modes same,distinct] [--rss-impls lakegate] [--partitions 4]
//        [--cpu-prof DIR] [--probe] [--node-env-production] [--server-node-args="FLAGS"]
//
// --lat-windows N measures N windows in a row on each side (same processes, same warm-up), one line each, then each
// side's p99 per window beside the window's steal: on a shared host one window is one draw of its noise.
//
// --lat-stall MS stops the measured process (the raw consumer, the server) with SIGSTOP for MS every --lat-stall-every
// ms of the latency window: a stall of a known length at known times (what a busy host's steal does at random), to
// compare how each side catches up after one.
//
// --probe runs lakegate as startGateway in a bench child that prints per-second stamp→socket-write delays and garbage
// collections (count, full ones, total and longest pause) and, on demand, post-GC memory (LIVE_BENCH_HEAP_DIR=DIR: a
// heap snapshot).
//
// --server-node-args="FLAGS" starts the server child (lakegate or the plain server) as `node FLAGS ...`, e.g. to try
// V8's garbage collector settings (--max-semi-space-size=N).
//
// Internal roles: --role baseline-server | clients | raw-consumer | lakegate-probe | producer (children, driven over
// IPC/stdout).

import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import WebSocket, { WebSocketServer } from 'ws';
import { loadConfig } from '../config';
import { buildGatewaySchema } from '../schema';
import { startDevCluster } from '../tools/dev-cluster';
import { orderEvent } from '../tests/helpers/kafka-fixture';
import { TEST_CONFIG } from '../tests/helpers/lake-fixture';
import { MiB, cpuProfileHotspots, fmt, machineCpu, machineShare, machineSteal, machineStealSampler, procCpuSeconds, procMemory, spawnWatched, stopChild, summary, type WatchedChild } from './common';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli/main.js');
/** Wall-clock ms with sub-ms resolution, comparable across the processes of this machine. */
const wall = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/** The fan-out document: no filter, the common fields plus _meta (what a dashboard would select). */
const FANOUT_QUERY = `subscription Fanout { orders { id customerId amount quantity status createdAt tags _meta { partition offset } } }`;
/** Per-subscriber filter (latency "filtered" mode, RSS "distinct" mode): one customer each. */
const FILTERED_QUERY = `subscription Mine($c: String!) { orders(where: { customerId: { eq: $c } }) { id customerId amount status note createdAt } }`;
/** Latency "shared" mode: everyone the same document. */
const SHARED_LAT_QUERY = `subscription Lat { orders { id customerId amount status note createdAt } }`;

interface ClientsConfig {
  url: string;
  connections: number;
  perConn: number;
  query: string;
  /** 'same': `vars` for everyone; 'customer': { c: "c-<g % mod>" } for subscriber g. */
  variables: 'same' | 'customer';
  vars?: Record<string, unknown>;
  mod: number;
  mode: 'count' | 'latency' | 'idle';
  events: number;
}

type Msg = { type: string; [k: string]: any };

function event(id: string, i: number, customers: number, note?: string): Record<string, unknown> {
  const e = orderEvent(i);
  return { ...e, id, customerId: `c-${i % customers}`, ...(note === undefined ? {} : { note }) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      brokers: { type: 'string', default: '3' },
      topic: { type: 'string' },
      phases: { type: 'string', default: 'fanout,latency,publish,rss' },
      // (1)
      subs: { type: 'string', default: '1000' },
      'per-conn': { type: 'string', default: '1' },
      events: { type: 'string', default: '1000' },
      window: { type: 'string', default: '200' },
      impls: { type: 'string', default: 'baseline,lakegate' },
      // (2)
      'lat-rate': { type: 'string', default: '10000' },
      'lat-seconds': { type: 'string', default: '15' },
      'lat-subs': { type: 'string', default: '100' },
      'lat-mode': { type: 'string', default: 'filtered' },
      'lat-control': { type: 'boolean', default: false },
      'lat-warmup': { type: 'string', default: '5' },
      'lat-producer': { type: 'string', default: 'fast' },
      'lat-nice': { type: 'string', default: '0' },
      'lat-impls': { type: 'string', default: 'baseline,lakegate' },
      'lat-windows': { type: 'string', default: '1' },
      'lat-stall': { type: 'string', default: '0' },
      'lat-stall-every': { type: 'string', default: '3000' },
      probe: { type: 'boolean', default: false },
      'node-env-production': { type: 'boolean', default: false },
      'server-node-args': { type: 'string' },
      config: { type: 'string' },
      // (3)
      batch: { type: 'string', default: '500,1000' },
      'pub-seconds': { type: 'string', default: '8' },
      'pub-concurrency': { type: 'string', default: '1' },
      'pub-client': { type: 'string', default: 'http' },
      // (4)
      'rss-conns': { type: 'string', default: '100' },
      'rss-per-conn': { type: 'string', default: '100' },
      'rss-modes': { type: 'string', default: 'same,distinct' },
      'rss-impls': { type: 'string', default: 'lakegate' },
      partitions: { type: 'string', default: '4' },
      'cpu-prof': { type: 'string' },
      keep: { type: 'boolean', default: false },
      codecs: { type: 'string', default: 'stock' },
    },
  });
  if (values.role === 'baseline-server') return baselineServerRole(values.brokers!.split(','), values.topic!);
  if (values.role === 'clients') return clientsRole();
  if (values.role === 'lakegate-probe') return lakegateProbeRole(values.config!);
  if (values.role === 'raw-consumer') return rawConsumerRole();
  if (values.role === 'producer') return producerRole(values.codecs === 'fast');
  if (values.role) throw new Error(`unknown --role ${values.role}`);

  const phases = new Set(values.phases!.split(','));
  const partitions = Number(values.partitions);
  const dir = path.join(root, '.tmp', `bench-live-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const brokerCount = Number(values.brokers);
  const topics: Record<string, number> = { customers: 1, 'orders.dlq': 1, 'customers.dlq': 1 };
  for (const t of ['fanout', 'lat', 'pub', 'idle']) topics[t] = partitions;
  const dc = await startDevCluster({ brokers: brokerCount, topics });
  const kafka = new Kafka({ clientId: 'bench', brokers: dc.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const profDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : null;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const profArgs = (name: string) => (profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `${name}.cpuprofile`] : []);
  const printProfile = (name: string) => {
    if (!profDir) return;
    const file = path.join(profDir, `${name}.cpuprofile`);
    try {
      console.log(`    CPU profile ${file}: top self time`);
      for (const h of cpuProfileHotspots(file, 18)) console.log(`      ${fmt(h.pct).padStart(5)}%  ${fmt(h.ms, 0).padStart(7)} ms  ${h.fn}  ${h.where}`);
    } catch (e) {
      console.log(`    (no profile: ${(e as Error).message})`);
    }
  };

  /** A config for one phase: the fixture catalog, an empty lake, `orders` read from `topic`. */
  const writeConfig = (name: string, topic: string): string => {
    const lakePath = path.join(dir, name, 'lake');
    mkdirSync(lakePath, { recursive: true });
    let text = TEST_CONFIG(lakePath, `kafka:\n  brokers: ${JSON.stringify(dc.brokers)}\n  clientId: lakegate-bench\n`);
    text = text.replace(/(\n  orders:\n    typeName: Order\n)/, `$1    topic: ${topic}\n`);
    const file = path.join(dir, name, 'lakegate.yaml');
    writeFileSync(file, `# generated by bench/live.bench.ts\n${text}`);
    loadConfig(file, { env: {} }); // fail early on a bad config
    return file;
  };

  const probe = values.probe!;
  const serverNodeArgs = (values['server-node-args'] ?? '').split(/\s+/).filter(Boolean);
  if (serverNodeArgs.length) console.log(`NOTE --server-node-args: the server child runs as node ${serverNodeArgs.join(' ')}`);
  if (values['node-env-production']) console.log('NOTE --node-env-production: the lakegate server runs with NODE_ENV=production (graphql-js skips its development checks; introspection is off)');
  const startServer = async (impl: 'lakegate' | 'baseline', topic: string, profName?: string): Promise<{ url: string; wsUrl: string; proc: WatchedChild }> => {
    const prof = [...serverNodeArgs, ...(profName ? profArgs(profName) : [])];
    if (impl === 'lakegate') {
      const cfg = writeConfig(`${topic}-${Date.now()}`, topic);
      const args = probe ? ['--expose-gc', __filename, '--role', 'lakegate-probe', '--config', cfg] : [cli, 'serve', '--config', cfg, '--port', '0'];
      const proc = spawnWatched(process.execPath, [...prof, ...args], { LAKEGATE_LOG_LEVEL: 'warn', ...(values['node-env-production'] ? { NODE_ENV: 'production' } : {}) });
      const line = await proc.waitForLine(/GraphiQL at (http:\/\/\S+)/, 60_000);
      const url = /GraphiQL at (http:\/\/\S+)/.exec(line)![1]!;
      return { url, wsUrl: url.replace(/^http/, 'ws'), proc };
    }
    const proc = spawnWatched(process.execPath, [...prof, __filename, '--role', 'baseline-server', '--brokers', dc.brokers.join(','), '--topic', topic]);
    const line = await proc.waitForLine(/baseline at (ws:\/\/\S+)/, 60_000);
    const wsUrl = /baseline at (ws:\/\/\S+)/.exec(line)![1]!;
    return { url: wsUrl.replace(/^ws/, 'http'), wsUrl, proc };
  };

  try {
    console.log(`dev cluster: ${brokerCount} brokers (librdkafka mock), ${partitions} partitions per topic; node ${process.version}; ${os.cpus().length} CPUs; load ${load()}`);
    console.log(`processes: bench (orchestration; producer of phases 1 and 3), server child, clients child, producer child (phase 2), mock brokers — all on the same ${os.cpus().length} cores`);
    if (phases.has('fanout')) await fanoutPhase();
    if (phases.has('latency')) await latencyPhase();
    if (phases.has('publish')) await publishPhase();
    if (phases.has('rss')) await rssPhase();
  } finally {
    await producer.disconnect().catch(() => {});
    await dc.stop();
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }

  // ---- (1) fan-out deliveries/s ----------------------------------------------------------------------------------
  async function fanoutPhase(): Promise<void> {
    const subs = Number(values.subs);
    const perConn = Number(values['per-conn']);
    const connections = Math.ceil(subs / perConn);
    const total = connections * perConn;
    const n = Number(values.events);
    const window = Number(values.window);
    console.log(`\n(1) fan-out: ${total} subscribers (${connections} connections × ${perConn}) of one subscription, ${n} events, at most ${window} events not yet delivered to everyone`);
    console.log(`    document: ${FANOUT_QUERY}`);
    const results = new Map<string, { rate: number; cpuUs: number; clientCpuUs: number; secs: number }>();
    for (const impl of values.impls!.split(',') as Array<'lakegate' | 'baseline'>) {
      const srv = await startServer(impl, 'fanout', `fanout-${impl}`);
      const clients = forkClients();
      try {
        clients.send({ type: 'start', config: { url: srv.wsUrl, connections, perConn, query: FANOUT_QUERY, variables: 'same', vars: {}, mod: 1, mode: 'count', events: n } satisfies ClientsConfig });
        await clients.wait((m) => m.type === 'connected', 120_000);
        await warmUp('fanout', clients, 1);
        // Same window and producer for both: never more than `window` events ahead of the slowest subscriber, so
        // lakegate's per-connection queue bound (1,000 events) is never the limit and neither side buffers without end.
        const cpu0 = procCpuSeconds(srv.proc.child.pid!)!;
        const ccpu0 = procCpuSeconds(clients.child.pid!)!;
        const t0 = wall();
        let produced = 0;
        let frontier = 0;
        let progress: () => void = () => {};
        const unsub = clients.onMessage((m) => {
          if (m.type === 'progress') {
            frontier = m.frontier;
            progress();
          }
        });
        const inFlight = new Set<Promise<unknown>>();
        while (frontier < n) {
          if (produced < n && produced - frontier < window && inFlight.size < 16) {
            const k = Math.min(50, n - produced, window - (produced - frontier));
            const messages = Array.from({ length: k }, (_, j) => {
              const i = produced + j;
              return { key: `b-${i}`, value: JSON.stringify(event(`b-${i}`, i, 97)) };
            });
            produced += k;
            const s = producer.send({ topic: 'fanout', acks: -1, messages });
            inFlight.add(s);
            void s.finally(() => {
              inFlight.delete(s);
              progress();
            });
            continue;
          }
          await new Promise<void>((r) => {
            progress = r;
            setTimeout(r, 1_000);
          });
          if (wall() - t0 > 600_000) throw new Error(`fan-out stalled at ${frontier}/${n}`);
        }
        const secs = (wall() - t0) / 1000;
        const cpu = procCpuSeconds(srv.proc.child.pid!)! - cpu0;
        const ccpu = procCpuSeconds(clients.child.pid!)! - ccpu0;
        unsub();
        const stat = await clients.request({ type: 'stats' }, 'stats');
        const rate = (n * total) / secs;
        results.set(impl, { rate, cpuUs: (cpu * 1e6) / (n * total), clientCpuUs: (ccpu * 1e6) / (n * total), secs });
        console.log(
          `    ${impl.padEnd(9)} ${fmt(rate, 0).padStart(8)} deliveries/s  (${n * total} in ${fmt(secs, 2)} s)   server CPU ${fmt(cpu, 1)} s = ${fmt((cpu * 1e6) / (n * total), 2)} µs/delivery (${fmt((100 * cpu) / secs, 0)}% of a core)   clients CPU ${fmt(ccpu, 1)} s (${fmt((100 * ccpu) / secs, 0)}%)   closed ${stat.closed} errors ${stat.errors}${stat.firstError ? ` (${stat.firstError})` : ''}   load ${load()}`,
        );
      } finally {
        await clients.stop();
        await stopChild(srv.proc.child);
      }
      printProfile(`fanout-${impl}`);
    }
    const l = results.get('lakegate');
    const b = results.get('baseline');
    if (l && b) {
      console.log(`    ratio lakegate/baseline deliveries/s = ${fmt(l.rate / b.rate, 2)}x  (target >= 3x);  server CPU per delivery baseline/lakegate = ${fmt(b.cpuUs / l.cpuUs, 2)}x`);
    }
  }

  /** Produce warm-up events (ids w-…, customers cycling) until every subscriber of the clients child got one. */
  async function warmUp(topic: string, clients: ForkedRole, customers: number): Promise<void> {
    let ready = false;
    const unsub = clients.onMessage((m) => {
      if (m.type === 'ready') ready = true;
    });
    const t0 = Date.now();
    for (let k = 0; !ready; k++) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: customers }, (_, j) => ({ key: `w-${k}-${j}`, value: JSON.stringify(event(`w-${k}-${j}`, k * customers + j, customers, String(wall()))) })) });
      await sleep(200);
      if (Date.now() - t0 > 120_000) throw new Error('warm-up: not every subscriber received an event within 120 s');
    }
    unsub();
    await sleep(500);
  }

  // ---- (2) produce → subscriber latency --------------------------------------------------------------------------
  async function latencyPhase(): Promise<void> {
    const rate = Number(values['lat-rate']);
    const seconds = Number(values['lat-seconds']);
    const subs = Number(values['lat-subs']);
    const warmupSecs = Number(values['lat-warmup']);
    const mode = values['lat-mode'] === 'shared' ? 'shared' : 'filtered';
    const customers = mode === 'filtered' ? subs : 97;
    console.log(`\n(2) produce → receive latency at ${rate} events/s for ${seconds} s, ${mode === 'filtered' ? `${subs} subscribers each filtering its own customerId (every event reaches one subscriber)` : `${subs} subscribers of one document (every event reaches all)`}`);

    // The load comes from a child of its own (--role producer): a kafkajs producer that, every 5 ms, sends the events
    // due so far (acks=-1), each stamped with its send time in `note`. The same producer serves both sides of the
    // comparison. It shares the two cores with what is measured, so it is made cheap: its events' JSON is made before
    // the clock, and by default (--lat-producer fast) its kafkajs is set up as lakegate's (producerRole): 14–24 µs/event
    // of CPU, against ~53 for stock kafkajs making its JSON on the way (--lat-producer stock keeps kafkajs' codecs and
    // partitioner); its CPU is printed per run.
    const producerKind = values['lat-producer'] === 'stock' ? 'stock' : 'fast';
    const prod = forkRole(['--role', 'producer', '--codecs', producerKind]);
    // --lat-nice N: the load generators (this producer, the clients child) run at nice N; what is measured (the
    // gateway, the baseline server, the raw consumer) and the brokers stay at 0.
    const loadNice = Number(values['lat-nice']);
    const deprioritize = (pid: number | undefined) => {
      if (loadNice !== 0 && pid !== undefined) os.setPriority(pid, loadNice);
    };
    deprioritize(prod.child.pid);
    if (loadNice !== 0) console.log(`    load generators (producer, clients) at nice ${loadNice}`);
    await prod.request({ type: 'start', brokers: dc.brokers }, 'ready');
    const paced = async (topic: string, seconds: number, prefix = 'l-') =>
      (await prod.request({ type: 'pace', topic, seconds, prefix, rate, customers }, 'paced', (seconds + 120) * 1000)) as Msg & { sent: number; secs: number; cpu: number };
    const producerNote = (p: { cpu: number; sent: number; secs: number }) =>
      `producer (kafkajs, ${producerKind} codecs) CPU ${fmt((100 * p.cpu) / p.secs, 0)}% of a core, ${fmt((p.cpu * 1e6) / p.sent, 0)} µs/event`;
    // The warm-up runs at the measured rate, and a cold side (JIT compiling, heaps growing) falls behind during it. The
    // window starts once the side has received every warm-up event: what it measures is a side that keeps up, not the
    // tail of its warm-up. How long that took after the last warm-up send is printed ("caught up").
    const warmUpAtRate = async (side: ForkedRole, perEvent: number) => {
      const w = await paced('lat', warmupSecs, 'w-r-');
      const end = wall();
      const want = w.sent * perEvent;
      for (;;) {
        const { n } = (await side.request({ type: 'warm-count' }, 'warm-count')) as Msg & { n: number };
        if (n >= want) return `caught up ${fmt(wall() - end, 0)} ms after the warm-up`;
        if (wall() - end > 60_000) return `not caught up 60 s after the warm-up (${n} of ${want})`;
        await sleep(20);
      }
    };
    /** CPU share of a process over 3 s with no events (Kafka fetch loop, heartbeats, keep-alives). */
    const idleCpu = async (pid: number) => {
      const c0 = procCpuSeconds(pid)!;
      const t0 = wall();
      await sleep(3_000);
      return (procCpuSeconds(pid)! - c0) / ((wall() - t0) / 1000);
    };
    // Meaningful only when the side kept up (events handled after the window are not in `cpu`).
    const perEvent = (cpu: number, idle: number, p: { sent: number; secs: number }) => {
      const us = ((cpu - idle * p.secs) * 1e6) / p.sent;
      return us > 0 ? fmt(us, 0) : 'n/a';
    };
    // --lat-stall: the measured process is stopped (SIGSTOP) for stallMs every stallEvery ms of the window.
    const stallMs = Number(values['lat-stall']);
    const stallEvery = Number(values['lat-stall-every']);
    const staller = (pid: number) => {
      if (!(stallMs > 0)) return { stop: () => '' };
      let n = 0;
      const timer = setInterval(() => {
        n++;
        process.kill(pid, 'SIGSTOP');
        setTimeout(() => process.kill(pid, 'SIGCONT'), stallMs);
      }, stallEvery);
      return { stop: () => (clearInterval(timer), `; stopped ${n}× ${stallMs} ms (SIGSTOP, every ${stallEvery} ms)`) };
    };
    /** Steal per tenth of the window (by time), to set beside the p99 of each tenth (by arrival). */
    const stealByTenth = (shares: number[]) => (shares.length ? `steal by tenth ${shares.slice(0, 10).map((x) => fmt(x, 0)).join('/')}%` : 'steal by tenth n/a');
    /** One paced window with `pid` measured: its CPU seconds, the machine's shares (and steal per tenth), any stalls. */
    const measureWindow = async (pid: number) => {
      const cpu0 = procCpuSeconds(pid)!;
      const m0 = machineCpu();
      const steal = machineStealSampler((seconds * 1000) / 10);
      const stall = staller(pid);
      const p = await paced('lat', seconds);
      const stalled = stall.stop();
      const cpu = procCpuSeconds(pid)! - cpu0;
      const m1 = machineCpu();
      return { p, cpu, steal: machineSteal(m0, m1), machine: `${machineShare(m0, m1)} (${stealByTenth(steal.stop())})${stalled}` };
    };
    const report = (label: string, lat: number[], expected: number, extra: string) => {
      const s = summary(lat);
      // In arrival order: a p50 that grows from the first to the last tenth means the side fell behind (capacity).
      const tenth = Math.max(1, Math.floor(lat.length / 10));
      const drift = `p50 first/last tenth ${fmt(summary(lat.slice(0, tenth)).p50, 0)}/${fmt(summary(lat.slice(-tenth)).p50, 0)} ms`;
      // p99 of each tenth, in arrival order: tells a steady tail from a few stalls.
      const tenths = Array.from({ length: 10 }, (_, i) => fmt(summary(lat.slice(i * tenth, i === 9 ? lat.length : (i + 1) * tenth)).p99, 0)).join('/');
      extra = `${drift}; p99 by tenth ${tenths} ms ${extra}`;
      console.log(`    ${label.padEnd(34)} p50 ${fmt(s.p50, 1).padStart(6)} ms  p99 ${fmt(s.p99, 1).padStart(6)} ms  max ${fmt(lat.reduce((a, b) => (b > a ? b : a), 0), 0)} ms   received ${s.n}/${expected}  ${extra}  load ${load()}`);
      return s;
    };

    // Baseline: a raw kafkajs consumer (fetch settings of lakegate's tail: 50 ms max wait, 1 MiB per partition).
    // --lat-control: the raw consumer keeps reading during lakegate's run too (same events, same moment): tells the
    // gateway's delay from the producer's and the broker's under the machine's load at that moment.
    const control = values['lat-control']!;
    // --lat-windows: each side's p99 and steal per window, printed together at the end.
    const windows = Math.max(1, Number(values['lat-windows']) || 1);
    const windowTag = (w: number) => (windows > 1 ? ` [${w}/${windows}]` : '');
    type WindowResult = { p99: number; steal: number | null };
    const rawWindows: WindowResult[] = [];
    const serverWindows: Record<'baseline' | 'lakegate', WindowResult[]> = { baseline: [], lakegate: [] };
    const windowsLine = (name: string, ws: WindowResult[]) => {
      const met = ws.filter((x) => x.p99 <= 50).length;
      const sorted = ws.map((x) => x.p99).sort((a, b) => a - b);
      const each = ws.map((x) => `${fmt(x.p99, 1)} (steal ${x.steal === null ? 'n/a' : `${fmt(x.steal, 1)}%`})`).join(', ');
      return `    ${name} p99 by window: ${each} ms; median ${fmt(sorted[Math.floor((sorted.length - 1) / 2)]!, 1)} ms; ≤ 50 ms in ${met} of ${ws.length}`;
    };
    const raw = forkRole(['--role', 'raw-consumer']);
    let rawS!: ReturnType<typeof summary>;
    try {
      raw.send({ type: 'start', brokers: dc.brokers, topic: 'lat' });
      await raw.wait((m) => m.type === 'joined', 60_000);
      await warmUp('lat', raw, 1);
      const idle = await idleCpu(raw.child.pid!);
      const caught = await warmUpAtRate(raw, 1);
      for (let w = 1; w <= windows; w++) {
        const { p, cpu, steal, machine } = await measureWindow(raw.child.pid!);
        await sleep(2_000);
        const r = await raw.request({ type: 'collect' }, 'latencies');
        rawS = report(`raw kafkajs consumer${windowTag(w)}`, r.samples, p.sent, `(sent ${p.sent} in ${fmt(p.secs, 1)} s = ${fmt(p.sent / p.secs, 0)}/s; consumer CPU ${fmt((100 * cpu) / p.secs, 0)}% of a core, idle ${fmt(100 * idle, 0)}%, ${perEvent(cpu, idle, p)} µs/event above idle; ${producerNote(p)}; ${machine}; ${w === 1 ? caught : 'next window'})`);
        rawWindows.push({ p99: rawS.p99, steal });
      }
    } finally {
      if (!control) await raw.stop();
    }

    // The servers, one after the other, each with its own clients child: the plain graphql-ws server (--lat-impls
    // baseline: per-subscriber execution, the filter applied per subscriber as graphql-subscriptions' withFilter does),
    // then lakegate. Same producer, same events, same clients.
    const serverRun = async (impl: 'baseline' | 'lakegate') => {
      const label = impl === 'lakegate' ? 'lakegate subscribers (graphql-ws)' : 'plain graphql-ws server';
      const srv = await startServer(impl, 'lat', `latency-${impl}`);
      const clients = forkClients();
      deprioritize(clients.child.pid);
      try {
        clients.send({
          type: 'start',
          config: { url: srv.wsUrl, connections: subs, perConn: 1, query: mode === 'filtered' ? FILTERED_QUERY : SHARED_LAT_QUERY, variables: mode === 'filtered' ? 'customer' : 'same', vars: {}, mod: customers, mode: 'latency', events: 0 } satisfies ClientsConfig,
        });
        await clients.wait((m) => m.type === 'connected', 60_000);
        await warmUp('lat', clients, mode === 'filtered' ? customers : 1);
        const idle = await idleCpu(srv.proc.child.pid!);
        const caught = await warmUpAtRate(clients, mode === 'filtered' ? Math.floor(subs / customers) : subs);
        let s!: ReturnType<typeof summary>;
        let probeShown = 0;
        for (let w = 1; w <= windows; w++) {
          const ccpu0 = procCpuSeconds(clients.child.pid!)!;
          const { p, cpu, steal, machine } = await measureWindow(srv.proc.child.pid!);
          const ccpu = procCpuSeconds(clients.child.pid!)! - ccpu0;
          await sleep(2_000);
          const r = await clients.request({ type: 'collect' }, 'latencies');
          const expected = mode === 'filtered' ? p.sent * Math.floor(subs / customers) : p.sent * subs;
          s = report(`${label}${windowTag(w)}`, r.samples, expected, `(sent ${p.sent} in ${fmt(p.secs, 1)} s = ${fmt(p.sent / p.secs, 0)}/s; server CPU ${fmt((100 * cpu) / p.secs, 0)}% of a core, idle ${fmt(100 * idle, 0)}%, ${perEvent(cpu, idle, p)} µs/event above idle; clients CPU ${fmt((100 * ccpu) / p.secs, 0)}% of a core; ${producerNote(p)}; closed ${r.closed}; ${machine}; ${w === 1 ? caught : 'next window'})`);
          serverWindows[impl].push({ p99: s.p99, steal });
          if (probe && impl === 'lakegate') for (const l of srv.proc.lines.slice(probeShown).filter((x) => x.startsWith('probe'))) console.log(`      ${l}`);
          probeShown = srv.proc.lines.length;
          if (control) {
            const rc = await raw.request({ type: 'collect' }, 'latencies');
            report('raw consumer, same events (control)', rc.samples, p.sent, '');
          }
        }
        return s;
      } finally {
        await clients.stop();
        await stopChild(srv.proc.child);
        printProfile(`latency-${impl}`);
      }
    };
    const impls = new Set(values['lat-impls']!.split(','));
    let lgS;
    let blS;
    try {
      if (impls.has('baseline')) blS = await serverRun('baseline');
      lgS = await serverRun('lakegate');
    } finally {
      if (control) await raw.stop();
      await prod.stop();
    }
    if (blS) console.log(`    plain graphql-ws p99 = ${fmt(blS.p99, 1)} ms; plain − raw: p50 +${fmt(blS.p50 - rawS.p50, 1)} ms, p99 +${fmt(blS.p99 - rawS.p99, 1)} ms`);
    console.log(`    lakegate p99 = ${fmt(lgS.p99, 1)} ms (target <= 50 ms); lakegate − raw: p50 +${fmt(lgS.p50 - rawS.p50, 1)} ms, p99 +${fmt(lgS.p99 - rawS.p99, 1)} ms`);
    if (windows > 1) {
      console.log(windowsLine('raw kafkajs', rawWindows));
      if (serverWindows.baseline.length) console.log(windowsLine('plain graphql-ws', serverWindows.baseline));
      console.log(windowsLine('lakegate', serverWindows.lakegate));
    }
  }

  // ---- (3) batch publish events/s --------------------------------------------------------------------------------
  async function publishPhase(): Promise<void> {
    const seconds = Number(values['pub-seconds']);
    const concurrency = Number(values['pub-concurrency']);
    // The HTTP client in the bench process: node:http on a keep-alive agent (default), or the global fetch (undici),
    // whose streams cost the bench process more per request (it sits on the serial path of each request).
    const pubClient = values['pub-client'] === 'fetch' ? 'fetch' : 'http';
    const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency) });
    const post = (url: string, payload: string) =>
      new Promise<string>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(payload);
      });
    const sizes = values.batch!.split(',').map(Number);
    console.log(`\n(3) batch publish: ${seconds} s each, ${concurrency} request(s) in flight (client: ${pubClient === 'fetch' ? 'fetch' : 'node:http, keep-alive'}), acks=-1, key = id (murmur2 partitioner on both sides)`);
    const srv = await startServer('lakegate', 'pub', 'publish-lakegate');
    // The raw side: a plain kafkajs producer of its own (default settings), as an application would write it.
    const rawKafka = new Kafka({ clientId: 'bench-raw', brokers: dc.brokers, logLevel: logLevel.NOTHING });
    const rawProducer: Producer = rawKafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await rawProducer.connect();
    const mutation = `mutation Pub($inputs: [OrderInput!]!) { publishOrderBatch(inputs: $inputs) { partition offset } }`;
    try {
      for (const size of sizes) {
        let next = 0;
        const batchOf = () => {
          const base = next;
          next += size;
          return Array.from({ length: size }, (_, j) => event(`p-${base + j}`, base + j, 97));
        };
        const viaRaw = async () => {
          const evs = batchOf();
          await rawProducer.send({ topic: 'pub', acks: -1, messages: evs.map((e) => ({ key: e.id as string, value: JSON.stringify(e) })) });
        };
        const viaGraphql = async () => {
          const evs = batchOf();
          const payload = JSON.stringify({ query: mutation, variables: { inputs: evs } });
          const text = pubClient === 'fetch' ? await (await fetch(srv.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload })).text() : await post(srv.url, payload);
          const body = JSON.parse(text) as { data?: { publishOrderBatch: unknown[] }; errors?: unknown };
          if (!body.data || body.data.publishOrderBatch.length !== size) throw new Error(`publish failed: ${JSON.stringify(body.errors).slice(0, 500)}`);
        };
        // CPU per event of the process doing the work: the bench process itself for raw kafkajs (nothing else runs
        // in it meanwhile), the gateway child for GraphQL (the HTTP client's own CPU, in the bench, is not counted).
        const selfCpu = () => {
          const u = process.cpuUsage();
          return (u.user + u.system) / 1e6;
        };
        const run = async (f: () => Promise<void>, secs: number, cpuOf: () => number) => {
          const deadline = wall() + secs * 1000;
          let batches = 0;
          const t0 = wall();
          const c0 = cpuOf();
          await Promise.all(
            Array.from({ length: concurrency }, async () => {
              while (wall() < deadline) {
                await f();
                batches++;
              }
            }),
          );
          return { events: batches * size, secs: (wall() - t0) / 1000, cpu: cpuOf() - c0 };
        };
        const gwCpu = () => procCpuSeconds(srv.proc.child.pid!)!;
        await run(viaRaw, 1, selfCpu); // warm-up
        await run(viaGraphql, 1, gwCpu);
        const half = seconds / 2;
        // Alternated in halves so that both see the same broker state and machine load.
        const rs = [await run(viaRaw, half, selfCpu)];
        const gs = [await run(viaGraphql, half, gwCpu), await run(viaGraphql, half, gwCpu)];
        rs.push(await run(viaRaw, half, selfCpu));
        const agg = (xs: Array<{ events: number; secs: number; cpu: number }>) => {
          const e = xs.reduce((a, x) => a + x.events, 0);
          const t = xs.reduce((a, x) => a + x.secs, 0);
          const c = xs.reduce((a, x) => a + x.cpu, 0);
          return { rate: e / t, cpuUs: (c * 1e6) / e, share: c / t };
        };
        const r = agg(rs);
        const g = agg(gs);
        console.log(`    batch ${String(size).padStart(5)}: raw kafkajs ${fmt(r.rate, 0).padStart(7)} events/s (${fmt(r.cpuUs, 1)} µs CPU/event, ${fmt(100 * r.share, 0)}% of a core)   publishOrderBatch ${fmt(g.rate, 0).padStart(7)} events/s (gateway ${fmt(g.cpuUs, 1)} µs CPU/event, ${fmt(100 * g.share, 0)}% of a core)   ratio ${fmt(g.rate / r.rate, 2)}x (target >= 0.8x)   load ${load()}`);
      }
    } finally {
      await rawProducer.disconnect().catch(() => {});
      agent.destroy();
      await stopChild(srv.proc.child);
    }
    printProfile('publish-lakegate');
  }

  // ---- (4) RSS with idle subscriptions ---------------------------------------------------------------------------
  async function rssPhase(): Promise<void> {
    const connections = Number(values['rss-conns']);
    const perConn = Number(values['rss-per-conn']);
    const total = connections * perConn;
    const primers: ForkedRole[] = [];
    console.log(`\n(4) RSS of the server process with ${total} idle subscriptions (${connections} connections × ${perConn}); RSS (VmRSS) and peak (VmHWM)`);
    for (const impl of values['rss-impls']!.split(',') as Array<'lakegate' | 'baseline'>) {
      for (const mode of values['rss-modes']!.split(',') as Array<'same' | 'distinct'>) {
        const srv = await startServer(impl, 'idle');
        const clients = forkClients();
        try {
          await sleep(2_000);
          const before = procMemory(srv.proc.child.pid!)!;
          // One subscriber first, so that the Kafka tail is open before the flood: under a burst of thousands of
          // subscribes the tail's 5 s topic-offsets timeout (live/tail.ts) can expire on a busy event loop.
          const primer = forkClients();
          primers.push(primer);
          primer.send({ type: 'start', config: { url: srv.wsUrl, connections: 1, perConn: 1, query: FANOUT_QUERY, variables: 'same', vars: {}, mod: 1, mode: 'idle', events: 0 } satisfies ClientsConfig });
          await primer.wait((m) => m.type === 'connected', 60_000);
          if (impl === 'lakegate') await waitSubs(srv.url, 1, 60_000);
          else await sleep(5_000);
          const primed = procMemory(srv.proc.child.pid!)!;
          clients.send({
            type: 'start',
            config: { url: srv.wsUrl, connections, perConn, query: mode === 'same' ? FANOUT_QUERY : FILTERED_QUERY, variables: mode === 'same' ? 'same' : 'customer', vars: {}, mod: total, mode: 'idle', events: 0 } satisfies ClientsConfig,
          });
          await clients.wait((m) => m.type === 'connected', 180_000);
          // lakegate says how many subscriptions it serves (/metrics); the baseline has no such gauge: wait a little.
          const served = impl === 'lakegate' ? await waitSubs(srv.url, total + 1, 120_000) : NaN;
          await sleep(5_000);
          const after = procMemory(srv.proc.child.pid!)!;
          const stat = await clients.request({ type: 'stats' }, 'stats');
          if (probe && impl === 'lakegate') {
            srv.proc.child.kill('SIGUSR2');
            await srv.proc.waitForLine(/^probe memory/, 60_000).then((l) => console.log(`      ${l}`));
            if (process.env.LIVE_BENCH_HEAP_DIR) await srv.proc.waitForLine(/^probe heap snapshot/, 120_000).then((l) => console.log(`      ${l}`));
          }
          console.log(
            `    ${impl.padEnd(9)} ${mode === 'same' ? 'one document (1 group)      ' : `distinct variables (${total} groups)`}  before ${fmt(before.rss / MiB, 1)} MiB   1 subscriber (tail open) ${fmt(primed.rss / MiB, 1)} MiB   after ${fmt(after.rss / MiB, 1)} MiB (+${fmt((after.rss - primed.rss) / MiB, 1)} MiB over 1 subscriber, ${fmt((after.rss - primed.rss) / total / 1024, 2)} KiB/subscription)   peak ${fmt(after.hwm / MiB, 1)} MiB   ${impl === 'lakegate' ? `served ${served}` : ''} closed ${stat.closed} errors ${stat.errors}${stat.firstError ? ` (${stat.firstError})` : ''}   target <= 200 MiB   load ${load()}`,
          );
        } finally {
          await clients.stop();
          for (const p of primers.splice(0)) await p.stop();
          await stopChild(srv.proc.child);
        }
      }
    }
  }

  /** Polls /metrics until lakegate serves at least n subscriptions; returns the last count seen. */
  async function waitSubs(url: string, n: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const metricsUrl = url.replace(/\/graphql$/, '/metrics');
    let served = NaN;
    while (Date.now() < deadline) {
      const text = await (await fetch(metricsUrl)).text();
      served = Number(/^lakegate_live_subscriptions (\d+)/m.exec(text)?.[1] ?? NaN);
      if (served >= n) break;
      await sleep(250);
    }
    return served;
  }
}

// ---- child processes over IPC -------------------------------------------------------------------------------------

interface ForkedRole {
  child: ChildProcess;
  send(m: Msg): void;
  onMessage(f: (m: Msg) => void): () => void;
  wait(pred: (m: Msg) => boolean, timeoutMs: number): Promise<Msg>;
  request(m: Msg, replyType: string, timeoutMs?: number): Promise<Msg>;
  stop(): Promise<void>;
}

function forkClients(): ForkedRole {
  return forkRole(['--role', 'clients']);
}

function forkRole(args: string[]): ForkedRole {
  const child = fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=4096'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.on('exit', () => process.off('exit', killOnExit));
  const handlers = new Set<(m: Msg) => void>();
  child.on('message', (m: Msg) => {
    if (m.type === 'fatal') console.error(`    child ${args.join(' ')}: ${m.message}`);
    for (const h of [...handlers]) h(m);
  });
  const role: ForkedRole = {
    child,
    send: (m) => child.send(m),
    onMessage(f) {
      handlers.add(f);
      return () => handlers.delete(f);
    },
    wait(pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`child ${args.join(' ')}: no expected message within ${timeoutMs} ms`));
        }, timeoutMs);
        const off = role.onMessage((m) => {
          if (m.type === 'fatal') {
            clearTimeout(timer);
            off();
            reject(new Error(m.message));
          } else if (pred(m)) {
            clearTimeout(timer);
            off();
            resolve(m);
          }
        });
      });
    },
    request(m, replyType, timeoutMs = 60_000) {
      const p = role.wait((x) => x.type === replyType, timeoutMs);
      role.send(m);
      return p;
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        try {
          child.send({ type: 'stop' });
        } catch {
          child.kill('SIGKILL');
        }
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      });
    },
  };
  return role;
}

const tell = (m: Msg) => process.send!(m);

/** --role clients: graphql-ws clients on `ws`; counts, latency samples or nothing (idle), reported over IPC. */
function clientsRole(): void {
  const clients: Client[] = [];
  let cfg: ClientsConfig;
  let total = 0;
  let warmGot: Uint8Array;
  let warm = 0;
  let counts: Uint32Array;
  let frontier = 0;
  let received = 0;
  let errors = 0;
  let firstError: string | undefined;
  let closed = 0;
  const closeCodes = new Map<number, number>();
  let lat: number[] = [];
  let warmPaced = 0;
  let lastSent = -1;
  let stopping = false;

  const start = async () => {
    total = cfg.connections * cfg.perConn;
    warmGot = new Uint8Array(total);
    counts = new Uint32Array(Math.max(1, cfg.events));
    const connectOne = (c: number) =>
      new Promise<void>((resolve, reject) => {
        const client = createClient({
          url: cfg.url,
          webSocketImpl: WebSocket,
          lazy: false,
          retryAttempts: 0,
          onNonLazyError: (e) => reject(e),
          on: {
            connected: () => resolve(),
            closed: (e) => {
              if (stopping) return;
              closed++;
              const code = (e as { code?: number }).code ?? 0;
              closeCodes.set(code, (closeCodes.get(code) ?? 0) + 1);
            },
          },
        });
        clients.push(client);
        for (let s = 0; s < cfg.perConn; s++) {
          const g = c * cfg.perConn + s;
          const variables = cfg.variables === 'same' ? cfg.vars ?? {} : { c: `c-${g % cfg.mod}` };
          client.subscribe(
            { query: cfg.query, variables },
            {
              next: (v: ExecutionResult) => {
                const o = (v.data as { orders?: { id: string; note?: string } } | undefined)?.orders;
                if (!o) {
                  errors++;
                  firstError ??= JSON.stringify(v.errors ?? v).slice(0, 300);
                  return;
                }
                if (o.id.charCodeAt(0) === 119 /* w: warm-up */) {
                  if (o.id.startsWith('w-r-')) warmPaced++;
                  if (!warmGot[g]) {
                    warmGot[g] = 1;
                    if (++warm === total) tell({ type: 'ready' });
                  }
                  return;
                }
                received++;
                if (cfg.mode === 'count') counts[Number(o.id.slice(2))]++;
                else if (cfg.mode === 'latency') lat.push(wall() - Number(o.note));
              },
              error: (e: unknown) => {
                errors++;
                firstError ??= JSON.stringify(e instanceof Error ? e.message : (e as { reason?: string })?.reason ?? e).slice(0, 300);
              },
              complete: () => {},
            },
          );
        }
      });
    // Connect in waves so that the server's init timeout is never the limit.
    const wave = 50;
    for (let c = 0; c < cfg.connections; c += wave) {
      await Promise.all(Array.from({ length: Math.min(wave, cfg.connections - c) }, (_, k) => connectOne(c + k)));
    }
    tell({ type: 'connected' });
    setInterval(() => {
      if (cfg.mode === 'count') while (frontier < cfg.events && counts[frontier]! >= total) frontier++;
      if (frontier !== lastSent) {
        lastSent = frontier;
        tell({ type: 'progress', frontier, received });
      }
    }, 5).unref();
  };

  process.on('message', (m: Msg) => {
    if (m.type === 'start') {
      cfg = m.config;
      start().catch((e) => tell({ type: 'fatal', message: String(e?.message ?? e) }));
    } else if (m.type === 'stats') {
      tell({ type: 'stats', received, errors, firstError, closed, closeCodes: Object.fromEntries(closeCodes) });
    } else if (m.type === 'warm-count') {
      tell({ type: 'warm-count', n: warmPaced });
    } else if (m.type === 'collect') {
      tell({ type: 'latencies', samples: lat, received, errors, closed });
      lat = [];
    } else if (m.type === 'stop') {
      stopping = true;
      void Promise.all(clients.map((c) => c.dispose())).finally(() => process.exit(0));
      setTimeout(() => process.exit(0), 3_000).unref();
    }
  });
}

/**
 * --role producer: the latency phase's load. On `pace`, every 5 ms it sends the events due so far at `rate` (one
 * send, acks=-1), each stamped with its send time in `note`, for `seconds`; answers how many, and its own CPU seconds.
 * The events' JSON (all but the stamp) is made before the clock starts, so that the load costs the shared cores less.
 * With `fast`, the producer is set up as lakegate's own processes set up kafkajs: its produce encoder and its
 * partitioner (the same bytes and partitions as kafkajs', tested in tests/kafka/kafkajs-codecs.test.ts), and no 1 ms
 * timer loop per broker connection (kafka/kafkajs-idle-loop.ts); installed before kafkajs is loaded here.
 */
function producerRole(fast: boolean): void {
  let partitioner = Partitioners.DefaultPartitioner;
  if (fast) {
    const codecs = require('../kafka/kafkajs-codecs') as typeof import('../kafka/kafkajs-codecs');
    const r = codecs.installKafkajsCodecs();
    if (!r.ok) throw new Error(`lakegate's kafkajs codecs: ${r.reason}`);
    const idle = (require('../kafka/kafkajs-idle-loop') as typeof import('../kafka/kafkajs-idle-loop')).installKafkajsIdleLoopFix();
    if (!idle.ok) throw new Error(`lakegate's kafkajs idle-loop fix: ${idle.reason}`);
    partitioner = () => codecs.createDefaultPartitioner(Partitioners.DefaultPartitioner());
  }
  let producer: Producer;
  process.on('message', (m: Msg) => {
    const run = async () => {
      if (m.type === 'start') {
        const kafka = new Kafka({ clientId: 'bench-producer', brokers: m.brokers, logLevel: logLevel.NOTHING });
        producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: partitioner });
        await producer.connect();
        tell({ type: 'ready' });
      } else if (m.type === 'pace') {
        const { topic, seconds, prefix, rate, customers } = m as unknown as { topic: string; seconds: number; prefix: string; rate: number; customers: number };
        // Each event's JSON up to its stamp: `note` is its last key, so this plus the stamp and '"}' is exactly
        // JSON.stringify(event(id, i, customers, stamp)). The loop below sends at most seconds × rate events.
        const made = Math.ceil(seconds * rate);
        const heads: string[] = new Array(made);
        for (let i = 0; i < made; i++) heads[i] = `${JSON.stringify(event(`${prefix}${i}`, i, customers)).slice(0, -1)},"note":"`;
        const c0 = process.cpuUsage();
        const t0 = wall();
        let sent = 0;
        const inFlight = new Set<Promise<unknown>>();
        while (wall() - t0 < seconds * 1000) {
          const due = Math.floor(((wall() - t0) / 1000) * rate) - sent;
          if (due > 0) {
            const stamp = String(wall());
            const messages = Array.from({ length: due }, (_, j) => {
              const i = sent + j;
              return { key: `${prefix}${i}`, value: `${heads[i]}${stamp}"}` };
            });
            sent += due;
            const s = producer.send({ topic, acks: -1, messages });
            inFlight.add(s);
            void s.finally(() => inFlight.delete(s));
          }
          await sleep(5);
        }
        await Promise.all(inFlight);
        const c = process.cpuUsage(c0);
        tell({ type: 'paced', sent, secs: (wall() - t0) / 1000, cpu: (c.user + c.system) / 1e6 });
      } else if (m.type === 'stop') {
        await producer?.disconnect().catch(() => {});
        process.exit(0);
      }
    };
    run().catch((e) => tell({ type: 'fatal', message: String(e?.message ?? e) }));
  });
}

/** --role raw-consumer: a plain kafkajs consumer; produce → consume latency from the stamp in each value's `note`. */
function rawConsumerRole(): void {
  let lat: number[] = [];
  let warmPaced = 0;
  let consumer: ReturnType<Kafka['consumer']> | null = null;
  let readySent = false;
  process.on('message', (m: Msg) => {
    if (m.type === 'start') {
      void (async () => {
        const kafka = new Kafka({ clientId: 'bench-raw-consumer', brokers: m.brokers, logLevel: logLevel.NOTHING });
        consumer = kafka.consumer({ groupId: `bench-raw-${process.pid}`, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 50, maxBytesPerPartition: MiB });
        consumer.on(consumer.events.GROUP_JOIN, () => tell({ type: 'joined' }));
        await consumer.connect();
        await consumer.subscribe({ topic: m.topic, fromBeginning: false });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const now = wall();
            for (const msg of batch.messages) {
              const v = JSON.parse(msg.value!.toString('utf8')) as { id: string; note: string };
              if (v.id.startsWith('w-')) {
                if (v.id.startsWith('w-r-')) warmPaced++;
                if (!readySent) {
                  readySent = true;
                  tell({ type: 'ready' });
                }
                continue;
              }
              lat.push(now - Number(v.note));
            }
          },
        });
      })().catch((e) => tell({ type: 'fatal', message: String(e?.message ?? e) }));
    } else if (m.type === 'warm-count') {
      tell({ type: 'warm-count', n: warmPaced });
    } else if (m.type === 'collect') {
      tell({ type: 'latencies', samples: lat, received: lat.length, closed: 0 });
      lat = [];
    } else if (m.type === 'stop') {
      void (consumer?.disconnect() ?? Promise.resolve()).finally(() => process.exit(0));
      setTimeout(() => process.exit(0), 5_000).unref();
    }
  });
}

/**
 * --role baseline-server: a plain graphql-ws server (`useServer` on `ws`) on lakegate's generated schema, executing
 * every subscription on its own (graphql-js `subscribe` → one execute and one JSON.stringify per subscriber per
 * event). Events come from a plain kafkajs consumer (own group, latest, 50 ms max wait as lakegate's tail), are
 * JSON.parsed once and pushed to an async-iterator queue per subscriber — the graphql-subscriptions PubSub pattern.
 */
async function baselineServerRole(brokers: string[], topic: string): Promise<void> {
  // The bench's datasets are the test fixture's (TEST_CONFIG), as in the gateway it is compared with.
  const tmp = path.join(os.tmpdir(), `lakegate-bench-baseline-${process.pid}.yaml`);
  writeFileSync(tmp, TEST_CONFIG(path.join(os.tmpdir(), 'unused-lake'), `kafka:\n  brokers: ${JSON.stringify(brokers)}\n`));
  const fixture = loadConfig(tmp, { env: {} });
  rmSync(tmp, { force: true });
  const schema: GraphQLSchema = await buildGatewaySchema(fixture);

  type Root = Record<string, unknown>;
  const queues = new Set<{ push(r: Root): void }>();
  const iterator = (filter: ((r: Root) => boolean) | null): AsyncIterableIterator<Root> => {
    const buffered: Root[] = [];
    let waiting: ((r: IteratorResult<Root>) => void) | null = null;
    let done = false;
    const q = {
      push(r: Root) {
        if (filter !== null && !filter(r)) return;
        if (waiting) {
          const w = waiting;
          waiting = null;
          w({ value: r, done: false });
        } else buffered.push(r);
      },
    };
    queues.add(q);
    const it: AsyncIterableIterator<Root> = {
      next: () => {
        if (buffered.length) return Promise.resolve({ value: buffered.shift()!, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((r) => (waiting = r));
      },
      return: () => {
        done = true;
        queues.delete(q);
        waiting?.({ value: undefined, done: true });
        waiting = null;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  };
  // The generated field's `subscribe` refuses (lakegate serves it elsewhere); the baseline gives it the pubsub. A
  // `where: {customerId: {eq}}` (the latency phase's filter) is applied per subscriber before its queue, as
  // graphql-subscriptions' withFilter does; the bench sends no other filter.
  const field = schema.getSubscriptionType()!.getFields()['orders']!;
  field.subscribe = (_root, args: { where?: { customerId?: { eq?: string } } | null }) => {
    const where = args.where ?? null;
    const eq = where?.customerId?.eq;
    if (where !== null && (eq === undefined || Object.keys(where).length !== 1 || Object.keys(where.customerId!).length !== 1)) throw new Error('the baseline filters on customerId.eq only');
    return iterator(eq === undefined ? null : (r) => r.customerId === eq);
  };

  const kafka = new Kafka({ clientId: 'bench-baseline', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-baseline-${process.pid}`, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 50, maxBytesPerPartition: MiB });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const row = JSON.parse(m.value!.toString('utf8')) as Root;
        // Object.assign, not `{ ...row, _meta }`, which on Node 20 makes a hidden class per event (kafka/kafkajs-codecs.ts).
        const ev: Root = Object.assign(row, { _meta: { topic, partition: batch.partition, offset: m.offset, timestamp: new Date(Number(m.timestamp)).toISOString(), key: m.key?.toString('utf8') ?? null } });
        for (const q of queues) q.push(ev);
      }
    },
  });

  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: '/graphql' });
  useServer({ schema }, wss);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  process.stdout.write(`baseline at ws://127.0.0.1:${port}/graphql\n`);
  const stop = () => {
    void consumer.disconnect().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * --role lakegate-probe (with --probe): the same gateway (startGateway, as `serve` runs it) with a probe on socket
 * writes: every second it prints the stamp → socket write delay of the events written in that second (parsed from the
 * `note` field of each frame; the live hub writes frames to the socket itself, not through ws' send) and how many
 * bytes wait in the sockets' buffers. Tells the gateway's own delay from the transport's and the client's.
 */
async function lakegateProbeRole(configFile: string): Promise<void> {
  const { startGateway, createLogger } = require('../server') as typeof import('../server');
  const proto = net.Socket.prototype as unknown as { write: (data: unknown, ...rest: unknown[]) => boolean };
  const orig = proto.write;
  let lat: number[] = [];
  let maxBuffered = 0;
  const note = /"note":"([\d.]+)"/g;
  proto.write = function (this: net.Socket, data: unknown, ...rest: unknown[]) {
    const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('latin1') : '';
    if (text.includes('"note":"')) {
      const now = wall();
      for (const m of text.matchAll(note)) lat.push(now - Number(m[1]));
    }
    const r = orig.call(this, data, ...rest);
    if (this.writableLength > maxBuffered) maxBuffered = this.writableLength;
    return r;
  };
  // Garbage collections of the second: how many, their total and longest pause, and how many were full (mark-compact).
  const noGcs = () => ({ n: 0, major: 0, ms: 0, max: 0 });
  let gcs = noGcs();
  const { PerformanceObserver, constants } = require('node:perf_hooks') as typeof import('node:perf_hooks');
  const v8 = require('node:v8') as typeof import('node:v8');
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcs.n++;
      gcs.ms += e.duration;
      if (e.duration > gcs.max) gcs.max = e.duration;
      if (((e as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++;
    }
  }).observe({ entryTypes: ['gc'] });
  const catalog = loadConfig(configFile, { env: {} });
  const gw = await startGateway({ catalog, logger: createLogger('warn'), port: 0, host: '127.0.0.1' });
  let last = wall();
  setInterval(() => {
    // How late this tick is (an event loop blocked that long); measured every tick, printed with the sends.
    const now = wall();
    const lag = Math.round(now - last - 1000);
    last = now;
    if (lat.length === 0) return;
    const s = summary(lat);
    const old = v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'old_space');
    const heap = `old space ${fmt((old?.space_used_size ?? 0) / MiB, 1)} MiB, external ${fmt(process.memoryUsage().external / MiB, 1)} MiB`;
    const gc = `gc ${gcs.n} (${gcs.major} full) ${fmt(gcs.ms, 1)} ms, longest ${fmt(gcs.max, 1)} ms; ${heap}`;
    process.stdout.write(`probe: ${s.n} events written  stamp→write p50 ${fmt(s.p50)} ms p99 ${fmt(s.p99)} ms  max bufferedAmount ${maxBuffered} B  timer lag ${lag} ms  ${gc}  ${JSON.stringify(gw.live.stats())}\n`);
    gcs = noGcs();
    lat = [];
    maxBuffered = 0;
  }, 1000);
  // SIGUSR2: full GC (when --expose-gc), then memory figures; with LIVE_BENCH_HEAP_DIR also a heap snapshot.
  process.on('SIGUSR2', () => {
    const g = (globalThis as { gc?: () => void }).gc;
    const before = process.memoryUsage();
    if (g) for (let i = 0; i < 3; i++) g();
    const m = process.memoryUsage();
    const mib = (n: number) => fmt(n / MiB, 1);
    process.stdout.write(`probe memory: rss ${mib(before.rss)} → after full GC rss ${mib(m.rss)} MiB, heapUsed ${mib(before.heapUsed)} → ${mib(m.heapUsed)} MiB, heapTotal ${mib(m.heapTotal)}, external ${mib(m.external)}, arrayBuffers ${mib(m.arrayBuffers)} MiB  ${JSON.stringify(gw.live.stats())}\n`);
    const dir = process.env.LIVE_BENCH_HEAP_DIR;
    if (dir) process.stdout.write(`probe heap snapshot: ${v8.writeHeapSnapshot(path.join(dir, `gateway-${process.pid}.heapsnapshot`))}\n`);
  });
  // LIVE_BENCH_PROMOTED=FILE: sample allocations that outlive a young-generation collection (V8's sampling heap
  // profiler, keeping what a full GC collects and dropping what a scavenge does), written to FILE on SIGTERM.
  const promotedFile = process.env.LIVE_BENCH_PROMOTED;
  const inspector = promotedFile ? new (require('node:inspector') as typeof import('node:inspector')).Session() : null;
  if (inspector) {
    inspector.connect();
    inspector.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false } as object);
  }
  const writePromoted = () =>
    new Promise<void>((resolve) => {
      if (!inspector) return resolve();
      inspector.post('HeapProfiler.stopSampling', (err, res) => {
        if (!err) writeFileSync(promotedFile!, JSON.stringify((res as { profile: unknown }).profile));
        resolve();
      });
    });
  process.stdout.write(`\nlakegate is up: GraphiQL at ${gw.url}\n`);
  process.on('SIGTERM', () => void writePromoted().then(() => gw.stop()).finally(() => process.exit(0)));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
