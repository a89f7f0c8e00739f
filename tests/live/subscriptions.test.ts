// Live subscriptions against a real dev Kafka cluster, the real gateway and a real graphql-ws client.
// Filters: every operator on every scalar type, list filters and and/or/not, each delivered set compared with the answer
// of hand-written DuckDB SQL of the same condition over the same events once ingested (a plain DuckDB over the lake's
// visible files, no lakegate code). Limits: subscriptions per connection, the Origin allow-list, subscriptions over HTTP.

import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import { startGateway } from '../../server';
import { buildDevCluster, compareLake, quietLogger, trackedProducer, waitFor } from '../helpers/kafka-fixture';
import { gql } from '../helpers/lake-fixture';
import { collect, wsClient } from '../helpers/live-client';
import { DEFAULT_INGEST, catalogWith, lakeSql, startLive, upgradeStatus } from '../helpers/live-fixture';

before(buildDevCluster);

const MISSING = Symbol('missing');
const N = 260;
const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const pick = <T>(pool: T[], i: number) => pool[i % pool.length]!;

/** Varied values, nulls and absent keys; pools of different lengths so that combinations vary. */
function filterEvent(i: number): Record<string, unknown> {
  const ev: Record<string, unknown> = {
    id: `f-${String(i).padStart(4, '0')}`,
    customerId: `c-${pick(['a', 'B', 'c', 'Ä', 'z', '10', '9'], i)}${i % 3}`,
    amount: pick([0, -1.5, 2.25, 10, 99.99, 100, 1e6, 0.1, 0.30000000000000004, 7.5, -0.25], i),
    quantity: i % 6 === 0 ? null : i % 11 === 0 ? MISSING : ((i * 7) % 23) - 5,
    total: pick([null, '9007199254740993', '-9223372036854775808', '9223372036854775807', '0', 42, '-42', '1234567890123456789', String(BigInt(i) * 1_000_000_007n), MISSING], i),
    paid: i % 4 === 0 ? null : i % 10 === 5 ? MISSING : i % 3 === 0,
    status: pick([null, 'paid', 'Paid', 'PAID', 'shipped', 'new', '', '100% off_sale', 'a_b', 'café', 'CAFÉ', 'pending payment', MISSING, 'paid'], i),
    shipDate: i % 3 === 0 ? null : `2026-11-${String(1 + (i % 28)).padStart(2, '0')}`,
    createdAt: new Date(T0 + i * 61_123).toISOString(),
    tags: i % 7 === 0 ? null : i % 7 === 1 ? [] : ['gift', 'express', 'bulk', 'promo'].filter((_, b) => ((i >> b) & 1) === 1),
    scores: i % 5 === 0 ? null : [i % 4, (i * 3) % 5],
    attributes: i % 4 === 0 ? null : { n: i },
  };
  for (const k of Object.keys(ev)) if (ev[k] === MISSING) delete ev[k];
  return ev;
}

const ts = (i: number) => new Date(T0 + i * 61_123).toISOString();
const tsSql = (i: number) => `TIMESTAMPTZ '${ts(i).replace('T', ' ').replace('Z', '+00')}'`;

/** A `where` and the same condition written by hand in DuckDB SQL over the lake's columns. */
const CASES: Array<{ name: string; where: Record<string, unknown>; sql: string }> = [
  // string
  { name: 'string eq', where: { status: { eq: 'paid' } }, sql: `status = 'paid'` },
  { name: 'string ne', where: { status: { ne: 'paid' } }, sql: `status <> 'paid'` },
  { name: 'string gt', where: { status: { gt: 'new' } }, sql: `status > 'new'` },
  { name: 'string gte', where: { status: { gte: 'new' } }, sql: `status >= 'new'` },
  { name: 'string lt', where: { status: { lt: 'Paid' } }, sql: `status < 'Paid'` },
  { name: 'string lte', where: { status: { lte: 'Paid' } }, sql: `status <= 'Paid'` },
  { name: 'string in', where: { status: { in: ['paid', 'shipped', ''] } }, sql: `status IN ('paid', 'shipped', '')` },
  { name: 'string nin', where: { status: { nin: ['paid', 'new'] } }, sql: `status NOT IN ('paid', 'new')` },
  { name: 'string isNull true', where: { status: { isNull: true } }, sql: `status IS NULL` },
  { name: 'string isNull false', where: { status: { isNull: false } }, sql: `status IS NOT NULL` },
  { name: 'string like', where: { status: { like: '%a%' } }, sql: `status LIKE '%a%'` },
  { name: 'string like _', where: { status: { like: 'P_I_' } }, sql: `status LIKE 'P_I_'` },
  { name: 'string like literal %', where: { status: { like: '100%' } }, sql: `status LIKE '100%'` },
  { name: 'string ilike', where: { status: { ilike: 'paid' } }, sql: `status ILIKE 'paid'` },
  { name: 'string ilike non-ASCII', where: { status: { ilike: 'caf%' } }, sql: `status ILIKE 'caf%'` },
  { name: 'string startsWith', where: { status: { startsWith: 'pa' } }, sql: `starts_with(status, 'pa')` },
  { name: 'string contains', where: { status: { contains: 'ai' } }, sql: `contains(status, 'ai')` },
  { name: 'string contains (required field) with range', where: { customerId: { contains: 'a', lt: 'c-b' } }, sql: `contains(customerId, 'a') AND customerId < 'c-b'` },
  { name: 'string gt non-ASCII', where: { customerId: { gt: 'c-z' } }, sql: `customerId > 'c-z'` },
  // int
  { name: 'int eq', where: { quantity: { eq: 3 } }, sql: `quantity = 3` },
  { name: 'int ne', where: { quantity: { ne: 3 } }, sql: `quantity <> 3` },
  { name: 'int gt', where: { quantity: { gt: 5 } }, sql: `quantity > 5` },
  { name: 'int gte', where: { quantity: { gte: 5 } }, sql: `quantity >= 5` },
  { name: 'int lt', where: { quantity: { lt: 0 } }, sql: `quantity < 0` },
  { name: 'int lte', where: { quantity: { lte: 0 } }, sql: `quantity <= 0` },
  { name: 'int in', where: { quantity: { in: [1, 2, 3, -5] } }, sql: `quantity IN (1, 2, 3, -5)` },
  { name: 'int nin', where: { quantity: { nin: [1, 2, 3] } }, sql: `quantity NOT IN (1, 2, 3)` },
  { name: 'int isNull true', where: { quantity: { isNull: true } }, sql: `quantity IS NULL` },
  { name: 'int isNull false', where: { quantity: { isNull: false } }, sql: `quantity IS NOT NULL` },
  // long (BigInt, beyond 2^53)
  { name: 'long eq', where: { total: { eq: '9007199254740993' } }, sql: `total = 9007199254740993` },
  { name: 'long ne', where: { total: { ne: '9007199254740993' } }, sql: `total <> 9007199254740993` },
  { name: 'long gt', where: { total: { gt: '9007199254740992' } }, sql: `total > 9007199254740992` },
  { name: 'long gte', where: { total: { gte: '9007199254740993' } }, sql: `total >= 9007199254740993` },
  { name: 'long lt', where: { total: { lt: '-42' } }, sql: `total < -42` },
  { name: 'long lte', where: { total: { lte: '-42' } }, sql: `total <= -42` },
  { name: 'long in', where: { total: { in: ['-9223372036854775808', '42', '9223372036854775807'] } }, sql: `total IN (-9223372036854775808, 42, 9223372036854775807)` },
  { name: 'long nin', where: { total: { nin: ['0', '42'] } }, sql: `total NOT IN (0, 42)` },
  { name: 'long isNull true', where: { total: { isNull: true } }, sql: `total IS NULL` },
  // float
  { name: 'float eq', where: { amount: { eq: 2.25 } }, sql: `amount = 2.25` },
  { name: 'float eq 0.30000000000000004', where: { amount: { eq: 0.30000000000000004 } }, sql: `amount = 0.30000000000000004::DOUBLE` },
  { name: 'float ne', where: { amount: { ne: 2.25 } }, sql: `amount <> 2.25` },
  { name: 'float gt', where: { amount: { gt: 10 } }, sql: `amount > 10` },
  { name: 'float gte', where: { amount: { gte: 10 } }, sql: `amount >= 10` },
  { name: 'float lt', where: { amount: { lt: 0 } }, sql: `amount < 0` },
  { name: 'float lte', where: { amount: { lte: 0.1 } }, sql: `amount <= 0.1::DOUBLE` },
  { name: 'float in', where: { amount: { in: [0.1, 2.25, 1e6] } }, sql: `amount IN (0.1::DOUBLE, 2.25, 1e6)` },
  { name: 'float nin', where: { amount: { nin: [0, 100] } }, sql: `amount NOT IN (0, 100)` },
  { name: 'float range', where: { amount: { gte: 0, lt: 100 } }, sql: `amount >= 0 AND amount < 100` },
  // boolean
  { name: 'boolean eq true', where: { paid: { eq: true } }, sql: `paid = true` },
  { name: 'boolean eq false', where: { paid: { eq: false } }, sql: `paid = false` },
  { name: 'boolean ne true', where: { paid: { ne: true } }, sql: `paid <> true` },
  { name: 'boolean isNull true', where: { paid: { isNull: true } }, sql: `paid IS NULL` },
  { name: 'boolean isNull false', where: { paid: { isNull: false } }, sql: `paid IS NOT NULL` },
  // timestamp
  { name: 'timestamp eq', where: { createdAt: { eq: ts(17) } }, sql: `createdAt = ${tsSql(17)}` },
  { name: 'timestamp ne', where: { createdAt: { ne: ts(17) } }, sql: `createdAt <> ${tsSql(17)}` },
  { name: 'timestamp gt', where: { createdAt: { gt: ts(200) } }, sql: `createdAt > ${tsSql(200)}` },
  { name: 'timestamp gte', where: { createdAt: { gte: ts(200) } }, sql: `createdAt >= ${tsSql(200)}` },
  { name: 'timestamp lt', where: { createdAt: { lt: ts(30) } }, sql: `createdAt < ${tsSql(30)}` },
  { name: 'timestamp lte', where: { createdAt: { lte: ts(30) } }, sql: `createdAt <= ${tsSql(30)}` },
  { name: 'timestamp in', where: { createdAt: { in: [ts(3), ts(50), ts(99)] } }, sql: `createdAt IN (${tsSql(3)}, ${tsSql(50)}, ${tsSql(99)})` },
  { name: 'timestamp nin', where: { createdAt: { nin: [ts(3), ts(50)] } }, sql: `createdAt NOT IN (${tsSql(3)}, ${tsSql(50)})` },
  { name: 'timestamp between, other zone offset', where: { createdAt: { gt: '2026-11-20T02:00:00+01:00', lte: '2026-11-20T03:30:00.000Z' } }, sql: `createdAt > TIMESTAMPTZ '2026-11-20 01:00:00+00' AND createdAt <= TIMESTAMPTZ '2026-11-20 03:30:00+00'` },
  // date
  { name: 'date eq', where: { shipDate: { eq: '2026-11-05' } }, sql: `shipDate = DATE '2026-11-05'` },
  { name: 'date gt', where: { shipDate: { gt: '2026-11-20' } }, sql: `shipDate > DATE '2026-11-20'` },
  { name: 'date isNull', where: { shipDate: { isNull: true } }, sql: `shipDate IS NULL` },
  // lists
  { name: 'list contains', where: { tags: { contains: 'gift' } }, sql: `list_contains(tags, 'gift')` },
  { name: 'list containsAll', where: { tags: { containsAll: ['gift', 'bulk'] } }, sql: `list_has_all(tags, ['gift', 'bulk'])` },
  { name: 'list containsAny', where: { tags: { containsAny: ['promo', 'express'] } }, sql: `list_has_any(tags, ['promo', 'express'])` },
  { name: 'list isEmpty true', where: { tags: { isEmpty: true } }, sql: `len(tags) = 0` },
  { name: 'list isEmpty false', where: { tags: { isEmpty: false } }, sql: `len(tags) > 0` },
  { name: 'list isNull true', where: { tags: { isNull: true } }, sql: `tags IS NULL` },
  { name: 'int list contains', where: { scores: { contains: 2 } }, sql: `list_contains(scores, 2)` },
  { name: 'int list containsAny', where: { scores: { containsAny: [0, 3] } }, sql: `list_has_any(scores, [0, 3])` },
  { name: 'json isNull false', where: { attributes: { isNull: false } }, sql: `attributes IS NOT NULL` },
  // logic: a comparison never matches null; `not` is plain negation (keeps the nulls the comparison skipped)
  { name: 'and', where: { and: [{ status: { eq: 'paid' } }, { amount: { gt: 1 } }] }, sql: `status = 'paid' AND amount > 1` },
  { name: 'or', where: { or: [{ status: { eq: 'paid' } }, { quantity: { gt: 10 } }] }, sql: `coalesce(status = 'paid', false) OR coalesce(quantity > 10, false)` },
  { name: 'not', where: { not: { status: { eq: 'paid' } } }, sql: `NOT coalesce(status = 'paid', false)` },
  { name: 'not of ne (keeps nulls)', where: { not: { paid: { ne: true } } }, sql: `NOT coalesce(paid <> true, false)` },
  {
    name: 'nested and/or/not over several fields',
    where: { or: [{ and: [{ tags: { contains: 'gift' } }, { not: { paid: { eq: true } } }] }, { total: { isNull: true }, amount: { lt: 0 } }] },
    sql: `(coalesce(list_contains(tags, 'gift'), false) AND NOT coalesce(paid = true, false)) OR (total IS NULL AND coalesce(amount < 0, false))`,
  },
  { name: 'and: [] is true', where: { and: [] }, sql: `true` },
  { name: 'or: [] is false', where: { or: [] }, sql: `false` },
  { name: 'field filter and not together', where: { quantity: { gte: 0 }, not: { or: [{ status: { isNull: true } }, { tags: { isEmpty: true } }] } }, sql: `quantity >= 0 AND NOT (status IS NULL OR coalesce(len(tags) = 0, false))` },
];

const SUB = `subscription($w: OrderWhere) { orders(where: $w) { id _meta { partition offset } } }`;

test('live filters: every operator on every type, and/or/not; each subscription delivers exactly what DuckDB SQL selects', { timeout: 120_000 }, async (t) => {
  const { kl, gw } = await startLive(t, { ingest: true, extra: `${DEFAULT_INGEST}subscriptions:\n  maxPerConnection: 100\n` });
  const client = wsClient(gw.wsUrl);
  kl.defer(() => client.dispose());
  const subs = CASES.map((c) => collect(client, SUB, { w: c.where }));
  const all = collect(client, `subscription { orders { id _meta { partition offset } } }`);
  await waitFor('every subscription registered', () => gw.live.stats().subscriptions === CASES.length + 1, 20_000, 20);
  assert.equal(gw.live.stats().groups, CASES.length + 1, 'distinct variables are distinct groups');
  assert.equal(gw.live.stats().tails, 1);

  const prod = await trackedProducer(kl);
  const events = Array.from({ length: N }, (_, i) => filterEvent(i));
  for (let b = 0; b < N; b += 65) {
    await prod.send(events.slice(b, b + 65).map((e, k) => ({ key: String(e.id), value: JSON.stringify(e), partition: (b + k) % 4 })));
  }
  await all.waitFor(N, 30_000);
  // A barrier: every group sends on the same socket, in tail order; once the catch-all has an event produced after
  // all others, every subscription's messages for the earlier events have arrived.
  await prod.send([{ key: 'barrier', value: JSON.stringify({ ...filterEvent(0), id: 'barrier' }), partition: 0 }]);
  await all.waitFor(N + 1, 30_000);

  // The same events, once ingested: a plain DuckDB over the visible files.
  await waitFor('every event in the lake', async () => (await compareLake(path.join(kl.lakePath, 'orders'), prod.produced)).missing.length === 0, 30_000, 200);
  const sql = await lakeSql(kl);
  const lakeRows = await sql.query('orders', `SELECT id, _partition AS p, CAST(_offset AS VARCHAR) AS o FROM {src}`);
  assert.equal(lakeRows.length, N + 1);
  const where = new Map(lakeRows.map((r) => [String(r.id), `${r.p}:${r.o}`]));

  const failures: string[] = [];
  let nonEmpty = 0;
  for (const [i, c] of CASES.entries()) {
    const want = (await sql.query('orders', `SELECT id FROM {src} WHERE id <> 'barrier' AND (${c.sql}) ORDER BY id`)).map((r) => String(r.id));
    const got = subs[i]!.events.filter((e) => e.id !== 'barrier');
    if (subs[i]!.errors.length) failures.push(`${c.name}: errors ${JSON.stringify(subs[i]!.errors)}`);
    const ids = got.map((e) => String(e.id)).sort();
    if (new Set(ids).size !== ids.length) failures.push(`${c.name}: duplicate deliveries`);
    const gs = new Set(ids);
    const ws = new Set(want);
    const missing = want.filter((x) => !gs.has(x));
    const extra = ids.filter((x) => !ws.has(x));
    if (missing.length || extra.length) failures.push(`${c.name}: SQL selects ${want.length}, live delivered ${ids.length}; missing ${missing.slice(0, 8).join(',')}; extra ${extra.slice(0, 8).join(',')}`);
    for (const e of got) if (where.get(String(e.id)) !== `${e._meta.partition}:${e._meta.offset}`) failures.push(`${c.name}: ${e.id} delivered with _meta ${e._meta.partition}:${e._meta.offset}, the lake has ${where.get(String(e.id))}`);
    if (want.length > 0 && want.length < N) nonEmpty++;
  }
  assert.deepEqual(failures, [], failures.join('\n'));
  // The oracle is not trivial: most conditions select some but not all events.
  assert.ok(nonEmpty >= CASES.length - 3, `only ${nonEmpty} of ${CASES.length} conditions select a proper subset`);
  // The catch-all got each event once, with the lake's placement.
  assert.deepEqual(all.events.map((e) => `${e._meta.partition}:${e._meta.offset}`).sort(), [...where.values()].sort());
  t.diagnostic(`${CASES.length} filtered subscriptions on one connection, ${N} events`);

  // ---- limits, on a second gateway over the same cluster and lake ----
  const catalog = catalogWith(kl, 'limits', `subscriptions:\n  maxPerConnection: 3\n  allowedOrigins: ["https://app.example"]\n  tailLingerMs: 100\n`);
  const gw2 = await startGateway({ catalog, logger: quietLogger(), port: 0, host: '127.0.0.1' });
  kl.defer(() => gw2.stop());

  await t.test('maxPerConnection: the next subscription on the connection is refused with LIMIT_EXCEEDED; another connection is not affected', async () => {
    const c1 = wsClient(gw2.wsUrl);
    kl.defer(() => c1.dispose());
    const three = [0, 1, 2].map((k) => collect(c1, `subscription { orders(where: {amount: {gte: ${k}}}) { id } }`));
    await waitFor('three subscriptions', () => gw2.live.stats().subscriptions === 3, 20_000, 20);
    const fourth = collect(c1, `subscription { orders { id } }`);
    await waitFor('the fourth answered', () => fourth.errors.length > 0 || fourth.completed, 10_000, 20);
    const codes = JSON.stringify(fourth.errors);
    assert.match(codes, /"code":"LIMIT_EXCEEDED"/, codes);
    assert.equal(gw2.live.stats().subscriptions, 3);
    // One ends: room for one more, which works.
    three[0]!.stop();
    await waitFor('one subscription fewer', () => gw2.live.stats().subscriptions === 2, 10_000, 20);
    const again = collect(c1, `subscription { orders(where: {id: {eq: "after-limit"}}) { id } }`);
    const c2 = wsClient(gw2.wsUrl);
    kl.defer(() => c2.dispose());
    const other = collect(c2, `subscription { orders(where: {id: {eq: "after-limit"}}) { id } }`);
    await waitFor('both registered', () => gw2.live.stats().subscriptions === 4, 10_000, 20);
    await prod.send([{ key: 'after-limit', value: JSON.stringify({ ...filterEvent(1), id: 'after-limit' }), partition: 1 }]);
    assert.deepEqual((await again.waitFor(1, 20_000)).map((e) => e.id), ['after-limit']);
    assert.deepEqual((await other.waitFor(1, 20_000)).map((e) => e.id), ['after-limit']);
    assert.equal(again.errors.length + other.errors.length, 0);
    await c1.dispose();
    await c2.dispose();
    await waitFor('all gone', () => gw2.live.stats().subscriptions === 0 && gw2.live.stats().connections === 0, 10_000, 20);
  });

  await t.test('Origin: a listed origin, the same host and no Origin are accepted; any other origin gets HTTP 403 on upgrade', async () => {
    const host = new URL(gw2.url).host;
    assert.equal(await upgradeStatus(gw2.wsUrl, 'https://evil.example'), 403);
    assert.equal(await upgradeStatus(gw2.wsUrl, 'http://localhost.evil.example'), 403);
    assert.equal(await upgradeStatus(gw2.wsUrl, `http://${host}.evil.example`), 403);
    assert.equal(await upgradeStatus(gw2.wsUrl, 'null'), 403);
    assert.equal(await upgradeStatus(gw2.wsUrl, 'https://app.example'), 101);
    assert.equal(await upgradeStatus(gw2.wsUrl, `http://${host}`), 101);
    assert.equal(await upgradeStatus(gw2.wsUrl), 101);
  });

  await t.test('a subscription over HTTP POST is a GraphQL error with a code, not a 500', async () => {
    for (const q of [`subscription { orders { id } }`, `subscription S($w: OrderWhere) { orders(where: $w, from: {position: EARLIEST}) { id } }`]) {
      const r = await gql(gw2.url, q, { w: { id: { eq: 'x' } } });
      assert.ok(r.status < 500, `HTTP ${r.status}: ${r.text}`);
      assert.ok(!r.body.data || r.body.data.orders == null, r.text);
      const code = r.body.errors?.[0]?.extensions?.code;
      assert.ok(typeof code === 'string' && code.length > 0, `no error code: ${r.text}`);
      assert.notEqual(code, 'INTERNAL_SERVER_ERROR', `a client mistake, not an internal error: ${r.text}`);
      assert.doesNotMatch(r.text, /at \w+ \(|\/work\/|node_modules/, 'no stack or path in the answer');
      t.diagnostic(`HTTP ${r.status} ${code}`);
    }
  });
});
