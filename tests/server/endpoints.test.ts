// Non-GraphQL endpoints and the process lifecycle: /healthz, /readyz (also with the lake gone), /metrics, 404/405,
// and graceful shutdown (in-flight HTTP finishes, new connections are refused, websocket clients are closed).

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Gateway } from '../../server';
import { gql, createTestLake, startTestGateway, useTestGateway } from '../helpers/lake-fixture';

const fx = useTestGateway();

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers; json: any }> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, headers: res.headers, json };
}

/** A request on a fresh TCP connection (no keep-alive pool), resolving to the status or the connection error code. */
function freshRequest(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

test('/healthz is 200 and says ok', async () => {
  const r = await get(`${fx.base}/healthz`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'ok' });
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
});

test('/readyz is 200 with the fx.lake check ok', async () => {
  const r = await get(`${fx.base}/readyz`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ready, true);
  assert.equal(r.json.checks.lake, 'ok');
});

test('/readyz is 503 naming the fx.lake when the fx.lake directory is gone; /healthz stays 200', async () => {
  const gone = await createTestLake({ empty: true });
  const g = await startTestGateway(gone);
  try {
    const b = g.url.replace(/\/graphql$/, '');
    assert.equal((await get(`${b}/readyz`)).status, 200);
    rmSync(gone.lakePath, { recursive: true, force: true });
    const r = await get(`${b}/readyz`);
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.ready, false);
    assert.equal(typeof r.json.checks.lake, 'string');
    assert.notEqual(r.json.checks.lake, 'ok');
    assert.match(r.json.checks.lake, /^down/);
    assert.equal((await get(`${b}/healthz`)).status, 200);
  } finally {
    await g.stop();
    await gone.dispose();
  }
});

test(
  '/readyz does not reveal the fx.lake path in production',
  async () => {
    const gone = await createTestLake({ empty: true });
    const catalog = { ...gone.catalog, server: { ...gone.catalog.server, production: true } };
    const g = await startTestGateway(gone, catalog);
    try {
      rmSync(gone.lakePath, { recursive: true, force: true });
      const r = await get(`${g.url.replace(/\/graphql$/, '')}/readyz`);
      assert.equal(r.status, 503);
      assert.ok(!r.text.includes(gone.lakePath) && !r.text.includes(gone.dir), r.text);
    } finally {
      await g.stop();
      await gone.dispose();
    }
  },
);

test('/metrics is Prometheus text and counts GraphQL operations by outcome', async () => {
  const before = await get(`${fx.base}/metrics`);
  assert.equal(before.status, 200);
  assert.match(before.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const ok0 = metricValue(before.text, 'lakegate_graphql_operations_total', 'type="query",outcome="ok"');
  const err0 = metricValue(before.text, 'lakegate_graphql_operations_total', 'type="query",outcome="error"');

  const r = await gql(fx.gw.url, '{ ordersAggregate { count } }');
  const [{ n }] = (await fx.lake.sql(`SELECT count(*) AS n FROM ${fx.lake.src('orders')}`)) as Array<{ n: unknown }>;
  assert.deepEqual(r.body.data, { ordersAggregate: [{ count: String(n) }] });
  const bad = await gql(fx.gw.url, '{ orders(limit: -1) { id } }');
  assert.equal(bad.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');

  const after = await get(`${fx.base}/metrics`);
  assert.match(after.text, /^# HELP lakegate_graphql_operations_total /m);
  assert.match(after.text, /^# TYPE lakegate_graphql_operations_total counter$/m);
  assert.equal(metricValue(after.text, 'lakegate_graphql_operations_total', 'type="query",outcome="ok"'), ok0 + 1);
  assert.equal(metricValue(after.text, 'lakegate_graphql_operations_total', 'type="query",outcome="error"'), err0 + 1);
  assert.match(after.text, /^lakegate_http_request_duration_seconds_count\{method="POST",route="graphql",status="200"\} \d+$/m);
  // Every sample line is `name{labels} value` or `name value`.
  for (const line of after.text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/, line);
  }
});

test('unknown paths are 404 JSON; only GET and POST on /graphql (405 with Allow)', async () => {
  for (const p of ['/nope', '/graphql/nope', '/graphql/graphiql-assets/..%2F..%2Fpackage.json', '/healthz/x', '/metrics.txt']) {
    const r = await get(`${fx.base}${p}`);
    assert.equal(r.status, 404, `${p}: ${r.text}`);
    assert.ok(!r.text.includes(fx.lake.dir), p);
  }
  const nf = await get(`${fx.base}/nope`);
  assert.match(nf.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(typeof nf.json, 'object');
  for (const method of ['PUT', 'DELETE', 'PATCH']) {
    const r = await get(fx.gw.url, { method, headers: { 'content-type': 'application/json' }, body: method === 'DELETE' ? undefined : '{"query":"{ __typename }"}' });
    assert.equal(r.status, 405, `${method}: ${r.text}`);
    assert.match(r.headers.get('allow') ?? '', /GET/);
    assert.match(r.headers.get('allow') ?? '', /POST/);
    assert.equal(typeof r.json?.errors?.[0]?.extensions?.code, 'string', r.text);
  }
  // The root sends browsers to the IDE.
  const root = await get(`${fx.base}/`);
  assert.equal(root.status, 302);
  assert.equal(root.headers.get('location'), '/graphql');
});

const HEAVY = 'query($l: [String!]) { ordersAggregate(where: {or: [{id: {in: $l}}, {customerId: {in: $l}}, {status: {in: $l}}, {note: {in: $l}}]}) { count } }';
const HEAVY_LIST = Array.from({ length: 25_000 }, (_, i) => (i < 40 ? `o${String(i * 50).padStart(5, '0')}` : `nope-${i}`));

async function heavyExpected(): Promise<string> {
  const set = new Set(HEAVY_LIST);
  const rows = await fx.lake.sql(`SELECT id, customerId, status, note FROM ${fx.lake.src('orders')}`);
  return String(rows.filter((r) => [r.id, r.customerId, r.status, r.note].some((v) => typeof v === 'string' && set.has(v))).length);
}

function connectedWsClient(g: Gateway, onClosed: (code: number, reason: string) => void): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = createClient({
      url: g.wsUrl,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => {},
      on: {
        connected: () => resolve(client),
        closed: (e) => onClosed((e as { code: number }).code, String((e as { reason?: string }).reason ?? '')),
        error: reject,
      },
    });
  });
}

test('graceful shutdown: the in-flight request completes, new connections are refused, ws clients are closed', async () => {
  const expected = await heavyExpected();
  const g = await startTestGateway(fx.lake);
  const b = g.url.replace(/\/graphql$/, '');
  let closed: { code: number; reason: string } | null = null;
  const client = await connectedWsClient(g, (code, reason) => (closed = { code, reason }));
  try {
    assert.equal(await freshRequest(`${b}/healthz`), 200);
    const t0 = Date.now();
    const inflight = gql(g.url, HEAVY, { l: HEAVY_LIST }).then((r) => ({ r, at: Date.now() - t0 }));
    await new Promise((r) => setTimeout(r, 100));
    const stopAt = Date.now() - t0;
    const stopping = g.stop().then(() => Date.now() - t0);
    await new Promise((r) => setTimeout(r, 30));
    // While draining: no new connections.
    const during = await freshRequest(`${b}/healthz`);
    const { r, at } = await inflight;
    assert.ok(at > stopAt, `the request must still have been in flight when stop() was called (done at ${at} ms, stop at ${stopAt} ms)`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { data: { ordersAggregate: [{ count: expected }] } });
    assert.equal(during, 'ECONNREFUSED');
    const stoppedAt = await stopping;
    assert.ok(stoppedAt >= at, 'stop() resolves only after the in-flight request');
    assert.deepEqual(closed, { code: 1001, reason: 'Going away' });
    assert.equal(await freshRequest(`${b}/healthz`), 'ECONNREFUSED');
    // A new websocket cannot connect either.
    const wsErr = await new Promise<string>((resolve) => {
      const sock = new WebSocket(g.wsUrl, 'graphql-transport-ws');
      sock.on('open', () => resolve('open'));
      sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    assert.equal(wsErr, 'ECONNREFUSED');
    // stop() is idempotent.
    await g.stop();
  } finally {
    await client.dispose();
    await g.stop();
  }
});

test(
  'graceful shutdown also lets an in-flight query over graphql-ws finish',
  async () => {
    const expected = await heavyExpected();
    const g = await startTestGateway(fx.lake);
    let connected!: () => void;
    const isConnected = new Promise<void>((r) => (connected = r));
    const client = createClient({ url: g.wsUrl, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, on: { connected: () => connected() } });
    try {
      const result = new Promise<unknown>((resolve) => {
        const out: unknown[] = [];
        client.subscribe({ query: HEAVY, variables: { l: HEAVY_LIST } }, { next: (v) => out.push(v), error: (e) => resolve({ error: (e as { code?: number }).code ?? JSON.stringify(e) }), complete: () => resolve(out) });
      });
      // Stop once the query is on the server (on a loaded machine the socket may take longer than a fixed pause).
      await isConnected;
      await new Promise((r) => setTimeout(r, 100));
      await Promise.all([g.stop(), result]);
      assert.deepEqual(await result, [{ data: { ordersAggregate: [{ count: expected }] } }]);
    } finally {
      await client.dispose();
      await g.stop();
    }
  },
);
