// The sample lake `lakegate serve`/`dev` creates on first run when the lake is empty: realistic orders and customers,
// written exactly as ingestion would write them (contract layout, offsets in names, meta columns), deterministic.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Catalog, Dataset } from '../config';
import type { LakeEngine } from './engine';
import { dataFileName, datasetRoot, listDataFiles } from './layout';
import { literal } from './sql';

/**
 * Sample history is imported, not ingested: its files carry a topic name of their own, so the offsets of a live
 * topic (a fresh dev cluster starts them at 0) never meet the sample's.
 */
export function sampleTopic(ds: Dataset): string {
  return `${ds.topic}.history`;
}

export interface SampleOptions {
  orders?: number;
  customers?: number;
  days?: number;
  kafkaPartitions?: number;
  /** Last day of data (UTC, YYYY-MM-DD); default: today. */
  endDate?: string;
  log?: (msg: string) => void;
}

/** Fill the lake with sample data unless the example datasets already hold files. Returns true if it wrote. */
export async function ensureSampleLake(catalog: Catalog, engine: LakeEngine, opts: SampleOptions = {}): Promise<boolean> {
  const orders = catalog.datasetMap.get('orders');
  const customers = catalog.datasetMap.get('customers');
  if (!orders || !customers) return false;
  if ((await listDataFiles(engine.lakePath, orders)).length > 0) return false;
  await writeSampleLake(catalog, engine, opts);
  return true;
}

export async function writeSampleLake(catalog: Catalog, engine: LakeEngine, opts: SampleOptions = {}): Promise<void> {
  const nOrders = opts.orders ?? 1_200_000;
  const nCustomers = opts.customers ?? 50_000;
  const days = opts.days ?? 7;
  const parts = opts.kafkaPartitions ?? 4;
  const end = opts.endDate ?? new Date().toISOString().slice(0, 10);
  const log = opts.log ?? (() => {});
  const orders = catalog.datasetMap.get('orders')!;
  const customers = catalog.datasetMap.get('customers')!;
  const start = `CAST(${literal(end)} AS DATE) - INTERVAL ${days - 1} DAY`;
  const spanMicros = days * 86_400_000_000;

  log(`generating ${nOrders} sample orders over ${days} days and ${nCustomers} customers`);
  await engine.exec(`CREATE OR REPLACE TABLE __sample_orders AS
    SELECT
      'ord_' || lpad(CAST(i AS VARCHAR), 9, '0') AS id,
      'cus_' || lpad(CAST(hash(i, 'c') % ${nCustomers} AS VARCHAR), 6, '0') AS customerId,
      round(2 + (hash(i, 'a') % 49800) / 100.0, 2) AS amount,
      CASE WHEN hash(i, 'qn') % 50 = 0 THEN NULL ELSE CAST(1 + hash(i, 'q') % 9 AS INTEGER) END AS quantity,
      CAST(NULL AS BIGINT) AS total,
      CASE WHEN hash(i, 'pn') % 100 = 0 THEN NULL ELSE hash(i, 'p') % 10 < 8 END AS paid,
      (['pending','paid','shipped','delivered','cancelled','refunded'])[1 + CAST(hash(i, 's') % 6 AS INTEGER)] AS status,
      CAST(${start} AS TIMESTAMPTZ) + to_microseconds(CAST(i * ${spanMicros} // ${nOrders} AS BIGINT)) AS createdAt,
      list_slice(['gift','express','bulk','promo','b2b','fragile'], 1 + CAST(hash(i, 't') % 6 AS INTEGER), CAST(hash(i, 't') % 6 AS INTEGER) + CAST(hash(i, 'tn') % 3 AS INTEGER)) AS tags,
      CASE WHEN hash(i, 'jn') % 4 = 0 THEN NULL ELSE CAST(json_object(
        'channel', (['web','app','store','phone'])[1 + CAST(hash(i, 'ch') % 4 AS INTEGER)],
        'coupon', CASE WHEN hash(i, 'cp') % 5 = 0 THEN 'SAVE' || CAST(5 * (1 + hash(i, 'cv') % 4) AS VARCHAR) END) AS JSON) END AS attributes,
      ${literal(sampleTopic(orders))} AS _topic,
      CAST(i % ${parts} AS INTEGER) AS _partition,
      CAST(i // ${parts} AS BIGINT) AS _offset,
      CAST(${start} AS TIMESTAMPTZ) + to_microseconds(CAST(i * ${spanMicros} // ${nOrders} AS BIGINT)) + to_milliseconds(CAST(hash(i, 'lag') % 900 AS BIGINT)) AS _timestamp,
      'ord_' || lpad(CAST(i AS VARCHAR), 9, '0') AS _key
    FROM range(${nOrders}) t(i)`);
  await engine.exec(`UPDATE __sample_orders SET total = CAST(round(amount * 100) AS BIGINT) * coalesce(quantity, 1)`);

  const root = datasetRoot(engine.lakePath, orders);
  const tmp = path.join(root, '_tmp');
  await fsp.mkdir(tmp, { recursive: true });
  for (let d = 0; d < days; d++) {
    const day = new Date(Date.parse(`${end}T00:00:00Z`) - (days - 1 - d) * 86_400_000).toISOString().slice(0, 10);
    for (let part = 0; part < parts; part++) {
      // Offsets of one Kafka partition within one day are contiguous because event time grows with i.
      const res = await engine.query(
        `SELECT min(_offset) AS lo, max(_offset) AS hi FROM __sample_orders WHERE CAST(createdAt AS DATE) = CAST($1 AS DATE) AND _partition = CAST($2 AS INTEGER)`,
        [day, String(part)],
      );
      const lo = res.rows[0]?.lo;
      if (lo === null || lo === undefined) continue;
      const name = dataFileName(sampleTopic(orders), part, BigInt(String(lo)), BigInt(String(res.rows[0]!.hi)));
      const dir = path.join(root, `date=${day}`);
      await fsp.mkdir(dir, { recursive: true });
      const staged = path.join(tmp, name);
      await engine.exec(
        `COPY (SELECT * FROM __sample_orders WHERE CAST(createdAt AS DATE) = CAST(${literal(day)} AS DATE) AND _partition = ${part} ORDER BY _offset)
         TO ${literal(staged)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      await fsp.rename(staged, path.join(dir, name));
    }
    log(`  orders date=${day} written`);
  }
  await engine.exec(`DROP TABLE __sample_orders`);

  // Customers: an entity topic; about one in ten customers has a later update (the relation resolves to the latest).
  const cRoot = datasetRoot(engine.lakePath, customers);
  await fsp.mkdir(path.join(cRoot, '_tmp'), { recursive: true });
  await engine.exec(`CREATE OR REPLACE TABLE __sample_customers AS
    WITH base AS (
      SELECT i, 0 AS version FROM range(${nCustomers}) t(i)
      UNION ALL SELECT i, 1 AS version FROM range(${nCustomers}) t(i) WHERE hash(i, 'upd') % 10 = 0
    ), numbered AS (SELECT *, row_number() OVER (ORDER BY version, i) - 1 AS n FROM base)
    SELECT
      'cus_' || lpad(CAST(i AS VARCHAR), 6, '0') AS id,
      (['Ada','Grace','Alan','Edsger','Barbara','Ken','Linus','Margaret','Donald','Frances'])[1 + CAST(hash(i, 'fn') % 10 AS INTEGER)] || ' ' ||
      (['Lovelace','Hopper','Turing','Dijkstra','Liskov','Thompson','Torvalds','Hamilton','Knuth','Allen'])[1 + CAST(hash(i, 'ln') % 10 AS INTEGER)] AS name,
      CASE WHEN hash(i, 'en') % 20 = 0 THEN NULL ELSE 'customer' || CAST(i AS VARCHAR) || CASE WHEN version = 1 THEN '+new' ELSE '' END || '@example.com' END AS email,
      (['FR','DE','US','GB','JP','BR','IN','NL'])[1 + CAST(hash(i, 'co') % 8 AS INTEGER)] AS country,
      (['consumer','smb','enterprise'])[1 + CAST(hash(i, 'sg', version) % 3 AS INTEGER)] AS segment,
      CAST(${start} AS DATE) - CAST(hash(i, 'sd') % 1500 AS INTEGER) AS signupDate,
      CAST(${start} AS TIMESTAMPTZ) - INTERVAL 1 DAY + to_seconds(CAST(n AS BIGINT)) AS updatedAt,
      ${literal(sampleTopic(customers))} AS _topic, 0 AS _partition, CAST(n AS BIGINT) AS _offset,
      CAST(${start} AS TIMESTAMPTZ) - INTERVAL 1 DAY + to_seconds(CAST(n AS BIGINT)) AS _timestamp,
      'cus_' || lpad(CAST(i AS VARCHAR), 6, '0') AS _key
    FROM numbered`);
  const cnt = await engine.query(`SELECT count(*) AS n FROM __sample_customers`, []);
  const n = BigInt(String(cnt.rows[0]!.n));
  const cName = dataFileName(sampleTopic(customers), 0, 0n, n - 1n);
  const cStaged = path.join(cRoot, '_tmp', cName);
  await engine.exec(`COPY (SELECT * FROM __sample_customers ORDER BY _offset) TO ${literal(cStaged)} (FORMAT parquet, COMPRESSION zstd)`);
  await fsp.rename(cStaged, path.join(cRoot, cName));
  await engine.exec(`DROP TABLE __sample_customers`);
  log(`sample lake ready at ${engine.lakePath}`);
}
