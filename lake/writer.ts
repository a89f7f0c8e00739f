// Ingestion's side of the lake: staging for records not yet in a file, and the file commit protocol.
// Invariants: a data file appears only whole (written aside, fsynced, renamed in); per topic-partition, committed offset
// ranges never overlap, because every commit first claims its start offset with O_EXCL (a fence against stale writers).
// Staging: a segment's records are appended as canonical JSON lines to `<dataset>/_staging/<…>.ndjson` (see
// staging.ts); its `table` is a DuckDB view over that file with the data file's typed columns, and the commit's COPY
// converts the whole file at once. Nothing of a segment is held in memory, so memory does not grow with the backlog;
// the bytes staged are counted (`staged`) for the ingester's backpressure. Rows arrive as values (`append`, serialized
// here) or already serialized by the same staging plan in a decode worker (`appendLines`): the file is the same.

import { closeSync, openSync, promises as fsp, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Dataset } from '../config';
import { GatewayError } from '../errors';
import type { LakeEngine } from './engine';
import { dataFileName, datasetRoot, listDataFiles, parseDataFileName } from './layout';
import { ident, literal } from './sql';
import { objectBound, stagingPlan, type StagingPlan } from './staging';

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

/** Consecutive rows as canonical staging lines: exactly `stagingPlan(ds).serialize(rows)` of those rows, in UTF-8. */
export interface SerializedRows {
  /** The lines, each ending in \n, as UTF-8 (written to the staging file as they are). */
  readonly data: Uint8Array;
  /** A bound on the UTF-8 bytes of the longest line. */
  readonly maxLineBytes: number;
  readonly rows: number;
  /** Sum of the rows' `bytes`. */
  readonly bytes: number;
  /** Offset of the last row. */
  readonly lastOffset: bigint;
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
  /** A view over the segment's staging file: the data file's typed columns (JSON as text). */
  readonly table: string;
  /** Bytes of the staging file (what the segment really holds aside until its commit). */
  staged: number;
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
  /**
   * Data files written at once (each COPY is a DuckDB task with its own buffers); default twice the cores, from 2 to 8.
   * A COPY keeps about one core busy, and less between its phases: on 2 cores, 4 at once committed a caught-up backlog
   * of 40 files at 540k–710k rows/s against 340k–370k with 2 (ingest bench, three pairs), for ~20 MiB more peak RSS.
   */
  maxConcurrentCommits?: number;
  /** How long a committed segment's table stays queryable (queries that listed files before the rename). */
  retireAfterMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

export interface LakeWriter {
  open(ds: Dataset, topic: string, partition: number, dir: string, start: bigint, firstTimestampMs: number): Promise<Segment>;
  append(seg: Segment, rows: readonly StagedRow[]): Promise<void>;
  /** Append rows already serialized by the dataset's staging plan (e.g. in a decode worker), in offset order. */
  appendLines(seg: Segment, lines: SerializedRows): Promise<void>;
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

export function stagingDir(lakePath: string, ds: Dataset): string {
  return path.join(datasetRoot(lakePath, ds), '_staging');
}

/** Staging files untouched this long belong to writers that died (a live writer's are at most flushIntervalMs idle). */
const STAGING_DEBRIS_MS = 60 * 60_000;
/** View names are unique in the process: two writers may share one engine. */
let nextSegmentId = 1;

/** A tiny counting semaphore. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    else active++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

interface Staging {
  readonly file: string;
  /** Descriptor for appends; -1 once the segment takes no more records. */
  fd: number;
  /** A failed write: the segment can no longer be committed. */
  error: unknown;
  /** read_json's maximum_object_size for this file (the view's, raised before a longer line is written). */
  maxObject: number;
  /**
   * The view's creation (then any widening), off the ingestion path: a segment is offered to queries once its view
   * exists (see liveSegments). Never rejects.
   */
  view: Promise<void>;
  viewReady: boolean;
}

export function createLakeWriter(engine: LakeEngine, opts: LakeWriterOptions = {}): LakeWriter {
  const rowGroupSize = opts.rowGroupSize ?? 16_384;
  const retireAfterMs = opts.retireAfterMs ?? 65_000;
  const log = opts.log ?? (() => {});
  const live = new Map<string, Set<Segment>>();
  const retireTimers = new Map<NodeJS.Timeout, Segment>();
  const staging = new Map<Segment, Staging>();
  const copyLimit = limiter(opts.maxConcurrentCommits ?? Math.min(8, Math.max(2, 2 * os.availableParallelism())));
  let closed = false;

  const plans = new Map<string, StagingPlan>();
  const planOf = (ds: Dataset) => {
    let p = plans.get(ds.name);
    if (!p) plans.set(ds.name, (p = stagingPlan(ds)));
    return p;
  };

  /** `_staging` of a dataset exists, and debris of dead writers in it is removed (once per dataset). */
  const prepared = new Map<string, Promise<void>>();
  const prepare = (ds: Dataset) => {
    let p = prepared.get(ds.name);
    if (!p) {
      const dir = stagingDir(engine.lakePath, ds);
      p = (async () => {
        await fsp.mkdir(dir, { recursive: true });
        for (const n of await fsp.readdir(dir).catch(() => [] as string[])) {
          const st = await fsp.stat(path.join(dir, n)).catch(() => null);
          if (st && Date.now() - st.mtimeMs > STAGING_DEBRIS_MS) await fsp.rm(path.join(dir, n), { force: true }).catch(() => {});
        }
      })();
      p.catch(() => prepared.delete(ds.name));
      prepared.set(ds.name, p);
    }
    return p;
  };

  const liveSet = (ds: Dataset) => {
    let s = live.get(ds.name);
    if (!s) live.set(ds.name, (s = new Set()));
    return s;
  };

  const closeFd = (st: Staging) => {
    if (st.fd < 0) return;
    try {
      closeSync(st.fd);
    } catch {
      /* already closed */
    }
    st.fd = -1;
  };

  /** Drop a segment's view and remove its staging file. */
  const dropStaging = async (seg: Segment) => {
    const st = staging.get(seg);
    staging.delete(seg);
    try {
      if (st) await st.view;
      await engine.exec(`DROP VIEW IF EXISTS ${ident(seg.table)}`);
    } catch (err) {
      log('warn', 'could not drop a staging view', { table: seg.table, err: String(err) });
    }
    if (!st) return;
    closeFd(st);
    await fsp.rm(st.file, { force: true }).catch(() => {});
  };

  /** Keep a committed segment queryable a while: a query may have listed the files just before its rename. */
  const retire = (seg: Segment) => {
    liveSet(seg.ds).delete(seg);
    // Nothing more is appended: release the descriptor now, the file stays for the view.
    const st = staging.get(seg);
    if (st) closeFd(st);
    if (closed) return;
    const t = setTimeout(() => {
      retireTimers.delete(t);
      void dropStaging(seg);
    }, retireAfterMs);
    t.unref();
    retireTimers.set(t, seg);
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

  /** Append canonical lines (a staging plan's output) to a segment's staging file. */
  const writeLines = async (seg: Segment, lines: SerializedRows): Promise<void> => {
    const st = staging.get(seg);
    if (!st || st.fd < 0) throw new Error('append to a segment without its staging file');
    if (st.error) throw st.error;
    const { data, maxLineBytes } = lines;
    if (maxLineBytes + 1 >= st.maxObject) {
      // A record longer than the view reads (a rare one): widen the view before the line is in the file.
      const plan = planOf(seg.ds);
      const maxObject = objectBound(maxLineBytes);
      await st.view;
      const widen = engine.exec(`CREATE OR REPLACE VIEW ${ident(seg.table)} AS ${plan.select(st.file, seg.topic, seg.partition, { live: true, jsonCast: false, maxObject })}`);
      st.view = widen.then(() => { st.viewReady = true; }, () => { st.viewReady = false; });
      await widen;
      st.maxObject = maxObject;
    }
    // A synchronous write: it only copies into the page cache (well under a millisecond per MiB), where an async
    // one would wait behind DuckDB's COPYs and fsyncs for a thread of libuv's small pool.
    try {
      let off = 0;
      while (off < data.length) off += writeSync(st.fd, data, off, data.length - off);
      seg.staged += data.length;
    } catch (err) {
      st.error = err;
      throw err;
    }
    seg.rows += lines.rows;
    seg.bytes += lines.bytes;
    if (lines.lastOffset > seg.end) seg.end = lines.lastOffset;
  };

  return {
    async open(ds, topic, partition, dir, start, firstTimestampMs) {
      const id = nextSegmentId++;
      const table = `__seg_${process.pid}_${id}`;
      await prepare(ds);
      const file = path.join(stagingDir(engine.lakePath, ds), `${topic}+${partition}+${pad(start)}.${process.pid}-${id}-${randomUUID().slice(0, 8)}.ndjson`);
      const fd = openSync(file, 'wx');
      const seg: Segment = { id, ds, topic, partition, dir, start, end: start - 1n, rows: 0, bytes: 0, firstTimestampMs, state: 'open', table, staged: 0 };
      const maxObject = objectBound(0);
      const st: Staging = { file, fd, error: null, maxObject, view: Promise.resolve(), viewReady: false };
      staging.set(seg, st);
      // Not awaited: records are appended meanwhile; queries see the segment once the view is there.
      st.view = engine.exec(`CREATE VIEW ${ident(table)} AS ${planOf(ds).select(file, topic, partition, { live: true, jsonCast: false, maxObject })}`).then(
        () => {
          st.viewReady = true;
        },
        (err) => log('warn', 'could not create a staging view; its records are queryable once committed', { table, err: String(err) }),
      );
      liveSet(ds).add(seg);
      return seg;
    },

    async append(seg, rows) {
      if (rows.length === 0) return;
      if (seg.state !== 'open') throw new Error(`append to a ${seg.state} segment`);
      const { text, maxLineBytes } = planOf(seg.ds).serialize(rows);
      let bytes = 0;
      for (const r of rows) bytes += r.bytes;
      await writeLines(seg, { data: Buffer.from(text, 'utf8'), maxLineBytes, rows: rows.length, bytes, lastOffset: rows[rows.length - 1]!.offset });
    },

    async appendLines(seg, lines) {
      if (lines.rows === 0) return;
      if (seg.state !== 'open') throw new Error(`append to a ${seg.state} segment`);
      await writeLines(seg, lines);
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
        const st = staging.get(seg);
        if (!st) throw new Error('commit of a segment without its staging file');
        if (st.error) throw st.error;
        closeFd(st);
        // One conversion of the whole staging file, typed as the data file; DuckDB's threads, not ingestion's.
        const select = planOf(ds).select(st.file, seg.topic, seg.partition, { live: false, jsonCast: true, maxObject: st.maxObject });
        const written = await copyLimit(() =>
          engine.withConnection(async (c) => {
            const r = await c.runAndReadAll(`COPY (${select}) TO ${literal(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroupSize})`);
            return Number(r.getRows()[0]?.[0]);
          }),
        );
        // Every record appended is in the file, and nothing else: anything else is a bug, never a file.
        if (written !== seg.rows) throw new Error(`the staging file of ${seg.topic}[${seg.partition}] from ${seg.start} holds ${written} rows, expected ${seg.rows}`);
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
      // A topic-partition's segments in offset order up to the first whose view is not there yet: a query may miss
      // the newest records for an instant, never see a later record without an earlier one.
      const blocked = new Set<string>();
      const out: Segment[] = [];
      for (const seg of [...s].sort((a, b) => a.id - b.id)) {
        const tp = `${seg.topic}\u0000${seg.partition}`;
        if (blocked.has(tp)) continue;
        if (!staging.get(seg)?.viewReady) {
          blocked.add(tp);
          continue;
        }
        if (seg.rows > 0 && (seg.state === 'open' || seg.state === 'committing')) out.push(seg);
      }
      return out;
    },

    async close() {
      closed = true;
      for (const t of retireTimers.keys()) clearTimeout(t);
      retireTimers.clear();
      live.clear();
      // Every segment still staged: open ones, and committed ones kept for queries a while.
      await Promise.all([...staging.keys()].map(dropStaging));
    },
  };
}

/** Parse the topic-partition and range out of a claim or data file name (used by compaction and tests). */
export { parseDataFileName };
