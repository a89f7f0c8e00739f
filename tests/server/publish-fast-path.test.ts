// The publish fast path (server/publish-fast-path.ts) answers publish mutations without graphql-js' execute. Checked
// against graphql-js itself: (1) its compiled variable coercion, value by value, on valid inputs and on thousands of
// mutated ones (it may decline what graphql-js accepts, never accept what graphql-js rejects, and when it accepts it
// gives graphql-js' value); (2) over HTTP against a real server and dev Kafka cluster, the same documents served by the
// fast path and by graphql-js (a directive makes the fast path decline) answer in the same shape, what it serves is
// where kcat finds it, and its failures are reported exactly as graphql-js reports them, nothing published twice.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Kind, getVariableValues, parse, typeFromAST, type GraphQLInputType, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { loadConfig } from '../../config';
import { buildGatewaySchema } from '../../schema';
import { DECLINE, coercerOf } from '../../server/publish-fast-path';
import { buildDevCluster } from '../helpers/kafka-fixture';
import { TEST_CONFIG, gql } from '../helpers/lake-fixture';
import { kcatAt, kcatEnds, orderInput, startLive } from '../helpers/live-fixture';

// Values tried in every field: right and wrong types, nulls, edge numbers, lists, objects, date forms.
const PALETTE: unknown[] = [
  null, 'abc', '', 0, -1, 1.5, -0, 2 ** 31, -(2 ** 31), 2 ** 53 + 2, 1e300, '9007199254740993', '99999999999999999999', '-12', true, false, 'true',
  [], ['a'], ['a', null], [1, 2], [1.5], [null], [[1]], {}, { x: 1 }, '2026-11-21T10:00:00Z', '2026-11-21T10:00:00+05:30', '2026-11-21', '2026-02-31',
  '2026-02-31T00:00:00Z', '2026-11-21 10:00', '2026-11-21T10:00:00.1234567Z', 'yesterday',
];

/** Deterministic pseudo-random numbers (the cases are the same on every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

let schema: GraphQLSchema;
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lakegate-fastpath-'));
  const file = path.join(dir, 'lakegate.yaml');
  writeFileSync(file, TEST_CONFIG(path.join(dir, 'lake')));
  schema = await buildGatewaySchema(loadConfig(file, { env: {} }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('compiled variable coercion agrees with graphql-js: never accepts what it rejects, same value when it accepts', () => {
  const docs = {
    batch: parse('mutation($is: [OrderInput!]!) { publishOrderBatch(inputs: $is) { offset } }'),
    one: parse('mutation($i: OrderInput!, $k: String) { publishOrder(input: $i, key: $k) { offset } }'),
    customer: parse('mutation($is: [CustomerInput!]!) { publishCustomerBatch(inputs: $is) { offset } }'),
  };
  const defsOf = (d: ReturnType<typeof parse>) => (d.definitions[0] as OperationDefinitionNode).variableDefinitions!;
  const cache = new Map();
  // The fast path's coercion of an operation's variables, as responseForOperation does it.
  const ours = (doc: ReturnType<typeof parse>, vars: Record<string, unknown>): Record<string, unknown> | typeof DECLINE => {
    const out: Record<string, unknown> = {};
    for (const d of defsOf(doc)) {
      const name = d.variable.name.value;
      if (!Object.prototype.hasOwnProperty.call(vars, name)) {
        if (d.type.kind === Kind.NON_NULL_TYPE) return DECLINE;
        continue;
      }
      const c = coercerOf(typeFromAST(schema, d.type) as GraphQLInputType, cache)(vars[name]);
      if (c === DECLINE) return DECLINE;
      out[name] = c;
    }
    return out;
  };

  let agreedAccept = 0;
  let agreedReject = 0;
  let declinedAccepted = 0;
  const check = (what: string, doc: ReturnType<typeof parse>, vars: Record<string, unknown>, mayDecline = false) => {
    const theirs = getVariableValues(schema, defsOf(doc), vars);
    const mine = ours(doc, vars);
    if (theirs.errors) {
      assert.equal(mine, DECLINE, `${what}: graphql-js rejects (${theirs.errors[0]!.message}) but the fast path accepted ${JSON.stringify(mine)}`);
      agreedReject++;
      return;
    }
    if (mine === DECLINE) {
      assert.ok(mayDecline, `${what}: graphql-js accepts ${JSON.stringify(vars)} but the fast path declined`);
      declinedAccepted++;
      return;
    }
    assert.deepStrictEqual(mine, theirs.coerced, `${what}: same coerced value`);
    agreedAccept++;
  };

  // Valid inputs: accepted, same value.
  check('one valid batch', docs.batch, { is: [orderInput('a'), orderInput('b')] });
  check('empty batch', docs.batch, { is: [] });
  check('single with key', docs.one, { i: orderInput('a'), k: 'k1' });
  check('single with null key', docs.one, { i: orderInput('a'), k: null });
  check('single without key', docs.one, { i: orderInput('a') });
  check('only required fields', docs.batch, { is: [{ id: 'x', customerId: 'c', amount: 1, createdAt: '2026-11-21T10:00:00Z' }] });
  check('customers', docs.customer, { is: [{ id: 'c1', name: 'N', country: null, updatedAt: '2026-11-21T10:00:00Z' }] });
  const mustAccept = agreedAccept;
  assert.equal(mustAccept, 7, 'every valid input is served by the fast path');

  // Forms graphql-js accepts that the fast path leaves to it: a single value for a list.
  check('a single object for the list', docs.batch, { is: orderInput('a') }, true);
  check('a single string for a list field', docs.batch, { is: [{ ...orderInput('a'), tags: 'solo' }] }, true);
  // Whole-variable shapes.
  check('missing variable', docs.batch, {});
  check('null list', docs.batch, { is: null });
  check('null element', docs.batch, { is: [orderInput('a'), null] });
  check('array as element', docs.batch, { is: [[orderInput('a')]] });
  check('string as element', docs.batch, { is: ['x'] });
  check('empty array as input object', docs.one, { i: [] });
  check('unknown field', docs.batch, { is: [{ ...orderInput('a'), color: 'red' }] });

  // Every field of a valid input set to every palette value, and deleted; then random combinations of 1–3 changes.
  const fields = Object.keys(orderInput('a'));
  for (const f of fields) {
    const del = orderInput('a');
    delete del[f];
    check(`${f} deleted`, docs.batch, { is: [del] });
    for (const v of PALETTE) {
      const mayDecline = Array.isArray(orderInput('a')[f]) && !Array.isArray(v) && v !== null; // single value for a list
      check(`${f} = ${JSON.stringify(v)}`, docs.batch, { is: [{ ...orderInput('a'), [f]: v }] }, mayDecline);
      check(`one: ${f} = ${JSON.stringify(v)}`, docs.one, { i: { ...orderInput('a'), [f]: v }, k: typeof v === 'string' ? v : null }, mayDecline);
    }
  }
  const r = rng(42);
  for (let n = 0; n < 3000; n++) {
    const o = orderInput(`r${n}`);
    let mayDecline = false;
    const changes = 1 + Math.floor(r() * 3);
    for (let c = 0; c < changes; c++) {
      const f = fields[Math.floor(r() * fields.length)]!;
      const v = PALETTE[Math.floor(r() * PALETTE.length)];
      if (r() < 0.15) delete o[f];
      else {
        o[f] = v;
        if (Array.isArray(orderInput('a')[f]) && !Array.isArray(v) && v !== null) mayDecline = true;
      }
    }
    check(`random case ${n}: ${JSON.stringify(o)}`, docs.batch, { is: [orderInput('ok'), o] }, mayDecline);
  }
  // Both outcomes were really exercised.
  assert.ok(agreedAccept > 300 && agreedReject > 1000, `accepted ${agreedAccept}, rejected ${agreedReject}, declined-but-valid ${declinedAccepted}`);
  assert.ok(declinedAccepted > 0);
});

before(buildDevCluster);

test('over HTTP: the fast path answers as graphql-js does, what it serves is where kcat finds it, its failures are graphql-js errors', { timeout: 120_000 }, async (t) => {
  const { kl, gw } = await startLive(t, { ingest: false, extra: `subscriptions:\n  tailLingerMs: 100\n` });
  const brokers = kl.dc.bootstrap;
  const counts = async () => {
    const m = await gw.metrics.publishFastPath.get();
    const out: Record<string, number> = { served: 0, declined: 0, failed: 0 };
    for (const v of m.values) out[String(v.labels.outcome)] = v.value;
    return out;
  };
  // The same selection with aliases and __typename; `@include(if: true)` on the field makes the fast path decline it.
  const doc = (directive: string) => `mutation($is: [OrderInput!]!) { out: publishOrderBatch(inputs: $is) ${directive} { __typename p: partition offset topic timestamp } }`;
  type R = { __typename: string; p: number; offset: string; topic: string; timestamp: string };

  await t.test('same response shape from both paths; each result is where kcat finds that input', async () => {
    const c0 = await counts();
    const fast = await gql<{ out: R[] }>(gw.url, doc(''), { is: [orderInput('fp-1'), orderInput('fp-2'), orderInput('fp-3')] });
    const c1 = await counts();
    assert.equal(c1.served - c0.served, 1, 'served by the fast path');
    const slow = await gql<{ out: R[] }>(gw.url, doc('@include(if: true)'), { is: [orderInput('gj-1'), orderInput('gj-2'), orderInput('gj-3')] });
    const c2 = await counts();
    assert.equal(c2.served, c1.served, 'not served by the fast path');
    assert.equal(fast.status, slow.status);
    assert.equal(fast.body.errors, undefined, fast.text);
    assert.equal(slow.body.errors, undefined, slow.text);
    // Same keys in the same order, same value types; offsets and partitions differ (different events).
    const shape = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'object' && v !== null ? v : typeof v));
    assert.equal(shape(fast.body), shape(slow.body));
    assert.deepEqual(Object.keys(fast.body.data!.out[0]!), ['__typename', 'p', 'offset', 'topic', 'timestamp']);
    for (const [i, res] of fast.body.data!.out.entries()) {
      assert.equal(res.__typename, 'PublishResult');
      const m = await kcatAt(brokers, res.topic, res.p, res.offset);
      assert.equal(m.key, `fp-${i + 1}`);
      assert.equal((JSON.parse(m.payload!) as { id: string }).id, `fp-${i + 1}`);
      assert.equal(m.ts, Date.parse(res.timestamp));
    }
  });

  await t.test('a variable form the fast path leaves to graphql-js (one object for the list) is still published once', async () => {
    const c0 = await counts();
    const before = await kcatEnds(brokers, 'orders', 4);
    const r = await gql<{ out: R[] }>(gw.url, doc(''), { is: orderInput('single-obj') });
    assert.equal(r.body.errors, undefined, r.text);
    const c1 = await counts();
    assert.equal(c1.declined - c0.declined, 1);
    assert.equal(c1.served, c0.served);
    const [res] = r.body.data!.out;
    const m = await kcatAt(brokers, res!.topic, res!.p, res!.offset);
    assert.equal(m.key, 'single-obj');
    const after = await kcatEnds(brokers, 'orders', 4);
    const grown = [...after].reduce((a, [p, o]) => a + (o - before.get(p)!), 0);
    assert.equal(grown, 1, 'one record appended');
  });

  await t.test('a failure in the fast path (over the batch limit) is the error graphql-js gives, and nothing is published', async () => {
    const before = await kcatEnds(brokers, 'orders', 4);
    // Small inputs: 10,001 of them stay under the 1 MiB request limit.
    const many = Array.from({ length: 10_001 }, (_, i) => ({ id: `o${i}`, customerId: 'c', amount: 1, createdAt: '2026-11-21T10:00:00Z' }));
    const c0 = await counts();
    const fast = await gql(gw.url, doc(''), { is: many });
    const c1 = await counts();
    assert.equal(c1.failed - c0.failed, 1, 'taken by the fast path, failed there');
    const slow = await gql(gw.url, doc('@include(if: true)'), { is: many });
    assert.equal(fast.status, slow.status);
    assert.equal(fast.body.errors?.[0]?.extensions?.code, 'LIMIT_EXCEEDED', fast.text);
    assert.deepEqual(fast.body, slow.body, 'same response, error path and location included');
    assert.deepEqual(await kcatEnds(brokers, 'orders', 4), before, 'nothing produced');
  });

  await t.test('a broker failure in the fast path: the response graphql-js gives; publishing works again after, nothing twice', async () => {
    const before = await kcatEnds(brokers, 'orders', 4);
    // REQUEST_TIMED_OUT (7) answers the next Produce requests before the broker appends anything.
    await kl.dc.pushRequestErrors(0, 40, 7);
    const c0 = await counts();
    const fast = await gql(gw.url, doc(''), { is: [orderInput('fault-1')] });
    const c1 = await counts();
    assert.equal(c1.failed - c0.failed, 1, 'taken by the fast path, failed there');
    assert.equal(fast.body.errors?.[0]?.extensions?.code, 'BROKER_UNAVAILABLE', fast.text);
    const slow = await gql(gw.url, doc('@include(if: true)'), { is: [orderInput('fault-2')] });
    assert.equal(fast.status, slow.status);
    assert.deepEqual(fast.body, slow.body, 'same response, error path and location included');
    // Until the injected errors are used up: every answer an error or a result kcat confirms.
    let ok: R | null = null;
    for (let n = 0; n < 30 && !ok; n++) {
      const r = await gql<{ out: R[] }>(gw.url, doc(''), { is: [orderInput(`retry-${n}`)] });
      if (r.body.data?.out) ok = r.body.data.out[0]!;
      else assert.equal(r.body.errors?.[0]?.extensions?.code, 'BROKER_UNAVAILABLE', r.text);
    }
    assert.ok(ok, 'publishing works again');
    assert.match(String((await kcatAt(brokers, ok.topic, ok.p, ok.offset)).key), /^retry-\d+$/);
    const after = await kcatEnds(brokers, 'orders', 4);
    assert.equal([...after].reduce((a, [p, o]) => a + o - before.get(p)!, 0), 1, 'only the successful publish was appended');
  });
});
