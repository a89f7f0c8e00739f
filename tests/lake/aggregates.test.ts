// ordersAggregate (count, sum, avg, min, max; groupBy; where; timeBucket) against hand-written DuckDB GROUP BY queries.
// Full result sets are compared, null groups included; sums and averages within 1e-9 relative.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gql, gqlData, iso, useTestGateway } from '../helpers/lake-fixture';

const fx = useTestGateway();

const GROUP_FIELDS = ['id', 'customerId', 'amount', 'quantity', 'total', 'paid', 'status', 'note', 'shipDate', 'createdAt'] as const;
type GroupField = (typeof GROUP_FIELDS)[number];
const NUMERIC = ['amount', 'quantity', 'total'] as const;
const MINMAX = ['id', 'amount', 'quantity', 'total', 'status', 'note', 'shipDate', 'createdAt'] as const;

const AGG = `query($g: [OrderField!], $w: OrderWhere, $tb: TimeBucket, $l: Int) {
  ordersAggregate(groupBy: $g, where: $w, timeBucket: $tb, limit: $l) {
    group { ${GROUP_FIELDS.join(' ')} bucket }
    count
    sum { ${NUMERIC.join(' ')} }
    avg { ${NUMERIC.join(' ')} }
    min { ${MINMAX.join(' ')} }
    max { ${MINMAX.join(' ')} }
  }
}`;

/** One aggregate row in a comparable shape. */
interface Agg {
  key: string;
  count: string;
  sum: Record<string, number | null>;
  avg: Record<string, number | null>;
  min: Record<string, unknown>;
  max: Record<string, unknown>;
}

interface Bucket {
  unit: 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';
  size?: number;
}

interface Args {
  groupBy?: GroupField[];
  where?: Record<string, unknown>;
  timeBucket?: Bucket;
  limit?: number;
}

async function api(a: Args): Promise<{ rows: Agg[]; raw: Array<Record<string, any>> }> {
  const d = await gqlData(fx.gw.url, AGG, { g: a.groupBy, w: a.where, tb: a.timeBucket, l: a.limit ?? 5000 });
  const raw = d.ordersAggregate as Array<Record<string, any>>;
  const rows = raw.map((r) => ({
    key: JSON.stringify([...(a.timeBucket ? [r.group.bucket] : []), ...(a.groupBy ?? []).map((g) => r.group[g])]),
    count: r.count as string,
    sum: r.sum,
    avg: r.avg,
    min: r.min,
    max: r.max,
  }));
  return { rows: rows.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)), raw };
}

/** How a DuckDB JSON value of a field becomes the API's value. */
function fromSql(field: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (field === 'createdAt' || field === 'bucket') return iso(v);
  if (field === 'total') return String(v);
  return v;
}
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The oracle: GROUP BY over the files, written out in SQL. */
async function oracle(a: Args, predicate: string): Promise<Agg[]> {
  const groups: Array<[string, string]> = [];
  if (a.timeBucket) groups.push(['bucket', `time_bucket(INTERVAL '${a.timeBucket.size ?? 1} ${a.timeBucket.unit.toLowerCase()}', createdAt::TIMESTAMP)::TIMESTAMPTZ`]);
  for (const g of a.groupBy ?? []) groups.push([g, `"${g}"`]);
  const sel = [
    ...groups.map(([, e], i) => `${e} AS g${i}`),
    'count(*) AS n',
    ...NUMERIC.map((f) => `sum(${f}) AS sum_${f}, avg(${f}) AS avg_${f}`),
    ...MINMAX.map((f) => `min(${f}) AS min_${f}, max(${f}) AS max_${f}`),
  ];
  const rows = await fx.lake.sql(
    `SELECT ${sel.join(', ')} FROM ${fx.lake.src('orders')} WHERE ${predicate}` + (groups.length ? ` GROUP BY ${groups.map((_, i) => `g${i}`).join(', ')}` : ''),
  );
  return rows
    .map((r) => ({
      key: JSON.stringify(groups.map(([f], i) => fromSql(f, r[`g${i}`]))),
      count: String(r.n),
      sum: Object.fromEntries(NUMERIC.map((f) => [f, num(r[`sum_${f}`])])),
      avg: Object.fromEntries(NUMERIC.map((f) => [f, num(r[`avg_${f}`])])),
      min: Object.fromEntries(MINMAX.map((f) => [f, fromSql(f, r[`min_${f}`])])),
      max: Object.fromEntries(MINMAX.map((f) => [f, fromSql(f, r[`max_${f}`])])),
    }))
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

function close(got: number | null, want: number | null, what: string): void {
  if (want === null) return assert.equal(got, null, what);
  assert.equal(typeof got, 'number', `${what}: ${String(got)}`);
  assert.ok(Math.abs(got! - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${what}: got ${got}, want ${want}`);
}

function assertSameAggregates(got: Agg[], want: Agg[]): void {
  assert.deepEqual(
    got.map((r) => r.key),
    want.map((r) => r.key),
    'the set of groups',
  );
  got.forEach((g, i) => {
    const w = want[i]!;
    assert.equal(g.count, w.count, `count of ${g.key}`);
    for (const f of NUMERIC) {
      close(g.sum?.[f] ?? null, w.sum[f]!, `sum.${f} of ${g.key}`);
      close(g.avg?.[f] ?? null, w.avg[f]!, `avg.${f} of ${g.key}`);
    }
    assert.deepEqual(g.min, w.min, `min of ${g.key}`);
    assert.deepEqual(g.max, w.max, `max of ${g.key}`);
  });
}

async function check(a: Args, predicate = 'TRUE', opts: { minGroups?: number } = {}): Promise<void> {
  const want = await oracle(a, predicate);
  assert.ok(want.length >= (opts.minGroups ?? 1), `oracle has ${want.length} groups`);
  const { rows, raw } = await api(a);
  assertSameAggregates(rows, want);
  // Fields not grouped by are null in `group`.
  const grouped = new Set<string>([...(a.groupBy ?? []), ...(a.timeBucket ? ['bucket'] : [])]);
  for (const r of raw) for (const f of [...GROUP_FIELDS, 'bucket']) if (!grouped.has(f)) assert.equal(r.group[f], null, `group.${f} without groupBy`);
}

describe('count / sum / avg / min / max with groupBy', () => {
  test('no groupBy: one row over everything', () => check({}));
  test('groupBy status (string, null group)', () => check({ groupBy: ['status'] }, 'TRUE', { minGroups: 6 }));
  test('groupBy paid (boolean, null group)', () => check({ groupBy: ['paid'] }, 'TRUE', { minGroups: 3 }));
  test('groupBy shipDate (date, null group)', () => check({ groupBy: ['shipDate'] }, 'TRUE', { minGroups: 20 }));
  test('groupBy quantity (int, null group)', () => check({ groupBy: ['quantity'] }, 'TRUE', { minGroups: 9 }));
  test('groupBy amount (float)', () => check({ groupBy: ['amount'] }, 'TRUE', { minGroups: 40 }));
  test('groupBy note (unicode, empty string, null)', () => check({ groupBy: ['note'] }, 'TRUE', { minGroups: 6 }));
  test('groupBy status, paid', () => check({ groupBy: ['status', 'paid'] }, 'TRUE', { minGroups: 12 }));
  test('groupBy paid, quantity, shipDate', () => check({ groupBy: ['paid', 'quantity', 'shipDate'] }, 'TRUE', { minGroups: 100 }));
  test('groupBy customerId with a where', () => check({ groupBy: ['customerId'], where: { amount: { gt: 5 } } }, 'amount > 5', { minGroups: 37 }));
  test('groupBy createdAt (timestamp) with a where', () =>
    check(
      { groupBy: ['createdAt'], where: { createdAt: { gte: '2026-11-19T10:00:00Z', lt: '2026-11-19T16:00:00Z' } } },
      `createdAt >= TIMESTAMPTZ '2026-11-19 10:00:00+00' AND createdAt < TIMESTAMPTZ '2026-11-19 16:00:00+00'`,
      { minGroups: 100 },
    ));
  test('groupBy total (long) with a where', () => check({ groupBy: ['total'], where: { id: { lt: 'o00200' } } }, `id < 'o00200'`, { minGroups: 150 }));
  test('groupBy status with a nested where', () =>
    check(
      { groupBy: ['status'], where: { or: [{ paid: { eq: true } }, { not: { quantity: { gt: 2 } } }], note: { isNull: false } } },
      `(paid OR NOT coalesce(quantity > 2, false)) AND note IS NOT NULL`,
      { minGroups: 5 },
    ));
});

describe('timeBucket (UTC; weeks from Monday 2000-01-03, as DuckDB time_bucket)', () => {
  const units: Bucket['unit'][] = ['SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH'];
  for (const unit of units) {
    for (const size of [1, 3]) {
      test(`${unit} × ${size}`, () => check({ timeBucket: { unit, size } }));
    }
  }
  test('size defaults to 1', () => check({ timeBucket: { unit: 'HOUR' } }, 'TRUE', { minGroups: 70 }));
  test('HOUR × 5 with groupBy paid and a where', () =>
    check({ timeBucket: { unit: 'HOUR', size: 5 }, groupBy: ['paid'], where: { status: { in: ['paid', 'Paid'] } } }, `status IN ('paid', 'Paid')`, { minGroups: 30 }));
  test('DAY × 2 with groupBy status', () => check({ timeBucket: { unit: 'DAY', size: 2 }, groupBy: ['status'] }, 'TRUE', { minGroups: 6 }));
  test('MINUTE × 7 with groupBy quantity and a where', () =>
    check({ timeBucket: { unit: 'MINUTE', size: 7 }, groupBy: ['quantity'], where: { createdAt: { lt: '2026-11-18T12:00:00Z' } } }, `createdAt < TIMESTAMPTZ '2026-11-18 12:00:00+00'`, { minGroups: 50 }));
  test('WEEK buckets start on a Monday', async () => {
    const { raw } = await api({ timeBucket: { unit: 'WEEK' } });
    assert.ok(raw.length > 0);
    for (const r of raw) assert.equal(new Date(r.group.bucket as string).getUTCDay(), 1, `${r.group.bucket} is a Monday`);
  });
  test('timeBucket size must be a positive integer (BAD_USER_INPUT)', async () => {
    for (const size of [0, -3]) {
      const r = await gql(fx.gw.url, AGG, { tb: { unit: 'DAY', size } });
      assert.equal(r.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', r.text.slice(0, 300));
    }
  });
});

describe('empty results', () => {
  const none = { id: { eq: 'no such id' } };
  test('without groupBy: one row, count 0, the rest null', async () => {
    const want = await oracle({}, `id = 'no such id'`);
    assert.equal(want.length, 1);
    assert.equal(want[0]!.count, '0');
    const { rows } = await api({ where: none });
    assertSameAggregates(rows, want);
  });
  test('with groupBy: no rows', async () => {
    assert.equal((await oracle({ groupBy: ['status'] }, `id = 'no such id'`)).length, 0);
    assert.deepEqual((await api({ groupBy: ['status'], where: none })).raw, []);
  });
  test('with timeBucket: no rows', async () => {
    assert.equal((await oracle({ timeBucket: { unit: 'DAY' } }, `id = 'no such id'`)).length, 0);
    assert.deepEqual((await api({ timeBucket: { unit: 'DAY' }, where: none })).raw, []);
  });
});

describe('limit on groups', () => {
  test('limit 5 returns 5 of the groups, each exact', async () => {
    const want = await oracle({ groupBy: ['customerId'] }, 'TRUE');
    const { rows } = await api({ groupBy: ['customerId'], limit: 5 });
    assert.equal(rows.length, 5);
    const byKey = new Map(want.map((w) => [w.key, w]));
    assertSameAggregates(rows, rows.map((r) => byKey.get(r.key)!).filter(Boolean));
  });
  test('default limit is 100 groups', async () => {
    const want = await oracle({ groupBy: ['id'] }, 'TRUE');
    assert.ok(want.length > 100);
    const d = await gqlData(fx.gw.url, `{ ordersAggregate(groupBy: [id]) { group { id } count } }`);
    assert.equal(d.ordersAggregate.length, 100);
    const ids = new Set(want.map((w) => JSON.parse(w.key)[0]));
    for (const r of d.ordersAggregate) {
      assert.ok(ids.has(r.group.id));
      assert.equal(r.count, '1');
    }
  });
});
