// Mutations publish<Type> / publish<Type>Batch against a real dev Kafka cluster: every PublishResult is checked with
// kcat reading the partition and offset it names (same key, same value, same timestamp), with a live subscriber (same
// _meta) and with a plain DuckDB over the lake once ingested. Invalid input produces nothing (kcat's end offsets), and
// broker faults give BROKER_UNAVAILABLE errors (never data), with recovery once Kafka is back.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { buildDevCluster, waitFor } from '../helpers/kafka-fixture';
import { gql, gqlData } from '../helpers/lake-fixture';
import { collect, wsClient } from '../helpers/live-client';
import { DEFAULT_INGEST, kcatAt, kcatEnds, lakeSql, orderInput as input, startLive } from '../helpers/live-fixture';

before(buildDevCluster);

const PUBLISH = `mutation($i: OrderInput!, $k: String) { publishOrder(input: $i, key: $k) { topic partition offset timestamp } }`;
const BATCH = `mutation($is: [OrderInput!]!) { publishOrderBatch(inputs: $is) { topic partition offset timestamp } }`;
const SUB = `subscription { orders { id customerId amount quantity total paid status note shipDate createdAt tags scores attributes _meta { topic partition offset timestamp key } } }`;

interface Result {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
}

/** The fields of `want` as an event carries them (JSON value in Kafka, or the subscription's output). */
function assertSameFields(got: Record<string, unknown>, want: Record<string, unknown>, where: string) {
  for (const [k, v] of Object.entries(want)) {
    const g = got[k];
    if (k === 'total' && v !== null && v !== undefined) assert.equal(String(g), String(v), `${where}: ${k}`);
    else if (k === 'createdAt') assert.equal(Date.parse(String(g)), Date.parse(String(v)), `${where}: ${k}`);
    else assert.deepEqual(g, v, `${where}: ${k}`);
  }
}

test('publishOrder and publishOrderBatch: results name where kcat, a subscriber and the lake find each event', { timeout: 120_000 }, async (t) => {
  const { kl, gw } = await startLive(t, { ingest: true, extra: DEFAULT_INGEST });
  const brokers = kl.dc.bootstrap;
  const client = wsClient(gw.wsUrl);
  kl.defer(() => client.dispose());
  const sql = await lakeSql(kl);
  // The dataset's first subscriber opens its tail, which joins no consumer group (a group's first join waits 3 s on
  // the dev cluster as on Kafka): it is served, and gets what is published next, within moments.
  const subscribedAt = Date.now();
  const sub = collect(client, SUB);
  await waitFor('subscribed', () => gw.live.stats().subscriptions === 1, 20_000, 5);
  const servedMs = Date.now() - subscribedAt;
  t.diagnostic(`the first subscriber was served ${servedMs} ms after it subscribed`);
  assert.ok(servedMs < 1_500, `the first subscriber was served ${servedMs} ms after it subscribed`);
  const delivered = (id: string) => sub.events.find((e) => e.id === id);
  const inLake = async (r: Result) =>
    (await sql.query('orders', `SELECT id, _key, _topic, CAST(total AS VARCHAR) AS total, epoch_ms(_timestamp) AS ts FROM {src} WHERE _topic = 'orders' AND _partition = ${r.partition} AND _offset = ${r.offset}`))[0];
  const all: Array<{ r: Result; in: Record<string, unknown>; key: string }> = [];

  await t.test('publishOrder: kcat reads the same key, value and timestamp at the result; the subscriber gets it with the same _meta; the lake has it there', async () => {
    const i = input('pub-1');
    const sentAt = Date.now();
    const r = (await gqlData<{ publishOrder: Result }>(gw.url, PUBLISH, { i })).publishOrder;
    await waitFor('delivered', () => delivered('pub-1'), 20_000, 5);
    const took = Date.now() - sentAt;
    t.diagnostic(`the first subscriber got the event ${took} ms after the publish was sent`);
    assert.ok(took < 1_500, `the first subscriber got the event ${took} ms after the publish`);
    assert.equal(r.topic, 'orders');
    const m = await kcatAt(brokers, 'orders', r.partition, r.offset);
    assert.equal(m.partition, r.partition);
    assert.equal(String(m.offset), r.offset);
    assert.equal(m.key, 'pub-1', 'the key defaults to the dataset key field (id)');
    assert.equal(m.ts, Date.parse(r.timestamp), 'the result timestamp is the record timestamp');
    assertSameFields(JSON.parse(m.payload!), i, 'the Kafka value');
    await sub.waitFor(1, 20_000);
    const ev = await waitFor('delivered', () => delivered('pub-1'), 20_000, 20);
    assert.deepEqual(ev._meta, { topic: 'orders', partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: 'pub-1' });
    assertSameFields(ev, i, 'the delivered event');
    const row = await waitFor('in the lake', () => inLake(r), 30_000, 200);
    assert.equal(row.id, 'pub-1');
    assert.equal(row._key, 'pub-1');
    assert.equal(row.total, '9007199254740993');
    assert.equal(Number(row.ts), Date.parse(r.timestamp));
    all.push({ r, in: i, key: 'pub-1' });
  });

  await t.test('publishOrder with an explicit key: kcat and the subscriber see that key; one key, one partition', async () => {
    const rs: Result[] = [];
    for (const id of ['pub-k1', 'pub-k2', 'pub-k3']) {
      const i = input(id, { tags: null, attributes: null, quantity: null, total: null });
      const r = (await gqlData<{ publishOrder: Result }>(gw.url, PUBLISH, { i, k: 'one-key' })).publishOrder;
      const m = await kcatAt(brokers, 'orders', r.partition, r.offset);
      assert.equal(m.key, 'one-key');
      assertSameFields(JSON.parse(m.payload!), { id, tags: i.tags, quantity: i.quantity }, 'the Kafka value');
      rs.push(r);
      all.push({ r, in: i, key: 'one-key' });
    }
    assert.equal(new Set(rs.map((r) => r.partition)).size, 1, 'one key, one partition');
    assert.ok(BigInt(rs[0]!.offset) < BigInt(rs[1]!.offset) && BigInt(rs[1]!.offset) < BigInt(rs[2]!.offset), 'offsets in publish order');
    for (const [n, r] of rs.entries()) {
      const ev = await waitFor('delivered', () => delivered(`pub-k${n + 1}`), 20_000, 20);
      assert.equal(ev._meta.key, 'one-key');
      assert.equal(`${ev._meta.partition}:${ev._meta.offset}`, `${r.partition}:${r.offset}`);
      assert.equal(ev.tags, null);
    }
  });

  await t.test('publishOrderBatch: results in input order, each where kcat finds that input', async () => {
    const inputs = Array.from({ length: 24 }, (_, n) => input(`batch-${n}`, { amount: n / 4, status: n % 2 ? 'new' : null }));
    const rs = (await gqlData<{ publishOrderBatch: Result[] }>(gw.url, BATCH, { is: inputs })).publishOrderBatch;
    assert.equal(rs.length, inputs.length);
    assert.ok(new Set(rs.map((r) => r.partition)).size > 1, 'keys spread over partitions');
    const seen = new Map<number, bigint>();
    for (const [n, r] of rs.entries()) {
      const m = await kcatAt(brokers, 'orders', r.partition, r.offset);
      assert.equal(m.key, `batch-${n}`, `result ${n} names the message of input ${n}`);
      assertSameFields(JSON.parse(m.payload!), inputs[n]!, `batch message ${n}`);
      assert.equal(m.ts, Date.parse(r.timestamp));
      const prev = seen.get(r.partition);
      assert.ok(prev === undefined || BigInt(r.offset) > prev, 'input order within a partition');
      seen.set(r.partition, BigInt(r.offset));
      all.push({ r, in: inputs[n]!, key: `batch-${n}` });
    }
    await waitFor('all delivered', () => inputs.every((i) => delivered(String(i.id))), 20_000, 20);
    for (const [n, r] of rs.entries()) {
      const ev = delivered(`batch-${n}`);
      assert.equal(`${ev._meta.partition}:${ev._meta.offset}:${ev._meta.timestamp}`, `${r.partition}:${r.offset}:${r.timestamp}`);
    }
    assert.deepEqual((await gqlData(gw.url, `mutation { publishOrderBatch(inputs: []) { offset } }`)).publishOrderBatch, []);
  });

  await t.test('every published event is in the lake once, at its result', async () => {
    await waitFor('all in the lake', async () => (await Promise.all(all.map((a) => inLake(a.r)))).every(Boolean), 30_000, 200);
    for (const a of all) {
      const row = await inLake(a.r);
      assert.equal(row!.id, a.in.id);
      assert.equal(row!._key, a.key);
    }
    const ids = all.map((a) => `'${a.in.id}'`).join(', ');
    const counts = await sql.query('orders', `SELECT id, count(*) AS n FROM {src} WHERE id IN (${ids}) GROUP BY id HAVING count(*) <> 1`);
    assert.deepEqual(counts, []);
    // Nothing else was delivered: exactly the published events, each once.
    assert.deepEqual(sub.events.map((e) => `${e._meta.partition}:${e._meta.offset}`).sort(), all.map((a) => `${a.r.partition}:${a.r.offset}`).sort());
  });

  await t.test('invalid input: BAD_USER_INPUT, and nothing is produced (kcat end offsets unchanged)', async () => {
    const before = await kcatEnds(brokers, 'orders', 4);
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['a non-number amount', PUBLISH, { i: input('bad-1', { amount: 'abc' }) }],
      ['a timestamp without a zone', PUBLISH, { i: input('bad-2', { createdAt: '2026-11-21 10:00' }) }],
      ['a long beyond 64 bits', PUBLISH, { i: input('bad-3', { total: '99999999999999999999' }) }],
      ['an int beyond 32 bits', PUBLISH, { i: input('bad-4', { quantity: 2 ** 31 }) }],
      ['a missing required field', PUBLISH, { i: (({ customerId: _c, ...rest }) => rest)(input('bad-5')) }],
      ['a null list element', PUBLISH, { i: input('bad-6', { tags: ['a', null] }) }],
      ['JSON with an unpaired surrogate', PUBLISH, { i: input('bad-6b', { attributes: { s: 'x\ud800y' } }) }],
      ['an unknown field', PUBLISH, { i: input('bad-7', { color: 'red' }) }],
      ['one bad input in a batch', BATCH, { is: [input('bad-8a'), input('bad-8b', { createdAt: 'yesterday' }), input('bad-8c')] }],
    ];
    for (const [what, q, vars] of cases) {
      const r = await gql(gw.url, q, vars);
      assert.ok(r.status < 500, `${what}: HTTP ${r.status}`);
      assert.ok(!r.body.data?.publishOrder && !r.body.data?.publishOrderBatch, `${what}: no data: ${r.text}`);
      assert.equal(r.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${what}: ${r.text}`);
    }
    assert.deepEqual(await kcatEnds(brokers, 'orders', 4), before, 'nothing produced');
    // And nothing reached the subscriber: the next event it gets is the one published after.
    const n = sub.events.length;
    const r = (await gqlData<{ publishOrder: Result }>(gw.url, PUBLISH, { i: input('after-bad') })).publishOrder;
    await sub.waitFor(n + 1, 20_000);
    assert.deepEqual(sub.events.slice(n).map((e) => e.id), ['after-bad']);
    const ends = await kcatEnds(brokers, 'orders', 4);
    for (const [p, o] of before) assert.equal(ends.get(p), p === r.partition ? o + 1 : o);
  });
});

test('broker faults: Produce errors and all brokers down give BROKER_UNAVAILABLE (never data); publishing and subscribing recover', { timeout: 120_000 }, async (t) => {
  const { kl, gw } = await startLive(t, { ingest: false, extra: `subscriptions:\n  tailLingerMs: 100\n` });
  const dc = kl.dc;
  const brokers = dc.bootstrap;
  // Warm the producer up (its connection, metadata), as a running gateway would be.
  const warm = (await gqlData<{ publishOrder: Result }>(gw.url, PUBLISH, { i: input('warm') })).publishOrder;
  assert.equal((await kcatAt(brokers, 'orders', warm.partition, warm.offset)).key, 'warm');

  await t.test('errors on every Produce request: BROKER_UNAVAILABLE, nothing appended; then publishing works again', async () => {
    const before = await kcatEnds(brokers, 'orders', 4);
    // REQUEST_TIMED_OUT (7) answers the next Produce requests (any client) before the broker appends anything.
    await dc.pushRequestErrors(0, 40, 7);
    const t0 = Date.now();
    const r = await gql(gw.url, PUBLISH, { i: input('during-errors') });
    const ms = Date.now() - t0;
    assert.equal(r.body.errors?.[0]?.extensions?.code, 'BROKER_UNAVAILABLE', r.text);
    assert.equal(r.body.data ?? null, null, `no data with the error: ${r.text}`);
    assert.ok(r.status < 500 || r.status === 503, `HTTP ${r.status}`);
    assert.doesNotMatch(r.text, /at \w+ \(|node_modules|127\.0\.0\.1:\d+/, 'no stack or broker address in the answer');
    t.diagnostic(`failed publish answered in ${ms} ms (HTTP ${r.status})`);
    // Keep publishing until the injected errors are used up: every answer is an error or a result kcat confirms.
    let ok: Result | null = null;
    let failures = 1;
    for (let n = 0; n < 30 && !ok; n++) {
      const r2 = await gql<{ publishOrder: Result }>(gw.url, PUBLISH, { i: input(`retry-${n}`) });
      if (r2.body.data?.publishOrder) ok = r2.body.data.publishOrder;
      else {
        failures++;
        assert.equal(r2.body.errors?.[0]?.extensions?.code, 'BROKER_UNAVAILABLE', r2.text);
      }
    }
    assert.ok(ok, 'publishing works again once the errors are used up');
    const m = await kcatAt(brokers, 'orders', ok.partition, ok.offset);
    assert.match(String(m.key), /^retry-\d+$/);
    const after = await kcatEnds(brokers, 'orders', 4);
    const added = [...after].reduce((s, [p, o]) => s + o - before.get(p)!, 0);
    assert.equal(added, 1, `only the successful publish was appended (${failures} failed)`);
  });

  await t.test('all brokers down: a publish and a new subscription fail with BROKER_UNAVAILABLE in bounded time; both work after the brokers return', async () => {
    const c = wsClient(gw.wsUrl);
    kl.defer(() => c.dispose());
    for (const b of [1, 2, 3]) await dc.brokerDown(b);
    // The publish (its request to a silent broker times out after 10 s, then a few quick retries) runs meanwhile.
    const t0 = Date.now();
    const publishing = gql(gw.url, PUBLISH, { i: input('while-down') }).then((r) => ({ r, ms: Date.now() - t0 }));
    // No tail is open (the gateway has had no subscriber): subscribing must ask Kafka, and fail with a code.
    assert.equal(gw.live.stats().tails, 0);
    const t1 = Date.now();
    const s = collect(c, `subscription { orders { id } }`);
    await waitFor('the subscription answered', () => s.errors.length > 0 || s.completed, 60_000, 50);
    const subMs = Date.now() - t1;
    assert.match(JSON.stringify(s.errors), /"code":"BROKER_UNAVAILABLE"/, JSON.stringify(s.errors));
    assert.equal(s.events.length, 0);
    assert.equal(gw.live.stats().subscriptions, 0);
    // The lake still answers.
    const q = await gql(gw.url, `{ orders(limit: 1) { id } }`);
    assert.equal(q.status, 200, q.text);
    const { r, ms: pubMs } = await publishing;
    t.diagnostic(`brokers down: publish failed in ${pubMs} ms, subscribe in ${subMs} ms`);
    assert.equal(r.body.errors?.[0]?.extensions?.code, 'BROKER_UNAVAILABLE', r.text);
    assert.equal(r.body.data ?? null, null, r.text);
    assert.ok(r.status !== 500, `HTTP ${r.status}`);
    assert.ok(pubMs < 15_000, `the publish answered after ${pubMs} ms`);

    for (const b of [1, 2, 3]) await dc.brokerUp(b);
    const again = collect(c, `subscription { orders(where: {id: {startsWith: "back-"}}) { id _meta { partition offset } } }`);
    await waitFor('subscribed again', () => gw.live.stats().subscriptions === 1 || again.errors.length > 0, 60_000, 50);
    assert.equal(again.errors.length, 0, JSON.stringify(again.errors));
    const ok = await waitFor(
      'a publish that succeeds',
      async () => (await gql<{ publishOrder: Result }>(gw.url, PUBLISH, { i: input(`back-${Date.now()}`) })).body.data?.publishOrder,
      60_000,
      500,
    );
    const m = await kcatAt(brokers, 'orders', ok.partition, ok.offset);
    assert.match(String(m.key), /^back-/);
    const [ev] = await again.waitFor(1, 30_000);
    assert.equal(`${ev._meta.partition}:${ev._meta.offset}`, `${ok.partition}:${ok.offset}`);
    assert.equal(ev.id, m.key);
  });
});
