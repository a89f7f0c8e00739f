// The lake layout of the contract: <lake>/<dataset>/<partition dirs>/<topic>+<partition>+<start>+<end>.parquet.
// Names starting with "_" or "." are not data (work in progress lives there), as in Hive and Spark.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Dataset } from '../config';

export const OFFSET_DIGITS = 20;

export interface DataFile {
  readonly path: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  readonly topic: string;
  readonly partition: number;
  readonly startOffset: bigint;
  readonly endOffset: bigint;
}

const FILE_RE = /^(.+)\+(\d+)\+(\d+)\+(\d+)\.parquet$/;

export function isHidden(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.');
}

export function dataFileName(topic: string, partition: number, start: bigint, end: bigint): string {
  const pad = (n: bigint) => n.toString().padStart(OFFSET_DIGITS, '0');
  return `${topic}+${partition}+${pad(start)}+${pad(end)}.parquet`;
}

export function parseDataFileName(name: string): { topic: string; partition: number; startOffset: bigint; endOffset: bigint } | null {
  const m = FILE_RE.exec(name);
  if (!m) return null;
  return { topic: m[1]!, partition: Number(m[2]), startOffset: BigInt(m[3]!), endOffset: BigInt(m[4]!) };
}

/** Hive-style directory (relative to the dataset root) for an event time in UTC. */
export function partitionDir(ds: Dataset, eventTimeMs: number): string {
  if (ds.partitionBy === 'none') return '';
  const iso = new Date(eventTimeMs).toISOString();
  const date = `date=${iso.slice(0, 10)}`;
  return ds.partitionBy === 'day' ? date : `${date}/hour=${iso.slice(11, 13)}`;
}

export function datasetRoot(lakePath: string, ds: Dataset): string {
  return path.join(lakePath, ds.name);
}

interface DirEntry {
  mtimeMs: number;
  files: DataFile[];
  dirs: string[];
}

/** Directories modified this recently are re-read every time: mtime granularity is coarse (racy-git problem). */
const RACY_MS = 2_000;

/**
 * Lists the visible data files of a dataset. Re-reads only directories whose mtime changed (or changed recently):
 * data files are immutable under their names, so a directory that did not change still holds the same files.
 */
export type FileLister = (lakePath: string, ds: Dataset, opts?: { includeCovered?: boolean }) => Promise<DataFile[]>;

export function createFileLister(): FileLister {
  const cache = new Map<string, DirEntry>();
  const readDir = async (dir: string): Promise<DirEntry | null> => {
    let st: import('node:fs').Stats;
    try {
      st = await fsp.stat(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        cache.delete(dir);
        return null;
      }
      throw e;
    }
    const hit = cache.get(dir);
    if (hit && hit.mtimeMs === st.mtimeMs && Date.now() - st.mtimeMs > RACY_MS) return hit;
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    const old = new Map((hit?.files ?? []).map((f) => [f.path, f]));
    const entry: DirEntry = { mtimeMs: st.mtimeMs, files: [], dirs: [] };
    await Promise.all(
      entries.map(async (e) => {
        if (isHidden(e.name)) return;
        const full = path.join(dir, e.name);
        if (e.isDirectory()) return void entry.dirs.push(full);
        if (!e.isFile()) return;
        const parsed = parseDataFileName(e.name);
        if (!parsed) return;
        const known = old.get(full);
        if (known) return void entry.files.push(known);
        try {
          const fst = await fsp.stat(full);
          entry.files.push({ path: full, bytes: fst.size, mtimeMs: fst.mtimeMs, ...parsed });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }),
    );
    cache.set(dir, entry);
    return entry;
  };
  return async (lakePath, ds, opts = {}) => {
    const found: DataFile[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entry = await readDir(dir);
      if (!entry) return;
      found.push(...entry.files);
      await Promise.all(entry.dirs.map(walk));
    };
    await walk(datasetRoot(lakePath, ds));
    return (opts.includeCovered ? found : dropCovered(found)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  };
}

const defaultLister = createFileLister();

/** Every visible data file of a dataset; where a wider file covers others' offsets, only it is kept. */
export function listDataFiles(lakePath: string, ds: Dataset): Promise<DataFile[]> {
  return defaultLister(lakePath, ds);
}

/**
 * Keep only files whose offset range is not inside a wider file of the same topic-partition in the same directory.
 * Compaction renames the merged file in before it removes the small ones; this makes that instant invisible.
 * Per directory, because one Kafka partition's offsets interleave across event-time directories.
 */
export function dropCovered(files: DataFile[]): DataFile[] {
  const byTp = new Map<string, DataFile[]>();
  for (const f of files) {
    const k = `${path.dirname(f.path)}\u0000${f.topic}\u0000${f.partition}`;
    let arr = byTp.get(k);
    if (!arr) byTp.set(k, (arr = []));
    arr.push(f);
  }
  const out: DataFile[] = [];
  for (const arr of byTp.values()) {
    // Widest first; a file survives if no kept file already covers its range.
    arr.sort((a, b) => (a.startOffset < b.startOffset ? -1 : a.startOffset > b.startOffset ? 1 : Number(b.endOffset - a.endOffset)));
    let maxEnd = -1n;
    for (const f of arr) {
      if (f.endOffset <= maxEnd) continue;
      out.push(f);
      maxEnd = f.endOffset;
    }
  }
  return out;
}
