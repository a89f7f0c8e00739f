// Compaction: small data files of one topic-partition in one partition directory are merged toward a target size.
// Invariants: the merged file (named for the whole range) is renamed in before the small ones are removed, so at no
// instant is a row missing; lakegate's reader hides files covered by a wider one, so no row is seen twice. A crash
// between the two steps leaves covered files behind, which the next run removes.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Dataset } from '../config';
import type { LakeEngine } from './engine';
import { type DataFile, dataFileName, datasetRoot, isHidden, parseDataFileName } from './layout';
import { literal } from './sql';
import { fsyncPath, tmpDir } from './writer';

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

/** Every data file of a dataset, including covered ones (unlike listDataFiles), grouped by directory. */
async function filesByDir(root: string): Promise<Map<string, DataFile[]>> {
  const out = new Map<string, DataFile[]>();
  const walk = async (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      if (isHidden(e.name)) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        await walk(full);
        continue;
      }
      const parsed = parseDataFileName(e.name);
      if (!parsed) continue;
      try {
        const st = await fsp.stat(full);
        let arr = out.get(dir);
        if (!arr) out.set(dir, (arr = []));
        arr.push({ path: full, bytes: st.size, mtimeMs: st.mtimeMs, ...parsed });
      } catch {
        /* removed meanwhile */
      }
    }
  };
  await walk(root);
  return out;
}

export async function compactDataset(engine: LakeEngine, ds: Dataset, opts: CompactOptions = {}): Promise<CompactResult> {
  const targetBytes = opts.targetBytes ?? 128 * 1024 * 1024;
  const minFiles = Math.max(2, opts.minFiles ?? 4);
  const rowGroupSize = opts.rowGroupSize ?? 16_384;
  const log = opts.log ?? (() => {});
  const root = datasetRoot(engine.lakePath, ds);
  const result: CompactResult = { merged: 0, written: 0, removedCovered: 0, removedTmp: 0 };

  for (const [dir, files] of await filesByDir(root)) {
    const byTp = new Map<string, DataFile[]>();
    for (const f of files) {
      const k = `${f.topic}\u0000${f.partition}`;
      let arr = byTp.get(k);
      if (!arr) byTp.set(k, (arr = []));
      arr.push(f);
    }
    let dirChanged = false;
    for (const arr of byTp.values()) {
      arr.sort((a, b) => (a.startOffset < b.startOffset ? -1 : a.startOffset > b.startOffset ? 1 : Number(b.endOffset - a.endOffset)));
      // 1. Files inside a wider file's range are leftovers of an interrupted compaction: remove them.
      const kept: DataFile[] = [];
      let maxEnd = -1n;
      for (const f of arr) {
        if (f.endOffset <= maxEnd) {
          await fsp.rm(f.path, { force: true });
          result.removedCovered++;
          dirChanged = true;
          continue;
        }
        kept.push(f);
        maxEnd = f.endOffset;
      }
      // 2. Runs of consecutive small files, each run up to the target size, merged into one file.
      let run: DataFile[] = [];
      let runBytes = 0;
      const flush = async () => {
        if (run.length >= minFiles) {
          await mergeRun(run);
          dirChanged = true;
        }
        run = [];
        runBytes = 0;
      };
      for (const f of kept) {
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
    if (dirChanged) await fsyncPath(dir);
  }

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
  const cdir = path.join(root, '_claims');
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
