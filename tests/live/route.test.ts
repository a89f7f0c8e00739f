// The hub's index of groups by a top-level `eq` (live/route.ts): for every row, the groups whose predicate accepts it
// must be exactly those found by the index (plus the unindexed ones) whose predicate accepts it — the same answer as
// calling every group's predicate — over many filters (eq on every scalar type, eq inside and, or/not/list filters
// that cannot be indexed) and awkward rows (nulls, wrong shapes, bigints, fractions of timestamps).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../config';
import { normalizeWhere } from '../../lake';
import { RouteIndex, compileWhere, createEventDecoder, routeOf } from '../../live';
import { orderEvent } from '../helpers/kafka-fixture';
import { TEST_CONFIG } from '../helpers/lake-fixture';

test('the eq index offers every row to exactly the groups whose predicate accepts it', () => {
  const catalog = parseConfig(TEST_CONFIG('/nonexistent-lake'), '/nonexistent-lake/lakegate.yaml', { env: {} });
  const ds = catalog.datasetMap.get('orders')!;
  const decode = createEventDecoder(ds);
  const rows: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 400; i++) {
    const e: Record<string, unknown> = orderEvent(i);
    if (i % 7 === 0) e.quantity = null;
    if (i % 11 === 0) e.customerId = 'ünïcödé';
    if (i % 13 === 0) e.total = '9223372036854775807';
    if (i % 17 === 0) e.createdAt = '2026-11-21T00:00:00.123456Z';
    if (i % 19 === 0) e.status = null;
    const ev = decode('orders', 0, { key: null, value: Buffer.from(JSON.stringify(e)), offset: String(i), timestamp: '0' } as never);
    if (ev.row) rows.push(ev.row);
  }
  // Rows of other shapes than the decoder's (filters must answer for them too).
  rows.push({ ...rows[1]!, customerId: 5 }, { ...rows[2]!, total: 1000000007n }, { ...rows[3]!, total: 2000000014 }, { ...rows[4]!, amount: Number.NaN }, {});

  const wheres: Array<Record<string, unknown>> = [];
  for (let c = 0; c < 97; c += 3) wheres.push({ customerId: { eq: `c-${c}` } });
  wheres.push({ customerId: { eq: 'ünïcödé' } }, { customerId: { eq: 'nobody' } });
  for (const q of [1, 2, 5, 9]) wheres.push({ quantity: { eq: q } }, { quantity: { eq: q }, amount: { gte: 100 } });
  wheres.push({ total: { eq: '1000000007' } }, { total: { eq: '9223372036854775807' } }, { total: { eq: '0' } });
  wheres.push({ amount: { eq: 1.37 } }, { amount: { eq: 0 } }, { amount: { eq: 2.75 }, status: { eq: 'paid' } });
  wheres.push({ paid: { eq: true } }, { paid: { eq: false }, customerId: { eq: 'c-3' } });
  wheres.push({ status: { eq: 'shipped' } }, { status: { eq: 'ünïcödé' } });
  wheres.push({ createdAt: { eq: '2026-11-21T00:00:00.123456Z' } }, { createdAt: { eq: '2026-11-21T00:00:07.919Z' } });
  wheres.push({ and: [{ customerId: { eq: 'c-1' } }, { amount: { lt: 500 } }] });
  wheres.push({ or: [{ customerId: { eq: 'c-1' } }, { customerId: { eq: 'c-2' } }] }, { not: { customerId: { eq: 'c-1' } } });
  wheres.push({ tags: { contains: 'x' } }, { customerId: { ne: 'c-1' } }, {}, { status: { isNull: true } }, { customerId: { in: ['c-1', 'c-4'] } });

  const groups = wheres.map((w, i) => {
    const node = normalizeWhere(ds, w);
    return { i, predicate: compileWhere(node), route: routeOf(node) };
  });
  const index = new RouteIndex<(typeof groups)[number]>();
  const unrouted = [];
  for (const g of groups) {
    if (g.route) index.add(g, g.route);
    else unrouted.push(g);
  }
  assert.ok(index.size >= 40 && unrouted.length >= 7, `${index.size} routed, ${unrouted.length} not`);

  let matches = 0;
  let offered = 0;
  for (const row of rows) {
    const expected = groups.filter((g) => g.predicate(row)).map((g) => g.i);
    const candidates: typeof groups = [...unrouted];
    index.match(row, (g) => candidates.push(g));
    offered += candidates.length;
    const actual = candidates.filter((g) => g.predicate(row)).map((g) => g.i).sort((a, b) => a - b);
    assert.deepEqual(actual, expected, JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    matches += expected.length;
  }
  assert.ok(matches > rows.length, `${matches} matches`);
  assert.ok(offered < rows.length * groups.length * 0.3, `offered ${offered} of ${rows.length * groups.length}`);

  // Removing groups leaves the others found.
  for (const g of groups.filter((g) => g.route && g.i % 2 === 0)) index.delete(g);
  for (const row of rows) {
    const expected = groups.filter((g) => (!g.route || g.i % 2 === 1) && g.predicate(row)).map((g) => g.i);
    const candidates: typeof groups = [...unrouted];
    index.match(row, (g) => candidates.push(g));
    assert.deepEqual(candidates.filter((g) => g.predicate(row)).map((g) => g.i).sort((a, b) => a - b), expected);
  }
});
