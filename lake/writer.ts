// Ingestion's side of the lake: staging tables for records not yet in a file, and the file commit protocol.
// Invariants: a data file appears only whole (written aside, fsynced, renamed in); per topic-partition, committed offset
// ranges never overlap, because every commit first claims its start offset with O_EXCL (a fence against stale writers).

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  BIGINT, BOOLEAN, DATE, DOUBLE, DuckDBDataChunk, DuckDBDateValue, DuckDBTimestampTZValue, INTEGER, LIST, TIMESTAMPTZ, VARCHAR,
  listValue, type DuckDBConnection, type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';
import type { Dataset, FieldDef, ScalarType } from '../config';
import { GatewayError, assertNever } from '../errors';
import type { LakeEngine } from './engine';
import { dataFileName, datasetRoot, listDataFiles, parseDataFileName } from './layout';
import { duckFieldType, ident, literal } from './sql';

/** One decoded record, ready for the lake. Values follow the catalog's field order. */
export interface StagedRow {
  /**
   * string → string, int/float → number, long → bigint, boolean → boolean, timestamp → epoch microseconds (number),
   * date → days since the epoch (number), json → JSON text, lists → arrays of those; null when absent.
   */
  readonly values: readonly unknown[];
  readonly offset: bigint;
  readonly timestampMs: number;
  readonly key: string | null;
  /** Bytes of the Kafka record (key + value): drives byte-based rotation deterministically. */
  readonly bytes: number;
}

export type SegmentState = 'open' | 'committing' | 'committed' | 'abandoned';

/** The records of one future data file: one topic-partition, one partition directory, contiguous offsets. */
export interface Segment {
  readonly id: number;
  readonly ds: Dataset;
  readonly topic: string;
  readonly partition: number;
  /** Partition directory relative to the dataset root ('' when the dataset is not partitioned). */
  readonly dir: string;
  readonly start: bigint;
  /** Last offset consumed into this segment (a record or a dead-lettered message). */
  end: bigint;
  rows: number;
  bytes: number;
  /** Kafka timestamp of the first record: rotation by record time. */
  firstTimestampMs: number;
  state: SegmentState;
  readonly table: string;
}

export interface CommitResult {
  /** Path of the data file, or null when the segment held no record (only dead-lettered offsets). */
  readonly file: string | null;
  readonly rows: number;
}

/** Raised when another writer already committed this range: the caller must re-read where the lake ends. */
export class FencedError extends Error {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly start: bigint,
  ) {
    super(`offsets of ${topic}[${partition}] from ${start} were committed by another writer`);
    this.name = 'FencedError';
  }
}

export interface LakeWriterOptions {
  rowGroupSize?: number;
  /** How long a committed segment's table stays queryable (queries that listed files before the rename). */
  retireAfterMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

export interface LakeWriter {
  open(ds: Dataset, topic: string, partition: number, dir: string, start: bigint, firstTimestampMs: number): Promise<Segment>;
  append(seg: Segment, rows: readonly StagedRow[]): Promise<void>;
  /** Record that offsets up to `offset` were consumed without a row (dead-lettered). */
  skip(seg: Segment, offset: bigint): void;
  commit(seg: Segment): Promise<CommitResult>;
  abandon(seg: Segment): void;
  /** Roll forward interrupted commits of a topic-partition, then return the next offset to read (null: none in the lake). */
  recover(ds: Dataset, topic: string, partition: number): Promise<bigint | null>;
  /** Segments whose rows no data file holds yet, for queries that merge them with the files. */
  liveSegments(ds: Dataset): Segment[];
  close(): Promise<void>;
}

interface Claim {
  start: string;
  end: string;
  dir: string;
  file: string;
  tmp: string;
  rows: number;
}

const OFFSET_PAD = 20;
const pad = (n: bigint) => n.toString().padStart(OFFSET_PAD, '0');

export function claimsDir(lakePath: string, ds: Dataset): string {
  return path.join(datasetRoot(lakePath, ds), '_claims');
}

export function tmpDir(lakePath: string, ds: Dataset): string {
  return path.join(datasetRoot(lakePath, ds), '_tmp');
}

/** fsync a file or a directory: a rename is durable only once its directory is. */
export async function fsyncPath(p: string): Promise<void> {
  const fh = await fsp.open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const exists = (p: string) => fsp.access(p).then(() => true, () => false);

function chunkType(t: ScalarType): DuckDBType {
  switch (t) {
    case 'string':
    case 'json':
      return VARCHAR;
    case 'int':
      return INTEGER;
    case 'long':
      return BIGINT;
    case 'float':
      return DOUBLE;
    case 'boolean':
      return BOOLEAN;
    case 'timestamp':
      return TIMESTAMPTZ;
    case 'date':
      return DATE;
    default:
      return assertNever(t, 'scalar type');
  }
}

function toDuck(t: ScalarType): (v: unknown) => DuckDBValue {
  switch (t) {
    case 'timestamp':
      return (v) => new DuckDBTimestampTZValue(BigInt(Math.round(v as number)));
    case 'date':
      return (v) => new DuckDBDateValue(v as number);
    default:
      return (v) => v as DuckDBValue;
  }
}

/** The staging table column type: JSON is kept as text and cast when the file is written. */
function stageType(f: FieldDef): string {
  if (f.type === 'json') return f.list ? 'VARCHAR[]' : 'VARCHAR';
  return duckFieldType(f);
}

export function createLakeWriter(engine: LakeEngine, opts: LakeWriterOptions = {}): LakeWriter {
  const rowGroupSize = opts.rowGroupSize ?? 16_384;
  const retireAfterMs = opts.retireAfterMs ?? 65_000;
  const log = opts.log ?? (() => {});
  const live = new Map<string, Set<Segment>>();
  const retireTimers = new Set<NodeJS.Timeout>();
  let nextId = 1;
  let closed = false;
  let appendConn: Promise<DuckDBConnection> | null = null;
  let appendHold: (() => void) | null = null;

  /** One connection for all appends, held open for the writer's life. */
  const conn = (): Promise<DuckDBConnection> => {
    if (!appendConn) {
      appendConn = new Promise<DuckDBConnection>((resolve, reject) => {
        engine
          .withConnection((c) => {
            resolve(c);
            return new Promise<void>((done) => (appendHold = done));
          })
          .catch(reject);
      });
    }
    return appendConn;
  };

  /** Chunk column types and value converters of a dataset, made once (append is on the ingestion hot path). */
  const plans = new Map<string, { types: DuckDBType[]; convs: Array<(v: unknown) => DuckDBValue> }>();
  const chunkPlan = (ds: Dataset) => {
    let plan = plans.get(ds.name);
    if (!plan) {
      const types: DuckDBType[] = [...ds.fields.map((f) => (f.list ? LIST(chunkType(f.type)) : chunkType(f.type))), VARCHAR, INTEGER, BIGINT, TIMESTAMPTZ, VARCHAR];
      const convs = ds.fields.map((f): ((v: unknown) => DuckDBValue) => {
        const c = toDuck(f.type);
        const plain = f.type !== 'timestamp' && f.type !== 'date';
        if (f.list) return (v) => (v === null || v === undefined ? null : listValue(plain ? (v as DuckDBValue[]) : (v as unknown[]).map(c)));
        return plain ? (v) => (v === undefined ? null : (v as DuckDBValue)) : (v) => (v === null || v === undefined ? null : c(v));
      });
      plans.set(ds.name, (plan = { types, convs }));
    }
    return plan;
  };

  const liveSet = (ds: Dataset) => {
    let s = live.get(ds.name);
    if (!s) live.set(ds.name, (s = new Set()));
    return s;
  };

  const dropTable = async (seg: Segment) => {
    try {
      await engine.exec(`DROP TABLE IF EXISTS ${ident(seg.table)}`);
    } catch (err) {
      log('warn', 'could not drop a staging table', { table: seg.table, err: String(err) });
    }
  };

  /** Keep a committed segment queryable a while: a query may have listed the files just before its rename. */
  const retire = (seg: Segment) => {
    liveSet(seg.ds).delete(seg);
    if (closed) return;
    const t = setTimeout(() => {
      retireTimers.delete(t);
      void dropTable(seg);
    }, retireAfterMs);
    t.unref();
    retireTimers.add(t);
  };

  const claimName = (topic: string, partition: number, start: bigint) => `${topic}+${partition}+${pad(start)}.json`;

  async function readClaims(ds: Dataset, topic: string, partition: number): Promise<Array<{ name: string; start: bigint; claim: Claim | null }>> {
    const dir = claimsDir(engine.lakePath, ds);
    const prefix = `${topic}+${partition}+`;
    let names: string[];
    try {
      names = (await fsp.readdir(dir)).filter((n) => n.startsWith(prefix) && n.endsWith('.json'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out = await Promise.all(
      names.map(async (name) => {
        const start = BigInt(name.slice(prefix.length, -'.json'.length));
        try {
          return { name, start, claim: JSON.parse(await fsp.readFile(path.join(dir, name), 'utf8')) as Claim };
        } catch {
          // Removed meanwhile, or a claim whose writer died before its content was durable: it names no file.
          return { name, start, claim: null };
        }
      }),
    );
    return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  return {
    async open(ds, topic, partition, dir, start, firstTimestampMs) {
      const id = nextId++;
      const table = `__seg_${process.pid}_${id}`;
      const cols = [
        ...ds.fields.map((f) => `${ident(f.name)} ${stageType(f)}`),
        `"_topic" VARCHAR`, `"_partition" INTEGER`, `"_offset" BIGINT`, `"_timestamp" TIMESTAMPTZ`, `"_key" VARCHAR`,
      ];
      await engine.exec(`CREATE TABLE ${ident(table)} (${cols.join(', ')})`);
      const seg: Segment = { id, ds, topic, partition, dir, start, end: start - 1n, rows: 0, bytes: 0, firstTimestampMs, state: 'open', table };
      liveSet(ds).add(seg);
      return seg;
    },

    async append(seg, rows) {
      if (rows.length === 0) return;
      if (seg.state !== 'open') throw new Error(`append to a ${seg.state} segment`);
      const fields = seg.ds.fields;
      const { types, convs } = chunkPlan(seg.ds);
      const c = await conn();
      const appender = await c.createAppender(seg.table);
      try {
        for (let s = 0; s < rows.length; s += 2048) {
          const part = rows.slice(s, s + 2048);
          const n = part.length;
          const columns: DuckDBValue[][] = [];
          for (let i = 0; i < fields.length; i++) {
            const conv = convs[i]!;
            const col = new Array<DuckDBValue>(n);
            for (let r = 0; r < n; r++) col[r] = conv(part[r]!.values[i]) as DuckDBValue;
            columns.push(col);
          }
          const topicCol = new Array<DuckDBValue>(n).fill(seg.topic);
          const partCol = new Array<DuckDBValue>(n).fill(seg.partition);
          columns.push(
            topicCol,
            partCol,
            part.map((r) => r.offset),
            part.map((r) => new DuckDBTimestampTZValue(BigInt(r.timestampMs) * 1000n)),
            part.map((r) => r.key),
          );
          const chunk = DuckDBDataChunk.create(types, n);
          chunk.setColumns(columns);
          appender.appendDataChunk(chunk);
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      const last = rows[rows.length - 1]!;
      seg.rows += rows.length;
      for (const r of rows) seg.bytes += r.bytes;
      if (last.offset > seg.end) seg.end = last.offset;
    },

    skip(seg, offset) {
      if (offset > seg.end) seg.end = offset;
    },

    async commit(seg) {
      if (seg.state !== 'open') throw new Error(`commit of a ${seg.state} segment`);
      seg.state = 'committing';
      const ds = seg.ds;
      if (seg.rows === 0) {
        seg.state = 'committed';
        retire(seg);
        return { file: null, rows: 0 };
      }
      const root = datasetRoot(engine.lakePath, ds);
      const name = dataFileName(seg.topic, seg.partition, seg.start, seg.end);
      const finalDir = path.join(root, seg.dir);
      const final = path.join(finalDir, name);
      const tdir = tmpDir(engine.lakePath, ds);
      const cdir = claimsDir(engine.lakePath, ds);
      const tmp = path.join(tdir, `${name}.${randomUUID()}`);
      let claimPath: string | null = null;
      try {
        await fsp.mkdir(tdir, { recursive: true });
        await fsp.mkdir(cdir, { recursive: true });
        const cols = [
          ...ds.fields.map((f) => (f.type === 'json' ? `CAST(${ident(f.name)} AS ${f.list ? 'JSON[]' : 'JSON'}) AS ${ident(f.name)}` : ident(f.name))),
          '"_topic"', '"_partition"', '"_offset"', '"_timestamp"', '"_key"',
        ];
        await engine.exec(
          `COPY (SELECT ${cols.join(', ')} FROM ${ident(seg.table)}) TO ${literal(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroupSize})`,
        );
        await fsyncPath(tmp);

        // The claim is the commit point: once it is durable, recovery finishes the rename if we die.
        claimPath = path.join(cdir, claimName(seg.topic, seg.partition, seg.start));
        const claim: Claim = { start: seg.start.toString(), end: seg.end.toString(), dir: seg.dir, file: name, tmp: path.basename(tmp), rows: seg.rows };
        let fh: import('node:fs/promises').FileHandle;
        try {
          fh = await fsp.open(claimPath, 'wx');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
            claimPath = null;
            throw new FencedError(seg.topic, seg.partition, seg.start);
          }
          throw e;
        }
        try {
          await fh.writeFile(JSON.stringify(claim));
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fsyncPath(cdir);
        // A writer that fell behind (stale group member) finds a claim past or over its start: it must not publish.
        const claims = await readClaims(ds, seg.topic, seg.partition);
        for (const c of claims) {
          if (c.start === seg.start) continue;
          if (c.start > seg.start || (c.claim && BigInt(c.claim.end) >= seg.start)) throw new FencedError(seg.topic, seg.partition, seg.start);
        }
        await fsp.mkdir(finalDir, { recursive: true });
        await fsp.rename(tmp, final);
        await fsyncPath(finalDir);
        // Older claims of this partition are settled (recovery rolled them forward before we started): keep the newest.
        await Promise.all(
          claims.filter((c) => c.start < seg.start).map((c) => fsp.rm(path.join(cdir, c.name), { force: true })),
        );
        seg.state = 'committed';
        retire(seg);
        return { file: final, rows: seg.rows };
      } catch (err) {
        if (err instanceof FencedError && claimPath) await fsp.rm(claimPath, { force: true }).catch(() => {});
        await fsp.rm(tmp, { force: true }).catch(() => {});
        seg.state = 'abandoned';
        retire(seg);
        if (err instanceof FencedError) throw err;
        throw new GatewayError('LAKE_UNAVAILABLE', `could not commit a data file of ${seg.topic}[${seg.partition}]`, { cause: err });
      }
    },

    abandon(seg) {
      if (seg.state === 'committed' || seg.state === 'abandoned') return;
      seg.state = 'abandoned';
      retire(seg);
    },

    async recover(ds, topic, partition) {
      const root = datasetRoot(engine.lakePath, ds);
      const tdir = tmpDir(engine.lakePath, ds);
      let maxEnd = -1n;
      for (const c of await readClaims(ds, topic, partition)) {
        if (!c.claim) {
          // Written by O_EXCL but empty: its writer died before the claim was durable, so it never renamed a file.
          await fsp.rm(path.join(claimsDir(engine.lakePath, ds), c.name), { force: true });
          continue;
        }
        const end = BigInt(c.claim.end);
        if (end > maxEnd) maxEnd = end;
        const finalDir = path.join(root, c.claim.dir);
        const final = path.join(finalDir, c.claim.file);
        if (await exists(final)) continue;
        const tmp = path.join(tdir, c.claim.tmp);
        try {
          await fsp.mkdir(finalDir, { recursive: true });
          await fsp.rename(tmp, final);
          await fsyncPath(finalDir);
          log('info', 'rolled forward an interrupted commit', { file: path.relative(engine.lakePath, final) });
        } catch (e) {
          // Renamed by its writer meanwhile, or since merged by compaction: either way the rows are in the lake.
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      for (const f of await listDataFiles(engine.lakePath, ds)) {
        if (f.topic === topic && f.partition === partition && f.endOffset > maxEnd) maxEnd = f.endOffset;
      }
      return maxEnd < 0n ? null : maxEnd + 1n;
    },

    liveSegments(ds) {
      const s = live.get(ds.name);
      if (!s) return [];
      return [...s].filter((seg) => seg.rows > 0 && (seg.state === 'open' || seg.state === 'committing'));
    },

    async close() {
      closed = true;
      for (const t of retireTimers) clearTimeout(t);
      retireTimers.clear();
      const all = [...live.values()].flatMap((s) => [...s]);
      live.clear();
      await Promise.all(all.map(dropTable));
      if (appendHold) (appendHold as () => void)();
      appendConn = null;
    },
  };
}

/** Parse the topic-partition and range out of a claim or data file name (used by compaction and tests). */
export { parseDataFileName };
