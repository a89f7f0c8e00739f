// Self-disposing test fixtures: a random temp lake with known Parquet data (written here with DuckDB directly, as an
// independent oracle), a config naming it, the real gateway on port 0, and helpers for GraphQL over HTTP and direct SQL.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { after, before } from 'node:test';
import pino from 'pino';
import { loadConfig, type Catalog } from '../../config';
import { startGateway, type Gateway } from '../../server';

export const TEST_CONFIG = (lakePath: string, extra = '') => `
lake:
  path: ${JSON.stringify(lakePath)}
server:
  port: 0
  limits:
    defaultLimit: 100
    maxLimit: 5000
    maxDepth: 8
    maxCost: 5000
    queryTimeoutMs: 20000
${extra}
datasets:
  orders:
    typeName: Order
    key: id
    eventTime: createdAt
    partitionBy: day
    fields:
      id:         { type: string, required: true }
      customerId: { type: string, required: true }
      amount:     { type: float,  required: true }
      quantity:   { type: int }
      total:      { type: long }
      paid:       { type: boolean }
      status:     { type: string }
      note:       { type: string }
      shipDate:   { type: date }
      createdAt:  { type: timestamp, required: true }
      tags:       { type: "[string]" }
      scores:     { type: "[int]" }
      attributes: { type: json }
    relations:
      customer: { dataset: customers, on: { customerId: id } }
  customers:
    typeName: Customer
    key: id
    eventTime: updatedAt
    partitionBy: none
    fields:
      id:        { type: string, required: true }
      name:      { type: string, required: true }
      country:   { type: string }
      updatedAt: { type: timestamp, required: true }
`;

/** Rows in the orders fixture; days × kafka partitions files, plus one older file without the newer columns. */
export const ORDER_ROWS = 2_000;
export const DAYS = ['2026-11-18', '2026-11-19', '2026-11-20'];

export interface TestLake {
  dir: string;
  lakePath: string;
  configFile: string;
  catalog: Catalog;
  /** Direct DuckDB over the same files (not through lakegate): the independent answer. */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** read_parquet(...) over the visible files of a dataset, for direct SQL. */
  src(dataset: 'orders' | 'customers'): string;
  dispose(): Promise<void>;
}

const ORDERS_SELECT = (where: string) => `
  SELECT
    'o' || lpad(CAST(i AS VARCHAR), 5, '0') AS id,
    'c' || CAST(i % 37 AS VARCHAR) AS customerId,
    -- few distinct amounts: many ties, exercised by ordering and pagination
    CAST((i * 7919) % 50 AS DOUBLE) / 4 AS amount,
    CASE WHEN i % 11 = 0 THEN NULL ELSE CAST((i * 31) % 9 - 2 AS INTEGER) END AS quantity,
    CASE WHEN i % 13 = 0 THEN NULL ELSE CAST(i AS BIGINT) * 1000000007 - 9000000000000 END AS total,
    CASE WHEN i % 7 = 0 THEN NULL ELSE i % 3 = 0 END AS paid,
    CASE WHEN i % 17 = 0 THEN NULL ELSE (['paid','shipped','cancelled','Paid','pending'])[1 + i % 5] END AS status,
    CASE i % 9 WHEN 0 THEN NULL WHEN 1 THEN 'it''s "quoted"; DROP TABLE x; --' WHEN 2 THEN 'unicode: café ☕ 日本 🚀' WHEN 3 THEN '100% off_sale' WHEN 4 THEN '' ELSE 'note ' || CAST(i % 4 AS VARCHAR) END AS note,
    CASE WHEN i % 5 = 0 THEN NULL ELSE DATE '2026-11-01' + CAST(i % 30 AS INTEGER) END AS shipDate,
    TIMESTAMPTZ '2026-11-18 00:00:00+00' + to_seconds(CAST(i * 129 AS BIGINT)) AS createdAt,
    CASE WHEN i % 10 = 0 THEN NULL WHEN i % 10 = 1 THEN [] ELSE list_slice(['gift','express','bulk','promo'], 1 + i % 4, 1 + i % 4 + i % 3) END AS tags,
    CASE WHEN i % 6 = 0 THEN NULL ELSE [CAST(i % 5 AS INTEGER), CAST(i % 7 AS INTEGER)] END AS scores,
    CASE WHEN i % 4 = 0 THEN NULL ELSE CAST(json_object('channel', (['web','app'])[1 + i % 2], 'n', i) AS JSON) END AS attributes,
    'orders' AS _topic,
    CAST(i % 2 AS INTEGER) AS _partition,
    CAST(i // 2 AS BIGINT) AS _offset,
    TIMESTAMPTZ '2026-11-18 00:00:00+00' + to_seconds(CAST(i * 129 AS BIGINT)) + INTERVAL 250 MILLISECOND AS _timestamp,
    'o' || lpad(CAST(i AS VARCHAR), 5, '0') AS _key
  FROM range(${ORDER_ROWS}) t(i) WHERE ${where}`;

export async function createTestLake(opts: { configExtra?: string; empty?: boolean } = {}): Promise<TestLake> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lakegate-test-'));
  const lakePath = path.join(dir, 'lake');
  mkdirSync(lakePath, { recursive: true });
  const configFile = path.join(dir, 'lakegate.yaml');
  writeFileSync(configFile, TEST_CONFIG(lakePath, opts.configExtra));
  const db = await DuckDBInstance.create(':memory:');
  const conn: DuckDBConnection = await db.connect();
  await conn.run(`SET TimeZone = 'UTC'`);

  if (!opts.empty) {
    // Older file: the first 100 rows, written before `note`, `scores` and `attributes` existed (union_by_name must cope).
    const writeOrders = async (where: string, file: string, dropCols: string[] = []) => {
      const cols = dropCols.length ? `* EXCLUDE (${dropCols.join(', ')})` : '*';
      await conn.run(`COPY (SELECT ${cols} FROM (${ORDERS_SELECT(where)}) ORDER BY _offset) TO '${file}' (FORMAT parquet)`);
    };
    const range = async (where: string) => {
      const r = await conn.runAndReadAll(`SELECT min(_offset) lo, max(_offset) hi, count(*) n FROM (${ORDERS_SELECT(where)})`);
      return r.getRowObjectsJson()[0] as { lo: string; hi: string; n: string };
    };
    const pad = (s: string) => s.padStart(20, '0');
    for (const day of DAYS) {
      const ddir = path.join(lakePath, 'orders', `date=${day}`);
      mkdirSync(ddir, { recursive: true });
      for (const part of [0, 1]) {
        const base = `CAST(TIMESTAMPTZ '2026-11-18 00:00:00+00' + to_seconds(CAST(i * 129 AS BIGINT)) AS DATE) = DATE '${day}' AND i % 2 = ${part}`;
        if (day === DAYS[0]) {
          const old = await range(`${base} AND i < 100`);
          await writeOrders(`${base} AND i < 100`, path.join(ddir, `orders+${part}+${pad(old.lo)}+${pad(old.hi)}.parquet`), ['note', 'scores', 'attributes']);
          const rest = await range(`${base} AND i >= 100`);
          await writeOrders(`${base} AND i >= 100`, path.join(ddir, `orders+${part}+${pad(rest.lo)}+${pad(rest.hi)}.parquet`));
        } else {
          const r = await range(base);
          await writeOrders(base, path.join(ddir, `orders+${part}+${pad(r.lo)}+${pad(r.hi)}.parquet`));
        }
      }
    }
    // Work in progress that no reader may see.
    mkdirSync(path.join(lakePath, 'orders', '_tmp'), { recursive: true });
    await writeOrders('i < 50', path.join(lakePath, 'orders', '_tmp', 'orders+0+00000000000000000000+00000000000000000024.parquet'));
    writeFileSync(path.join(lakePath, 'orders', `date=${DAYS[0]}`, '.orders+0+partial.parquet'), 'not parquet');

    // Customers: 37 ids, ids 0..9 have a second, later version (the relation must return the latest).
    mkdirSync(path.join(lakePath, 'customers'), { recursive: true });
    await conn.run(`COPY (
      WITH v AS (SELECT i, 0 AS ver FROM range(37) t(i) UNION ALL SELECT i, 1 FROM range(10) t(i)),
      n AS (SELECT *, CAST(row_number() OVER (ORDER BY ver, i) - 1 AS BIGINT) AS off FROM v)
      SELECT 'c' || CAST(i AS VARCHAR) AS id, 'Customer ' || CAST(i AS VARCHAR) || CASE WHEN ver = 1 THEN ' v2' ELSE '' END AS name,
        CASE WHEN i % 5 = 0 THEN NULL ELSE (['FR','DE','JP'])[1 + i % 3] END AS country,
        TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_minutes(off) AS updatedAt,
        'customers' AS _topic, 0 AS _partition, off AS _offset, TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_minutes(off) AS _timestamp, 'c' || CAST(i AS VARCHAR) AS _key
      FROM n ORDER BY off) TO '${path.join(lakePath, 'customers', 'customers+0+00000000000000000000+00000000000000000046.parquet')}' (FORMAT parquet)`);
  }

  const catalog = loadConfig(configFile, { env: {} });
  const src = (ds: 'orders' | 'customers') =>
    ds === 'orders'
      ? `read_parquet('${lakePath}/orders/date=*/orders+*.parquet', hive_partitioning = true, union_by_name = true)`
      : `read_parquet('${lakePath}/customers/customers+*.parquet', union_by_name = true)`;
  return {
    dir,
    lakePath,
    configFile,
    catalog,
    src,
    async sql(text, params = []) {
      const r = await conn.runAndReadAll(text, params as never);
      return r.getRowObjectsJson() as Record<string, unknown>[];
    },
    async dispose() {
      conn.closeSync();
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startTestGateway(lake: TestLake, catalog: Catalog = lake.catalog): Promise<Gateway> {
  return startGateway({ catalog, port: 0, host: '127.0.0.1', logger: pino({ level: process.env.LAKEGATE_TEST_LOG ?? 'silent' }) });
}

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  body: { data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string } & Record<string, unknown>; path?: unknown[] }> };
  text: string;
}

/** POST a GraphQL operation to the real server over HTTP. */
export async function gql<T = Record<string, unknown>>(url: string, query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' }, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  let body: GqlResponse<T>['body'];
  try {
    body = JSON.parse(text);
  } catch {
    body = {};
  }
  return { status: res.status, body, text };
}

/** The data of a response that must have no errors. */
export async function gqlData<T = Record<string, any>>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const r = await gql<T>(url, query, variables);
  if (r.body.errors?.length || !r.body.data) throw new Error(`GraphQL errors (${r.status}): ${r.text.slice(0, 2000)}`);
  return r.body.data;
}

/** DuckDB JSON timestamp text ("2026-11-18 00:02:09+00") → the API's ISO form. */
export function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?\+00$/.exec(String(v));
  if (!m) throw new Error(`not a DuckDB UTC timestamp: ${String(v)}`);
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
}

export interface GatewayFixture {
  lake: TestLake;
  gw: Gateway;
  /** Server origin without the /graphql path. */
  base: string;
}

/**
 * One test lake and one gateway for the whole test file: made in `before`, disposed in `after`. The returned object
 * is filled in by `before`, so read its fields inside tests, not at module load.
 */
export function useTestGateway(): GatewayFixture {
  const fx = {} as GatewayFixture;
  before(async () => {
    fx.lake = await createTestLake();
    fx.gw = await startTestGateway(fx.lake);
    fx.base = fx.gw.url.replace(/\/graphql$/, '');
  });
  after(async () => {
    await fx.gw?.stop();
    await fx.lake?.dispose();
  });
  return fx;
}
