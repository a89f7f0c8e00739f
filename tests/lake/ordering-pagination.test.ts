// orderBy (ties, null placement, tie-break on _partition/_offset), limit/offset windows and keyset pages,
// each compared with the exact row sequence of a hand-written DuckDB ORDER BY over the same files.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gql, gqlData, ORDER_ROWS, useTestGateway } from '../helpers/lake-fixture';

const fx = useTestGateway();

type OrderBy = Array<Record<string, string>>;
interface Ordering {
  orderBy: OrderBy;
  /** The contract's meaning, written out: ASC = NULLS LAST, DESC = NULLS FIRST (Postgres). */
  sql: string;
}

const ORDERINGS: Ordering[] = [
  { orderBy: [], sql: '' },
  { orderBy: [{ amount: 'ASC' }], sql: 'amount ASC NULLS LAST' },
  { orderBy: [{ amount: 'DESC' }, { status: 'ASC' }], sql: 'amount DESC NULLS FIRST, status ASC NULLS LAST' },
  { orderBy: [{ status: 'ASC' }], sql: 'status ASC NULLS LAST' },
  { orderBy: [{ status: 'DESC' }], sql: 'status DESC NULLS FIRST' },
  { orderBy: [{ status: 'ASC_NULLS_FIRST' }], sql: 'status ASC NULLS FIRST' },
  { orderBy: [{ status: 'DESC_NULLS_LAST' }], sql: 'status DESC NULLS LAST' },
  { orderBy: [{ status: 'DESC_NULLS_LAST' }, { amount: 'DESC' }], sql: 'status DESC NULLS LAST, amount DESC NULLS FIRST' },
  { orderBy: [{ quantity: 'DESC' }, { amount: 'ASC' }], sql: 'quantity DESC NULLS FIRST, amount ASC NULLS LAST' },
  { orderBy: [{ quantity: 'ASC' }, { paid: 'DESC' }], sql: 'quantity ASC NULLS LAST, paid DESC NULLS FIRST' },
  { orderBy: [{ total: 'ASC' }], sql: 'total ASC NULLS LAST' },
  { orderBy: [{ total: 'DESC_NULLS_LAST' }], sql: 'total DESC NULLS LAST' },
  { orderBy: [{ createdAt: 'DESC' }], sql: 'createdAt DESC NULLS FIRST' },
  { orderBy: [{ shipDate: 'ASC_NULLS_FIRST' }, { paid: 'DESC' }], sql: 'shipDate ASC NULLS FIRST, paid DESC NULLS FIRST' },
  { orderBy: [{ paid: 'ASC' }, { customerId: 'DESC' }], sql: 'paid ASC NULLS LAST, customerId DESC NULLS FIRST' },
  { orderBy: [{ note: 'ASC' }], sql: 'note ASC NULLS LAST' },
  { orderBy: [{ note: 'DESC' }, { id: 'DESC' }], sql: 'note DESC NULLS FIRST, id DESC NULLS FIRST' },
  { orderBy: [{ id: 'DESC' }], sql: 'id DESC' },
  { orderBy: [{ amount: 'ASC' }, { amount: 'DESC' }], sql: 'amount ASC' },
];

const nameOf = (o: OrderBy) => (o.length ? o.map((x) => Object.entries(x)[0]!.join(' ')).join(', ') : '(none)');

async function sqlIds(orderSql: string, opts: { where?: string; limit?: number; offset?: number } = {}): Promise<string[]> {
  const order = [orderSql, '_partition ASC', '_offset ASC'].filter(Boolean).join(', ');
  const rows = await fx.lake.sql(
    `SELECT id FROM ${fx.lake.src('orders')} WHERE ${opts.where ?? 'TRUE'} ORDER BY ${order}` +
      (opts.limit !== undefined ? ` LIMIT ${opts.limit}` : '') +
      (opts.offset !== undefined ? ` OFFSET ${opts.offset}` : ''),
  );
  return rows.map((r) => String(r.id));
}

const LIST = `query($o: [OrderOrderBy!], $w: OrderWhere, $l: Int, $f: Int){ orders(orderBy: $o, where: $w, limit: $l, offset: $f) { id } }`;
async function apiIds(vars: { o?: OrderBy; w?: Record<string, unknown>; l?: number; f?: number }): Promise<string[]> {
  const d = await gqlData(fx.gw.url, LIST, vars);
  return (d.orders as Array<{ id: string }>).map((o) => o.id);
}

const PAGE = `query($o: [OrderOrderBy!], $w: OrderWhere, $n: Int, $a: String){
  ordersConnection(orderBy: $o, where: $w, first: $n, after: $a) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
interface PageResult {
  edges: Array<{ cursor: string; node: { id: string } }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
async function page(vars: { o?: OrderBy; w?: Record<string, unknown>; n?: number; a?: string | null }): Promise<PageResult> {
  return (await gqlData(fx.gw.url, PAGE, vars)).ordersConnection as PageResult;
}

/** Walks every page; checks page sizes, hasNextPage and endCursor on the way. Returns the ids in visiting order. */
async function walk(orderBy: OrderBy, first: number, where?: Record<string, unknown>, expectedTotal?: number): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  const maxPages = Math.ceil((expectedTotal ?? ORDER_ROWS) / first) + 2;
  for (let i = 0; ; i++) {
    assert.ok(i < maxPages, `more than ${maxPages} pages: pagination does not terminate`);
    const p = await page({ o: orderBy, w: where, n: first, a: after });
    assert.ok(p.edges.length <= first, `page ${i} has ${p.edges.length} > ${first} edges`);
    if (p.edges.length) assert.equal(p.pageInfo.endCursor, p.edges[p.edges.length - 1]!.cursor, 'endCursor is the last edge cursor');
    seen.push(...p.edges.map((e) => e.node.id));
    if (!p.pageInfo.hasNextPage) break;
    assert.equal(p.edges.length, first, `page ${i} is short but hasNextPage is true`);
    assert.ok(p.pageInfo.endCursor, 'hasNextPage with no endCursor');
    after = p.pageInfo.endCursor;
  }
  return seen;
}

function assertVisitedOnce(seen: string[], expected: string[]): void {
  assert.equal(new Set(seen).size, seen.length, 'a row was visited twice');
  assert.equal(seen.length, expected.length, 'rows visited vs rows in SQL');
  assert.deepEqual(seen, expected);
}

describe('orderBy: the exact row sequence of SQL ORDER BY …, _partition, _offset', () => {
  for (const o of ORDERINGS) {
    test(nameOf(o.orderBy), async () => {
      const expected = await sqlIds(o.sql);
      assert.equal(expected.length, ORDER_ROWS);
      assert.deepEqual(await apiIds({ o: o.orderBy, l: 5000 }), expected);
    });
  }

  test('the fixture has ties and nulls in the sort keys (else the cases above prove little)', async () => {
    const [r] = await fx.lake.sql(
      `SELECT count(DISTINCT amount) AS a, count(*) FILTER (status IS NULL) AS s, count(*) FILTER (quantity IS NULL) AS q,
              count(*) FILTER (total IS NULL) AS t, count(*) FILTER (shipDate IS NULL) AS d, count(*) FILTER (note IS NULL) AS n
       FROM ${fx.lake.src('orders')}`,
    );
    assert.ok(Number(r!.a) < 100, 'amount has many ties');
    for (const k of ['s', 'q', 't', 'd', 'n']) assert.ok(Number(r![k]) > 0, `nulls in ${k}`);
  });

  test('with a where', async () => {
    const expected = await sqlIds('quantity DESC NULLS FIRST, status ASC NULLS FIRST', { where: `amount >= 6 AND (paid OR status IS NULL)` });
    assert.ok(expected.length > 10);
    const where = { amount: { gte: 6 }, or: [{ paid: { eq: true } }, { status: { isNull: true } }] };
    assert.deepEqual(await apiIds({ o: [{ quantity: 'DESC' }, { status: 'ASC_NULLS_FIRST' }], w: where, l: 5000 }), expected);
  });
});

describe('limit / offset', () => {
  const windows: Array<[number, number]> = [
    [7, 0],
    [7, 13],
    [1, 1999],
    [7, 1995],
    [7, 2000],
    [7, 2500],
    [0, 0],
    [5000, 1],
  ];
  for (const o of [ORDERINGS[0]!, ORDERINGS[2]!, ORDERINGS[5]!, ORDERINGS[11]!]) {
    test(`${nameOf(o.orderBy)}: windows ${windows.map(([l, f]) => `${l}@${f}`).join(' ')}`, async () => {
      for (const [l, f] of windows) {
        const expected = await sqlIds(o.sql, { limit: l, offset: f });
        assert.deepEqual(await apiIds({ o: o.orderBy, l, f }), expected, `limit ${l} offset ${f}`);
      }
    });
  }

  test('default limit is 100', async () => {
    const expected = await sqlIds('amount DESC NULLS FIRST', { limit: 100 });
    assert.deepEqual(await apiIds({ o: [{ amount: 'DESC' }] }), expected);
    const d = await gqlData(fx.gw.url, `{ orders { id } ordersConnection { edges { node { id } } pageInfo { hasNextPage } } }`);
    assert.deepEqual(d.orders.map((o: { id: string }) => o.id), await sqlIds('', { limit: 100 }));
    assert.equal(d.ordersConnection.edges.length, 100);
    assert.equal(d.ordersConnection.pageInfo.hasNextPage, true);
  });

  test('limit at the cap is served, above it is LIMIT_EXCEEDED (not a silent cut)', async () => {
    assert.equal((await apiIds({ l: 5000 })).length, ORDER_ROWS);
    assert.equal((await page({ n: 5000 })).edges.length, ORDER_ROWS);
    const cases: Array<[string, Record<string, unknown>]> = [
      [`{ orders(limit: 5001) { id } }`, {}],
      [LIST, { l: 5001 }],
      [PAGE, { n: 5001 }],
      [`query($l: Int){ ordersAggregate(groupBy: [id], limit: $l) { count } }`, { l: 5001 }],
    ];
    for (const [q, vars] of cases) {
      const r = await gql(fx.gw.url, q, vars);
      assert.equal(r.body.errors?.[0]?.extensions?.code, 'LIMIT_EXCEEDED', `${q} ${JSON.stringify(vars)}: ${r.text.slice(0, 300)}`);
      assert.ok(!r.body.data?.orders && !r.body.data?.ordersConnection && !r.body.data?.ordersAggregate, 'no data');
    }
  });

  test('`first` written as a literal behaves as when sent as a variable (within and above the cap)', async () => {
    const viaVariable = (await page({ n: 500 })).edges.map((e) => e.node.id);
    const d = await gqlData(fx.gw.url, `{ ordersConnection(first: 500) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`);
    assert.deepEqual(d.ordersConnection.edges.map((e: { node: { id: string } }) => e.node.id), viaVariable);
    const r = await gql(fx.gw.url, `{ ordersConnection(first: 5001) { edges { cursor } } }`);
    assert.equal(r.body.errors?.[0]?.extensions?.code, 'LIMIT_EXCEEDED', r.text.slice(0, 300));
  });

  test('negative limit, offset or first, and malformed orderBy, are BAD_USER_INPUT', async () => {
    for (const q of [
      `{ orders(limit: -1) { id } }`,
      `{ orders(offset: -1) { id } }`,
      `{ ordersConnection(first: -1) { edges { cursor } } }`,
      `{ orders(orderBy: [{ amount: ASC, status: DESC }]) { id } }`,
      `{ orders(orderBy: [{}]) { id } }`,
    ]) {
      const r = await gql(fx.gw.url, q);
      assert.equal(r.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${q}: ${r.text.slice(0, 300)}`);
    }
  });
});

describe('ordersConnection keyset pagination', () => {
  // Orderings over nullable keys, descending, timestamps, longs, dates and booleans, and multi-key ties.
  const WALKED = [ORDERINGS[2]!, ORDERINGS[4]!, ORDERINGS[8]!, ORDERINGS[11]!, ORDERINGS[12]!, ORDERINGS[13]!];

  for (const o of ORDERINGS) {
    test(`pages of 500 over all rows: ${nameOf(o.orderBy)}`, async () => {
      assertVisitedOnce(await walk(o.orderBy, 500), await sqlIds(o.sql));
    });
  }

  const THREE = ['c1', 'c2', 'c4'];
  for (const o of WALKED) {
    test(`pages of 7 and of 1 with a where: ${nameOf(o.orderBy)}`, async () => {
      const seven = await sqlIds(o.sql, { where: `customerId IN ('c1', 'c2', 'c4')` });
      assert.ok(seven.length > 100);
      assertVisitedOnce(await walk(o.orderBy, 7, { customerId: { in: THREE } }, seven.length), seven);
      const one = await sqlIds(o.sql, { where: `customerId = 'c3'` });
      assert.ok(one.length > 20);
      assertVisitedOnce(await walk(o.orderBy, 1, { customerId: { eq: 'c3' } }, one.length), one);
    });
  }

  test('a where on nullable keys: pages of 9 over rows whose status or quantity is null', async () => {
    const o: OrderBy = [{ status: 'DESC' }, { quantity: 'ASC_NULLS_FIRST' }, { total: 'DESC_NULLS_LAST' }];
    const expected = await sqlIds('status DESC NULLS FIRST, quantity ASC NULLS FIRST, total DESC NULLS LAST', { where: `status IS NULL OR quantity IS NULL OR total IS NULL` });
    assert.ok(expected.length > 100);
    const where = { or: [{ status: { isNull: true } }, { quantity: { isNull: true } }, { total: { isNull: true } }] };
    assertVisitedOnce(await walk(o, 9, where, expected.length), expected);
  });

  test('a page count that divides the row count exactly ends with hasNextPage false, without an empty page', async () => {
    const p = await page({ n: 400, a: null });
    assert.equal(p.edges.length, 400);
    assert.equal(p.pageInfo.hasNextPage, true);
    let after = p.pageInfo.endCursor;
    for (let i = 1; i < 5; i++) {
      const next = await page({ n: 400, a: after });
      assert.equal(next.edges.length, 400);
      assert.equal(next.pageInfo.hasNextPage, i < 4, `page ${i}`);
      after = next.pageInfo.endCursor;
    }
  });

  test('every edge cursor resumes right after its row', async () => {
    const o: OrderBy = [{ quantity: 'DESC' }, { status: 'ASC' }];
    const expected = await sqlIds('quantity DESC NULLS FIRST, status ASC NULLS LAST');
    const p = await page({ o, n: 300 });
    for (const i of [0, 9, 150, 299]) {
      const next = await page({ o, n: 5, a: p.edges[i]!.cursor });
      assert.deepEqual(next.edges.map((e) => e.node.id), expected.slice(i + 1, i + 6), `after edge ${i}`);
    }
  });

  test('a cursor made under one orderBy is refused under another (BAD_USER_INPUT)', async () => {
    const p = await page({ o: [{ amount: 'ASC' }], n: 3 });
    for (const other of [[{ amount: 'DESC' }], [], [{ status: 'ASC' }], [{ amount: 'ASC' }, { id: 'ASC' }], [{ amount: 'ASC_NULLS_FIRST' }]]) {
      const r = await gql(fx.gw.url, PAGE, { o: other, n: 3, a: p.pageInfo.endCursor });
      assert.equal(r.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${JSON.stringify(other)}: ${r.text.slice(0, 300)}`);
    }
    const r = await gql(fx.gw.url, PAGE, { o: [{ amount: 'ASC' }], n: 3, a: p.pageInfo.endCursor });
    assert.ok(!r.body.errors, 'the same orderBy accepts it');
  });

  test('garbage and tampered cursors are BAD_USER_INPUT', async () => {
    const p = await page({ o: [{ amount: 'ASC' }], n: 3 });
    const good = p.pageInfo.endCursor!;
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const tampered = (() => {
      const c = JSON.parse(Buffer.from(good, 'base64url').toString('utf8')) as Record<string, unknown>;
      return b64(JSON.stringify({ ...c, k: ['not a number'] }));
    })();
    for (const cursor of ['garbage!', '', 'a'.repeat(5000), good.slice(0, Math.floor(good.length / 2)), b64('null'), b64('{}'), b64('[1,2]'), b64('{"s":"amount:ASC"}'), tampered]) {
      const r = await gql(fx.gw.url, PAGE, { o: [{ amount: 'ASC' }], n: 3, a: cursor });
      assert.equal(r.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `cursor ${JSON.stringify(cursor.slice(0, 40))}: ${r.text.slice(0, 300)}`);
    }
  });
});
