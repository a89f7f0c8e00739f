// Lake queries for the GraphQL API: list, keyset pages, aggregates, relation look-ups and dataset info.
// Reads a fresh file snapshot per query; only the selected columns are read; event-time filters prune partitions.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Catalog, Dataset, FieldDef } from '../config';
import { isComparable, isNumeric, partitionColumns } from '../config';
import { GatewayError, badInput } from '../errors';
import { encodeEventCursor, encodePageCursor, decodePageCursor } from './cursor';
import type { LakeEngine, Row } from './engine';
import { type DataFile, datasetRoot, listDataFiles } from './layout';
import { Params, duckFieldType, duckType, ident } from './sql';
import { type WhereInput, type WhereNode, normalizeWhere } from './where';
import { partitionPruningSql, toParamText, whereToSql } from './where-to-sql';

export const SORT_ORDERS = ['ASC', 'DESC', 'ASC_NULLS_FIRST', 'DESC_NULLS_LAST'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];
export const TIME_UNITS = ['SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

export type OrderByInput = ReadonlyArray<Record<string, SortOrder | undefined>>;

/** Kafka provenance columns every lake row stores. */
export const META_COLUMNS = [
  ['_topic', 'VARCHAR'],
  ['_partition', 'INTEGER'],
  ['_offset', 'BIGINT'],
  ['_timestamp', 'TIMESTAMPTZ'],
  ['_key', 'VARCHAR'],
] as const;

export interface Selection {
  /** Catalog fields to return. */
  fields: readonly string[];
  /** Whether `_meta` is wanted. */
  meta: boolean;
}

export interface EventMeta {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  cursor: string;
}

export type Record_ = Record<string, unknown> & { _meta?: EventMeta };

export interface ListArgs extends Selection {
  where?: WhereInput | null;
  orderBy?: OrderByInput | null;
  limit?: number | null;
  offset?: number | null;
}

export interface PageArgs extends Selection {
  where?: WhereInput | null;
  orderBy?: OrderByInput | null;
  first?: number | null;
  after?: string | null;
}

export interface Page {
  edges: Array<{ node: Record_; cursor: string }>;
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface AggregateArgs {
  where?: WhereInput | null;
  groupBy?: readonly string[] | null;
  timeBucket?: { unit: TimeUnit; size?: number | null } | null;
  limit?: number | null;
  /** Which aggregates were selected; only those are computed. */
  count: boolean;
  sum: readonly string[];
  avg: readonly string[];
  min: readonly string[];
  max: readonly string[];
}

export interface AggregateRow {
  group: Record<string, unknown>;
  count?: string;
  sum?: Record<string, number | null>;
  avg?: Record<string, number | null>;
  min?: Record<string, unknown>;
  max?: Record<string, unknown>;
}

export interface DatasetInfo {
  name: string;
  topic: string;
  typeName: string;
  files: number;
  bytes: string;
  rows: string;
  lastEventTime: string | null;
  lagMessages: string | null;
  deadLettered: string | null;
}

export interface LakeReader {
  list(ds: Dataset, args: ListArgs): Promise<Record_[]>;
  page(ds: Dataset, args: PageArgs): Promise<Page>;
  aggregate(ds: Dataset, args: AggregateArgs): Promise<AggregateRow[]>;
  /** Latest record per key of `target` for the given key tuples (many-to-one relations). */
  lookup(target: Dataset, keyFields: readonly string[], keys: ReadonlyArray<readonly unknown[]>, sel: Selection): Promise<Record_[]>;
  info(ds: Dataset): Promise<DatasetInfo>;
  /** The SQL a list query would run (for EXPLAIN in tests and `lakegate check`). */
  explainList(ds: Dataset, args: ListArgs): Promise<string>;
  /**
   * Replay: every matching row of a snapshot of the lake, oldest first and in offset order within each Kafka
   * partition, handed over in chunks (the next chunk is read once onRows resolves). Returns where the snapshot ends
   * in the dataset's live topic: partition → last offset + 1.
   */
  history(ds: Dataset, args: HistoryArgs, onRows: (rows: Record_[]) => Promise<void>): Promise<Map<number, bigint>>;
}

export interface HistoryArgs {
  where: WhereNode;
  /**
   * Resume points: rows of these (topic, partition) from `offset` on. With `from`, rows of other partitions of the
   * live topic are all read and rows of other topics (sample history) are not; without it, everything is read.
   */
  from?: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>;
  /** Only rows whose Kafka timestamp is at or after this instant (epoch ms). */
  sinceMs?: number;
}

/** Records an in-process ingester holds that no data file has yet: one table per future file. */
export interface LiveSegmentView {
  readonly topic: string;
  readonly partition: number;
  /** Partition directory relative to the dataset root ('' when not partitioned). */
  readonly dir: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly rows: number;
  readonly table: string;
}

export interface LakeReaderOptions {
  /** Segments not yet in files (from an in-process ingester); queries merge them with the files. */
  liveSegments?: (ds: Dataset) => readonly LiveSegmentView[];
  /** Kafka watermarks of a topic, for lag and dead-letter counts in `datasets` (null when Kafka is not reachable). */
  topicOffsets?: (topic: string) => Promise<Array<{ partition: number; low: bigint; high: bigint }> | null>;
}

export function createLakeReader(catalog: Catalog, engine: LakeEngine, readerOpts: LakeReaderOptions = {}): LakeReader {
  const limits = catalog.server.limits;
  const schemaCache = new Map<string, Map<string, string>>();
  const infoCache = new Map<string, { sig: string; rows: string; last: string | null }>();
  const statsCache = new Map<string, FileStats>();

  /** Per-file min/max of string and numeric columns from the Parquet footers, cached by path, size and mtime. */
  async function statsOf(files: DataFile[]): Promise<FileStats[]> {
    const key = (f: DataFile) => `${f.path}\u0000${f.bytes}\u0000${f.mtimeMs}`;
    const missing = files.filter((f) => !statsCache.has(key(f)));
    if (missing.length > 0) {
      const p = new Params();
      const res = await engine.query(
        `SELECT file_name AS f, path_in_schema AS c, type AS t, bool_and(stats_min IS NOT NULL AND stats_max IS NOT NULL) AS complete,
           min(stats_min) AS smin, max(stats_max) AS smax,
           min(TRY_CAST(stats_min AS DOUBLE)) AS nmin, max(TRY_CAST(stats_max AS DOUBLE)) AS nmax
         FROM parquet_metadata(${p.rawList(missing.map((f) => f.path))}) GROUP BY ALL`,
        p.values,
      );
      const byFile = new Map<string, FileStats>(missing.map((f) => [f.path, new Map()]));
      for (const r of res.rows) {
        if (!r.complete) continue;
        const numeric = /INT|DOUBLE|FLOAT/.test(String(r.t));
        byFile.get(String(r.f))?.set(String(r.c), numeric ? { kind: 'number', min: Number(r.nmin), max: Number(r.nmax) } : { kind: 'string', min: String(r.smin), max: String(r.smax) });
      }
      if (statsCache.size > 100_000) statsCache.clear();
      for (const f of missing) statsCache.set(key(f), byFile.get(f.path)!);
    }
    return files.map((f) => statsCache.get(key(f))!);
  }

  /** Lag (messages in Kafka past the lake's end) and dead letters (messages in the DLQ topic), from Kafka's watermarks. */
  async function kafkaCounts(ds: Dataset, files: DataFile[], segments: readonly LiveSegmentView[]): Promise<{ lagMessages: string | null; deadLettered: string | null }> {
    if (!readerOpts.topicOffsets) return { lagMessages: null, deadLettered: null };
    const [offs, dlq] = await Promise.all([readerOpts.topicOffsets(ds.topic), readerOpts.topicOffsets(ds.dlqTopic)]);
    let lag: bigint | null = null;
    if (offs) {
      const ends = new Map<number, bigint>();
      for (const f of files) if (f.topic === ds.topic && f.endOffset > (ends.get(f.partition) ?? -1n)) ends.set(f.partition, f.endOffset);
      for (const s of segments) if (s.topic === ds.topic && s.end > (ends.get(s.partition) ?? -1n)) ends.set(s.partition, s.end);
      lag = 0n;
      for (const o of offs) {
        const next = (ends.get(o.partition) ?? o.low - 1n) + 1n;
        if (o.high > next) lag += o.high - next;
      }
    }
    const dead = dlq ? dlq.reduce((a, o) => a + (o.high - o.low), 0n) : null;
    return { lagMessages: lag === null ? null : String(lag), deadLettered: dead === null ? null : String(dead) };
  }

  const run = (sql: string, p: Params) => engine.query(sql, p.values, { timeoutMs: limits.queryTimeoutMs });

  /** Column names and types present in a file set (cached by the set). */
  async function fileSchema(files: DataFile[], hive: boolean): Promise<Map<string, string>> {
    const key = files.map((f) => f.path).join('\n');
    const hit = schemaCache.get(key);
    if (hit) return hit;
    const p = new Params();
    const res = await engine.query(`DESCRIBE SELECT * FROM read_parquet(${p.rawList(files.map((f) => f.path))}, hive_partitioning = ${hive}, union_by_name = true)`, p.values);
    const m = new Map<string, string>(res.rows.map((r) => [String(r.column_name), String(r.column_type)]));
    if (schemaCache.size > 256) schemaCache.clear();
    schemaCache.set(key, m);
    return m;
  }

  /**
   * A relation with exactly the catalog's columns (plus meta and partition columns), whatever the files hold:
   * columns that older files lack read as NULL, and an empty dataset is an empty relation of the right types.
   */
  async function source(ds: Dataset, p: Params, where?: WhereNode): Promise<{ sql: string; files: DataFile[]; all: DataFile[]; segments: readonly LiveSegmentView[] }> {
    // A missing dataset folder is an empty dataset; a missing lake is an outage, not an empty answer.
    try {
      await fsp.access(engine.lakePath);
    } catch (cause) {
      throw new GatewayError('LAKE_UNAVAILABLE', 'the lake cannot be read', { cause });
    }
    // Snapshot the unflushed segments before listing: a segment committed after this instant is either in the
    // listing (then skipped below as covered) or still in the snapshot, never neither and never both.
    const segments = readerOpts.liveSegments?.(ds) ?? [];
    let files = await listDataFiles(engine.lakePath, ds);
    const listed = { all: files, segments };
    const root = datasetRoot(engine.lakePath, ds);
    const pending = segments.filter((seg) => {
      const dir = path.join(root, seg.dir);
      return !files.some((f) => f.topic === seg.topic && f.partition === seg.partition && f.startOffset <= seg.start && f.endOffset >= seg.start && path.dirname(f.path) === dir);
    });
    if (where && files.length > 1) {
      // Data skipping: drop files whose footer min/max rule out a top-level condition (as Iceberg manifests do).
      const checks = skippingChecks(where);
      if (checks.length > 0) {
        const stats = await statsOf(files);
        files = files.filter((_, i) => checks.every((c) => c(stats[i]!)));
      }
    }
    const wanted: Array<[string, string]> = [
      ...ds.fields.map((f) => [f.name, duckFieldType(f)] as [string, string]),
      ...META_COLUMNS.map(([n, t]) => [n, t] as [string, string]),
      ...partitionColumns(ds).map((c) => [c, c === 'date' ? 'DATE' : 'BIGINT'] as [string, string]),
    ];
    const segmentSql = pending.map((seg) => {
      const parts = partitionValues(seg.dir);
      const cols = wanted.map(([n, t]) => {
        if (n === 'date' || n === 'hour') return `${parts[n] === undefined ? `CAST(NULL AS ${t})` : p.scalar(parts[n], t)} AS ${ident(n)}`;
        return t === 'JSON' || t === 'JSON[]' ? `CAST(${ident(n)} AS ${t}) AS ${ident(n)}` : ident(n);
      });
      return `SELECT ${cols.join(', ')} FROM ${ident(seg.table)}`;
    });
    if (files.length === 0) {
      if (segmentSql.length > 0) return { sql: `(${segmentSql.join(' UNION ALL ')}) AS src`, files, ...listed };
      const cols = wanted.map(([n, t]) => `CAST(NULL AS ${t}) AS ${ident(n)}`).join(', ');
      return { sql: `(SELECT ${cols} WHERE FALSE) AS src`, files, ...listed };
    }
    const hive = ds.partitionBy !== 'none';
    const have = await fileSchema(files, hive);
    const sameType = (got: string, want: string) => got === want.replace(/^TIMESTAMPTZ/, 'TIMESTAMP WITH TIME ZONE') || (want === 'JSON' && got === 'VARCHAR');
    const scan = `read_parquet(${p.rawList(files.map((f) => f.path))}, hive_partitioning = ${hive}, union_by_name = true)`;
    // The usual case: the files hold every catalog column with its type. Scan them directly: a wrapping projection
    // would keep DuckDB's late materialization from pushing filters into both sides of its top-N plan (~5x slower).
    if (segmentSql.length === 0 && wanted.every(([n, t]) => have.has(n) && sameType(have.get(n)!, t))) return { sql: `${scan} AS src`, files, ...listed };
    const cols = wanted
      .map(([n, t]) => {
        const got = have.get(n);
        if (got === undefined) return `CAST(NULL AS ${t}) AS ${ident(n)}`;
        if (sameType(got, t)) return ident(n);
        return `CAST(${ident(n)} AS ${t}) AS ${ident(n)}`;
      })
      .join(', ');
    return { sql: `(${[`SELECT ${cols} FROM ${scan}`, ...segmentSql].join(' UNION ALL ')}) AS src`, files, ...listed };
  }

  function checkLimit(n: number | null | undefined, what: string): number {
    if (n === null || n === undefined) return limits.defaultLimit;
    if (!Number.isInteger(n) || n < 0) throw badInput(`${what} must be a non-negative integer`);
    if (n > limits.maxLimit) {
      throw new GatewayError('LIMIT_EXCEEDED', `${what} ${n} is above the maximum of ${limits.maxLimit}`, { details: { max: limits.maxLimit } });
    }
    return n;
  }

  function selectList(ds: Dataset, sel: Selection): string[] {
    const cols = new Set<string>();
    for (const f of sel.fields) {
      if (!ds.fieldMap.has(f)) throw badInput(`unknown field "${f}"`);
      cols.add(ident(f));
    }
    if (sel.meta) for (const [m] of META_COLUMNS) cols.add(ident(m));
    return [...cols];
  }

  function filterSql(ds: Dataset, node: WhereNode, p: Params): string {
    return [whereToSql(node, p), ...partitionPruningSql(ds, node, p)].join(' AND ');
  }

  function listSql(ds: Dataset, args: ListArgs, limit: number, node: WhereNode, p: Params, src: string): string {
    const offset = args.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0) throw badInput('offset must be a non-negative integer');
    const keys = orderKeys(ds, args.orderBy);
    const cols = selectList(ds, args);
    return (
      `SELECT ${cols.length ? cols.join(', ') : '1 AS "__none"'} FROM ${src} WHERE ${filterSql(ds, node, p)} ` +
      `ORDER BY ${[...keys.map((k) => `${ident(k.field.name)} ${k.sql}`), '"_partition" ASC', '"_offset" ASC'].join(', ')} ` +
      `LIMIT ${p.scalar(String(scanLimit(limit, node)), 'BIGINT')} OFFSET ${p.scalar(String(offset), 'BIGINT')}`
    );
  }

  const reader: LakeReader = {
    async list(ds, args) {
      const p = new Params();
      const node = normalizeWhere(ds, args.where);
      const { sql: src } = await source(ds, p, node);
      const limit = checkLimit(args.limit, 'limit');
      const res = await run(listSql(ds, args, limit, node, p, src), p);
      return res.rows.slice(0, limit).map((r) => toRecord(ds, r, args));
    },

    async explainList(ds, args) {
      const p = new Params();
      const node = normalizeWhere(ds, args.where);
      const { sql: src } = await source(ds, p, node);
      const res = await engine.query(`EXPLAIN ${listSql(ds, args, checkLimit(args.limit, 'limit'), node, p, src)}`, p.values);
      return res.rows.map((r) => String(r.explain_value ?? Object.values(r)[1])).join('\n');
    },

    async history(ds, args, onRows) {
      const p = new Params();
      const { sql: src, all, segments } = await source(ds, p, args.where);
      // Where the snapshot ends in the live topic: segments and files listed now; rows appended later are cut off.
      const ends = new Map<number, bigint>();
      for (const f of all) if (f.topic === ds.topic && f.endOffset + 1n > (ends.get(f.partition) ?? 0n)) ends.set(f.partition, f.endOffset + 1n);
      for (const seg of segments) if (seg.topic === ds.topic && seg.end + 1n > (ends.get(seg.partition) ?? 0n)) ends.set(seg.partition, seg.end + 1n);
      const conds = [filterSql(ds, args.where, p)];
      const topic = () => p.scalar(ds.topic, 'VARCHAR');
      if (ends.size > 0) {
        conds.push(`NOT ("_topic" = ${topic()} AND (${[...ends].map(([part, end]) => `("_partition" = ${p.scalar(String(part), 'INTEGER')} AND "_offset" >= ${p.scalar(String(end), 'BIGINT')})`).join(' OR ')}))`);
      } else {
        conds.push(`"_topic" <> ${topic()}`);
      }
      if (args.from) {
        const alts = args.from.map((f) => `("_topic" = ${p.scalar(f.topic, 'VARCHAR')} AND "_partition" = ${p.scalar(String(f.partition), 'INTEGER')} AND "_offset" >= ${p.scalar(String(f.offset), 'BIGINT')})`);
        const named = args.from.filter((f) => f.topic === ds.topic).map((f) => String(f.partition));
        alts.push(`("_topic" = ${topic()}${named.length ? ` AND "_partition" NOT IN (${named.map((n) => p.scalar(n, 'INTEGER')).join(', ')})` : ''})`);
        conds.push(`(${alts.join(' OR ')})`);
      }
      if (args.sinceMs !== undefined) conds.push(`"_timestamp" >= make_timestamptz(${p.scalar(String(Math.floor(args.sinceMs * 1000)), 'BIGINT')})`);
      const cols = [...ds.fields.map((f) => ident(f.name)), ...META_COLUMNS.map(([m]) => ident(m))];
      // Oldest first, yet in offset order within each partition even when producers set out-of-order timestamps:
      // order by the running maximum timestamp of the partition, which never decreases along its offsets.
      const sql =
        `SELECT ${cols.join(', ')} FROM (SELECT ${cols.join(', ')}, max("_timestamp") OVER (PARTITION BY "_topic", "_partition" ORDER BY "_offset" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS "__wm" ` +
        `FROM ${src} WHERE ${conds.join(' AND ')}) ORDER BY "__wm", "_topic", "_partition", "_offset"`;
      const sel: Selection = { fields: ds.fields.map((f) => f.name), meta: true };
      // The ORDER BY reads every file before the first row comes out, so a file removed by compaction fails the
      // query before anything was handed over, and the retry wrapper below runs it again on a fresh listing.
      await engine.stream(sql, p.values, (rows) => onRows(rows.map((r) => toRecord(ds, r, sel))));
      return ends;
    },

    async page(ds, args) {
      const first = checkLimit(args.first, 'first');
      const keys = orderKeys(ds, args.orderBy);
      const signature = keys.map((k) => `${k.field.name}:${k.order}`).join(',');
      const p = new Params();
      const node = normalizeWhere(ds, args.where);
      const { sql: src } = await source(ds, p, node);
      const conds = [filterSql(ds, node, p)];
      if (args.after !== undefined && args.after !== null) {
        const c = decodePageCursor(args.after, signature, keys.length);
        conds.push(afterPredicate(keys, c.k, c.p, c.o, p));
      }
      const cols = selectList(ds, args);
      const keyCols = keys.map((k, i) => `${ident(k.field.name)} AS "__k${i}"`);
      const sql =
        `SELECT ${[...cols, ...keyCols, '"_partition" AS "__p"', '"_offset" AS "__o"'].join(', ')} FROM ${src} WHERE ${conds.join(' AND ')} ` +
        `ORDER BY ${[...keys.map((k) => `${ident(k.field.name)} ${k.sql}`), '"_partition" ASC', '"_offset" ASC'].join(', ')} ` +
        `LIMIT ${p.scalar(String(scanLimit(first + 1, node)), 'BIGINT')}`;
      const res = await run(sql, p);
      const rows = res.rows.slice(0, first);
      const edges = rows.map((r) => {
        const cursor = encodePageCursor({
          s: signature,
          k: keys.map((k, i) => keyText(k.field, r[`__k${i}`])),
          p: Number(r.__p),
          o: String(r.__o),
        });
        return { node: toRecord(ds, r, args), cursor };
      });
      return { edges, hasNextPage: res.rows.length > first, endCursor: edges.length ? edges[edges.length - 1]!.cursor : null };
    },

    async aggregate(ds, args) {
      const limit = checkLimit(args.limit, 'limit');
      const p = new Params();
      const node = normalizeWhere(ds, args.where);
      const { sql: src } = await source(ds, p, node);
      const select: string[] = [];
      const groupAliases: string[] = [];
      if (args.timeBucket) {
        if (!ds.eventTime) throw badInput(`dataset "${ds.name}" has no eventTime to bucket by`);
        const size = args.timeBucket.size ?? 1;
        if (!Number.isInteger(size) || size < 1 || size > 1_000_000) throw badInput('timeBucket.size must be an integer from 1 to 1000000');
        select.push(`${bucketSql(args.timeBucket.unit, size, ident(ds.eventTime), p)} AS "__b"`);
        groupAliases.push('"__b"');
      }
      const groupBy = args.groupBy ?? [];
      groupBy.forEach((g, i) => {
        const f = ds.fieldMap.get(g);
        if (!f || !isComparable(f)) throw badInput(`cannot group by "${g}"`);
        select.push(`${ident(g)} AS "__g${i}"`);
        groupAliases.push(`"__g${i}"`);
      });
      if (args.count) select.push('count(*) AS "__count"');
      const measure = (kind: 'sum' | 'avg' | 'min' | 'max', names: readonly string[]) =>
        names.forEach((n, i) => {
          const f = ds.fieldMap.get(n);
          const ok = f && (kind === 'sum' || kind === 'avg' ? isNumeric(f) : isComparable(f) && f.type !== 'boolean');
          if (!ok) throw badInput(`cannot compute ${kind} of "${n}"`);
          const expr = kind === 'sum' || kind === 'avg' ? `CAST(${kind}(${ident(n)}) AS DOUBLE)` : `${kind}(${ident(n)})`;
          select.push(`${expr} AS "__${kind}${i}"`);
        });
      measure('sum', args.sum);
      measure('avg', args.avg);
      measure('min', args.min);
      measure('max', args.max);
      if (select.length === 0) select.push('count(*) AS "__count"');
      const sql =
        `SELECT ${select.join(', ')} FROM ${src} WHERE ${filterSql(ds, node, p)}` +
        (groupAliases.length ? ` GROUP BY ${groupAliases.join(', ')} ORDER BY ${groupAliases.map((a) => `${a} ASC NULLS LAST`).join(', ')}` : '') +
        ` LIMIT ${p.scalar(String(limit), 'BIGINT')}`;
      const res = await run(sql, p);
      return res.rows.map((r) => {
        const group: Record<string, unknown> = {};
        if (args.timeBucket) group.bucket = microsToIso(r.__b);
        groupBy.forEach((g, i) => (group[g] = convertField(ds.fieldMap.get(g)!, r[`__g${i}`])));
        const out: AggregateRow = { group };
        if (args.count) out.count = String(r.__count);
        const fill = (kind: 'sum' | 'avg' | 'min' | 'max', names: readonly string[]) => {
          if (!names.length) return;
          const o: Record<string, unknown> = {};
          names.forEach((n, i) => {
            const v = r[`__${kind}${i}`];
            o[n] = kind === 'sum' || kind === 'avg' ? (v === null ? null : Number(v)) : convertField(ds.fieldMap.get(n)!, v);
          });
          (out as unknown as Record<string, unknown>)[kind] = o;
        };
        fill('sum', args.sum);
        fill('avg', args.avg);
        fill('min', args.min);
        fill('max', args.max);
        return out;
      });
    },

    async lookup(target, keyFields, keys, sel) {
      if (keys.length === 0) return [];
      const fields = keyFields.map((k) => {
        const f = target.fieldMap.get(k);
        if (!f) throw new Error(`unknown key field ${k}`);
        return f;
      });
      const p = new Params();
      const { sql: src } = await source(target, p);
      let cond: string;
      if (fields.length === 1) {
        const f = fields[0]!;
        cond = `list_contains(${p.list(keys.map((k) => toParamText(f, k[0])), duckType(f.type))}, ${ident(f.name)})`;
      } else {
        cond = keys
          .map((k) => `(${fields.map((f, i) => `${ident(f.name)} = ${p.scalar(toParamText(f, k[i]), duckType(f.type))}`).join(' AND ')})`)
          .join(' OR ');
      }
      const cols = new Set([...selectList(target, sel), ...fields.map((f) => ident(f.name))]);
      const part = fields.map((f) => ident(f.name)).join(', ');
      const sql =
        `SELECT ${[...cols].join(', ')} FROM ${src} WHERE ${cond} ` +
        `QUALIFY row_number() OVER (PARTITION BY ${part} ORDER BY "_timestamp" DESC NULLS LAST, "_offset" DESC) = 1`;
      const res = await run(sql, p);
      return res.rows.map((r) => toRecord(target, r, { fields: [...new Set([...sel.fields, ...keyFields])], meta: sel.meta }));
    },

    async info(ds) {
      const p = new Params();
      const { sql: src, files, all, segments } = await source(ds, p);
      const sig = files.map((f) => `${f.path}:${f.bytes}:${f.mtimeMs}`).join('\n') + segments.map((s) => `\n${s.table}:${s.rows}`).join('');
      let cached = infoCache.get(ds.name);
      if (!cached || cached.sig !== sig) {
        const last = ds.eventTime ? `max(${ident(ds.eventTime)})` : 'max("_timestamp")';
        const res = await run(`SELECT count(*) AS n, ${last} AS t FROM ${src}`, p);
        cached = { sig, rows: String(res.rows[0]?.n ?? '0'), last: convert('timestamp', res.rows[0]?.t) as string | null };
        infoCache.set(ds.name, cached);
      }
      return {
        name: ds.name,
        topic: ds.topic,
        typeName: ds.typeName,
        files: files.length,
        bytes: String(files.reduce((a, f) => a + f.bytes, 0)),
        rows: cached.rows,
        lastEventTime: cached.last,
        ...(await kafkaCounts(ds, all, segments)),
      };
    },
  };
  return retryOnVanishedFiles(reader);
}

/**
 * Compaction removes small files right after the merged one is in place; a query that listed the directory just
 * before may find a file gone. Such a query is run again on a fresh listing (a few times, with a short pause).
 */
function retryOnVanishedFiles(r: LakeReader): LakeReader {
  const vanished = (e: unknown) =>
    e instanceof GatewayError && e.code === 'LAKE_UNAVAILABLE' && /No such file|No files found|Cannot open file|does not exist/i.test(String((e.cause as Error | undefined)?.message ?? ''));
  // Each retry lists afresh; several merges can land within one query's life, so allow a few rounds.
  const wrap = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(...a);
      } catch (e) {
        if (!vanished(e) || attempt >= 8) throw e;
        await new Promise((r) => setTimeout(r, attempt * 5));
      }
    }
  };
  return {
    list: wrap(r.list),
    page: wrap(r.page),
    aggregate: wrap(r.aggregate),
    lookup: wrap(r.lookup),
    info: wrap(r.info),
    explainList: wrap(r.explainList),
    history: wrap(r.history),
  };
}

interface OrderKey {
  field: FieldDef;
  order: SortOrder;
  sql: string;
  desc: boolean;
  nullsFirst: boolean;
}

function orderKeys(ds: Dataset, orderBy: OrderByInput | null | undefined): OrderKey[] {
  const keys: OrderKey[] = [];
  (orderBy ?? []).forEach((item, i) => {
    const set = Object.entries(item).filter(([, v]) => v !== undefined && v !== null);
    if (set.length !== 1) throw badInput(`orderBy[${i}] must set exactly one field (it sets ${set.length})`);
    const [name, order] = set[0]! as [string, SortOrder];
    const field = ds.fieldMap.get(name);
    if (!field || !isComparable(field)) throw badInput(`orderBy[${i}]: cannot sort by "${name}"`);
    if (!SORT_ORDERS.includes(order)) throw badInput(`orderBy[${i}]: unknown sort order`);
    // Postgres/Hasura defaults: ASC puts nulls last, DESC puts them first.
    const desc = order === 'DESC' || order === 'DESC_NULLS_LAST';
    const nullsFirst = order === 'DESC' || order === 'ASC_NULLS_FIRST';
    keys.push({ field, order, desc, nullsFirst, sql: `${desc ? 'DESC' : 'ASC'} NULLS ${nullsFirst ? 'FIRST' : 'LAST'}` });
  });
  return keys;
}

/** Rows strictly after (values…, partition, offset) in the given ordering, null placement included. */
function afterPredicate(keys: OrderKey[], values: Array<string | null>, partition: number, offset: string, p: Params): string {
  const terms: string[] = [];
  const equals: string[] = [];
  keys.forEach((k, i) => {
    const col = ident(k.field.name);
    const v = values[i]!;
    const t = duckType(k.field.type);
    let after: string;
    if (v === null) after = k.nullsFirst ? `${col} IS NOT NULL` : 'FALSE';
    else {
      const cmp = `${col} ${k.desc ? '<' : '>'} ${p.scalar(v, t)}`;
      after = k.nullsFirst ? `(${col} IS NOT NULL AND ${cmp})` : `(${col} IS NULL OR ${cmp})`;
    }
    terms.push([...equals, after].join(' AND '));
    equals.push(v === null ? `${col} IS NULL` : `${col} = ${p.scalar(v, t)}`);
  });
  const pp = p.scalar(String(partition), 'INTEGER');
  terms.push([...equals, `("_partition" > ${pp} OR ("_partition" = ${p.scalar(String(partition), 'INTEGER')} AND "_offset" > ${p.scalar(offset, 'BIGINT')}))`].join(' AND '));
  return `(${terms.map((t) => `(${t})`).join(' OR ')})`;
}

const UNIT_MICROS: Record<Exclude<TimeUnit, 'MONTH'>, bigint> = {
  SECOND: 1_000_000n,
  MINUTE: 60_000_000n,
  HOUR: 3_600_000_000n,
  DAY: 86_400_000_000n,
  WEEK: 604_800_000_000n,
};
/** DuckDB's time_bucket origin for sub-month buckets: Monday 2000-01-03 UTC, so weeks start on Mondays. */
const BUCKET_ORIGIN_MICROS = 946_857_600_000_000n;

/**
 * Bucket start as epoch microseconds. Integer arithmetic instead of time_bucket(TIMESTAMPTZ): same buckets as
 * DuckDB's time_bucket in UTC, but ~50x faster because it never goes through ICU time zone conversion.
 */
function bucketSql(unit: TimeUnit, size: number, col: string, p: Params): string {
  if (unit === 'MONTH') {
    return `epoch_us(time_bucket(to_months(${p.scalar(String(size), 'INTEGER')}), make_timestamp(epoch_us(${col}))))`;
  }
  const step = p.scalar(String(UNIT_MICROS[unit] * BigInt(size)), 'BIGINT');
  const x = `(epoch_us(${col}) - ${p.scalar(String(BUCKET_ORIGIN_MICROS), 'BIGINT')})`;
  return `(epoch_us(${col}) - ((${x} % ${step}) + ${step}) % ${step})`;
}

function microsToIso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const us = BigInt(String(v));
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
  return new Date(Number(ms)).toISOString();
}

/** DuckDB JSON rendering → GraphQL-ready values. */
function convert(type: FieldDef['type'], v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'timestamp':
      return isoTimestamp(String(v));
    case 'json':
      return typeof v === 'string' ? JSON.parse(v) : v;
    case 'long':
      return String(v);
    default:
      return v;
  }
}

export function convertField(f: FieldDef, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (f.list) return (v as unknown[]).map((x) => convert(f.type, x));
  return convert(f.type, v);
}

/** "2026-11-21 10:00:00.5+00" (DuckDB, UTC session) → "2026-11-21T10:00:00.500Z". */
/** Hive partition values of a relative partition directory ('date=2026-11-21/hour=13'). */
function partitionValues(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of dir.split('/')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export function isoTimestamp(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:\+00(?::?00)?|Z)?$/.exec(s);
  if (!m) return s;
  const frac = (m[3] ?? '').padEnd(3, '0');
  return `${m[1]}T${m[2]}.${frac}Z`;
}

function keyText(f: FieldDef, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (f.type === 'timestamp') return isoTimestamp(String(v));
  return String(v);
}

function toRecord(ds: Dataset, r: Row, sel: Selection): Record_ {
  const out: Record_ = {};
  for (const name of sel.fields) out[name] = convertField(ds.fieldMap.get(name)!, r[name]);
  if (sel.meta) {
    const topic = String(r._topic ?? ds.topic);
    const partition = Number(r._partition ?? 0);
    const offset = String(r._offset ?? '0');
    out._meta = {
      topic,
      partition,
      offset,
      timestamp: r._timestamp === null || r._timestamp === undefined ? new Date(0).toISOString() : isoTimestamp(String(r._timestamp)),
      key: r._key === null || r._key === undefined ? null : String(r._key),
      cursor: encodeEventCursor({ topic, partition, offset }),
    };
  }
  return out;
}

type ColumnStats = { kind: 'string'; min: string; max: string } | { kind: 'number'; min: number; max: number };
type FileStats = Map<string, ColumnStats>;

/**
 * File-skipping checks implied by the top-level AND conditions of a where tree. A check returns false only when the
 * file's min/max prove no row can match; a file without stats for the column is always kept.
 */
function skippingChecks(node: WhereNode): Array<(s: FileStats) => boolean> {
  const checks: Array<(s: FileStats) => boolean> = [];
  const visit = (n: WhereNode): void => {
    if (n.kind === 'and') return n.items.forEach(visit);
    if (n.kind !== 'leaf' || n.field.list) return;
    const f = n.field;
    const kind = f.type === 'string' ? 'string' : f.type === 'int' || f.type === 'float' ? 'number' : null;
    if (!kind) return;
    // Strings compare as UTF-8 bytes, as DuckDB and Parquet statistics do (JS `<` compares UTF-16 units).
    const cmp = (a: string | number, b: string | number): number =>
      typeof a === 'number' ? (a < (b as number) ? -1 : a > (b as number) ? 1 : 0) : Buffer.compare(Buffer.from(a), Buffer.from(b as string));
    const val = (v: unknown): string | number => (kind === 'number' ? Number(v) : String(v));
    const keep = (s: FileStats, pred: (min: string | number, max: string | number) => boolean) => {
      const st = s.get(f.name);
      return !st || st.kind !== kind || Number.isNaN(st.min) || Number.isNaN(st.max) || pred(st.min, st.max);
    };
    const inRange = (v: string | number, min: string | number, max: string | number) => cmp(min, v) <= 0 && cmp(v, max) <= 0;
    switch (n.op) {
      case 'eq': {
        const v = val(n.value);
        checks.push((s) => keep(s, (min, max) => inRange(v, min, max)));
        break;
      }
      case 'in': {
        const vs = (n.value as unknown[]).map(val);
        checks.push((s) => keep(s, (min, max) => vs.some((v) => inRange(v, min, max))));
        break;
      }
      case 'gt':
      case 'gte': {
        const v = val(n.value);
        checks.push((s) => keep(s, (_min, max) => (n.op === 'gt' ? cmp(max, v) > 0 : cmp(max, v) >= 0)));
        break;
      }
      case 'lt':
      case 'lte': {
        const v = val(n.value);
        checks.push((s) => keep(s, (min) => (n.op === 'lt' ? cmp(min, v) < 0 : cmp(min, v) <= 0)));
        break;
      }
    }
  };
  visit(node);
  return checks;
}

/** DuckDB's late_materialization_max_rows default: top-N plans at or below it use late materialization. */
const LATE_MATERIALIZATION_MAX_ROWS = 50;

/**
 * The LIMIT to put in SQL. Late materialization makes small top-N scans cheaper when most rows match, but ~5x slower
 * for point look-ups (its first pass cannot use the filter). With an equality filter the answer is small anyway, so
 * ask for just above the threshold and cut the extra rows in JS. Results are identical either way.
 */
function scanLimit(limit: number, node: WhereNode): number {
  const point = (n: WhereNode): boolean => (n.kind === 'and' ? n.items.some(point) : n.kind === 'leaf' && (n.op === 'eq' || n.op === 'in'));
  return point(node) && limit <= LATE_MATERIALIZATION_MAX_ROWS ? LATE_MATERIALIZATION_MAX_ROWS + 1 : limit;
}
