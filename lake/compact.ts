// Compaction: small data files of one topic-partition in one partition directory are merged toward a target size.
// Invariants: the merged file (named for the whole range) is renamed in before the small ones are removed, so at no
// instant is a row missing; lakegate's reader hides files covered by a wider one, so no row is seen twice. A crash
// between the two steps leaves covered files behind, which the next run removes.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Dataset } from '../config';
import type { LakeEngine } from './engine';
import { type DataFile, createFileLister, dataFileName, dropCovered } from './layout';
import { literal } from './sql';
import { claimsDir, fsyncPath, tmpDir } from './writer';

export interface CompactOptions {
  targetBytes?: number;
  minFiles?: number;
  rowGroupSize?: number;
  /** Files in `_tmp` older than this are debris of crashed writers. */
  tmpMaxAgeMs?: number;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface CompactResult {
  merged: number;
  written: number;
  removedCovered: number;
  removedTmp: number;
}

export async function compactDataset(engine: LakeEngine, ds: Dataset, opts: CompactOptions = {}): Promise<CompactResult> {
  const targetBytes = opts.targetBytes ?? 128 * 1024 * 1024;
  const minFiles = Math.max(2, opts.minFiles ?? 4);
  const rowGroupSize = opts.rowGroupSize ?? 16_384;
  const log = opts.log ?? (() => {});
  const result: CompactResult = { merged: 0, written: 0, removedCovered: 0, removedTmp: 0 };

  // Every file, covered ones included: those are what an interrupted compaction left behind.
  const all = await createFileLister()(engine.lakePath, ds, { includeCovered: true });
  const kept = new Set(dropCovered(all));
  const groups = new Map<string, DataFile[]>();
  const changedDirs = new Set<string>();
  for (const f of all) {
    if (!kept.has(f)) {
      // 1. Inside a wider file's range in the same directory: the merged file is durable, this one can go.
      await fsp.rm(f.path, { force: true });
      result.removedCovered++;
      changedDirs.add(path.dirname(f.path));
      continue;
    }
    const k = `${path.dirname(f.path)}\u0000${f.topic}\u0000${f.partition}`;
    let arr = groups.get(k);
    if (!arr) groups.set(k, (arr = []));
    arr.push(f);
  }
  // 2. Runs of consecutive small files of one topic-partition in one directory, each up to the target size.
  for (const arr of groups.values()) {
    arr.sort((a, b) => (a.startOffset < b.startOffset ? -1 : a.startOffset > b.startOffset ? 1 : 0));
    let run: DataFile[] = [];
    let runBytes = 0;
    const flush = async () => {
      if (run.length >= minFiles) {
        await mergeRun(run);
        changedDirs.add(path.dirname(run[0]!.path));
      }
      run = [];
      runBytes = 0;
    };
    for (const f of arr) {
      if (f.bytes >= targetBytes / 2) {
        await flush();
        continue;
      }
      if (runBytes + f.bytes > targetBytes) await flush();
      run.push(f);
      runBytes += f.bytes;
    }
    await flush();
  }
  for (const dir of changedDirs) await fsyncPath(dir);

  async function mergeRun(run: DataFile[]): Promise<void> {
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const name = dataFileName(first.topic, first.partition, first.startOffset, last.endOffset);
    const dir = path.dirname(first.path);
    const tdir = tmpDir(engine.lakePath, ds);
    await fsp.mkdir(tdir, { recursive: true });
    const tmp = path.join(tdir, `${name}.compact.${randomUUID()}`);
    try {
      const list = run.map((f) => literal(f.path)).join(', ');
      await engine.exec(
        `COPY (SELECT * FROM read_parquet([${list}], union_by_name = true, hive_partitioning = false) ORDER BY "_offset") ` +
          `TO ${literal(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroupSize})`,
      );
      await fsyncPath(tmp);
      await fsp.rename(tmp, path.join(dir, name));
      await fsyncPath(dir);
    } catch (err) {
      await fsp.rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
    // The merged file is durable and covers the run: the small files can go.
    for (const f of run) await fsp.rm(f.path, { force: true });
    result.merged += run.length;
    result.written++;
    log('compacted files', { dir: path.relative(engine.lakePath, dir), files: run.length, into: name });
  }

  // 3. Debris in _tmp: data written aside by writers that died before claiming it.
  const tdir = tmpDir(engine.lakePath, ds);
  const maxAge = opts.tmpMaxAgeMs ?? 60 * 60_000;
  const claimed = new Set<string>();
  const cdir = claimsDir(engine.lakePath, ds);
  for (const n of await fsp.readdir(cdir).catch(() => [] as string[])) {
    try {
      claimed.add(String(JSON.parse(await fsp.readFile(path.join(cdir, n), 'utf8')).tmp));
    } catch {
      /* removed meanwhile, or empty */
    }
  }
  try {
    for (const n of await fsp.readdir(tdir)) {
      // A claimed file is a commit that recovery will finish: never debris.
      if (claimed.has(n)) continue;
      const p = path.join(tdir, n);
      const st = await fsp.stat(p).catch(() => null);
      if (st && Date.now() - st.mtimeMs > maxAge) {
        await fsp.rm(p, { force: true });
        result.removedTmp++;
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return result;
}
