// Ingestion under faults, with real parts only: the dev Kafka cluster (librdkafka mock), real `lakegate ingest` and
// `lakegate compact` child processes, real DuckDB. Each test produces a known set of events (the acked (partition,
// offset) set is the oracle), keeps producing while faults happen, then requires the lake, read by an independent
// DuckDB over the visible files, to hold exactly that set: nothing missing, nothing extra, nothing twice.

import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { compactDataset, createLakeEngine, createLakeReader, listDataFiles } from '../../lake';
import { buildDevCluster, compareLake, createKafkaLake, trackedProducer, visibleFiles, waitFor, type KafkaLake, type Produced } from '../helpers/kafka-fixture';
import { Procs, checkFilesWhole, produceContinuously, randInt, sleep, summarizeKeys, writeConfig, type Proc } from '../helpers/ingest-procs';

before(buildDevCluster);

const PARTITIONS = 4;
/** Kafka API keys and retriable error codes for pushRequestErrors. */
const API = { Produce: 0, Fetch: 1, OffsetCommit: 8 } as const;
const ERR = { NOT_LEADER_FOR_PARTITION: 6, REQUEST_TIMED_OUT: 7, COORDINATOR_NOT_AVAILABLE: 15 } as const;

const ingestYaml = (groupId: string, extra = '') =>
  `ingest:\n  groupId: ${groupId}\n  flushIntervalMs: 300\n  compaction:\n    enabled: false\n${extra}`;

const ordersDir = (kl: KafkaLake) => path.join(kl.lakePath, 'orders');

/** The visible data files right now, as a set of names (progress of an ingester shows as new names). */
async function fileNames(kl: KafkaLake): Promise<Set<string>> {
  return new Set((await visibleFiles(ordersDir(kl))).map((f) => path.basename(f)));
}

async function waitForNewFile(kl: KafkaLake, before: Set<string>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const n of await fileNames(kl)) if (!before.has(n)) return true;
    await sleep(50);
  }
  return false;
}

/**
 * Waits until the lake holds every expected (partition, offset), stops the given ingesters cleanly (no write can come
 * after), then requires exactly the expected set: zero missing, zero extra, zero duplicates, the right ids.
 */
async function expectExactlyOnce(kl: KafkaLake, expected: Produced, procs: Procs, opts: { timeoutMs?: number; stop?: boolean; t?: TestContext } = {}) {
  const dir = ordersDir(kl);
  let last: Awaited<ReturnType<typeof compareLake>> | null = null;
  try {
    await waitFor('every produced event in the lake', async () => {
      last = await compareLake(dir, expected);
      return last.missing.length === 0;
    }, opts.timeoutMs ?? 45_000, 250);
  } catch (e) {
    const r = last as Awaited<ReturnType<typeof compareLake>> | null;
    assert.fail(`${String(e)}\nmissing ${r ? summarizeKeys(r.missing) : '?'}; extra ${r ? summarizeKeys(r.extra) : '?'}; duplicates ${r?.duplicates}\n${procs.report()}`);
  }
  if (opts.stop !== false) for (const p of procs.all) if (p.alive()) await p.stop();
  if (process.env.LAKEGATE_TEST_SHOW_CHILDREN) console.log(procs.report());
  opts.t?.diagnostic(`lakegate warnings: ${procs.warnings()}`);
  const r = await compareLake(dir, expected);
  const why = () => `missing ${summarizeKeys(r.missing)}; extra ${summarizeKeys(r.extra)}; duplicates ${r.duplicates}; wrong ${summarizeKeys(r.wrong)}\n${procs.report()}`;
  assert.equal(r.missing.length, 0, `missing rows: ${why()}`);
  assert.equal(r.extra.length, 0, `rows the producer never acked: ${why()}`);
  assert.equal(r.duplicates, 0, `duplicated rows: ${why()}`);
  assert.equal(r.wrong.length, 0, `rows with the wrong id: ${why()}`);
  assert.equal(r.rows, expected.size);
  return r;
}

test('kill -9 of `lakegate ingest` at random points, restarted each time: exactly once, no partial or _tmp file visible', { timeout: 90_000 }, async (t) => {
  const kl = await createKafkaLake(t, { partitions: PARTITIONS, ingest: ingestYaml('faults-kill') });
  const procs = new Procs(kl);
  const prod = await trackedProducer(kl);
  const TOTAL = 20_000;
  const loop = produceContinuously(prod, { total: TOTAL, partitions: PARTITIONS, batch: 100, perSecond: 650 });
  const kills: string[] = [];
  const t0 = Date.now();
  // A killed member stays in its group until the session timeout (10 s), holding its partitions; a worker restarted
  // into the same group waits that long. Each incarnation gets its own group instead (the lake, not the group, says
  // where to resume, so this is the same recovery path); the last one rejoins the first group, with its committed offsets.
  const groupOf = (i: number) => writeConfig(kl, `kill-${i}`, ingestYaml(`faults-kill-${i}`));
  for (let i = 0; kills.length < 6 || (loop.acked() < TOTAL && Date.now() - t0 < 45_000); i++) {
    const before = await fileNames(kl);
    const spawnedAt = Date.now();
    const p = procs.ingest(`ingest-${i}`, groupOf(i));
    // Mostly mid-ingestion (after this worker committed a file: segments open, commits in flight); every third
    // kill counts from the spawn instead, so it lands in start-up, group join or recovery.
    const fromSpawn = i % 3 === 2;
    const progressed = fromSpawn ? false : await waitForNewFile(kl, before, 10_000);
    const delay = randInt(200, 2_500);
    await sleep(delay);
    await p.kill9();
    kills.push(`#${i} ${fromSpawn ? 'from spawn' : progressed ? 'after its first file' : 'no file within 10 s'} +${delay} ms (alive ${Date.now() - spawnedAt} ms, acked ${loop.acked()})`);
  }
  t.diagnostic(`kills: ${kills.join('; ')}`);
  assert.ok(kills.length >= 5, `only ${kills.length} kills`);
  procs.ingest('ingest-final', groupOf(0));
  await loop.done;
  await expectExactlyOnce(kl, prod.produced, procs, { t });

  // No partial file: each visible file reads on its own and holds exactly the offsets its name says.
  const whole = await checkFilesWhole(ordersDir(kl));
  assert.deepEqual(whole.bad, [], `partial or mismatched files:\n${JSON.stringify(whole.bad, (_, v) => (typeof v === 'bigint' ? String(v) : v), 1)}`);
  // No _tmp file is data: neither lakegate's own listing nor the independent walk shows anything from `_tmp`.
  const engine = await createLakeEngine({ lakePath: kl.lakePath });
  kl.defer(() => engine.close());
  const listed = await listDataFiles(kl.lakePath, kl.catalog.datasetMap.get('orders')!);
  assert.equal(listed.length, whole.files, 'lakegate lists the same files as an independent walk');
  for (const f of [...listed.map((x) => x.path), ...(await visibleFiles(ordersDir(kl)))]) {
    assert.ok(!f.split(path.sep).includes('_tmp'), `${f} is under _tmp`);
    assert.match(path.basename(f), /^orders\+\d+\+\d{20}\+\d{20}\.parquet$/, `${f} is not a committed data file name`);
  }
  const debris = await fsp.readdir(path.join(ordersDir(kl), '_tmp')).catch(() => [] as string[]);
  t.diagnostic(`${whole.files} files, ${debris.length} _tmp leftovers of killed writers`);
});

test('broker down/up, a failover by leader move, and repeated leader moves while ingesting: exactly once', { timeout: 90_000 }, async (t) => {
  const group = 'faults-brokers';
  const kl = await createKafkaLake(t, { brokers: 3, partitions: PARTITIONS, ingest: ingestYaml(group) });
  const dc = kl.dc;
  // Known placement: the group coordinator on broker 3, orders' leaders spread over 1, 2, 3.
  await dc.command(`coordinator group ${group} 3`);
  const leaders = [1, 2, 3, 1];
  for (let p = 0; p < PARTITIONS; p++) await dc.setLeader('orders', p, leaders[p]!);
  const moveLeader = async (p: number, b: number) => {
    await dc.setLeader('orders', p, b);
    leaders[p] = b;
  };
  const procs = new Procs(kl);
  const prod = await trackedProducer(kl);
  const loop = produceContinuously(prod, { total: 16_000, partitions: PARTITIONS, batch: 100, perSecond: 700 });
  const steps: string[] = [];
  const step = (s: string) => steps.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${s}`);
  const t0 = Date.now();
  const ing = procs.ingest('ingest');
  assert.ok(await waitForNewFile(kl, new Set(), 20_000), `no file within 20 s\n${procs.report()}`);
  step('ingesting');

  // A produce request the broker appended but whose response died with the connection would be retried and stored
  // twice (the mock gives no producer id, so no idempotence): an offset the acks never named. So no produce request is
  // in flight at the instant a broker goes down; production resumes while it is down (its partitions wait for it).
  const down = async (b: number) => {
    await loop.quiesce();
    await dc.brokerDown(b);
    loop.resume();
    step(`broker ${b} down (leads ${leaders.flatMap((l, p) => (l === b ? [`orders[${p}]`] : [])).join(', ') || 'nothing'}${b === 3 ? ', coordinator' : ''})`);
  };
  const up = async (b: number) => {
    await dc.brokerUp(b);
    step(`broker ${b} up`);
  };

  // 1. A leader's broker down a few seconds, then back (the mock keeps it leader meanwhile).
  await down(2);
  await sleep(3_000);
  await up(2);
  await sleep(1_500);
  // 2. Leader moves: every partition to another broker, several times.
  for (let r = 1; r <= 4; r++) {
    for (let p = 0; p < PARTITIONS; p++) await moveLeader(p, ((leaders[p]! - 1 + randInt(1, 2)) % 3) + 1);
    step(`leaders moved: ${leaders.join(',')}`);
    await sleep(800);
  }
  // 3. The coordinator's broker down, then a failover: its partitions get new leaders before it returns.
  await down(3);
  await sleep(2_000);
  for (let p = 0; p < PARTITIONS; p++) if (leaders[p] === 3) await moveLeader(p, 1);
  step(`failover: leaders ${leaders.join(',')}`);
  await sleep(2_000);
  await up(3);
  // 4. Another broker down and up.
  await sleep(1_000);
  await down(1);
  await sleep(2_500);
  await up(1);

  await loop.done;
  step(`all ${prod.produced.size} events acked`);
  t.diagnostic(steps.join('; '));
  assert.ok(ing.alive(), `the ingester exited\n${procs.report()}`);
  await expectExactlyOnce(kl, prod.produced, procs, { t });
});

test('injected request errors on Fetch, OffsetCommit, Produce (and a forced rebalance): exactly once', { timeout: 90_000 }, async (t) => {
  const kl = await createKafkaLake(t, { partitions: PARTITIONS, ingest: ingestYaml('faults-errors') });
  const dc = kl.dc;
  const procs = new Procs(kl);
  const prod = await trackedProducer(kl);
  const loop = produceContinuously(prod, { total: 14_000, partitions: PARTITIONS, batch: 100, perSecond: 900 });
  const ing = procs.ingest('ingest');
  assert.ok(await waitForNewFile(kl, new Set(), 20_000), `no file within 20 s\n${procs.report()}`);
  // Injected errors answer the next requests of that API from any client, before the broker handles them: a Produce
  // that gets one was not appended, so the producer's retry stores each event once and the acks stay the oracle.
  // Fetch errors are few on purpose: kafkajs 2.2.4 answers a Fetch NOT_LEADER_FOR_PARTITION by re-joining the group
  // from inside its fetch loop (consumerGroup.recoverFromFetch → joinAndSync), which against the mock stalls
  // consumption ~10-17 s per error (a plain kafkajs consumer does the same); more than ~4 REQUEST_TIMED_OUT in a row
  // exhaust its retries and crash-restart the consumer (~25 s). Both stall, neither loses or repeats a record here.
  const rounds: Array<{ what: string; errors: Array<[api: number, count: number, code: number]>; pauseMs: number }> = [
    {
      what: 'Fetch×4 REQUEST_TIMED_OUT, OffsetCommit×10 COORDINATOR_NOT_AVAILABLE, Produce×10 NOT_LEADER_FOR_PARTITION',
      errors: [[API.Fetch, 4, ERR.REQUEST_TIMED_OUT], [API.OffsetCommit, 10, ERR.COORDINATOR_NOT_AVAILABLE], [API.Produce, 10, ERR.NOT_LEADER_FOR_PARTITION]],
      pauseMs: 2_000,
    },
    {
      what: 'Fetch×1 NOT_LEADER_FOR_PARTITION (the member re-joins), OffsetCommit×10 REQUEST_TIMED_OUT, Produce×10 REQUEST_TIMED_OUT',
      errors: [[API.Fetch, 1, ERR.NOT_LEADER_FOR_PARTITION], [API.OffsetCommit, 10, ERR.REQUEST_TIMED_OUT], [API.Produce, 10, ERR.REQUEST_TIMED_OUT]],
      pauseMs: 3_000,
    },
    {
      // Heartbeat (12) answered REBALANCE_IN_PROGRESS (27): a rejoin while segments are open and commits queued.
      what: 'Heartbeat×2 REBALANCE_IN_PROGRESS, OffsetCommit×8 COORDINATOR_NOT_AVAILABLE, Produce×20 REQUEST_TIMED_OUT, Fetch×3 REQUEST_TIMED_OUT',
      errors: [[12, 2, 27], [API.OffsetCommit, 8, ERR.COORDINATOR_NOT_AVAILABLE], [API.Produce, 20, ERR.REQUEST_TIMED_OUT], [API.Fetch, 3, ERR.REQUEST_TIMED_OUT]],
      pauseMs: 2_000,
    },
    {
      what: 'OffsetCommit×10 COORDINATOR_NOT_AVAILABLE, Produce×30 NOT_LEADER_FOR_PARTITION',
      errors: [[API.OffsetCommit, 10, ERR.COORDINATOR_NOT_AVAILABLE], [API.Produce, 30, ERR.NOT_LEADER_FOR_PARTITION]],
      pauseMs: 1_000,
    },
  ];
  for (const round of rounds) {
    for (const [api, count, code] of round.errors) await dc.pushRequestErrors(api, count, code);
    await sleep(round.pauseMs);
  }
  await loop.done;
  t.diagnostic(`${rounds.map((r) => r.what).join('; ')}; ${prod.produced.size} events acked`);
  assert.ok(ing.alive(), `the ingester exited\n${procs.report()}`);
  await expectExactlyOnce(kl, prod.produced, procs, { t });
});

/** A worker's log lines worth keeping whole: its assignments, its commits, a consumer crash. */
const WORKER_EVENTS = /joined the ingestion group|committed a data file|ingestion consumer crashed/;

/** Files each `lakegate ingest` (at debug level) says it committed, from its JSON log lines. */
function committedFiles(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (!line.includes('committed a data file')) continue;
    try {
      out.push(String(JSON.parse(line).file));
    } catch {
      /* not JSON */
    }
  }
  return out;
}

/** The last assignment of orders' partitions a worker logged ("joined the ingestion group"), sorted. */
function lastAssignment(lines: readonly string[]): number[] | null {
  let last: number[] | null = null;
  for (const line of lines) {
    if (!line.includes('joined the ingestion group')) continue;
    try {
      last = [...((JSON.parse(line).assignment?.orders ?? []) as number[])].sort((x, y) => x - y);
    } catch {
      /* not JSON */
    }
  }
  return last;
}

/** The worker logged that its kafkajs consumer crashed; `fatal`: for good (kafkajs restarts only after retriable errors). */
function consumerCrashes(lines: readonly string[], fatal: boolean): string[] {
  return lines.filter((l) => l.includes('"msg":"ingestion consumer crashed"') && (!fatal || l.includes('"restart":false')));
}

const partitionOf = (f: string) => Number(/\+(\d+)\+\d+\+\d+\.parquet$/.exec(f)![1]);
const endOf = (f: string) => BigInt(/\+(\d+)\.parquet$/.exec(f)![1]!);

/** Per partition, the highest end offset of a visible data file (-1 when none). */
async function lakeEnds(kl: KafkaLake): Promise<Map<number, bigint>> {
  const ends = new Map<number, bigint>();
  for (const f of await visibleFiles(ordersDir(kl))) {
    const p = partitionOf(f);
    if (endOf(f) > (ends.get(p) ?? -1n)) ends.set(p, endOf(f));
  }
  return ends;
}

test('scale-out: three `lakegate ingest` share the partitions; kill -9 of one, then another: the survivors take over, exactly once', { timeout: 180_000 }, async (t) => {
  const kl = await createKafkaLake(t, { partitions: PARTITIONS, ingest: ingestYaml('faults-scale') });
  // The mock must answer a follower's SyncGroup that comes after the leader's, as Kafka does (tools/dev-cluster/
  // librdkafka-mock-syncgroup.patch); an unpatched librdkafka mock kills that follower's consumer (INVALID_REQUEST).
  const mock = await kl.dc.command('version');
  t.diagnostic(`dev cluster: ${mock}`);
  assert.match(mock, /librdkafka-mock-syncgroup\.patch/, 'the dev cluster lacks the SyncGroup patch: rebuild it with tools/dev-cluster/build.sh');
  const procs = new Procs(kl);
  const prod = await trackedProducer(kl);
  const TOTAL = 36_000;
  const loop = produceContinuously(prod, { total: TOTAL, partitions: PARTITIONS, batch: 100, perSecond: 500 });
  const steps: string[] = [];
  const t0 = Date.now();
  const step = (what: string) => steps.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what} (acked ${loop.acked()})`);
  // Debug level: each worker logs its assignments and every file it commits, which is how we see who wrote what.
  const worker = (name: string) => procs.spawn(name, ['ingest', '--config', kl.configFile], { LAKEGATE_LOG_LEVEL: 'debug' }, { record: WORKER_EVENTS });
  const a = worker('ingest-a');
  assert.ok(await waitForNewFile(kl, new Set(), 20_000), `no file within 20 s\n${procs.report()}`);
  step('a ingesting alone');
  const b = worker('ingest-b');
  const c = worker('ingest-c');
  const workers = { a, b, c };
  const fail = (why: string) => assert.fail(`${why}\nsteps: ${steps.join('; ')}\n${procs.report()}`);
  // A consumer that kafkajs gave up on (the unpatched mock's INVALID_REQUEST to a late SyncGroup did that) fails the test
  // at once; a retriable crash (kafkajs restarts the consumer) is reported in the diagnostics.
  const noCrash = (ps: Proc[]) => {
    for (const p of ps) {
      const crashes = consumerCrashes(p.recorded(), true);
      if (crashes.length) fail(`${p.name}'s consumer crashed for good: ${crashes[0]}`);
      if (!p.alive()) fail(`${p.name} exited`);
    }
  };

  /** Waits until the given workers' last assignments are disjoint, non-empty and cover every partition. */
  const split = async (ps: Proc[], what: string, extra: () => boolean = () => true) => {
    const got = await waitFor(what, () => {
      noCrash(ps);
      const as = ps.map((p) => lastAssignment(p.recorded()));
      if (as.some((x) => !x || x.length === 0)) return null;
      const all = (as as number[][]).flat().sort((x, y) => x - y);
      if (all.join() !== '0,1,2,3') return null; // overlapping (a generation in flight) or not covering
      return extra() ? as.map((x) => x!) : null;
    }, 60_000, 200).catch((e) => fail(String(e)));
    step(`${what}: ${ps.map((p, i) => `${p.name}=${got[i]}`).join(' ')}`);
    return got;
  };

  // 1. Three workers split the four partitions, and each commits files of its own partitions.
  const [pa, pb, pc] = await split([a, b, c], 'three workers split the partitions', () =>
    [b, c].every((p) => committedFiles(p.recorded()).length > 0));
  for (const [name, p] of Object.entries(workers)) {
    const mine = lastAssignment(p.recorded())!;
    // b and c joined into the split: every file they committed is of their own partitions.
    if (p !== a) for (const f of committedFiles(p.recorded())) assert.ok(mine.includes(partitionOf(f)), `${name} committed ${f} outside its partitions ${mine}`);
  }
  await sleep(randInt(500, 2_000));

  // 2. kill -9 of b while producing: a and c take its partitions over (once the group drops b: session timeout, 10 s).
  assert.ok(loop.acked() < TOTAL, 'production ended before the first kill');
  await b.kill9();
  step(`b killed (held ${pb})`);
  const endsAtKillB = await lakeEnds(kl);
  const [pa2, pc2] = await split([a, c], 'a and c hold every partition', () =>
    // ... and files of b's partitions past what the lake held at the kill: the survivors resumed them.
    pb!.every((p) => {
      const e = endsAtKillB.get(p) ?? -1n;
      return committedFiles([...a.recorded(), ...c.recorded()]).some((f) => partitionOf(f) === p && endOf(f) > e);
    }));
  await sleep(randInt(500, 2_000));

  // 3. kill -9 of c: a alone takes everything.
  const producingAtKillC = loop.acked() < TOTAL;
  await c.kill9();
  step(`c killed (held ${pc2})`);
  const endsAtKillC = await lakeEnds(kl);
  await split([a], 'a holds every partition', () =>
    pc2!.every((p) => committedFiles(a.recorded()).some((f) => partitionOf(f) === p && endOf(f) > (endsAtKillC.get(p) ?? -1n))));

  await loop.done;
  step(`all ${prod.produced.size} events acked`);
  noCrash([a]);
  const restarts = Object.values(workers).map((p) => `${p.name} ${consumerCrashes(p.recorded(), false).length}`).join(', ');
  t.diagnostic(`${steps.join('; ')}; first split a=${pa} b=${pb} c=${pc}, then a=${pa2} c=${pc2}${producingAtKillC ? '' : ' (production had ended before c was killed)'}; retriable consumer crashes: ${restarts}`);
  const r = await expectExactlyOnce(kl, prod.produced, procs, { t });
  t.diagnostic(`lake: ${r.rows} rows in ${r.files} files, 0 missing, 0 duplicated`);
});

test('compaction racing queries, a crash between merge and clean-up, kill -9 of `lakegate compact`: every answer is the whole set once', { timeout: 90_000 }, async (t) => {
  // Many small files: rotation every 40 rows and a fast idle flush; `lakegate compact` merges toward 64 KiB.
  const kl = await createKafkaLake(t, {
    partitions: PARTITIONS,
    ingest: `ingest:\n  groupId: faults-compact\n  flushIntervalMs: 100\n  rotate:\n    maxRows: 40\n  compaction:\n    enabled: false\n    minFiles: 3\n    targetBytes: 65536\n`,
  });
  const ds = kl.catalog.datasetMap.get('orders')!;
  const procs = new Procs(kl);
  const prod = await trackedProducer(kl);
  const N = 4_000; // under the list limit (maxLimit 5000): one list query returns every row
  const loop = produceContinuously(prod, { total: N, partitions: PARTITIONS, batch: 40, perSecond: 2_000 });
  procs.ingest('ingest');
  await loop.done;
  await expectExactlyOnce(kl, prod.produced, procs, { t }); // also stops the ingester: from here on only compaction writes
  const expected = prod.produced;
  const filesBefore = (await visibleFiles(ordersDir(kl))).length;
  assert.ok(filesBefore >= N / 40, `only ${filesBefore} files`);

  // Queries (in-process LakeReader, its own DuckDB) in a loop: each answer must be the whole set, each row once.
  const engine = await createLakeEngine({ lakePath: kl.lakePath });
  kl.defer(() => engine.close());
  const reader = createLakeReader(kl.catalog, engine);
  const failures: string[] = [];
  // Queries that failed because compaction removed a file between their listing and their read, twice in a row
  // (the reader retries once): a known product bug, reported by the TODO subtest below instead of being retried here.
  const vanished: string[] = [];
  let answers = 0;
  let queries = 0;
  let querying = true;
  const checkList = async () => {
    const rows = await reader.list(ds, { fields: ['id'], meta: true, limit: 5_000 });
    const seen = new Map<string, number>();
    let wrongId = 0;
    for (const r of rows) {
      const k = `${r._meta!.partition}:${r._meta!.offset}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
      const v = expected.get(k);
      if (v !== undefined && JSON.parse(v).id !== r.id) wrongId++;
    }
    const dup = [...seen.values()].filter((n) => n > 1).length;
    const missing = [...expected.keys()].filter((k) => !seen.has(k));
    const extra = [...seen.keys()].filter((k) => !expected.has(k));
    if (rows.length !== expected.size || dup || missing.length || extra.length || wrongId) {
      failures.push(`list: ${rows.length} rows, ${dup} twice, missing ${summarizeKeys(missing)}, extra ${summarizeKeys(extra)}, ${wrongId} wrong ids`);
    }
  };
  const checkCount = async () => {
    const [row] = await reader.aggregate(ds, { count: true, sum: [], avg: [], min: [], max: [] });
    if (row?.count !== String(expected.size)) failures.push(`aggregate count ${row?.count}, expected ${expected.size}`);
  };
  const queryLoop = (async () => {
    while (querying) {
      try {
        await (queries % 2 === 0 ? checkList() : checkCount());
        answers++;
      } catch (e) {
        const text = `${String(e)}${(e as Error).cause ? ` (cause: ${String((e as Error).cause).split('\n')[0]})` : ''}`;
        if (/the lake could not be read \(cause: .*(Cannot open file|No files found)/.test(text)) vanished.push(text);
        else failures.push(`query failed: ${text}`);
      }
      queries++;
    }
  })();
  const untilQueries = async (n: number) => {
    const target = queries + n;
    await waitFor(`${n} more queries`, () => queries >= target, 20_000, 20);
  };
  await untilQueries(4);

  // 1. A crash between a merge's rename and its clean-up: the merged file is in place, the small files it covers too.
  const dir = path.join(ordersDir(kl), 'date=2026-11-21');
  const p0 = (await visibleFiles(dir)).filter((f) => path.basename(f).startsWith('orders+0+')).slice(0, 6);
  assert.equal(p0.length, 6);
  const range = (f: string) => /\+(\d{20})\+(\d{20})\.parquet$/.exec(f)!;
  const merged = path.join(dir, `orders+0+${range(p0[0]!)[1]}+${range(p0[5]!)[2]}.parquet`);
  const tmp = path.join(ordersDir(kl), '_tmp', 'simulated-merge');
  await fsp.mkdir(path.dirname(tmp), { recursive: true });
  await engine.exec(`COPY (SELECT * FROM read_parquet([${p0.map((f) => `'${f}'`).join(', ')}]) ORDER BY _offset) TO '${tmp}' (FORMAT parquet)`);
  await fsp.rename(tmp, merged);
  const coveredRows = (await compareLake(ordersDir(kl), expected)).duplicates;
  assert.ok(coveredRows >= 6, `the covered files hold rows the merged file holds too (a plain reader sees ${coveredRows} twice)`);
  await untilQueries(4);

  // 2. The next `lakegate compact` run removes the covered files (a config whose target merges nothing, so the small
  // files stay for step 3).
  const cleanupCfg = writeConfig(kl, 'compact-cleanup', `ingest:\n  groupId: faults-compact\n  compaction:\n    targetBytes: 1\n`);
  const c0 = procs.spawn('compact-cleanup', ['compact', '--config', cleanupCfg]);
  assert.equal((await c0.exited).code, 0, c0.output());
  assert.match(c0.output(), /orders: merged 0 files into 0, removed 6 covered/, c0.output());
  assert.equal((await compareLake(ordersDir(kl), expected)).duplicates, 0, 'covered files left after compaction');
  for (const f of p0) await assert.rejects(fsp.access(f), `${f} was covered`);
  await untilQueries(4);

  // 3. kill -9 of `lakegate compact` mid-run (a config that merges every partition's files into one).
  const bigCfg = writeConfig(kl, 'compact-big', `ingest:\n  groupId: faults-compact\n  compaction:\n    minFiles: 2\n`);
  const killed: string[] = [];
  const tmpCount = async () => (await fsp.readdir(path.join(ordersDir(kl), '_tmp')).catch(() => [] as string[])).length;
  for (let i = 0; i < 3; i++) {
    const filesPre = (await visibleFiles(ordersDir(kl))).length;
    // Mid-merge: once a merged file of this run is being written aside, give it 0-60 ms more (written, renamed in,
    // small files partly removed), then kill -9.
    const tdir = path.join(ordersDir(kl), '_tmp');
    const debris = new Set(await fsp.readdir(tdir).catch(() => [] as string[]));
    const c = procs.spawn(`compact-killed-${i}`, ['compact', '--config', bigCfg]);
    const merging = await waitFor('a merge in progress', async () => {
      if (!c.alive()) return 'exited';
      return (await fsp.readdir(tdir).catch(() => [] as string[])).some((n) => n.includes('.compact.') && !debris.has(n)) && 'merging';
    }, 10_000, 2);
    const delay = randInt(0, 60);
    await sleep(delay);
    const wasAlive = c.alive();
    await c.kill9();
    const left = await compareLake(ordersDir(kl), expected);
    assert.equal(left.missing.length + left.extra.length, 0, 'a killed compaction lost or invented rows');
    killed.push(`${merging} +${delay} ms${wasAlive ? '' : ' (had exited)'}: files ${filesPre} → ${left.files}, ${left.duplicates} rows in covered files, ${await tmpCount()} in _tmp`);
    await untilQueries(2);
  }

  // 4. `lakegate compact` (toward the configured 64 KiB) after the killed runs: their covered files go too.
  const c1 = await procs.compact('compact-1');
  assert.equal(c1.code, 0, c1.output);
  assert.equal((await compareLake(ordersDir(kl), expected)).duplicates, 0, 'covered files left after compaction');
  await untilQueries(4);

  // 5. In-process compaction rounds with growing targets, then `lakegate compact` until nothing is left to merge.
  const compactor = await createLakeEngine({ lakePath: kl.lakePath });
  kl.defer(() => compactor.close());
  for (const targetBytes of [96 * 1024, 512 * 1024, 128 * 1024 * 1024]) {
    await compactDataset(compactor, ds, { targetBytes, minFiles: 2 });
    await untilQueries(2);
  }
  const c2 = await procs.compact('compact-2', 30_000);
  assert.equal(c2.code, 0, c2.output);
  await untilQueries(4);
  querying = false;
  await queryLoop;

  const filesAfter = (await visibleFiles(ordersDir(kl))).length;
  t.diagnostic(`${queries} queries, ${answers} answered (each the whole set once), ${vanished.length} failed on a file compaction removed; files ${filesBefore} → ${filesAfter}; compact kills: ${killed.join('; ')}`);
  assert.deepEqual(failures, [], `${failures.length} of ${queries} queries answered wrong or failed`);
  assert.ok(answers >= 20, `only ${answers} queries answered`);
  assert.ok(filesAfter < filesBefore / 4, `file count ${filesBefore} → ${filesAfter}`);
  const r = await compareLake(ordersDir(kl), expected);
  assert.deepEqual({ missing: r.missing.length, extra: r.extra.length, duplicates: r.duplicates, wrong: r.wrong.length }, { missing: 0, extra: 0, duplicates: 0, wrong: 0 });
  const whole = await checkFilesWhole(ordersDir(kl));
  assert.deepEqual(whole.bad, [], 'partial or mismatched files after compaction');

  await t.test('no query fails because compaction removed a file it had listed', () => {
    assert.deepEqual(vanished.slice(0, 3), [], `${vanished.length} of ${queries} queries failed`);
  });
});
