// Segment staging (lake/staging.ts): records are staged as canonical JSON lines and converted by DuckDB at commit.
// The data file and the live view must hold exactly what DuckDB's own appender stores for the same decoded values
// (the reference here, built in the test through the appender's typed vectors), for awkward values too: lone
// surrogates, NUL, -0, infinities, int64 bounds, timestamps far from now, empty lists, nulls.

import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BIGINT, BOOLEAN, DATE, DOUBLE, DuckDBDataChunk, DuckDBDateValue, DuckDBInstance, DuckDBTimestampTZValue, INTEGER, LIST, TIMESTAMPTZ, VARCHAR,
  listValue, type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';
import { loadConfig, type FieldDef } from '../../config';
import { createLakeEngine, createLakeWriter, type StagedRow } from '../../lake';
import { TEST_CONFIG } from '../helpers/lake-fixture';

// Field order of the fixture's orders: id customerId amount quantity total paid status note shipDate createdAt tags scores attributes
const EDGE_VALUES: unknown[][] = [
  ['a', 'c', 1.5, 1, 1n, true, 'new', 'plain', 20_000, 1_795_219_200_000_000, ['x', 'y'], [1, 2], '{"a":1}'],
  ['lone \ud800 high', 'low \udc00', -0, -2147483648, -(2n ** 63n), false, 'nul\u0000byte', 'quote " backslash \\ slash / tab \t nl \n cr \r', -25_567, -2_208_988_800_000_000, [], [], '[]'],
  ['ünïcödé 😀 \u2028\u2029', 'c2', Infinity, 2147483647, 2n ** 63n - 1n, null, null, null, null, 253_402_300_799_999_999, ['😀', ''], [2147483647, -2147483648], '"text \\u00e9 \\n"'],
  ['id3', 'c3', -Infinity, null, null, true, '', '', 0, 0, null, null, null],
  ['id4', 'c4', 5e-324, 0, 0n, false, 'x'.repeat(5000), 'y', 2_932_896, -62_135_596_800_000_000, ['a'], [0], '{"deep":{"x":[1,2,{"y":null}]},"u":"é"}'],
  ['id5', 'c5', 1.7976931348623157e308, 7, 9_007_199_254_740_993n, true, 'a', 'b', 1, 1_700_000_000_123_456, ['x'], [5], 'null'],
  ['id6', 'c6', 0.1 + 0.2, -7, -9_007_199_254_740_993n, true, 'a', 'b', -1, -1, ['x'], [5], '1e+21'],
];

function chunkType(f: FieldDef): DuckDBType {
  const t = { string: VARCHAR, json: VARCHAR, int: INTEGER, long: BIGINT, float: DOUBLE, boolean: BOOLEAN, timestamp: TIMESTAMPTZ, date: DATE }[f.type];
  return f.list ? LIST(t) : t;
}

function toDuck(f: FieldDef, v: unknown): DuckDBValue {
  if (v === null || v === undefined) return null;
  const one = (x: unknown): DuckDBValue =>
    f.type === 'timestamp' ? new DuckDBTimestampTZValue(BigInt(Math.round(x as number))) : f.type === 'date' ? new DuckDBDateValue(x as number) : (x as DuckDBValue);
  return f.list ? listValue((v as unknown[]).map(one)) : one(v);
}

/** The test catalog over a fresh lake directory (removed after the test). */
function fixtureCatalog(t: TestContext) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lakegate-staging-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'lakegate.yaml');
  writeFileSync(file, TEST_CONFIG(path.join(dir, 'lake')));
  const catalog = loadConfig(file);
  return { catalog, ds: catalog.datasetMap.get('orders')! };
}

test('staged rows land in the data file and the live view exactly as the appender stores the same values', async (t) => {
  const { catalog, ds } = fixtureCatalog(t);
  assert.equal(ds.fields.length, EDGE_VALUES[0]!.length);
  const engine = await createLakeEngine({ lakePath: catalog.lake.path });
  t.after(() => engine.close());
  const writer = createLakeWriter(engine, { retireAfterMs: 60_000 });

  const rows: StagedRow[] = EDGE_VALUES.map((values, i) => ({ values, offset: 100n + BigInt(i), timestampMs: 1_795_000_000_000 + i * 1_001, key: i === 1 ? null : `k-${i} "ü"`, bytes: 10 }));
  const seg = await writer.open(ds, 'orders', 5, 'date=2026-11-21', 100n, 0);
  await writer.append(seg, rows.slice(0, 3));
  await writer.append(seg, rows.slice(3));
  assert.equal(seg.rows, rows.length);
  assert.ok(seg.staged > 0);

  // The reference: DuckDB's appender, fed typed vectors of the same values (as the writer did before staging files).
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  t.after(() => { c.closeSync(); db.closeSync(); });
  await c.run(`SET TimeZone = 'UTC'`);
  const cols = ds.fields.map((f) => `"${f.name}" ${f.type === 'json' ? (f.list ? 'VARCHAR[]' : 'VARCHAR') : chunkType(f).toString()}`);
  await c.run(`CREATE TABLE ref (${cols.join(', ')}, "_topic" VARCHAR, "_partition" INTEGER, "_offset" BIGINT, "_timestamp" TIMESTAMPTZ, "_key" VARCHAR)`);
  const app = await c.createAppender('ref');
  const types = [...ds.fields.map(chunkType), VARCHAR, INTEGER, BIGINT, TIMESTAMPTZ, VARCHAR];
  const columns: DuckDBValue[][] = ds.fields.map((f, i) => rows.map((r) => toDuck(f, r.values[i])));
  columns.push(rows.map(() => 'orders'), rows.map(() => 5), rows.map((r) => r.offset), rows.map((r) => new DuckDBTimestampTZValue(BigInt(r.timestampMs) * 1000n)), rows.map((r) => r.key));
  const chunk = DuckDBDataChunk.create(types, rows.length);
  chunk.setColumns(columns);
  app.appendDataChunk(chunk);
  app.flushSync();
  app.closeSync();

  // Every value as text (doubles keep the sign of zero), the JSON columns as JSON text, in offset order.
  const render = (rel: string) =>
    `SELECT ${[...ds.fields.map((f) => f.name), '_topic', '_partition', '_offset', '_timestamp', '_key']
      .map((n) => `CAST("${n}" AS VARCHAR) AS "${n}", typeof("${n}") AS "t_${n}"`)
      .join(', ')} FROM ${rel} ORDER BY "_offset"`;
  const refRows = (await c.runAndReadAll(render(`(SELECT * REPLACE (CAST(attributes AS JSON) AS attributes) FROM ref)`))).getRowObjectsJson();
  assert.equal(refRows.length, rows.length);
  assert.equal(refRows[1]!.amount, '-0.0');
  assert.equal(refRows[0]!.t_createdAt, 'TIMESTAMP WITH TIME ZONE');

  // The live view, before the commit (JSON still text there, as in the staging table it replaces). Its creation is
  // not awaited by open(): the segment is offered to queries once it exists.
  const offered = async (table: string) => {
    for (let i = 0; i < 200 && !writer.liveSegments(ds).some((s) => s.table === table); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(writer.liveSegments(ds).some((s) => s.table === table), `${table} never offered to queries`);
  };
  await offered(seg.table);
  const liveRows = (await engine.query(render(`(SELECT * REPLACE (CAST(attributes AS JSON) AS attributes) FROM "${seg.table}")`), [])).rows;
  assert.deepEqual(liveRows, refRows);
  assert.deepEqual(writer.liveSegments(ds).map((s) => s.table), [seg.table]);

  // A line being written at this instant (a partial last line) is not a row of the view, and not an error.
  const stagingDir = path.join(catalog.lake.path, 'orders', '_staging');
  const [stagingFile] = readdirSync(stagingDir);
  appendFileSync(path.join(stagingDir, stagingFile!), '{"c0":"half a li');
  assert.deepEqual((await engine.query(`SELECT count(*) AS n FROM "${seg.table}"`, [])).rows, [{ n: String(rows.length) }]);
  // ... but a commit never writes what the writer did not append: the row count is checked against the file.
  await assert.rejects(writer.commit(seg), /could not commit/);

  const seg2 = await writer.open(ds, 'orders', 5, 'date=2026-11-21', 100n, 0);
  await writer.append(seg2, rows);
  await offered(seg2.table);
  const { file: parquet } = await writer.commit(seg2);
  assert.ok(parquet);
  const fileRows = (await c.runAndReadAll(render(`read_parquet('${parquet}')`))).getRowObjectsJson();
  assert.deepEqual(fileRows, refRows);
  const meta = (await c.runAndReadAll(`SELECT path_in_schema AS c, compression FROM parquet_metadata('${parquet}') WHERE row_group_id = 0`)).getRowObjectsJson();
  assert.ok(meta.every((m) => m.compression === 'ZSTD'));

  // A committed segment stays queryable until it retires; closing the writer removes every staging file.
  assert.equal((await engine.query(`SELECT count(*) AS n FROM "${seg2.table}"`, [])).rows[0]!.n, String(rows.length));
  await writer.close();
  assert.deepEqual(readdirSync(stagingDir), []);
  await assert.rejects(engine.query(`SELECT count(*) FROM "${seg2.table}"`, []));
});

test('a timestamp outside DuckDB\'s range is refused when appended, never in a commit', async (t) => {
  const { catalog, ds } = fixtureCatalog(t);
  const engine = await createLakeEngine({ lakePath: catalog.lake.path });
  t.after(() => engine.close());
  const writer = createLakeWriter(engine);
  t.after(() => writer.close());
  const seg = await writer.open(ds, 'orders', 0, '', 0n, 0);
  const values = [...EDGE_VALUES[0]!];
  values[9] = 1e25; // epoch ms 1e22 → µs past int64
  await assert.rejects(writer.append(seg, [{ values, offset: 0n, timestampMs: 0, key: null, bytes: 1 }]), RangeError);
  assert.equal(seg.rows, 0);
});
