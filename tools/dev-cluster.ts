// Drives tools/bin/dev-cluster (librdkafka's mock Kafka cluster) as a child process over stdin/stdout.
// One command is in flight at a time, and the child never outlives this process.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export interface DevCluster {
  /** Comma-separated `127.0.0.1:port` list, ready for `brokers:` options or kcat's `-b`. */
  bootstrap: string;
  brokers: string[];
  /** Sends one raw command line (see dev-cluster.c) and resolves with its `OK ...` reply; `ERR` rejects. */
  command(cmd: string): Promise<string>;
  createTopic(name: string, partitions: number): Promise<void>;
  brokerDown(id: number): Promise<void>;
  brokerUp(id: number): Promise<void>;
  setLeader(topic: string, partition: number, brokerId: number): Promise<void>;
  pushRequestErrors(apiKey: number, count: number, errorCode: number): Promise<void>;
  /** Idempotent; asks the child to quit and kills it if it has not gone within a few seconds. */
  stop(): Promise<void>;
}

export interface DevClusterOptions {
  brokers?: number;
  topics?: Record<string, number>;
  binary?: string;
  startTimeoutMs?: number;
  commandTimeoutMs?: number;
}

// Compiled code runs from <repo>/dist/tools, sources (ts-node and the like) from <repo>/tools.
const repoRoot = path.basename(path.dirname(__dirname)) === 'dist' ? path.resolve(__dirname, '..', '..') : path.resolve(__dirname, '..');
export const defaultDevClusterBinary = path.join(repoRoot, 'tools', 'bin', 'dev-cluster');

const STOP_GRACE_MS = 5_000;
const STDERR_KEEP = 4_000;
// Kafka's own rule for topic names; it also keeps names free of the spaces and colons the protocol uses.
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

// Children still running; one shared 'exit' hook kills them all, so listeners do not pile up per cluster.
// If this process dies without running 'exit' hooks (SIGKILL, unhandled signal), the child sees EOF on stdin and quits.
const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;
function killLiveChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

export async function startDevCluster(opts: DevClusterOptions = {}): Promise<DevCluster> {
  const brokerCount = opts.brokers ?? 3;
  const binary = opts.binary ?? defaultDevClusterBinary;
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  const commandTimeoutMs = opts.commandTimeoutMs ?? 10_000;
  if (!Number.isInteger(brokerCount) || brokerCount < 1) throw new Error(`dev-cluster: brokers must be a positive integer, got ${brokerCount}`);
  const args = [String(brokerCount)];
  for (const [name, partitions] of Object.entries(opts.topics ?? {})) {
    checkTopic(name, partitions);
    args.push(`${name}:${partitions}`);
  }

  // A process group of its own: Ctrl-C in a terminal reaches only its parent, which stops the cluster last (its clients
  // first: a kafkajs consumer whose brokers vanish while it stops can spin forever, kafkajs issue #1384). The child
  // still quits on EOF of stdin when the parent dies.
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  live.add(child);
  if (!exitHookInstalled) {
    process.on('exit', killLiveChildren);
    exitHookInstalled = true;
  }

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  // A write to a child that just died raises EPIPE here; the 'close' handling below reports it instead.
  child.stdin.on('error', () => undefined);

  // The reply protocol is strictly one line per command, so a single waiter is enough.
  let waiter: { resolve(line: string): void; reject(err: Error): void } | undefined;
  let exitError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      exitError = new Error(
        `dev-cluster exited (${signal ?? `code ${code}`})${stderr.trim() ? `; stderr:\n${stderr.trim()}` : ''}`,
      );
      waiter?.reject(exitError);
      waiter = undefined;
      resolve();
    });
  });
  child.on('error', (err: NodeJS.ErrnoException) => {
    // spawn failures (ENOENT, EACCES) come here and there may be no 'close' to follow.
    live.delete(child);
    const hint = err.code === 'ENOENT' ? ` (build it with tools/dev-cluster/build.sh)` : '';
    exitError = new Error(`dev-cluster: cannot run ${binary}: ${err.message}${hint}`);
    waiter?.reject(exitError);
    waiter = undefined;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const w = waiter;
    waiter = undefined;
    w?.resolve(line);
  });

  function nextLine(timeoutMs: number, what: string): Promise<string> {
    if (exitError) return Promise.reject(exitError);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = undefined;
        // A late reply would be taken for the next command's, so a silent child is beyond use: end it.
        child.kill('SIGKILL');
        reject(new Error(`dev-cluster: no reply to ${what} within ${timeoutMs} ms${stderr.trim() ? `; stderr:\n${stderr.trim()}` : ''}`));
      }, timeoutMs);
      waiter = {
        resolve: (line) => { clearTimeout(timer); resolve(line); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      };
    });
  }

  let first: string;
  try {
    first = await nextLine(startTimeoutMs, 'start-up (waiting for BOOTSTRAP)');
    if (!first.startsWith('BOOTSTRAP ')) throw new Error(`dev-cluster: expected a BOOTSTRAP line, got ${JSON.stringify(first)}`);
  } catch (err) {
    live.delete(child);
    child.kill('SIGKILL');
    throw err;
  }
  const bootstrap = first.slice('BOOTSTRAP '.length).trim();

  // Commands go through one promise chain so replies can be matched to requests by order alone.
  let queue: Promise<unknown> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  function command(cmd: string): Promise<string> {
    if (stopping) return Promise.reject(new Error(`dev-cluster: ${cmd}: the cluster was stopped`));
    const run = queue.then(async () => {
      if (!cmd.trim() || /[\r\n]/.test(cmd)) throw new Error(`dev-cluster: a command is one non-empty line, got ${JSON.stringify(cmd)}`);
      if (exitError) throw exitError;
      const reply = nextLine(commandTimeoutMs, JSON.stringify(cmd));
      child.stdin.write(`${cmd}\n`);
      const line = await reply;
      if (line.startsWith('OK')) return line;
      throw new Error(`dev-cluster: ${cmd}: ${line.replace(/^ERR /, '')}`);
    });
    queue = run.catch(() => undefined);
    return run;
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      // Commands issued before stop() still get their replies; a hung one ends at commandTimeoutMs.
      await queue;
      if (exitError) return;
      // quit, then EOF: either alone ends the child cleanly; SIGKILL only if it does not go in time.
      child.stdin.end('quit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  }

  return {
    bootstrap,
    brokers: bootstrap.split(','),
    command,
    // async so that argument errors arrive as rejections, like the child's own ERR replies.
    createTopic: async (name, partitions) => {
      checkTopic(name, partitions);
      await command(`topic ${name} ${partitions}`);
    },
    brokerDown: async (id) => {
      await command(`down ${int(id, 'broker id')}`);
    },
    brokerUp: async (id) => {
      await command(`up ${int(id, 'broker id')}`);
    },
    setLeader: async (topic, partition, brokerId) => {
      checkTopic(topic, 1);
      await command(`leader ${topic} ${int(partition, 'partition')} ${int(brokerId, 'broker id')}`);
    },
    pushRequestErrors: async (apiKey, count, errorCode) => {
      await command(`errors ${int(apiKey, 'api key')} ${int(count, 'count')} ${int(errorCode, 'error code')}`);
    },
    stop,
  };
}

function checkTopic(name: string, partitions: number): void {
  if (!TOPIC_NAME.test(name)) throw new Error(`dev-cluster: invalid topic name ${JSON.stringify(name)}`);
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`dev-cluster: topic ${name}: partitions must be a positive integer`);
}

function int(n: number, what: string): number {
  if (!Number.isInteger(n)) throw new Error(`dev-cluster: ${what} must be an integer, got ${n}`);
  return n;
}
