// The staging plan's fast serializer (one JSON.stringify per row) against its reference (one serializer per value):
// the same text, the same line bound, the same exception, for values of every type at their awkward edges, including
// values no decoder produces (the fast path must hand those to the reference path, not write something else).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config';
import type { StagedRow } from '../../lake';
import { stagingPlan } from '../../lake/staging';
import { TEST_CONFIG } from '../helpers/lake-fixture';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lakegate-staging-fast-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'lakegate.yaml'), TEST_CONFIG(path.join(dir, 'lake')));
const ds = loadConfig(path.join(dir, 'lakegate.yaml')).datasetMap.get('orders')!;
const plan = stagingPlan(ds);

// Field order of the fixture's orders: id customerId amount quantity total paid status note shipDate createdAt tags scores attributes
const VALUES: unknown[][] = [
  ['a', 'c', 1.5, 1, 1n, true, 'new', 'plain', 20_000, 1_795_219_200_000_000, ['x', 'y'], [1, 2], '{"a":1}'],
  ['lone \ud800 high', 'low \udc00', -0, -2147483648, -(2n ** 63n), false, 'nul\u0000byte', 'quote " backslash \\ \t \n \u2028', -25_567, -2_208_988_800_000_000, [], [], '[]'],
  ['ünïcödé 😀', 'c2', Infinity, 2147483647, 2n ** 63n - 1n, null, null, null, null, 253_402_300_799_999_999, ['😀', `x\udfff`], [2147483647, -0], '"t \\u00e9"'],
  ['id3', 'c3', -Infinity, null, null, true, '', '', 0, 0, null, null, null],
  ['id4', 'c4', NaN, 0, 0n, false, 'x'.repeat(5000), 'y', 2_932_896, -62_135_596_800_000_000, ['a'], [0], '{}'],
  ['id5', 'c5', 1.7976931348623157e308, 7, 9_007_199_254_740_991n, true, 'a', 'b', 1, 1_700_000_000_123_456.4, ['x'], [5], 'null'],
  ['id6', 'c6', 0.1 + 0.2, -7, 9_007_199_254_740_992n, true, 'a', 'b', -1, -1.5, ['x'], [5], '1e+21'],
  ['id7', 'c7', 5e-324, -7, -9_007_199_254_740_992n, true, 'a', 'b', -1, 2.5, ['x'], [5], '1'],
  // Values of unexpected JS types (no decoder makes them): the reference path's answer, whatever it is.
  ['id8', 'c8', 1, 2, 3, 'yes', 'a', 'b', 1, 1, ['x'], [5], '1'],
  [42, 'c9', '1.5', 2.5, 4n, 1, 'a', 'b', 1.5, 1, ['x'], [1n], '1'],
  ['id10', 'c10', 1, 2, 3n, true, 'a', 'b', 1, 9.3e18, ['x'], [5], '1'],
  ['id11', 'c11', 1, undefined, undefined, undefined, undefined, undefined, undefined, 5, undefined, undefined, undefined],
  // Edges the fast path itself must get right (every other value of these rows is within its common shapes).
  ['id12', 'c12', -0, -0, -9_007_199_254_740_991n, false, 'lone \udbff', 'x', -0, -0, ['lone \udc00', '😀'], [-0], '"\\ud800"'],
  ['id13', 'c13', Infinity, 1, 0n, true, 'a', 'b', 1, 1, [], [], '{}'],
  ['id14', 'c14', NaN, 1, 0n, true, 'a', 'b', 1, -0.5, ['a'], [1], '{}'],
];

const rowsOf = (offset: (i: number) => bigint, key: (i: number) => string | null): StagedRow[] =>
  VALUES.map((values, i) => ({ values, offset: offset(i), timestampMs: 1_795_000_000_000 + i, key: key(i), bytes: 10 }));

function same(rows: StagedRow[]) {
  let ref: { text: string; maxLineBytes: number } | Error;
  try {
    ref = plan.serializeReference(rows);
  } catch (e) {
    ref = e as Error;
  }
  if (ref instanceof Error) {
    assert.throws(() => plan.serialize(rows), (e: Error) => e.name === (ref as Error).name && e.message === (ref as Error).message);
    return;
  }
  assert.deepEqual(plan.serialize(rows), ref);
  // Row by row too (what the decode workers write).
  for (const r of rows) assert.equal(plan.line(r) + '\n', plan.serializeReference([r]).text);
}

test('fast serializer = reference serializer, value by value and for the whole chunk', () => {
  for (const r of rowsOf((i) => BigInt(i), () => 'k')) same([r]);
  const serializable = rowsOf((i) => BigInt(i), (i) => (i % 2 ? null : `key ${i}`)).filter((r) => {
    try {
      plan.serializeReference([r]);
      return true;
    } catch {
      return false;
    }
  });
  assert.ok(serializable.length >= 8);
  same(serializable);
  same([]);
});

test('offsets and keys at their edges; Kafka timestamps that are not integral milliseconds fail alike', () => {
  same(rowsOf((i) => 2n ** 63n - 1n - BigInt(i), (i) => (i % 3 === 0 ? 'lone \ud800' : i % 3 === 1 ? '' : null)).slice(0, 2));
  same(rowsOf((i) => 9_007_199_254_740_990n + BigInt(i), () => 'k').slice(0, 4));
  const r = rowsOf((i) => BigInt(i), () => null)[0]!;
  same([r, { ...r, offset: 1n, timestampMs: 1.5 }]);
  same([{ ...r, timestampMs: Number.NaN }]);
  same([{ ...r, timestampMs: 2 ** 60 }]);
  // A timestamp beyond DuckDB's range: both raise the same RangeError.
  const bad = [...r.values];
  bad[9] = 1e300;
  same([r, { ...r, values: bad }]);
});
