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

/**
 * Every visible data file of a dataset. Where files overlap in offsets (a compaction output next to the inputs
 * it replaces), the covering file wins, so a reader never counts a row twice.
 */
export async function listDataFiles(lakePath: string, ds: Dataset): Promise<DataFile[]> {
  const root = datasetRoot(lakePath, ds);
  const found: DataFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    await Promise.all(
      entries.map(async (e) => {
        if (isHidden(e.name)) return;
        const full = path.join(dir, e.name);
        if (e.isDirectory()) return walk(full);
        if (!e.isFile()) return;
        const parsed = parseDataFileName(e.name);
        if (!parsed) return;
        try {
          const st = await fsp.stat(full);
          found.push({ path: full, bytes: st.size, mtimeMs: st.mtimeMs, ...parsed });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }),
    );
  };
  await walk(root);
  return dropCovered(found).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Keep only files whose offset range is not inside a wider file of the same topic-partition. */
export function dropCovered(files: DataFile[]): DataFile[] {
  const byTp = new Map<string, DataFile[]>();
  for (const f of files) {
    const k = `${f.topic}\u0000${f.partition}`;
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
