// Every operator of every filter input, checked against hand-written DuckDB SQL over the same Parquet files.
// Semantics under test (lake/where.ts): a comparison never matches NULL, `not` is plain negation, and[] = true, or[] = false.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gql, gqlData, ORDER_ROWS, useTestGateway } from '../helpers/lake-fixture';

const fx = useTestGateway();

type Where = Record<string, unknown>;
/** How many rows the oracle must return, so that no case is vacuous: some (neither none nor all), none, all. */
type Expect = 'some' | 'none' | 'all';
interface Case {
  where: Where;
  /** Hand-written SQL predicate over the orders files; $1… are `params`. */
  sql: string;
  params?: unknown[];
  expect?: Expect;
}

const LIST_QUERY = `query($w: OrderWhere){ orders(where: $w, limit: 5000) { id } }`;

async function apiIds(where: Where): Promise<string[]> {
  const d = await gqlData(fx.gw.url, LIST_QUERY, { w: where });
  return (d.orders as Array<{ id: string }>).map((o) => o.id).sort();
}

async function sqlIds(pred: string, params: unknown[] = []): Promise<string[]> {
  const rows = await fx.lake.sql(`SELECT id FROM ${fx.lake.src('orders')} WHERE ${pred} ORDER BY id`, params);
  return rows.map((r) => String(r.id)).sort();
}

function checkExpect(expected: string[], e: Expect, label: string): void {
  if (e === 'none') assert.equal(expected.length, 0, `oracle for ${label} should match nothing`);
  else if (e === 'all') assert.equal(expected.length, ORDER_ROWS, `oracle for ${label} should match every row`);
  else assert.ok(expected.length > 0 && expected.length < ORDER_ROWS, `oracle for ${label} matches ${expected.length} rows: the case is vacuous`);
}

function runCases(cases: Case[]): void {
  for (const c of cases) {
    const label = JSON.stringify(c.where);
    test(label.length > 140 ? `${label.slice(0, 137)}...` : label, async () => {
      const expected = await sqlIds(c.sql, c.params);
      checkExpect(expected, c.expect ?? 'some', label);
      const got = await apiIds(c.where);
      assert.deepEqual(got, expected);
    });
  }
}

// Values that occur in the fixture (inputs, not expected results).
const QUOTED = `it's "quoted"; DROP TABLE x; --`;
const UNICODE = 'unicode: café ☕ 日本 🚀';
const PERCENT = '100% off_sale';
const orderTotal = (i: number) => String(BigInt(i) * 1_000_000_007n - 9_000_000_000_000n);
const orderTime = (i: number) => new Date(Date.UTC(2026, 10, 18) + i * 129_000).toISOString();
const T1 = orderTotal(1234);
const T2 = orderTotal(77);
const C1 = orderTime(700);
const C2 = orderTime(1501);

describe('StringFilter', () => {
  runCases([
    { where: { status: { eq: 'paid' } }, sql: `status = 'paid'` },
    { where: { status: { eq: 'Paid' } }, sql: `status = 'Paid'` },
    { where: { status: { ne: 'paid' } }, sql: `status IS NOT NULL AND status <> 'paid'` },
    { where: { status: { gt: 'paid' } }, sql: `status > 'paid'` },
    { where: { status: { gte: 'paid' } }, sql: `status >= 'paid'` },
    { where: { status: { lt: 'pending' } }, sql: `status < 'pending'` },
    { where: { status: { lte: 'Paid' } }, sql: `status <= 'Paid'` },
    { where: { status: { gt: '' } }, sql: `status IS NOT NULL` },
    { where: { status: { in: ['paid', 'Paid'] } }, sql: `status IN ('paid', 'Paid')` },
    { where: { status: { in: [] } }, sql: `FALSE`, expect: 'none' },
    { where: { status: { nin: ['paid', 'shipped'] } }, sql: `status NOT IN ('paid', 'shipped')` },
    { where: { status: { nin: [] } }, sql: `status IS NOT NULL` },
    { where: { status: { isNull: true } }, sql: `status IS NULL` },
    { where: { status: { isNull: false } }, sql: `status IS NOT NULL` },
    { where: { status: { like: 'p%' } }, sql: `status LIKE 'p%'` },
    { where: { status: { like: '_aid' } }, sql: `status IN ('paid', 'Paid')` },
    { where: { status: { ilike: 'PAID' } }, sql: `lower(status) = 'paid'` },
    { where: { status: { ilike: '%E%' } }, sql: `strpos(lower(status), 'e') > 0` },
    { where: { status: { startsWith: 'p' } }, sql: `substr(status, 1, 1) = 'p'` },
    { where: { status: { startsWith: 'P' } }, sql: `substr(status, 1, 1) = 'P'` },
    { where: { status: { contains: 'an' } }, sql: `strpos(status, 'an') > 0` },
    { where: { status: { gte: 'a', lt: 'q', ne: 'Paid' } }, sql: `status >= 'a' AND status < 'q' AND status <> 'Paid'` },
    { where: { status: {} }, sql: `TRUE`, expect: 'all' },
    // note: quotes, `;`, `%`, `_`, unicode, the empty string, and null in the older file.
    { where: { note: { eq: QUOTED } }, sql: `note = $1`, params: [QUOTED] },
    { where: { note: { eq: UNICODE } }, sql: `note = $1`, params: [UNICODE] },
    { where: { note: { eq: '' } }, sql: `length(note) = 0` },
    { where: { note: { ne: '' } }, sql: `length(note) > 0` },
    { where: { note: { gt: 'note' } }, sql: `note > 'note'` },
    { where: { note: { lt: 'a' } }, sql: `note < 'a'` },
    { where: { note: { lte: '' } }, sql: `note = ''` },
    { where: { note: { in: [QUOTED, UNICODE, ''] } }, sql: `note IN ($1, $2, '')`, params: [QUOTED, UNICODE] },
    { where: { note: { nin: [''] } }, sql: `note <> ''` },
    { where: { note: { isNull: true } }, sql: `note IS NULL` },
    { where: { note: { contains: `"quoted"; DROP` } }, sql: `strpos(note, $1) > 0`, params: [`"quoted"; DROP`] },
    { where: { note: { contains: '%' } }, sql: `strpos(note, '%') > 0` },
    { where: { note: { contains: '_' } }, sql: `strpos(note, '_') > 0` },
    { where: { note: { contains: '☕' } }, sql: `strpos(note, '☕') > 0` },
    { where: { note: { contains: '' } }, sql: `note IS NOT NULL` },
    { where: { note: { startsWith: "it's" } }, sql: `substr(note, 1, 4) = $1`, params: ["it's"] },
    { where: { note: { startsWith: '100%' } }, sql: `substr(note, 1, 4) = '100%'` },
    { where: { note: { startsWith: '1%' } }, sql: `FALSE`, expect: 'none' },
    { where: { note: { startsWith: '' } }, sql: `note IS NOT NULL` },
    { where: { note: { like: '100%' } }, sql: `note = $1`, params: [PERCENT] },
    { where: { note: { like: '%off_sale' } }, sql: `note = $1`, params: [PERCENT] },
    { where: { note: { like: '%☕%' } }, sql: `strpos(note, '☕') > 0` },
    { where: { note: { like: '' } }, sql: `note = ''` },
    { where: { note: { like: "IT'S%" } }, sql: `FALSE`, expect: 'none' },
    { where: { note: { ilike: "IT'S%" } }, sql: `note = $1`, params: [QUOTED] },
    { where: { note: { ilike: '%CAFÉ%' } }, sql: `note = $1`, params: [UNICODE] },
    { where: { id: { gte: 'o01990' } }, sql: `id >= 'o01990'` },
    { where: { id: { in: ['o00001', 'o01999', 'nope'] } }, sql: `id IN ('o00001', 'o01999')` },
    { where: { id: { lt: 'o00010', ne: 'o00005' } }, sql: `id < 'o00010' AND id <> 'o00005'` },
    { where: { customerId: { startsWith: 'c1' } }, sql: `customerId LIKE 'c1%'` },
  ]);
});

describe('IntFilter', () => {
  runCases([
    { where: { quantity: { eq: 0 } }, sql: `quantity = 0` },
    { where: { quantity: { ne: 0 } }, sql: `quantity <> 0` },
    { where: { quantity: { gt: 3 } }, sql: `quantity > 3` },
    { where: { quantity: { gte: 3 } }, sql: `quantity >= 3` },
    { where: { quantity: { lt: 0 } }, sql: `quantity < 0` },
    { where: { quantity: { lte: -2 } }, sql: `quantity <= -2` },
    { where: { quantity: { in: [-2, 6] } }, sql: `quantity IN (-2, 6)` },
    { where: { quantity: { in: [] } }, sql: `FALSE`, expect: 'none' },
    { where: { quantity: { nin: [0, 1] } }, sql: `quantity NOT IN (0, 1)` },
    { where: { quantity: { nin: [] } }, sql: `quantity IS NOT NULL` },
    { where: { quantity: { isNull: true } }, sql: `quantity IS NULL` },
    { where: { quantity: { isNull: false } }, sql: `quantity IS NOT NULL` },
    { where: { quantity: { gte: 0, lt: 3 } }, sql: `quantity BETWEEN 0 AND 2` },
    { where: { quantity: { gt: -2147483648 } }, sql: `quantity IS NOT NULL` },
  ]);
});

describe('FloatFilter', () => {
  runCases([
    { where: { amount: { eq: 2.5 } }, sql: `amount = 2.5` },
    { where: { amount: { eq: 0 } }, sql: `amount = 0` },
    { where: { amount: { ne: 0 } }, sql: `amount <> 0` },
    { where: { amount: { gt: 10.5 } }, sql: `amount > 10.5` },
    { where: { amount: { gte: 10.5 } }, sql: `amount >= 10.5` },
    { where: { amount: { lt: 0.25 } }, sql: `amount < 0.25` },
    { where: { amount: { lte: 0.25 } }, sql: `amount <= 0.25` },
    { where: { amount: { in: [0, 12.25, 3.75] } }, sql: `amount IN (0, 12.25, 3.75)` },
    { where: { amount: { nin: [0, 0.25] } }, sql: `amount NOT IN (0, 0.25)` },
    { where: { amount: { isNull: false } }, sql: `TRUE`, expect: 'all' },
    { where: { amount: { isNull: true } }, sql: `FALSE`, expect: 'none' },
    { where: { amount: { gt: -1e300 } }, sql: `TRUE`, expect: 'all' },
    { where: { amount: { gt: 2.4999999999, lt: 2.5000000001 } }, sql: `amount = 2.5` },
  ]);
});

describe('BigIntFilter', () => {
  runCases([
    { where: { total: { eq: T1 } }, sql: `total = CAST($1 AS BIGINT)`, params: [T1] },
    { where: { total: { ne: T1 } }, sql: `total <> CAST($1 AS BIGINT)`, params: [T1] },
    { where: { total: { gt: T1 } }, sql: `total > CAST($1 AS BIGINT)`, params: [T1] },
    { where: { total: { gte: T1 } }, sql: `total >= CAST($1 AS BIGINT)`, params: [T1] },
    { where: { total: { lt: T1 } }, sql: `total < CAST($1 AS BIGINT)`, params: [T1] },
    { where: { total: { lte: T1 } }, sql: `total <= CAST($1 AS BIGINT)`, params: [T1] },
    { where: { total: { in: [T1, T2, '1'] } }, sql: `total IN (CAST($1 AS BIGINT), CAST($2 AS BIGINT))`, params: [T1, T2] },
    { where: { total: { nin: [T1, T2] } }, sql: `total NOT IN (CAST($1 AS BIGINT), CAST($2 AS BIGINT))`, params: [T1, T2] },
    { where: { total: { isNull: true } }, sql: `total IS NULL` },
    { where: { total: { isNull: false } }, sql: `total IS NOT NULL` },
    // Beyond 2^53, as strings: must be compared as 64-bit integers, never through a double.
    { where: { total: { gt: '-9223372036854775808' } }, sql: `total IS NOT NULL` },
    { where: { total: { gte: '-9223372036854775808', lte: '9223372036854775807' } }, sql: `total IS NOT NULL` },
    { where: { total: { lt: '-9007199254740993' } }, sql: `total < -9007199254740993`, expect: 'none' },
    { where: { total: { gte: '9007199254740993' } }, sql: `FALSE`, expect: 'none' },
    { where: { total: { ne: '-9223372036854775807' } }, sql: `total IS NOT NULL` },
    { where: { total: { nin: ['-9007199254740993', '-9007199254740992'] } }, sql: `total IS NOT NULL` },
    // A safe integer may also come as a JSON number.
    { where: { total: { gt: -8000000000000 } }, sql: `total > -8000000000000` },
  ]);
});

describe('BooleanFilter', () => {
  runCases([
    { where: { paid: { eq: true } }, sql: `paid` },
    { where: { paid: { eq: false } }, sql: `NOT paid` },
    { where: { paid: { ne: true } }, sql: `paid = false` },
    { where: { paid: { ne: false } }, sql: `paid = true` },
    { where: { paid: { isNull: true } }, sql: `paid IS NULL` },
    { where: { paid: { isNull: false } }, sql: `paid IS NOT NULL` },
  ]);
});

describe('DateTimeFilter', () => {
  runCases([
    { where: { createdAt: { eq: C1 } }, sql: `createdAt = CAST($1 AS TIMESTAMPTZ)`, params: [C1] },
    { where: { createdAt: { ne: C1 } }, sql: `createdAt <> CAST($1 AS TIMESTAMPTZ)`, params: [C1] },
    { where: { createdAt: { gt: C1 } }, sql: `createdAt > CAST($1 AS TIMESTAMPTZ)`, params: [C1] },
    { where: { createdAt: { gte: C1 } }, sql: `createdAt >= CAST($1 AS TIMESTAMPTZ)`, params: [C1] },
    { where: { createdAt: { lt: C1 } }, sql: `createdAt < CAST($1 AS TIMESTAMPTZ)`, params: [C1] },
    { where: { createdAt: { lte: C1 } }, sql: `createdAt <= CAST($1 AS TIMESTAMPTZ)`, params: [C1] },
    { where: { createdAt: { in: [C1, C2, '2020-01-01T00:00:00Z'] } }, sql: `createdAt IN (CAST($1 AS TIMESTAMPTZ), CAST($2 AS TIMESTAMPTZ))`, params: [C1, C2] },
    { where: { createdAt: { nin: [C1, C2] } }, sql: `createdAt NOT IN (CAST($1 AS TIMESTAMPTZ), CAST($2 AS TIMESTAMPTZ))`, params: [C1, C2] },
    { where: { createdAt: { isNull: false } }, sql: `TRUE`, expect: 'all' },
    { where: { createdAt: { isNull: true } }, sql: `FALSE`, expect: 'none' },
    // Other zones and precisions: the instant counts, not the text (and partition pruning must agree).
    { where: { createdAt: { gte: '2026-11-20T01:00:00+02:00' } }, sql: `createdAt >= TIMESTAMPTZ '2026-11-19 23:00:00+00'` },
    { where: { createdAt: { lt: '2026-11-19T05:30:00+05:30' } }, sql: `createdAt < TIMESTAMPTZ '2026-11-19 00:00:00+00'` },
    { where: { createdAt: { gte: '2026-11-19T19:00:00-05:00', lt: '2026-11-20T00:30:00Z' } }, sql: `createdAt >= TIMESTAMPTZ '2026-11-20 00:00:00+00' AND createdAt < TIMESTAMPTZ '2026-11-20 00:30:00+00'` },
    { where: { createdAt: { eq: '2026-11-19T03:05:00+02:00' } }, sql: `createdAt = TIMESTAMPTZ '2026-11-19 01:05:00+00'` },
    { where: { createdAt: { gt: '2026-11-19T01:04:59.999Z', lte: '2026-11-19T01:05:00.000001Z' } }, sql: `createdAt = TIMESTAMPTZ '2026-11-19 01:05:00+00'` },
    { where: { createdAt: { lt: '2026-11-18T00:00:00.5Z' } }, sql: `createdAt < TIMESTAMPTZ '2026-11-18 00:00:00.5+00'` },
    { where: { createdAt: { gte: '2026-11-19 12:00:00Z' } }, sql: `createdAt >= TIMESTAMPTZ '2026-11-19 12:00:00+00'` },
    // ISO-8601 forms the DateTime scalar accepts must filter like their canonical form.
    { where: { createdAt: { gte: '2026-11-20T00:00Z' } }, sql: `createdAt >= TIMESTAMPTZ '2026-11-20 00:00:00+00'` },
    { where: { createdAt: { gte: '2026-11-20t00:00:00z' } }, sql: `createdAt >= TIMESTAMPTZ '2026-11-20 00:00:00+00'` },
    { where: { createdAt: { gte: '2026-11-20T05:00:00+0500' } }, sql: `createdAt >= TIMESTAMPTZ '2026-11-20 00:00:00+00'` },
    { where: { createdAt: { gte: '2026-11-20T05:00:00+05' } }, sql: `createdAt >= TIMESTAMPTZ '2026-11-20 00:00:00+00'` },
    { where: { createdAt: { lt: '2026-11-19T20:30-03:30' } }, sql: `createdAt < TIMESTAMPTZ '2026-11-20 00:00:00+00'` },
  ]);
});

describe('DateFilter', () => {
  runCases([
    { where: { shipDate: { eq: '2026-11-05' } }, sql: `shipDate = DATE '2026-11-05'` },
    { where: { shipDate: { ne: '2026-11-05' } }, sql: `shipDate <> DATE '2026-11-05'` },
    { where: { shipDate: { gt: '2026-11-20' } }, sql: `shipDate > DATE '2026-11-20'` },
    { where: { shipDate: { gte: '2026-11-20' } }, sql: `shipDate >= DATE '2026-11-20'` },
    { where: { shipDate: { lt: '2026-11-03' } }, sql: `shipDate < DATE '2026-11-03'` },
    { where: { shipDate: { lte: '2026-11-03' } }, sql: `shipDate <= DATE '2026-11-03'` },
    { where: { shipDate: { in: ['2026-11-02', '2026-11-30', '2025-01-01'] } }, sql: `shipDate IN (DATE '2026-11-02', DATE '2026-11-30')` },
    { where: { shipDate: { nin: ['2026-11-02', '2026-11-03'] } }, sql: `shipDate NOT IN (DATE '2026-11-02', DATE '2026-11-03')` },
    { where: { shipDate: { isNull: true } }, sql: `shipDate IS NULL` },
    { where: { shipDate: { isNull: false } }, sql: `shipDate IS NOT NULL` },
  ]);
});

describe('JSONFilter', () => {
  runCases([
    { where: { attributes: { isNull: true } }, sql: `attributes IS NULL` },
    { where: { attributes: { isNull: false } }, sql: `attributes IS NOT NULL` },
  ]);
});

// Oracles for lists use list_filter/len, not the list_contains/list_has_* family the gateway uses.
const has = (col: string, v: string) => `len(list_filter(${col}, lambda x: x = ${v})) > 0`;
describe('StringListFilter / IntListFilter', () => {
  runCases([
    { where: { tags: { contains: 'gift' } }, sql: has('tags', `'gift'`) },
    { where: { tags: { contains: 'nope' } }, sql: `FALSE`, expect: 'none' },
    { where: { tags: { containsAll: ['gift', 'express'] } }, sql: `${has('tags', `'gift'`)} AND ${has('tags', `'express'`)}` },
    { where: { tags: { containsAll: [] } }, sql: `tags IS NOT NULL` },
    { where: { tags: { containsAny: ['bulk', 'promo'] } }, sql: `${has('tags', `'bulk'`)} OR ${has('tags', `'promo'`)}` },
    { where: { tags: { containsAny: [] } }, sql: `FALSE`, expect: 'none' },
    { where: { tags: { isNull: true } }, sql: `tags IS NULL` },
    { where: { tags: { isNull: false } }, sql: `tags IS NOT NULL` },
    { where: { tags: { isEmpty: true } }, sql: `len(tags) = 0` },
    { where: { tags: { isEmpty: false } }, sql: `len(tags) > 0` },
    { where: { tags: { contains: 'bulk', isEmpty: false } }, sql: has('tags', `'bulk'`) },
    { where: { scores: { contains: 3 } }, sql: has('scores', '3') },
    { where: { scores: { containsAll: [1, 2] } }, sql: `${has('scores', '1')} AND ${has('scores', '2')}` },
    { where: { scores: { containsAny: [0, 6] } }, sql: `${has('scores', '0')} OR ${has('scores', '6')}` },
    { where: { scores: { isNull: true } }, sql: `scores IS NULL` },
    { where: { scores: { isEmpty: false } }, sql: `len(scores) > 0` },
    { where: { scores: { isEmpty: true } }, sql: `len(scores) = 0`, expect: 'none' },
  ]);
});

describe('and / or / not', () => {
  runCases([
    { where: {}, sql: `TRUE`, expect: 'all' },
    { where: { and: [] }, sql: `TRUE`, expect: 'all' },
    { where: { or: [] }, sql: `FALSE`, expect: 'none' },
    { where: { not: { and: [] } }, sql: `FALSE`, expect: 'none' },
    { where: { not: { or: [] } }, sql: `TRUE`, expect: 'all' },
    { where: { status: { eq: 'paid' }, or: [] }, sql: `FALSE`, expect: 'none' },
    { where: { not: { quantity: { gt: 3 } } }, sql: `NOT coalesce(quantity > 3, false)` },
    { where: { not: { status: { ne: 'paid' } } }, sql: `NOT coalesce(status <> 'paid', false)` },
    { where: { not: { status: { nin: ['paid', 'Paid'] } } }, sql: `NOT coalesce(status NOT IN ('paid', 'Paid'), false)` },
    { where: { not: { paid: { eq: false } } }, sql: `paid IS NULL OR paid` },
    { where: { not: { tags: { contains: 'gift' } } }, sql: `NOT coalesce(${has('tags', `'gift'`)}, false)` },
    { where: { not: { tags: { isEmpty: false } } }, sql: `tags IS NULL OR len(tags) = 0` },
    { where: { not: { note: { like: '%o%' } } }, sql: `NOT coalesce(note LIKE '%o%', false)` },
    { where: { not: { createdAt: { lt: '2026-11-20T00:00:00Z' } } }, sql: `createdAt >= TIMESTAMPTZ '2026-11-20 00:00:00+00'` },
    { where: { not: { not: { quantity: { gt: 3 } } } }, sql: `coalesce(quantity > 3, false)` },
    { where: { not: { status: { eq: 'paid' }, paid: { eq: true } } }, sql: `NOT (coalesce(status = 'paid', false) AND coalesce(paid, false))` },
    { where: { status: { eq: 'paid' }, quantity: { gte: 2 } }, sql: `status = 'paid' AND quantity >= 2` },
    { where: { or: [{ status: { eq: 'paid' } }, { quantity: { isNull: true } }] }, sql: `status = 'paid' OR quantity IS NULL` },
    {
      where: { and: [{ or: [{ paid: { eq: true } }, { amount: { gte: 10 } }] }, { not: { status: { in: ['cancelled'] } } }] },
      sql: `(coalesce(paid, false) OR amount >= 10) AND NOT coalesce(status = 'cancelled', false)`,
    },
    {
      where: { or: [{ and: [{ quantity: { lt: 0 } }, { note: { isNull: false } }] }, { not: { or: [{ amount: { lt: 11 } }, { status: { isNull: true } }] } }] },
      sql: `coalesce(quantity < 0 AND note IS NOT NULL, false) OR NOT (amount < 11 OR status IS NULL)`,
    },
    // Event-time conditions under `or` / `not` must not be taken as partition bounds.
    {
      where: { or: [{ createdAt: { lt: '2026-11-18T01:00:00Z' } }, { createdAt: { gte: '2026-11-20T23:00:00Z' } }] },
      sql: `createdAt < TIMESTAMPTZ '2026-11-18 01:00:00+00' OR createdAt >= TIMESTAMPTZ '2026-11-20 23:00:00+00'`,
    },
    {
      where: { createdAt: { gte: '2026-11-19T00:00:00Z' }, not: { createdAt: { gte: '2026-11-19T12:00:00Z' } } },
      sql: `createdAt >= TIMESTAMPTZ '2026-11-19 00:00:00+00' AND createdAt < TIMESTAMPTZ '2026-11-19 12:00:00+00'`,
    },
    {
      where: { and: [{ createdAt: { gte: '2026-11-18T12:00:00Z' } }, { createdAt: { gte: '2026-11-20T06:00:00Z' } }, { or: [{ paid: { eq: true } }, { createdAt: { lt: '2026-11-18T00:30:00Z' } }] }] },
      sql: `createdAt >= TIMESTAMPTZ '2026-11-20 06:00:00+00' AND paid`,
    },
    {
      where: { and: [{ createdAt: { gte: '2026-11-20T06:00:00Z' } }, { createdAt: { gte: '2026-11-18T12:00:00Z' } }, { createdAt: { lte: '2026-11-20T07:00:00Z' } }] },
      sql: `createdAt BETWEEN TIMESTAMPTZ '2026-11-20 06:00:00+00' AND TIMESTAMPTZ '2026-11-20 07:00:00+00'`,
    },
  ]);
});

test('a where given as a GraphQL literal (escaped quotes, unicode) equals SQL', async () => {
  const expected = await sqlIds(`note = $1 OR note = $2`, [QUOTED, UNICODE]);
  checkExpect(expected, 'some', 'literal');
  const d = await gqlData(fx.gw.url, `{ orders(limit: 5000, where: { or: [{ note: { eq: ${JSON.stringify(QUOTED)} } }, { note: { eq: "unicode: caf\\u00e9 ☕ 日本 🚀" } }] }) { id } }`);
  assert.deepEqual((d.orders as Array<{ id: string }>).map((o) => o.id).sort(), expected);
});

test('filtered values come back as the SQL has them (not just ids)', async () => {
  const where = { note: { isNull: false }, total: { isNull: false }, quantity: { lt: 1 } };
  const d = await gqlData(fx.gw.url, `query($w: OrderWhere){ orders(where: $w, limit: 5000) { id note total quantity } }`, { w: where });
  const rows = await fx.lake.sql(`SELECT id, note, CAST(total AS VARCHAR) AS total, quantity FROM ${fx.lake.src('orders')} WHERE note IS NOT NULL AND total IS NOT NULL AND quantity < 1 ORDER BY id`);
  checkExpect(rows.map((r) => String(r.id)), 'some', 'values');
  const got = [...(d.orders as Array<Record<string, unknown>>)].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  assert.deepEqual(got, rows);
});

describe('invalid filters are BAD_USER_INPUT', () => {
  const cases: Array<[string, Where]> = [
    ['eq: null', { status: { eq: null } }],
    ['in with null', { status: { in: ['paid', null] } }],
    ['and: null', { and: null }],
    ['not: null', { not: null }],
    ['DateTime not a date', { createdAt: { gte: 'yesterday' } }],
    ['DateTime without zone', { createdAt: { gte: '2026-11-20T00:00:00' } }],
    ['BigInt with a fraction', { total: { eq: '1.5' } }],
    ['BigInt above 64 bits', { total: { gt: '9223372036854775808' } }],
    ['BigInt unsafe JSON number', { total: { gt: Number.MAX_SAFE_INTEGER + 2 } }],
    ['Date not in the calendar', { shipDate: { eq: '2026-02-30' } }],
    ['Int above 32 bits', { quantity: { eq: 2147483648 } }],
    ['unknown operator', { paid: { gt: true } }],
  ];
  for (const [name, where] of cases) {
    test(name, async () => {
      const r = await gql(fx.gw.url, LIST_QUERY, { w: where });
      assert.ok(r.body.errors?.length, `expected an error, got ${r.text.slice(0, 300)}`);
      assert.equal(r.body.errors![0]!.extensions?.code, 'BAD_USER_INPUT', r.text.slice(0, 300));
      assert.ok(!r.body.data?.orders, 'no data with an invalid filter');
    });
  }
});
