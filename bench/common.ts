// Small helpers shared by the benchmarks: percentiles, child processes that print their URL, closed-loop load.
// Benchmarks print side-by-side figures and ratios; they never assert and never run in CI.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summary(samples: number[]): { p50: number; p95: number; p99: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), n: s.length };
}

/** Start a child that prints a line matching `urlPattern` once it listens; resolves with the URL and the child. */
export function spawnServer(cmd: string, args: string[], env: NodeJS.ProcessEnv, urlPattern: RegExp, timeoutMs = 600_000): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = urlPattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

/** Closed-loop load: `concurrency` workers send requests back to back for `seconds`; returns requests/s and latencies. */
export async function closedLoop(concurrency: number, seconds: number, send: (worker: number, i: number) => Promise<void>): Promise<{ rps: number; errors: number; lat: ReturnType<typeof summary> }> {
  const deadline = performance.now() + seconds * 1000;
  const lat: number[] = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t0 = performance.now();
        try {
          await send(w, i);
          lat.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { rps: lat.length / seconds, errors, lat: summary(lat) };
}

export const fmt = (n: number, d = 1) => n.toFixed(d);

// ---- child processes watched line by line, and their memory and CPU (Linux /proc) -------------------------------

export interface WatchedChild {
  readonly child: ChildProcess;
  /** The last lines of stdout and stderr (bounded). */
  readonly lines: string[];
  /** Resolves with the first line (already seen or to come) matching `re`; rejects on timeout or exit. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** Spawn a child whose stdout and stderr are read line by line (so its pipes never fill), keeping the last lines. */
export function spawnWatched(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, keep = 2_000): WatchedChild {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // A bench that dies (or exits early) must not leave a worker running: kill it on this process's exit.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.on('exit', () => process.off('exit', killOnExit));
  const lines: string[] = [];
  const waiters = new Set<{ re: RegExp; resolve(l: string): void }>();
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > keep) lines.splice(0, lines.length - keep);
    for (const w of waiters) if (w.re.test(line)) { waiters.delete(w); w.resolve(line); }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.on('data', (d: Buffer) => {
      const parts = (rest + d.toString()).split('\n');
      rest = parts.pop()!;
      for (const l of parts) onLine(l);
    });
    stream.on('end', () => { if (rest) onLine(rest); rest = ''; });
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitForLine(re, timeoutMs) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const w = { re, resolve: (l: string) => { clearTimeout(timer); resolve(l); } };
        const timer = setTimeout(() => { waiters.delete(w); reject(new Error(`no line matching ${re} within ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`)); }, timeoutMs);
        waiters.add(w);
        void exited.then((code) => {
          if (!waiters.delete(w)) return;
          clearTimeout(timer);
          reject(new Error(`child exited (${code}) before printing a line matching ${re}:\n${lines.slice(-20).join('\n')}`));
        });
      });
    },
  };
}

/** Resident set size now and its peak (VmHWM) of a live process, in bytes; null when /proc cannot tell (not Linux, gone). */
export function procMemory(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const rss = kb('VmRSS');
    const hwm = kb('VmHWM');
    return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm } : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds of a live process (all its threads) from /proc/<pid>/stat; assumes USER_HZ = 100. */
export function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/** The machine's CPU time so far (/proc/stat's first line, in seconds of all cores): busy, idle, and steal (time the
 *  hypervisor gave this VM's runnable vCPUs to someone else). null where /proc/stat is not there. */
export function machineCpu(): { busy: number; idle: number; steal: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    return { busy: (user + nice + system + irq + softirq) / 100, idle: (idle + iowait) / 100, steal: steal / 100 };
  } catch {
    return null;
  }
}

/** Busy and steal shares (% of all cores) between two machineCpu() readings; null where /proc/stat is not there. */
function machineShares(from: ReturnType<typeof machineCpu>, to: ReturnType<typeof machineCpu>): { busy: number; steal: number } | null {
  if (!from || !to) return null;
  const busy = to.busy - from.busy;
  const steal = to.steal - from.steal;
  const all = busy + (to.idle - from.idle) + steal;
  return all > 0 ? { busy: (100 * busy) / all, steal: (100 * steal) / all } : null;
}

/** "machine busy B%, steal S% (of all cores)" over a window between two machineCpu() readings (to: now). */
export function machineShare(from: ReturnType<typeof machineCpu>, to = machineCpu()): string {
  const s = machineShares(from, to);
  return s ? `machine busy ${fmt(s.busy, 0)}%, steal ${fmt(s.steal, 1)}% of ${os.cpus().length} cores` : 'machine n/a';
}

/**
 * The machine's steal share (% of all cores) in consecutive periods of `periodMs` from now until stop(): lined up with
 * a window's "p99 by tenth" when the period is a tenth of the window (the tenths are by arrival order, so the match is
 * close only while the side keeps up). An empty list where /proc/stat is not there.
 */
export function machineStealSampler(periodMs: number): { stop(): number[] } {
  const shares: number[] = [];
  let last = machineCpu();
  const take = () => {
    const now = machineCpu();
    const share = machineSteal(last, now);
    if (share !== null) shares.push(share);
    last = now;
  };
  const timer = setInterval(take, periodMs);
  return {
    stop() {
      clearInterval(timer);
      return shares;
    },
  };
}

/** The steal share (% of all cores) between two machineCpu() readings; null where /proc/stat is not there. */
export function machineSteal(from: ReturnType<typeof machineCpu>, to: ReturnType<typeof machineCpu>): number | null {
  return machineShares(from, to)?.steal ?? null;
}

export const MiB = 2 ** 20;

/** Self time per function of a V8 .cpuprofile (node --cpu-prof), largest first, with its share of all samples. */
export function cpuProfileHotspots(file: string, top = 15): Array<{ fn: string; where: string; ms: number; pct: number }> {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const us = prof.timeDeltas[i] ?? 0;
    total += us;
    const cf = byId.get(id)?.callFrame;
    if (!cf) return;
    const where = cf.url ? `${cf.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '')}:${cf.lineNumber + 1}` : '';
    const k = `${cf.functionName || '(anonymous)'}\u0000${where}`;
    self.set(k, (self.get(k) ?? 0) + us);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => {
      const [fn, where] = k.split('\u0000') as [string, string];
      return { fn, where, ms: us / 1000, pct: (100 * us) / total };
    });
}
