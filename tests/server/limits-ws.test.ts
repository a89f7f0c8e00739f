// Depth, cost and alias limits on HTTP and on the websocket (graphql-ws executes queries too), and the lake query timeout.
// Limits are the fixture's (maxDepth 8, maxCost 5000, maxAliases 15); a cyclic relation makes real deep queries possible.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig, type Catalog } from '../../config';
import type { Gateway } from '../../server';
import { TEST_CONFIG, createTestLake, gql, startTestGateway, type GqlResponse, type TestLake } from '../helpers/lake-fixture';

let lake: TestLake;
let gw: Gateway;
let ws: Client;
/** One catalog shape per process: generated GraphQL types are cached by name. */
let catalog: Catalog;

before(async () => {
  lake = await createTestLake();
  // The fixture config plus customers.lastOrder → orders, so customer { lastOrder { customer … } } nests as deep as we like.
  const text = TEST_CONFIG(lake.lakePath).replace(
    '    partitionBy: none\n',
    '    partitionBy: none\n    relations:\n      lastOrder: { dataset: orders, on: { id: customerId } }\n',
  );
  assert.ok(text.includes('lastOrder'), 'could not add the cyclic relation to the fixture config');
  const file = path.join(lake.dir, 'cyclic.yaml');
  writeFileSync(file, text);
  catalog = loadConfig(file, { env: {} });
  assert.equal(catalog.server.limits.maxDepth, 8);
  assert.equal(catalog.server.limits.maxCost, 5000);
  assert.equal(catalog.server.limits.maxAliases, 15);
  gw = await startTestGateway(lake, catalog);
  ws = wsClient(gw);
});
after(async () => {
  await ws?.dispose();
  await gw?.stop();
  await lake?.dispose();
});

function wsClient(g: Gateway): Client {
  return createClient({ url: g.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, onNonLazyError: () => {} });
}

interface WsOutcome {
  results: Array<{ data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;
  /** Set when the operation was refused as a whole (graphql-ws `error` message). */
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** Runs a query operation over graphql-ws and collects what the server sends. */
function viaWs(client: Client, query: string, variables?: Record<string, unknown>): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const results: WsOutcome['results'] = [];
    client.subscribe(
      { query, variables },
      {
        next: (v) => results.push(v as WsOutcome['results'][number]),
        error: (e) => (Array.isArray(e) ? resolve({ results, errors: e as WsOutcome['errors'] }) : reject(e)),
        complete: () => resolve({ results }),
      },
    );
  });
}

function httpCodes(r: GqlResponse): string[] {
  return (r.body.errors ?? []).map((e) => String(e.extensions?.code));
}

/** A refused operation over ws: either a graphql-ws error message or a result with only errors. */
function wsCodes(o: WsOutcome): string[] {
  const errs = o.errors ?? o.results.flatMap((r) => r.errors ?? []);
  return errs.map((e) => String(e.extensions?.code));
}

function nest(levels: number, leaf: string): string {
  // orders(1) > customer(2) > lastOrder(3) > customer(4) > … : `levels` selection levels in total, ending in `leaf`.
  let inner = leaf;
  for (let d = levels - 1; d >= 2; d--) inner = `${d % 2 === 0 ? 'customer' : 'lastOrder'} { ${inner} }`;
  return `{ orders(limit: 2, orderBy: [{id: ASC}]) { ${inner} } }`;
}
const DEPTH_OK = nest(8, 'id');
const DEPTH_OVER = nest(9, 'id');
/** Fragments spread `fan` times per level: cost (one point per field, through fragments) grows as fan^levels. */
function fragmentBomb(levels: number, fan: number): string {
  const frags = ['fragment F0 on Order { id amount status note quantity total paid createdAt customerId shipDate }'];
  for (let i = 1; i <= levels; i++) frags.push(`fragment F${i} on Order { ${Array(fan).fill(`...F${i - 1}`).join(' ')} }`);
  return `{ orders(limit: 1, orderBy: [{id: ASC}]) { ...F${levels} } } ${frags.join(' ')}`;
}
const COST_OK = fragmentBomb(3, 5); // 1 + 10·5³ = 1251
const COST_OVER = fragmentBomb(4, 5); // 1 + 10·5⁴ = 6251 > 5000
const aliases = (n: number) => `{ orders(limit: 1, orderBy: [{id: ASC}]) { ${Array.from({ length: n }, (_, i) => `a${i}: id`).join(' ')} } }`;

test('an allowed query over the websocket returns the same data as over HTTP and as SQL', async () => {
  const q = '{ orders(limit: 7, orderBy: [{amount: DESC}, {id: ASC}], where: {note: {contains: "%"}}) { id amount note customer { id } } }';
  const http = await gql(gw.url, q);
  assert.equal(http.status, 200, http.text);
  const viaSocket = await viaWs(ws, q);
  assert.equal(viaSocket.errors, undefined);
  assert.equal(viaSocket.results.length, 1);
  assert.deepEqual(viaSocket.results[0], http.body);
  const expected = await lake.sql(
    `SELECT id, amount, note, customerId FROM ${lake.src('orders')} WHERE strpos(note, '%') > 0 ORDER BY amount DESC, id LIMIT 7`,
  );
  assert.ok(expected.length > 0);
  assert.deepEqual(
    viaSocket.results[0]!.data!.orders,
    expected.map((r) => ({ id: r.id, amount: Number(r.amount), note: r.note, customer: { id: r.customerId } })),
  );
  // Variables travel over ws as well.
  const withVars = await viaWs(ws, 'query($n: Int, $w: OrderWhere) { orders(limit: $n, where: $w, orderBy: [{id: ASC}]) { id } }', { n: 3, w: { status: { eq: 'Paid' } } });
  const paid = await lake.sql(`SELECT id FROM ${lake.src('orders')} WHERE status = 'Paid' ORDER BY id LIMIT 3`);
  assert.deepEqual(withVars.results[0]?.data?.orders, paid.map((r) => ({ id: r.id })));
});

test('queries within the limits (depth exactly 8, 15 aliases, cost 1251) run on both transports', async () => {
  for (const q of [DEPTH_OK, COST_OK, aliases(15)]) {
    const http = await gql(gw.url, q);
    assert.equal(http.status, 200, `${q}: ${http.text.slice(0, 300)}`);
    assert.equal(http.body.errors, undefined, http.text.slice(0, 300));
    const o = await viaWs(ws, q);
    assert.equal(o.errors, undefined, JSON.stringify(o.errors));
    assert.deepEqual(o.results[0], http.body);
  }
  // The depth-8 query really walked the relation both ways (not an empty shell).
  const deep = (await gql(gw.url, DEPTH_OK)).body.data as { orders: Array<Record<string, any>> };
  assert.equal(typeof deep.orders[0]!.customer.lastOrder.customer.lastOrder.customer.lastOrder.id, 'string');
});

test('depth, cost and alias flooding are refused over the websocket with LIMIT_EXCEEDED', async () => {
  for (const [what, q] of [['depth', DEPTH_OVER], ['cost', COST_OVER], ['aliases', aliases(16)]] as const) {
    const o = await viaWs(ws, q);
    assert.deepEqual(wsCodes(o), ['LIMIT_EXCEEDED'], `${what}: ${JSON.stringify(o)}`);
    assert.ok(!o.results.some((r) => r.data), `${what}: must not execute`);
  }
  // The connection survives refusals.
  const ok = await viaWs(ws, '{ __typename }');
  assert.deepEqual(ok.results[0], { data: { __typename: 'Query' } });
});

test('depth, cost and alias flooding are refused over HTTP with 400 LIMIT_EXCEEDED, before execution', async () => {
  for (const [what, q] of [['depth', DEPTH_OVER], ['cost', COST_OVER], ['aliases', aliases(16)]] as const) {
    const r = await gql(gw.url, q);
    assert.equal(r.status, 400, `${what}: ${r.text}`);
    assert.equal(r.body.data, undefined, `${what}: must not execute`);
    assert.deepEqual(httpCodes(r), ['LIMIT_EXCEEDED'], `${what}: ${r.text}`);
    assert.match(r.body.errors![0]!.message, /limit|maximum/i);
  }
});

test('the cost counts with the variables known: @skip/@include over a costly fragment', async () => {
  const q = `query($hide: Boolean!) { orders(limit: 1, orderBy: [{id: ASC}]) { id ...F4 @skip(if: $hide) } } ${COST_OVER.slice(COST_OVER.indexOf('fragment'))}`;
  const skipped = await gql(gw.url, q, { hide: true });
  assert.equal(skipped.status, 200, skipped.text);
  const [first] = await lake.sql(`SELECT id FROM ${lake.src('orders')} ORDER BY id LIMIT 1`);
  assert.deepEqual(skipped.body.data, { orders: [{ id: first!.id }] });
  const counted = await gql(gw.url, q, { hide: false });
  assert.deepEqual(httpCodes(counted), ['LIMIT_EXCEEDED'], counted.text);
  assert.deepEqual(wsCodes(await viaWs(ws, q, { hide: false })), ['LIMIT_EXCEEDED']);
  assert.deepEqual((await viaWs(ws, q, { hide: true })).results[0], skipped.body);
});

test(
  'the cost limit does not fail open on a bigger fragment bomb',
  async () => {
    for (const [levels, fan] of [[5, 5], [8, 8]] as const) {
      const q = fragmentBomb(levels, fan);
      const r = await gql(gw.url, q);
      assert.deepEqual(httpCodes(r), ['LIMIT_EXCEEDED'], `${levels}x${fan} over HTTP: ${r.text.slice(0, 200)}`);
      assert.deepEqual(wsCodes(await viaWs(ws, q)), ['LIMIT_EXCEEDED'], `${levels}x${fan} over ws`);
    }
  },
);

// The heaviest thing the API lets a client ask of this small lake: four fields each tested against a 25 000-element list.
const HEAVY = 'query($l: [String!]) { ordersAggregate(where: {or: [{id: {in: $l}}, {customerId: {in: $l}}, {status: {in: $l}}, {note: {in: $l}}]}) { count } }';
const HEAVY_LIST = Array.from({ length: 25_000 }, (_, i) => (i < 40 ? `o${String(i * 50).padStart(5, '0')}` : `nope-${i}`));

function withTimeout(c: Catalog, queryTimeoutMs: number): Catalog {
  return { ...c, server: { ...c.server, limits: { ...c.server.limits, queryTimeoutMs } } };
}

async function heavyExpected(): Promise<string> {
  const set = new Set(HEAVY_LIST);
  const rows = await lake.sql(`SELECT id, customerId, status, note FROM ${lake.src('orders')}`);
  return String(rows.filter((row) => [row.id, row.customerId, row.status, row.note].some((v) => typeof v === 'string' && set.has(v))).length);
}

test('a lake query over queryTimeoutMs is cancelled with QUERY_TIMEOUT on both transports; the server keeps answering', async () => {
  const expected = await heavyExpected();
  assert.equal(expected, '40');
  // Without a tight budget the heavy query completes and answers like SQL: the timeouts below are real cancellations.
  const full = await gql(gw.url, HEAVY, { l: HEAVY_LIST });
  assert.deepEqual(full.body, { data: { ordersAggregate: [{ count: expected }] } });

  const g = await startTestGateway(lake, withTimeout(catalog, 150));
  const client = wsClient(g);
  try {
    // Up to four tries per transport, because today an interrupt can be lost (see the todo test below); every try must
    // be either a clean QUERY_TIMEOUT or the correct answer, and at least one must time out.
    const httpOutcomes: string[] = [];
    for (let i = 0; i < 4 && !httpOutcomes.includes('QUERY_TIMEOUT'); i++) {
      const r = await gql(g.url, HEAVY, { l: HEAVY_LIST });
      assert.ok(r.status < 500, r.text);
      assert.ok(!/SELECT|read_parquet|\.parquet|    at /.test(r.text), r.text);
      if (r.body.errors) {
        assert.deepEqual(httpCodes(r), ['QUERY_TIMEOUT'], r.text.slice(0, 300));
        assert.equal(r.body.data ?? null, null);
        assert.match(r.body.errors[0]!.message, /150 ms/);
        httpOutcomes.push('QUERY_TIMEOUT');
      } else {
        assert.deepEqual(r.body, full.body);
        httpOutcomes.push('data');
      }
    }
    assert.ok(httpOutcomes.includes('QUERY_TIMEOUT'), `HTTP: ${httpOutcomes}`);
    const wsOutcomes: string[] = [];
    for (let i = 0; i < 4 && !wsOutcomes.includes('QUERY_TIMEOUT'); i++) {
      const o = await viaWs(client, HEAVY, { l: HEAVY_LIST });
      if (wsCodes(o).length) {
        assert.deepEqual(wsCodes(o), ['QUERY_TIMEOUT'], JSON.stringify(o).slice(0, 300));
        wsOutcomes.push('QUERY_TIMEOUT');
      } else {
        assert.deepEqual(o.results, [full.body]);
        wsOutcomes.push('data');
      }
    }
    assert.ok(wsOutcomes.includes('QUERY_TIMEOUT'), `ws: ${wsOutcomes}`);
    // Still serving, with correct answers, on both transports.
    const [{ n }] = (await lake.sql(`SELECT count(*) AS n FROM ${lake.src('orders')} WHERE amount > 5`)) as Array<{ n: unknown }>;
    const r = await gql(g.url, '{ ordersAggregate(where: {amount: {gt: 5}}) { count } }');
    assert.deepEqual(r.body, { data: { ordersAggregate: [{ count: String(n) }] } });
    const o = await viaWs(client, '{ ordersAggregate(where: {amount: {gt: 5}}) { count } }');
    assert.deepEqual(o.results[0], r.body);
  } finally {
    await client.dispose();
    await g.stop();
  }
});

test(
  'a query is never allowed to finish long after queryTimeoutMs (1 ms budget)',
  async () => {
    const g = await startTestGateway(lake, withTimeout(catalog, 1));
    try {
      // Five tries: today most of them return data after ~250 ms although the budget is 1 ms.
      const outcomes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await gql(g.url, HEAVY, { l: HEAVY_LIST });
        outcomes.push(httpCodes(r)[0] ?? 'data');
      }
      assert.deepEqual(outcomes, Array(5).fill('QUERY_TIMEOUT'));
    } finally {
      await g.stop();
    }
  },
);
