// The file commit protocol on a real lake with real DuckDB: claims fence a stale writer, an interrupted commit is
// rolled forward by recovery, and the decoded values land with their catalog types (checked by plain DuckDB SQL).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../../config';
import { FencedError, createLakeEngine, createLakeWriter, type StagedRow } from '../../lake';
import { createDecoder } from '../../ingestion';
import { TEST_CONFIG } from '../helpers/lake-fixture';
import { orderEvent, visibleFiles } from '../helpers/kafka-fixture';

async function setup(t: import('node:test').TestContext) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lakegate-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'lakegate.yaml');
  writeFileSync(file, TEST_CONFIG(path.join(dir, 'lake')));
  const catalog = loadConfig(file);
  const ds = catalog.datasetMap.get('orders')!;
  const decode = createDecoder(ds);
  const rows = (from: number, to: number): StagedRow[] =>
    Array.from({ length: to - from + 1 }, (_, k) => {
      const i = from + k;
      const r = decode(Buffer.from(JSON.stringify(orderEvent(i, { day: '2026-11-21' }))));
      assert.ok(r.ok);
      return { values: r.row.values, offset: BigInt(i), timestampMs: 1_795_000_000_000 + i, key: `o-${i}`, bytes: 100 };
    });
  const engines = [await createLakeEngine({ lakePath: catalog.lake.path }), await createLakeEngine({ lakePath: catalog.lake.path })];
  const writers = engines.map((e) => createLakeWriter(e));
  t.after(async () => {
    for (const w of writers) await w.close();
    for (const e of engines) e.close();
  });
  return { catalog, ds, rows, writers, lake: catalog.lake.path };
}

async function sql(q: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(q)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

test('a second writer committing the same start offset is fenced; the lake keeps the first file only', async (t) => {
  const { ds, rows, writers, lake } = await setup(t);
  const [a, b] = writers as [ReturnType<typeof createLakeWriter>, ReturnType<typeof createLakeWriter>];
  const dir = 'date=2026-11-21';
  const sa = await a.open(ds, 'orders', 0, dir, 0n, 0);
  await a.append(sa, rows(0, 9));
  const sb = await b.open(ds, 'orders', 0, dir, 0n, 0);
  await b.append(sb, rows(0, 4)); // a stale member that cuts its file elsewhere
  await a.commit(sa);
  await assert.rejects(b.commit(sb), FencedError);
  const files = await visibleFiles(path.join(lake, 'orders'));
  assert.deepEqual(files.map((f) => path.basename(f)), ['orders+0+00000000000000000000+00000000000000000009.parquet']);
  // The stale writer re-reads where the lake ends.
  assert.equal(await b.recover(ds, 'orders', 0), 10n);
});

test('a stale writer behind several commits is fenced even after older claims were cleaned up', async (t) => {
  const { ds, rows, writers } = await setup(t);
  const [a, b] = writers as [ReturnType<typeof createLakeWriter>, ReturnType<typeof createLakeWriter>];
  const dir = 'date=2026-11-21';
  for (const [s, e] of [[0, 9], [10, 19], [20, 29]] as const) {
    const seg = await a.open(ds, 'orders', 1, dir, BigInt(s), 0);
    await a.append(seg, rows(s, e));
    await a.commit(seg);
  }
  const stale = await b.open(ds, 'orders', 1, dir, 0n, 0);
  await b.append(stale, rows(0, 14));
  await assert.rejects(b.commit(stale), FencedError);
  const mid = await b.open(ds, 'orders', 1, dir, 10n, 0);
  await b.append(mid, rows(10, 25));
  await assert.rejects(b.commit(mid), FencedError);
  assert.equal(await b.recover(ds, 'orders', 1), 30n);
});

test('recovery rolls an interrupted commit (claimed, not yet renamed) forward', async (t) => {
  const { ds, rows, writers, lake } = await setup(t);
  const w = writers[0]!;
  const seg = await w.open(ds, 'orders', 2, 'date=2026-11-21', 100n, 0);
  await w.append(seg, rows(100, 149));
  const { file } = await w.commit(seg);
  // Put the lake back in the state of a crash between the claim and the rename.
  const claimFile = path.join(lake, 'orders', '_claims', 'orders+2+00000000000000000100.json');
  const claim = JSON.parse(await fsp.readFile(claimFile, 'utf8'));
  await fsp.rename(file!, path.join(lake, 'orders', '_tmp', claim.tmp));
  assert.equal((await visibleFiles(path.join(lake, 'orders'))).length, 0);
  assert.equal(await w.recover(ds, 'orders', 2), 150n);
  const files = await visibleFiles(path.join(lake, 'orders'));
  assert.deepEqual(files, [file]);
  const [r] = await sql(`SELECT count(*) AS n, min(_offset) AS lo, max(_offset) AS hi FROM read_parquet('${file}')`);
  assert.deepEqual([Number(r!.n), Number(r!.lo), Number(r!.hi)], [50, 100, 149]);
});

test('decoded values land with their catalog types, equal to the source JSON', async (t) => {
  const { ds, rows, writers } = await setup(t);
  const w = writers[0]!;
  const seg = await w.open(ds, 'orders', 3, 'date=2026-11-21', 0n, 0);
  await w.append(seg, rows(0, 59));
  const { file } = await w.commit(seg);
  const got = await sql(
    `SELECT id, customerId, amount, quantity, CAST(total AS VARCHAR) AS total, paid, status, strftime(createdAt AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%g') AS createdAt,
       tags, scores, CAST(attributes AS VARCHAR) AS attributes, _topic, _partition, CAST(_offset AS VARCHAR) AS o, _key,
       typeof(total) AS tt, typeof(createdAt) AS ct, typeof(attributes) AS jt FROM read_parquet('${file}') ORDER BY _offset`,
  );
  assert.equal(got.length, 60);
  got.forEach((r, i) => {
    const e = orderEvent(i, { day: '2026-11-21' });
    assert.equal(r.id, e.id);
    assert.equal(r.amount, e.amount);
    assert.equal(r.quantity, e.quantity);
    assert.equal(r.total, e.total);
    assert.equal(r.paid, e.paid);
    assert.equal(r.status, e.status);
    assert.equal(`${r.createdAt}Z`, e.createdAt);
    assert.deepEqual(r.tags, e.tags);
    assert.deepEqual(r.scores, e.scores);
    assert.deepEqual(r.attributes === null ? null : JSON.parse(String(r.attributes)), e.attributes);
    assert.deepEqual([r._topic, r._partition, r.o, r._key], ['orders', 3, String(i), `o-${i}`]);
    assert.deepEqual([r.tt, r.ct, r.jt], ['BIGINT', 'TIMESTAMP WITH TIME ZONE', 'JSON']);
  });
});
