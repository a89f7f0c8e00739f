// Replays (from: EARLIEST | timestamp | cursor) against a real dev Kafka cluster and real lake files: the subscriber must
// get exactly the produced set (the tracked producer's acked (partition, offset) set, plus history files written here
// by a plain DuckDB), in offset order per partition, with no duplicate and nothing missing, across the switch from
// the lake to Kafka — while events keep being produced. Two paths: the lake level with the tail's ring (in-process
// ingestion), and a lake far behind Kafka (a stopped `lakegate ingest`, a tiny ring) bridged by a private catch-up read.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildDevCluster, compareLake, orderEvent, trackedProducer, waitFor, type KafkaLake, type TrackedProducer } from '../helpers/kafka-fixture';
import { Procs, sleep } from '../helpers/ingest-procs';
import { collect, wsClient, type Collected } from '../helpers/live-client';
import { DEFAULT_INGEST, diffSets, kcatAll, orderViolation, recordingLogger, startLive, visibleFilesOf } from '../helpers/live-fixture';

before(buildDevCluster);

const PARTS = 4;
const FIELDS = `id _meta { topic partition offset timestamp cursor }`;
const sub = (from: string) => `subscription { orders(from: ${from}) { ${FIELDS} } }`;
const subCursor = `subscription($c: String!) { orders(from: {cursor: $c}) { ${FIELDS} } }`;
/** "topic/partition:offset" of a delivered event. */
const keyOf = (e: any) => `${e._meta.topic}/${e._meta.partition}:${e._meta.offset}`;

/** Produces events o-<from>..o-<from+n-1>, round-robin over the partitions, in batches; records acks as "orders/p:o". */
async function produce(prod: TrackedProducer, from: number, n: number, opts: { batch?: number; pauseMs?: number } = {}) {
  const batch = opts.batch ?? 200;
  for (let b = from; b < from + n; b += batch) {
    const k = Math.min(batch, from + n - b);
    await prod.send(Array.from({ length: k }, (_, j) => ({ key: `o-${b + j}`, value: JSON.stringify(orderEvent(b + j)), partition: (b + j) % PARTS })));
    if (opts.pauseMs) await sleep(opts.pauseMs);
  }
}
const expectedOf = (prod: TrackedProducer) => new Set([...prod.produced.keys()].map((k) => `orders/${k}`));

/** Exactly `want`, each once, in offset order per partition, with the ids the producer sent. */
function assertExactly(got: any[], want: Set<string>, what: string, prod: TrackedProducer, history?: Map<string, string>) {
  const keys = got.map(keyOf);
  const d = diffSets(keys, want);
  assert.equal(new Set(keys).size, keys.length, `${what}: duplicate deliveries`);
  assert.deepEqual({ missing: d.missing.slice(0, 10), extra: d.extra.slice(0, 10), nMissing: d.missing.length, nExtra: d.extra.length }, { missing: [], extra: [], nMissing: 0, nExtra: 0 }, what);
  assert.equal(keys.length, want.size, what);
  assert.equal(orderViolation(got), null, `${what}: offset order`);
  for (const e of got) {
    const [topic, po] = keyOf(e).split('/');
    const wantId = topic === 'orders' ? JSON.parse(prod.produced.get(po!) ?? '{}').id : history?.get(keyOf(e));
    assert.equal(e.id, wantId, `${what}: id of ${keyOf(e)}`);
  }
}

/** Waits until a subscription has `n` events, then a little longer to see that no more come. */
async function settle(c: Collected, n: number, timeoutMs = 60_000) {
  await c.waitFor(n, timeoutMs);
  await sleep(300);
}

/**
 * History older than Kafka: files of topic `orders.history` (as the sample lake writes them), written by a plain
 * DuckDB. Partition 0 holds the 10th of November, partition 1 the 11th, so a replay reads all of partition 0 first.
 */
async function writeHistory(kl: KafkaLake): Promise<Map<string, string>> {
  const rows = new Map<string, string>();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    for (const [part, day] of [[0, '2026-11-10'], [1, '2026-11-11']] as const) {
      const dir = path.join(kl.lakePath, 'orders', `date=${day}`);
      mkdirSync(dir, { recursive: true });
      const n = 150;
      const file = path.join(dir, `orders.history+${part}+${'0'.padStart(20, '0')}+${String(n - 1).padStart(20, '0')}.parquet`);
      await conn.run(`COPY (
        SELECT 'h-${part}-' || CAST(i AS VARCHAR) AS id, 'c-' || CAST(i % 7 AS VARCHAR) AS customerId, CAST(i AS DOUBLE) / 4 AS amount,
          CAST(i % 9 AS INTEGER) AS quantity, CAST(i AS BIGINT) * 1000000007 AS total, i % 2 = 0 AS paid, 'old' AS status,
          CAST(NULL AS VARCHAR) AS note, CAST(NULL AS DATE) AS shipDate,
          TIMESTAMPTZ '${day} 00:00:00+00' + to_minutes(CAST(i AS BIGINT)) AS createdAt,
          ['h'] AS tags, [CAST(i AS INTEGER)] AS scores, CAST(NULL AS JSON) AS attributes,
          'orders.history' AS _topic, ${part} AS _partition, CAST(i AS BIGINT) AS _offset,
          TIMESTAMPTZ '${day} 00:00:00+00' + to_minutes(CAST(i AS BIGINT)) + INTERVAL 250 MILLISECOND AS _timestamp,
          'h-${part}-' || CAST(i AS VARCHAR) AS _key
        FROM range(${n}) t(i) ORDER BY i) TO '${file}' (FORMAT parquet)`);
      for (let i = 0; i < n; i++) rows.set(`orders.history/${part}:${i}`, `h-${part}-${i}`);
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return rows;
}

test('replay with in-process ingestion (lake, then the tail ring) while producing; from a timestamp; resume by cursor', { timeout: 150_000 }, async (t) => {
  let history!: Map<string, string>;
  const rec = recordingLogger();
  const { kl, gw } = await startLive(t, {
    ingest: true,
    logger: rec.logger,
    extra: `${DEFAULT_INGEST}subscriptions:\n  tailLingerMs: 200\n`,
    beforeStart: async (k) => void (history = await writeHistory(k)),
  });
  const prod = await trackedProducer(kl);
  const clients = Array.from({ length: 4 }, () => wsClient(gw.wsUrl));
  for (const c of clients) kl.defer(() => c.dispose());
  const [c0, cR, cT, cX] = clients as [ReturnType<typeof wsClient>, ReturnType<typeof wsClient>, ReturnType<typeof wsClient>, ReturnType<typeof wsClient>];

  // A live subscriber first: the tail opens at the (empty) topic's end and its ring keeps everything from there.
  const s0 = collect(c0, sub('{position: LATEST}'));
  await waitFor('tail open', () => gw.live.stats().tails === 1 && gw.live.stats().subscriptions === 1, 20_000, 20);
  await produce(prod, 0, 2_000);
  // Part of it committed to files by the ingester.
  await waitFor('files in the lake', async () => (await visibleFilesOf(kl, 'orders')).some((f) => path.basename(f).startsWith('orders+')), 30_000, 100);
  const tMid = Date.now();
  await sleep(30);
  // Keep producing while the replay reads the lake and switches to Kafka.
  const phase2 = produce(prod, 2_000, 2_000, { batch: 100, pauseMs: 15 });
  const r = collect(cR, sub('{position: EARLIEST}'));
  await phase2;
  const want = new Set([...history.keys(), ...expectedOf(prod)]);

  await t.test('from EARLIEST: the history files, the ingested lake, then live: exactly the produced set, in order', async () => {
    await settle(r, want.size);
    assertExactly(r.events, want, 'EARLIEST replay', prod, history);
    // Oldest first: the history topic's rows (days ago) come before any live event, partition 0's day first.
    assert.ok(r.events.slice(0, 150).every((e) => e._meta.topic === 'orders.history' && e._meta.partition === 0));
    assert.ok(r.events.slice(150, 300).every((e) => e._meta.topic === 'orders.history' && e._meta.partition === 1));
    // Level with the tail, the replay joined the shared execution of its group.
    await waitFor('the replay joined its group', () => gw.live.stats().groups === 2, 10_000, 50);
    assert.equal(rec.messages.filter((m) => m.includes('catching up from Kafka')).length, 0, 'the lake met the ring: no catch-up read');
    await settle(s0, prod.produced.size);
    assertExactly(s0.events, expectedOf(prod), 'the live subscriber', prod);
  });

  await t.test('from a timestamp: exactly the events kcat shows at or after it', async () => {
    const rt = collect(cT, `subscription($ts: DateTime!) { orders(from: {timestamp: $ts}) { ${FIELDS} } }`, { ts: new Date(tMid).toISOString() });
    const all = await kcatAll(kl.dc.bootstrap, 'orders');
    assert.equal(all.length, prod.produced.size);
    const wantT = new Set(all.filter((m) => m.ts >= tMid).map((m) => `orders/${m.partition}:${m.offset}`));
    assert.ok(wantT.size > 0 && wantT.size < all.length, `${wantT.size} of ${all.length} after the timestamp`);
    await settle(rt, wantT.size);
    assertExactly(rt.events, wantT, 'timestamp replay', prod);
  });

  await t.test('resume by cursor, live (LATEST) and replay (inside the history files): exactly the events after it', async () => {
    const kL = 1_500;
    const kR = 100; // inside partition 0 of the history topic: partition 1 has not been reached yet
    const cursorL = s0.events[kL]._meta.cursor as string;
    const hadL = new Set(s0.events.slice(0, kL + 1).map(keyOf));
    const cursorR = r.events[kR]._meta.cursor as string;
    const hadR = new Set(r.events.slice(0, kR + 1).map(keyOf));
    await c0.dispose();
    await cR.dispose();
    await produce(prod, 4_000, 400, { batch: 100 });
    const l2 = collect(cX, subCursor, { c: cursorL });
    const r2 = collect(cX, subCursor, { c: cursorR });
    const wantL = new Set([...expectedOf(prod)].filter((k) => !hadL.has(k)));
    const wantR = new Set([...history.keys(), ...expectedOf(prod)].filter((k) => !hadR.has(k)));
    await Promise.all([settle(l2, wantL.size, 30_000).catch(() => {}), settle(r2, wantR.size, 30_000).catch(() => {})]);
    assertExactly(l2.events, wantL, 'live resume', prod);
    assertExactly(r2.events, wantR, 'replay resume', prod, history);
  });

  await t.test('a replay whose executions are asynchronous (a relation read from the lake) still joins its group once level', async () => {
    const groups0 = gw.live.stats().groups;
    const since = new Date(Date.now() + 50).toISOString();
    await sleep(100);
    const q = `subscription($ts: DateTime!) { orders(from: {timestamp: $ts}) { id customer { id name } _meta { topic partition offset } } }`;
    const rr = collect(cX, q, { ts: since });
    await waitFor('subscribed', () => gw.live.stats().subscriptions === 4, 10_000, 20);
    const before = new Set(expectedOf(prod));
    await produce(prod, 4_400, 40, { batch: 4, pauseMs: 5 });
    // The same subscription again while events flow: it replays, then joins the group of the first (same text and
    // variables) while that group's executions are pending; it must get each event once all the same.
    const rr2 = collect(cX, q, { ts: since });
    await produce(prod, 4_440, 80, { batch: 2, pauseMs: 2 });
    const want = new Set([...expectedOf(prod)].filter((k) => !before.has(k)));
    await settle(rr, want.size, 20_000);
    await settle(rr2, want.size, 20_000);
    assertExactly(rr.events, want, 'replay with a relation', prod);
    assertExactly(rr2.events, want, 'the same replay, joining the first one\'s group', prod);
    await waitFor('the replays joined one group', () => gw.live.stats().groups === groups0 + 1 && gw.live.stats().subscriptions === 5, 10_000, 50);
  });
});

test('replay with ingestion far behind Kafka (a stopped `lakegate ingest`, a 100-event ring): the private catch-up read, while producing; live resume below the ring', { timeout: 150_000 }, async (t) => {
  const rec = recordingLogger();
  const { kl, gw } = await startLive(t, { ingest: false, logger: rec.logger, extra: `${DEFAULT_INGEST}subscriptions:\n  replayBufferEvents: 100\n  tailLingerMs: 200\n` });
  const catchups = () => rec.messages.filter((m) => m.includes('catching up from Kafka')).length;
  const prod = await trackedProducer(kl);
  const procs = new Procs(kl);
  const ing = procs.ingest('ingest');
  await produce(prod, 0, 1_200);
  await waitFor('phase 1 in the lake', async () => (await compareLake(path.join(kl.lakePath, 'orders'), prod.produced)).missing.length === 0, 45_000, 200).catch((e) => {
    throw new Error(`${e}\n${procs.report()}`);
  });
  const inLake = prod.produced.size;
  assert.equal(await ing.stop(), 0, procs.report());

  const c0 = wsClient(gw.wsUrl);
  const c1 = wsClient(gw.wsUrl);
  kl.defer(() => c0.dispose());
  kl.defer(() => c1.dispose());
  const s0 = collect(c0, sub('{position: LATEST}'));
  await waitFor('tail open', () => gw.live.stats().tails === 1, 20_000, 20);
  const before = new Set(expectedOf(prod));
  await produce(prod, 1_200, 2_000);
  const afterS0 = () => new Set([...expectedOf(prod)].filter((k) => !before.has(k)));
  await settle(s0, 2_000);

  await t.test('from EARLIEST: lake, catch-up read, ring, live — exactly the produced set, in order', async () => {
    const phase3 = produce(prod, 3_200, 1_000, { batch: 50, pauseMs: 20 });
    const r = collect(c1, sub('{position: EARLIEST}'));
    await phase3;
    await settle(r, prod.produced.size);
    assertExactly(r.events, expectedOf(prod), 'EARLIEST replay over a lagging lake', prod);
    assert.ok(inLake < prod.produced.size / 2, 'the lake ended far behind Kafka');
    assert.equal(catchups(), 1, 'the replay read the gap with a catch-up stream');
    await waitFor('the replay joined its group', () => gw.live.stats().groups === 2, 15_000, 50);
    await settle(s0, afterS0().size);
    assertExactly(s0.events, afterS0(), 'the live subscriber', prod);
  });

  await t.test('resume of a live subscription from a cursor older than the ring: exactly the events after it', async () => {
    const k = 500;
    const cursor = s0.events[k]._meta.cursor as string;
    const had = new Set(s0.events.slice(0, k + 1).map(keyOf));
    await c0.dispose();
    await produce(prod, 4_200, 600);
    const l2 = collect(c1, subCursor, { c: cursor });
    const want = new Set([...afterS0()].filter((x) => !had.has(x)));
    await settle(l2, want.size, 30_000).catch(() => {});
    assertExactly(l2.events, want, 'live resume from below the ring', prod);
    assert.equal(catchups(), 2, 'the resume read the gap with a catch-up stream');
  });
});
