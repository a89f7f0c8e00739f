// Hostile input over real HTTP: strings that look like SQL, wildcards, control characters, wrong types, limits,
// huge and deeply nested filters, malformed bodies. Every response is checked: never 5xx, every error coded, no internals.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestLake, useTestGateway } from '../helpers/lake-fixture';

const fx = useTestGateway();

interface Reply {
  status: number;
  text: string;
  body: { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } | undefined;
  headers: Headers;
}

/** Checks every response must pass, whatever was sent: no server error, coded errors, no SQL/paths/stacks. */
function assertClean(r: Reply, what: string): void {
  assert.ok(r.status < 500, `${what}: status ${r.status}: ${r.text.slice(0, 500)}`);
  for (const e of r.body?.errors ?? []) {
    assert.equal(typeof e.extensions?.code, 'string', `${what}: error without extensions.code: ${JSON.stringify(e)}`);
  }
  const forbidden = ['SELECT', 'read_parquet', 'FROM (', fx.lake.lakePath, fx.lake.dir, '.parquet', '    at '];
  for (const f of forbidden) assert.ok(!r.text.includes(f), `${what}: response contains ${JSON.stringify(f)}: ${r.text.slice(0, 800)}`);
}

async function send(what: string, init: RequestInit & { search?: string } = {}): Promise<Reply> {
  const res = await fetch(fx.gw.url + (init.search ?? ''), init);
  const text = await res.text();
  let body: Reply['body'];
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const r = { status: res.status, text, body, headers: res.headers };
  assertClean(r, what);
  return r;
}

function post(query: string, variables?: Record<string, unknown>, what = query.slice(0, 80)): Promise<Reply> {
  return send(what, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
}

function codes(r: Reply): string[] {
  return (r.body?.errors ?? []).map((e) => String(e.extensions?.code));
}

async function sqlIds(where: string, params: unknown[] = []): Promise<string[]> {
  const rows = await fx.lake.sql(`SELECT id FROM ${fx.lake.src('orders')} WHERE ${where} ORDER BY id`, params);
  return rows.map((r) => String(r.id));
}

const LIST = 'query($w: OrderWhere) { orders(where: $w, orderBy: [{id: ASC}], limit: 5000) { id note } }';

async function apiIds(where: Record<string, unknown>): Promise<string[]> {
  const r = await post(LIST, { w: where }, `where ${JSON.stringify(where).slice(0, 80)}`);
  assert.equal(r.status, 200, r.text.slice(0, 500));
  assert.equal(r.body?.errors, undefined, r.text.slice(0, 500));
  return (r.body!.data!.orders as Array<{ id: string }>).map((o) => o.id);
}

test('hostile strings are plain values: eq/ne/in round-trip exactly as SQL does', async () => {
  const notes = (await fx.lake.sql(`SELECT DISTINCT note FROM ${fx.lake.src('orders')} WHERE note IS NOT NULL ORDER BY note`)).map((r) => String(r.note));
  // The fixture must hold the hostile notes, or this test proves nothing.
  assert.ok(notes.includes(`it's "quoted"; DROP TABLE x; --`) && notes.includes('unicode: café ☕ 日本 🚀') && notes.includes('100% off_sale') && notes.includes(''));
  const absent = [
    "'; DROP TABLE orders; --",
    "x' OR '1'='1",
    'x" OR "1"="1',
    "\\'; --",
    '$1',
    '?',
    '/* comment */',
    '\u0001\u0002\u0007\b\t\n\u000b\f\r\u001b\u007f',
    '\u2028\u2029\ufeff',
    "'); COPY orders TO '/tmp/x'; --",
  ];
  for (const v of [...notes, ...absent]) {
    const expected = await sqlIds('note = ?', [v]);
    const got = await apiIds({ note: { eq: v } });
    assert.deepEqual(got, expected, `note eq ${JSON.stringify(v)}`);
    if (notes.includes(v)) assert.ok(expected.length > 0);
    // The value comes back byte for byte.
    const r = await post(LIST, { w: { note: { eq: v } } });
    for (const o of r.body!.data!.orders as Array<{ note: string }>) assert.equal(o.note, v);
  }
  // Same values as GraphQL string literals (not variables): the literal path must be just as safe.
  for (const v of [`it's "quoted"; DROP TABLE x; --`, 'unicode: café ☕ 日本 🚀', "'; DROP TABLE orders; --", '\u0001\t\u001b']) {
    const r = await post(`{ orders(where: {note: {eq: ${JSON.stringify(v)}}}, orderBy: [{id: ASC}], limit: 5000) { id } }`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((r.body!.data!.orders as Array<{ id: string }>).map((o) => o.id), await sqlIds('note = ?', [v]), `literal ${JSON.stringify(v)}`);
  }
  const hostileIn = [`it's "quoted"; DROP TABLE x; --`, '100% off_sale', "'; DROP TABLE orders; --", ''];
  assert.deepEqual(await apiIds({ note: { in: hostileIn } }), await sqlIds('note IN (?, ?, ?, ?)', hostileIn));
  assert.deepEqual(await apiIds({ note: { nin: hostileIn } }), await sqlIds('note IS NOT NULL AND note NOT IN (?, ?, ?, ?)', hostileIn));
  assert.deepEqual(await apiIds({ note: { ne: `it's "quoted"; DROP TABLE x; --` } }), await sqlIds('note IS NOT NULL AND note <> ?', [`it's "quoted"; DROP TABLE x; --`]));
  // Hostile values in other string filters too.
  assert.deepEqual(await apiIds({ id: { in: ["o00001' OR 1=1 --", 'o00002'] } }), ['o00002']);
  assert.deepEqual(await apiIds({ tags: { contains: "gift'); --" } }), []);
});

test('% and _ are literal in contains/startsWith and patterns only in like/ilike, as in SQL', async () => {
  const nonNull = (await sqlIds('note IS NOT NULL')).length;
  const literalCases: Array<[string, Record<string, unknown>, string, unknown[]]> = [
    ['contains %', { note: { contains: '%' } }, 'strpos(note, ?) > 0', ['%']],
    ['contains _', { note: { contains: '_' } }, 'strpos(note, ?) > 0', ['_']],
    ['contains %_%', { note: { contains: '%_%' } }, 'strpos(note, ?) > 0', ['%_%']],
    ['contains "% off_"', { note: { contains: '% off_' } }, 'strpos(note, ?) > 0', ['% off_']],
    ['contains quote', { note: { contains: `'s "q` } }, 'strpos(note, ?) > 0', [`'s "q`]],
    ['contains ☕', { note: { contains: '☕' } }, 'strpos(note, ?) > 0', ['☕']],
    ['startsWith 100%', { note: { startsWith: '100%' } }, 'substr(note, 1, 4) = ?', ['100%']],
    ['startsWith 1_0', { note: { startsWith: '1_0' } }, 'substr(note, 1, 3) = ?', ['1_0']],
    ['startsWith %', { note: { startsWith: '%' } }, 'substr(note, 1, 1) = ?', ['%']],
  ];
  for (const [what, where, sql, params] of literalCases) {
    const expected = await sqlIds(`note IS NOT NULL AND ${sql}`, params);
    assert.deepEqual(await apiIds(where), expected, what);
  }
  // Teeth: a wildcard reading of "%" would match every non-null note, "_" every non-empty one.
  assert.ok((await sqlIds(`strpos(note, '%') > 0`)).length > 0);
  assert.ok((await sqlIds(`strpos(note, '%') > 0`)).length < nonNull / 2);
  assert.deepEqual(await apiIds({ note: { startsWith: '1_0' } }), []);

  for (const [op, pattern] of [
    ['like', '100%'],
    ['like', '1__%'],
    ['like', '%\\%%'],
    ['like', '%\\_%'],
    ['like', '%;%--'],
    ['like', "%'%"],
    ['ilike', 'UNICODE: CAFÉ%'],
    ['ilike', '%☕%'],
    ['ilike', 'IT_S%'],
    ['ilike', '['],
  ] as const) {
    const expected = await sqlIds(`note ${op === 'like' ? 'LIKE' : 'ILIKE'} ?`, [pattern]);
    assert.deepEqual(await apiIds({ note: { [op]: pattern } }), expected, `${op} ${pattern}`);
  }
});

test('unknown fields, arguments, filters and operators: 400 GRAPHQL_VALIDATION_FAILED, nothing executed', async () => {
  for (const q of [
    '{ orders { nope } }',
    '{ orders(foo: 1) { id } }',
    '{ nope { id } }',
    '{ orders(where: {nope: {eq: "x"}}) { id } }',
    '{ orders(where: {id: {regex: ".*"}}) { id } }',
    '{ orders(where: {amount: {like: "1%"}}) { id } }',
    '{ orders(orderBy: [{tags: ASC}]) { id } }',
    '{ orders { id } } { orders { id } }',
    'query($w: NopeWhere) { orders(where: $w) { id } }',
    '{ orders { customer } }',
    '{ orders { id { x } } }',
  ]) {
    const r = await post(q);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.ok(codes(r).length > 0 && codes(r).every((c) => c === 'GRAPHQL_VALIDATION_FAILED'), `${q}: ${r.text}`);
    assert.ok(r.body?.data === undefined || r.body.data === null, q);
  }
});

test('wrong types are client errors (400), not server errors', async () => {
  const cases: Array<[string, Record<string, unknown>?]> = [
    ['{ orders(limit: "5") { id } }'],
    ['query($l: Int) { orders(limit: $l) { id } }', { l: '5' }],
    ['query($l: Int) { orders(limit: $l) { id } }', { l: 2 ** 31 }],
    ['query($l: Int) { orders(limit: $l) { id } }', { l: 1.5 }],
    ['{ orders(where: {createdAt: {gt: "abc"}}) { id } }'],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: { createdAt: { gt: 'abc' } } }],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: { createdAt: { gt: '2026-13-45T99:00:00Z' } } }],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: { createdAt: { gt: 12345 } } }],
    ['{ orders(where: {total: {gt: 1180591620717411303424}}) { id } }'],
    ['{ orders(where: {total: {gt: "1180591620717411303424"}}) { id } }'],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: { total: { gt: '1180591620717411303424' } } }],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: { total: { gt: '12abc' } } }],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: { quantity: { eq: 2 ** 31 } } }],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: { amount: { gt: 'NaN' } } }],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: { paid: { eq: 'yes' } } }],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: { shipDate: { eq: '2026-02-30' } } }],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: { id: { in: ['o1', null] } } }],
    ['query($w: OrderWhere) { orders(where: $w) { id } }', { w: 'id = 1' }],
    ['{ orders(orderBy: [{id: UP}]) { id } }'],
    ['{ ordersAggregate(groupBy: [nope]) { count } }'],
    ['{ ordersAggregate(timeBucket: {unit: YEAR}) { count } }'],
    ['{ ordersAggregate(timeBucket: {unit: DAY, size: "2"}) { count } }'],
  ];
  for (const [q, v] of cases) {
    const r = await post(q, v, `${q} ${JSON.stringify(v ?? {})}`);
    assert.equal(r.status, 400, `${q} ${JSON.stringify(v)}: ${r.text}`);
    assert.ok(codes(r).length > 0, r.text);
    for (const c of codes(r)) assert.ok(c === 'GRAPHQL_VALIDATION_FAILED' || c === 'BAD_USER_INPUT', `${q}: code ${c}`);
  }
});

test('limit above the cap is LIMIT_EXCEEDED (no silent cut); the cap itself and negatives behave', async () => {
  for (const q of ['{ orders(limit: 5001) { id } }', '{ ordersAggregate(limit: 5001) { count } }', '{ customers(limit: 1000000) { id } }']) {
    const r = await post(q);
    assert.ok(r.status === 200 || r.status === 400, r.text);
    assert.deepEqual(codes(r), ['LIMIT_EXCEEDED'], `${q}: ${r.text}`);
    assert.equal(r.body?.data ?? null, null, `${q}: no partial data`);
  }
  // At the cap it works and returns everything there is (2000 rows < 5000).
  const [{ n }] = (await fx.lake.sql(`SELECT count(*) AS n FROM ${fx.lake.src('orders')}`)) as Array<{ n: unknown }>;
  const ok = await post('{ orders(limit: 5000) { id } }');
  assert.equal(ok.status, 200, ok.text.slice(0, 300));
  assert.equal((ok.body!.data!.orders as unknown[]).length, Number(n));
  for (const q of ['{ orders(limit: -1) { id } }', '{ orders(offset: -1) { id } }', '{ ordersConnection(first: -1) { edges { cursor } } }', '{ ordersAggregate(limit: -5) { count } }']) {
    const r = await post(q);
    assert.deepEqual(codes(r), ['BAD_USER_INPUT'], `${q}: ${r.text}`);
    assert.equal(r.body?.data ?? null, null);
  }
  const zero = await post('{ orders(limit: 0) { id } }');
  assert.deepEqual(zero.body?.data, { orders: [] });
});

test('huge in/nin lists are bound as values and match SQL', async () => {
  const all = await sqlIds('TRUE');
  // Every third real id, interleaved with ids that do not exist and hostile strings.
  const wanted = all.filter((_, i) => i % 3 === 0);
  const list: string[] = [];
  for (let i = 0; i < 20_000; i++) list.push(i < wanted.length ? wanted[i]! : i % 2 ? `x${i}` : `o${i}'; --`);
  const got = await apiIds({ id: { in: list } });
  const set = new Set(list);
  assert.deepEqual(got, all.filter((id) => set.has(id)));
  assert.equal(got.length, wanted.length);
  const notIn = await apiIds({ id: { nin: list } });
  assert.deepEqual(notIn, all.filter((id) => !set.has(id)));
});

test('nested and/or/not: up to 500 conditions answer like SQL, more is BAD_USER_INPUT', async () => {
  // 200 conditions in a tree of and/or/not, compared with the same logic written in SQL.
  const ors = Array.from({ length: 150 }, (_, i) => ({ id: { eq: `o${String(i * 7).padStart(5, '0')}` } }));
  const where = { and: [{ or: ors }, { not: { or: [{ status: { eq: 'paid' } }, { not: { amount: { gte: 2 } } }] } }, { not: { not: { quantity: { isNull: false } } } }] };
  const idList = ors.map((o) => o.id.eq);
  const expected = await sqlIds(
    `id IN (${idList.map(() => '?').join(', ')}) AND NOT ((status IS NOT NULL AND status = 'paid') OR NOT (amount >= 2)) AND quantity IS NOT NULL`,
    idList,
  );
  assert.ok(expected.length > 5);
  assert.deepEqual(await apiIds(where), expected);

  // Wide: 501 alternatives (variables).
  const wide = { or: Array.from({ length: 501 }, (_, i) => ({ id: { eq: `o${i}` } })) };
  // Deep: 600 levels of nesting, alternating not/and/or (variables).
  let deep: Record<string, unknown> = { id: { eq: 'x' } };
  for (let i = 0; i < 600; i++) deep = i % 3 === 0 ? { not: deep } : i % 3 === 1 ? { and: [deep] } : { or: [deep] };
  for (const [what, w] of [['wide', wide], ['deep', deep]] as const) {
    const r = await post('query($w: OrderWhere) { orders(where: $w) { id } }', { w }, what);
    assert.ok(r.status === 200 || r.status === 400, `${what}: ${r.status}`);
    assert.deepEqual(codes(r), ['BAD_USER_INPUT'], `${what}: ${r.text.slice(0, 300)}`);
    assert.equal(r.body?.data ?? null, null);
  }
  // Deep nesting as a literal: still a client error.
  let lit = '{id: {eq: "x"}}';
  for (let i = 0; i < 600; i++) lit = `{or: [${lit}]}`;
  const r = await post(`{ orders(where: ${lit}) { id } }`, undefined, 'deep literal');
  assert.ok(codes(r).length > 0 && codes(r).every((c) => c === 'BAD_USER_INPUT' || c === 'GRAPHQL_PARSE_FAILED' || c === 'LIMIT_EXCEEDED'), r.text.slice(0, 300));
  // Beyond the token bound the parser refuses before any work.
  let huge = '{id: {eq: "x"}}';
  for (let i = 0; i < 3000; i++) huge = `{not: ${huge}}`;
  const h = await post(`{ orders(where: ${huge}) { id } }`, undefined, 'huge literal');
  assert.equal(h.status, 400, h.text.slice(0, 300));
  assert.ok(codes(h).length > 0, h.text.slice(0, 300));
});

test(
  'a where nested 3000 levels deep in variables is a client error, not a stack overflow',
  async () => {
    let deeper: Record<string, unknown> = { id: { eq: 'x' } };
    for (let i = 0; i < 3000; i++) deeper = { not: deeper };
    for (let round = 0; round < 2; round++) {
      const r = await post('query($w: OrderWhere) { orders(where: $w) { id } }', { w: deeper }, 'deeper');
      assert.ok(r.status === 200 || r.status === 400, `${r.status}`);
      assert.equal(codes(r).length, 1, r.text.slice(0, 300));
      assert.ok(['BAD_USER_INPUT', 'LIMIT_EXCEEDED'].includes(codes(r)[0]!), r.text.slice(0, 300));
    }
  },
);

test('malformed, empty, wrong-type and oversized bodies are 4xx with a code', async () => {
  const postRaw = (body: string, ctype = 'application/json', what = body.slice(0, 40)) => send(what, { method: 'POST', headers: { 'content-type': ctype }, body });
  for (const body of ['{"query": ', '{query: "{ __typename }"}', '\u0000\u0001', 'null', '[]', '"{ __typename }"', '{"query": 5}', '{"query": "{ __typename }", "variables": "x"}', '{}']) {
    const r = await postRaw(body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.status} ${r.text}`);
    assert.ok(codes(r).length > 0, `${JSON.stringify(body)}: ${r.text}`);
  }
  const empty = await postRaw('', 'application/json', 'empty body');
  assert.equal(empty.status, 400, empty.text);
  assert.ok(codes(empty).length > 0);
  // A form post (CSRF-able content type) is refused.
  const form = await postRaw('query=%7B__typename%7D', 'application/x-www-form-urlencoded', 'form');
  assert.equal(form.status, 400, form.text);
  // Parse errors.
  for (const q of ['{ orders( }', '{ orders { id ', '\u0001', 'query { orders(where: {note: {eq: "unterminated}}) { id } }']) {
    const r = await post(q);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.deepEqual(codes(r), ['GRAPHQL_PARSE_FAILED'], `${q}: ${r.text}`);
  }
  // 2 MiB body: 413, and the server keeps answering.
  const big = await postRaw(JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } }), 'application/json', '2 MiB');
  assert.equal(big.status, 413, big.text);
  assert.ok(codes(big).length > 0);
  const after = await post('{ __typename }');
  assert.deepEqual(after.body?.data, { __typename: 'Query' });
  // Unknown operation name is a client error.
  const op = await send('operationName', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query A { __typename }', operationName: "A'; --" }) });
  assert.equal(op.status, 400, op.text);
});

test('GET: a simple GET is refused by CSRF prevention, a preflighted one works and matches SQL', async () => {
  const query = '{ orders(limit: 4, orderBy: [{amount: DESC}, {id: ASC}]) { id } }';
  const search = `?query=${encodeURIComponent(query)}`;
  const simple = await send('simple GET', { method: 'GET', search });
  assert.equal(simple.status, 400, simple.text);
  assert.deepEqual(codes(simple), ['BAD_REQUEST']);
  assert.equal(simple.body?.data ?? null, null);

  const expected = (await fx.lake.sql(`SELECT id FROM ${fx.lake.src('orders')} ORDER BY amount DESC, _partition, _offset LIMIT 4`)).map((r) => String(r.id));
  const preflights: Array<Record<string, string>> = [{ 'apollo-require-preflight': 'true' }, { 'content-type': 'application/json' }];
  for (const headers of preflights) {
    const r = await send(`GET ${JSON.stringify(headers)}`, { method: 'GET', search, headers });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((r.body!.data!.orders as Array<{ id: string }>).map((o) => o.id), expected);
  }
  // Variables in the query string, with a hostile value.
  const v = `it's "quoted"; DROP TABLE x; --`;
  const withVars = await send('GET vars', {
    method: 'GET',
    headers: { 'apollo-require-preflight': 'true' },
    search: `?query=${encodeURIComponent(LIST)}&variables=${encodeURIComponent(JSON.stringify({ w: { note: { eq: v } } }))}`,
  });
  assert.equal(withVars.status, 200, withVars.text.slice(0, 300));
  assert.deepEqual((withVars.body!.data!.orders as Array<{ id: string }>).map((o) => o.id), await sqlIds('note = ?', [v]));
  // Malformed variables in the query string.
  const bad = await send('GET bad vars', { method: 'GET', headers: { 'apollo-require-preflight': 'true' }, search: `?query=${encodeURIComponent(LIST)}&variables=%7Bnope` });
  assert.equal(bad.status, 400, bad.text);
  assert.ok(codes(bad).length > 0);
});

test('a hostile x-request-id is not echoed back', async () => {
  const r = await send('x-request-id', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': "abc'; <script>alert(1)</script>" },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  assert.equal(r.status, 200);
  const rid = r.headers.get('x-request-id') ?? '';
  assert.ok(!rid.includes('<') && !rid.includes("'"), rid);
  const good = await send('x-request-id ok', { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'trace-123.a_b' }, body: JSON.stringify({ query: '{ __typename }' }) });
  assert.equal(good.headers.get('x-request-id'), 'trace-123.a_b');
});
