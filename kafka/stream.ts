// A read of every partition of one topic from chosen offsets, outside any consumer group: live tails and the catch-up
// reads of replays. Like a Java consumer's assign() (Kafka Connect's and Flink's readers), not subscribe(): no group
// is joined, so a stream reads from its first fetch (a new group waits for its join: 3 s on Kafka brokers by
// default, group.initial.rebalance.delay.ms), needs no group coordinator or group ACL, leaves no group behind, and
// costs no heartbeats. Positions live here, in memory; nothing is committed.
//
// kafkajs has no assign(): this file sends Fetch requests itself, through kafkajs' own cluster (connections, metadata,
// authentication) and request codecs, one fetch loop per partition leader, as kafkajs' consumer does.
//
// Invariants:
// - Messages reach onBatch in offset order per partition, each once, starting exactly at the requested offset. A
//   fetch's answer is applied only if the partition's position is still the offset it was sent at, so a fetch that
//   an old leader answers after a leader move (or any late answer) can neither repeat nor skip records.
// - Offsets are passed over only when Kafka no longer has them: asked for exactly the next offset, it answers from a
//   later one (compaction), or it answers OFFSET_OUT_OF_RANGE and its log now starts past the position (retention).
//   Both are logged at warn with the offsets passed over. Records of aborted transactions and transaction markers are
//   skipped silently (read_committed, as kafkajs' consumer reads by default).
// - onBatch calls never overlap (one partition's batch at a time, across the fetch loops), and a loop fetches again
//   only after its batches were handled: a slow onBatch slows the stream, never grows a buffer.
// - Failures (a broker down, a leader moved, a connection closed) are retried with backoff and a fresh metadata read;
//   a partition whose leader was missing from the metadata is fetched again within the metadata age (3 s) of it
//   coming back. Only an error Kafka calls non-retriable (an authorization failure, say) ends the stream (onFatal).

import type { KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { CONSUMER_METADATA_MAX_AGE_MS, type KafkaClient } from './client';

export interface StreamOptions {
  topic: string;
  /** Next offset to read per partition; a partition not named (added to the topic later) is read from its start. */
  start: ReadonlyMap<number, bigint>;
  /** Called in order, one partition's batch at a time; the stream waits for the returned promise (which must not
   *  wait for this stream's stop(): stop waits for the batch being handled). */
  onBatch(partition: number, messages: KafkaMessage[], highWatermark: bigint): void | Promise<void>;
  /** Kafka answered with an error that retrying cannot mend (e.g. not authorized): the stream has stopped. */
  onFatal?(err: Error): void;
  /** What the stream is for, e.g. "live" or "catchup" (in its log lines). */
  role: string;
  logger?: Logger;
}

export interface TopicStream {
  /** Next offset to read per partition, as delivered so far. */
  readonly positions: ReadonlyMap<number, bigint>;
  stop(): Promise<void>;
}

/** How long a caught-up fetch waits at the broker for new records (kafkajs' consumer: maxWaitTimeInMs). */
const MAX_WAIT_MS = 50;
const MAX_BYTES_PER_PARTITION = 1024 * 1024;
const MAX_BYTES = 10 * 1024 * 1024;
const READ_COMMITTED = 1;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
/** How long stop() waits for the loops before it closes the connections under them. */
const STOP_WAIT_MS = 1_000;

// ---- the part of kafkajs 2.2.4 used here (not in its type declarations) ------------------------------------------

type FetchedRecord = KafkaMessage & {
  isControlRecord?: boolean;
  batchContext?: { firstOffset?: string; lastOffsetDelta?: number };
};
interface FetchedPartition {
  partition: number;
  highWatermark: string;
  abortedTransactions?: unknown[];
  messages: FetchedRecord[];
}
interface Broker {
  fetch(req: {
    replicaId?: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: FetchedPartition[] }> }>;
}
interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number | null | undefined }>;
  findBroker(q: { nodeId: number }): Promise<Broker>;
  removeBroker(q: { host: string; port: number }): void;
}
type KafkaError = Error & { type?: string; retriable?: boolean; partition?: number; host?: string; port?: number };

/** A kafkajs Cluster of the client's own settings (brokers, TLS, SASL, timeouts, retries): what its consumers use. */
function createCluster(client: KafkaClient): Cluster {
  const kafka = client.kafka as unknown as Record<symbol, unknown>;
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = key === undefined ? undefined : kafka[key];
  if (typeof create !== 'function') throw new Error('kafkajs has no private:Kafka:createCluster (lakegate needs kafkajs 2.2.x)');
  return (create as (o: object) => Cluster)({ metadataMaxAge: CONSUMER_METADATA_MAX_AGE_MS, allowAutoTopicCreation: false, isolationLevel: READ_COMMITTED });
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const filterAborted = require('kafkajs/src/consumer/filterAbortedMessages') as (a: { messages: FetchedRecord[]; abortedTransactions: unknown[] }) => FetchedRecord[];

/**
 * Errors kafkajs calls non-retriable that a broker restart or a leader move can cause, so they are retried: the
 * stale-metadata ones (kafkajs' consumer re-reads metadata after them), UNKNOWN_SERVER_ERROR (a broker's answer to an
 * unexpected exception) and an error code kafkajs does not know.
 */
const TRANSIENT = new Set(['LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN', 'KAFKAJS_UNKNOWN_ERROR_CODE']);

/** a ≥ b for offsets as kafkajs gives them (decimal text of non-negative integers, no leading zeros). */
const offsetAtLeast = (a: string, b: string) => a.length > b.length || (a.length === b.length && a >= b);

interface PartState {
  next: bigint;
}

/** An answer Kafka gave that retrying cannot change (an authorization failure, say), in the error or its causes. */
function refusal(e: unknown): KafkaError | null {
  for (let err = e as (KafkaError & { cause?: unknown }) | undefined, depth = 0; err && depth < 5; err = err.cause as typeof err, depth++) {
    if (err.name === 'KafkaJSProtocolError' && err.retriable === false && !TRANSIENT.has(err.type ?? '')) return err;
  }
  return null;
}

export async function openTopicStream(client: KafkaClient, opts: StreamOptions): Promise<TopicStream> {
  const { topic } = opts;
  const log = opts.logger?.child({ stream: opts.role, topic });
  const states = new Map<number, PartState>();
  for (const [p, o] of opts.start) states.set(p, { next: o });
  const cluster = createCluster(client);
  let stopped = false;
  const wakeups = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      if (stopped) return r();
      const done = () => {
        clearTimeout(t);
        wakeups.delete(done);
        r();
      };
      const t = setTimeout(done, ms);
      wakeups.add(done);
    });

  try {
    await cluster.connect();
    await cluster.addTargetTopic(topic);
  } catch (err) {
    await cluster.disconnect().catch(() => {});
    throw err;
  }

  /** The leader of each partition, as the metadata has it now (partitions new to the stream start at offset 0). */
  const leaders = (): Map<number, number> => {
    const byPartition = new Map<number, number>();
    for (const m of cluster.findTopicPartitionMetadata(topic)) {
      if (!states.has(m.partitionId)) states.set(m.partitionId, { next: 0n });
      if (typeof m.leader === 'number' && m.leader >= 0) byPartition.set(m.partitionId, m.leader);
    }
    return byPartition;
  };

  // Whatever moves a position runs in turn (one batch at a time, whichever loop fetched it).
  let handling: Promise<void> = Promise.resolve();
  const inTurn = (fn: () => void | Promise<void>): Promise<void> => {
    const run = handling.then(fn);
    handling = run.catch(() => {});
    return run;
  };
  const handle = (fetchedAt: Map<number, bigint>, parts: FetchedPartition[]) =>
    inTurn(async () => {
      for (const data of parts) {
        const st = states.get(data.partition);
        const at = fetchedAt.get(data.partition);
        if (!st || at === undefined || st.next !== at || stopped) continue;
        await apply(data.partition, st, at, data);
      }
    });
  const passedOver = (partition: number, from: bigint, to: bigint) =>
    log?.warn({ partition, from: String(from), to: String(to) }, 'offsets no longer in Kafka; the stream continues after them');

  async function apply(partition: number, st: PartState, at: bigint, data: FetchedPartition): Promise<void> {
    const raw = data.messages;
    if (raw.length === 0) return;
    const atText = at.toString();
    // A fetch answers whole record batches: the one holding `at` may start before it.
    let from = 0;
    while (from < raw.length && !offsetAtLeast(raw[from]!.offset, atText)) from++;
    if (from === raw.length) {
      // Every record is before `at` (the rest of that batch was compacted away): go on after the batch.
      const ctx = raw[raw.length - 1]!.batchContext;
      const end = ctx?.firstOffset !== undefined && typeof ctx.lastOffsetDelta === 'number' ? BigInt(ctx.firstOffset) + BigInt(ctx.lastOffsetDelta) + 1n : at + 1n;
      st.next = end > at ? end : at + 1n;
      passedOver(partition, at, st.next - 1n);
      return;
    }
    const within = from === 0 ? raw : raw.slice(from);
    const first = BigInt(within[0]!.offset);
    if (first > at) passedOver(partition, at, first - 1n);
    st.next = BigInt(within[within.length - 1]!.offset) + 1n;
    let messages = data.abortedTransactions && data.abortedTransactions.length > 0 ? filterAborted({ messages: within, abortedTransactions: data.abortedTransactions }) : within;
    if (messages.some((m) => m.isControlRecord)) messages = messages.filter((m) => !m.isControlRecord);
    if (messages.length === 0) return;
    try {
      await opts.onBatch(partition, messages, BigInt(data.highWatermark));
    } catch (err) {
      log?.error({ err, partition }, 'a stream batch handler failed; the stream goes on after that batch');
    }
  }

  /**
   * OFFSET_OUT_OF_RANGE for a fetch at `at`: the log no longer starts at or before it (retention), or ends before it.
   * Moves the position only if it is still `at` (in turn with the batches: another loop may have read on meanwhile);
   * false when it stays (Kafka's offsets say `at` is in range: a moment's disagreement, retried after a pause).
   */
  async function outOfRange(partition: number, at: bigint): Promise<boolean> {
    const offs = (await client.topicOffsets(topic)).find((o) => o.partition === partition);
    let moved = false;
    await inTurn(() => {
      const st = states.get(partition);
      if (offs && st && st.next === at && !stopped) moved = reposition(partition, st, offs);
    });
    return moved;
  }

  function reposition(partition: number, st: PartState, offs: { low: bigint; high: bigint }): boolean {
    if (st.next < offs.low) {
      passedOver(partition, st.next, offs.low - 1n);
      st.next = offs.low;
    } else if (st.next > offs.high) {
      // The log is shorter than what was read (an unclean leader election, or the topic was made again): read what
      // comes next from its end, so that nothing produced from now on is missed.
      log?.warn({ partition, position: String(st.next), end: String(offs.high) }, 'the partition log ends before the stream position; the stream reads on from its end');
      st.next = offs.high;
    } else return false;
    return true;
  }

  // ---- fetch loops: one per leader broker --------------------------------------------------------------------------

  const loops = new Map<number, Promise<void>>();

  async function loop(nodeId: number): Promise<void> {
    let failures = 0;
    while (!stopped) {
      let fetchedAt: Map<number, bigint> | null = null;
      try {
        // On the metadata as it is: the timer below refreshes it (a refresh fails as long as any partition of the
        // topic has no leader, and would hold every loop).
        const mine = [...leaders()].filter(([, leader]) => leader === nodeId).map(([p]) => p);
        if (mine.length === 0) return;
        fetchedAt = new Map<number, bigint>();
        for (const p of mine) fetchedAt.set(p, states.get(p)!.next);
        const broker = await cluster.findBroker({ nodeId });
        const res = await broker.fetch({
          replicaId: -1,
          isolationLevel: READ_COMMITTED,
          maxWaitTime: MAX_WAIT_MS,
          minBytes: 1,
          maxBytes: MAX_BYTES,
          topics: [{ topic, partitions: [...fetchedAt].map(([partition, o]) => ({ partition, fetchOffset: o.toString(), maxBytes: MAX_BYTES_PER_PARTITION })) }],
        });
        const parts = res.responses.filter((r) => r.topicName === topic).flatMap((r) => r.partitions);
        await handle(fetchedAt, parts);
        fetchedAt = null;
        if (failures > 0) log?.info({ broker: nodeId }, 'the stream reads from the broker again');
        failures = 0;
      } catch (e) {
        if (stopped) return;
        const err = e as KafkaError;
        const refused = refusal(err);
        if (refused) {
          log?.error({ err: refused }, 'the stream stopped: Kafka refused a fetch');
          stopped = true;
          opts.onFatal?.(refused);
          return;
        }
        try {
          const at = typeof err.partition === 'number' ? fetchedAt?.get(err.partition) : undefined;
          if (err.name === 'KafkaJSOffsetOutOfRange' && at !== undefined) {
            if (!(await outOfRange(err.partition!, at))) await sleep(RETRY_MIN_MS);
            continue;
          }
          failures++;
          if (failures === 1) log?.warn({ err, broker: nodeId }, 'a stream fetch failed; retrying');
          else log?.debug({ err, broker: nodeId, failures }, 'a stream fetch failed again');
          if (err.name === 'KafkaJSConnectionClosedError' && err.host && err.port) cluster.removeBroker({ host: err.host, port: err.port });
          await sleep(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 5)));
          if (stopped) return;
          await cluster.refreshMetadata().catch((e2: unknown) => log?.debug({ err: e2 }, 'metadata read failed'));
        } catch (e2) {
          // Reading the offsets after OFFSET_OUT_OF_RANGE failed: the next round asks again.
          log?.debug({ err: e2 }, 'the stream could not read the partition offsets');
          await sleep(RETRY_MIN_MS);
        }
      }
    }
  }

  /** A loop for every leader that has none (at the start, after a leader moved or a broker came back). */
  function reconcile(): void {
    if (stopped) return;
    let byPartition: Map<number, number>;
    try {
      byPartition = leaders();
    } catch {
      return; // metadata not loaded (being re-read): the next round
    }
    for (const nodeId of new Set(byPartition.values())) {
      if (loops.has(nodeId)) continue;
      const l = loop(nodeId).finally(() => {
        if (loops.get(nodeId) === l) loops.delete(nodeId);
      });
      loops.set(nodeId, l);
    }
  }
  reconcile();
  // Leaders with no loop yet (a partition whose leader was unknown, a leader move): looked for every second, on
  // metadata at most CONSUMER_METADATA_MAX_AGE_MS old (one refresh at a time; a failed one keeps the metadata it had).
  let refreshing: Promise<void> | null = null;
  const timer = setInterval(() => {
    reconcile();
    refreshing ??= cluster
      .refreshMetadataIfNecessary()
      .catch((err: unknown) => log?.debug({ err }, 'metadata read failed'))
      .then(() => {
        refreshing = null;
        reconcile();
      });
  }, 1_000);
  timer.unref();

  const positions = new Map<number, bigint>();
  let stopping: Promise<void> | null = null;
  return {
    get positions() {
      positions.clear();
      for (const [p, st] of states) positions.set(p, st.next);
      return positions;
    },
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearInterval(timer);
        for (const w of [...wakeups]) w();
        // A fetch in flight ends within its max wait, and then every loop ends. A broker that does not answer (or
        // kafkajs retrying a connection) would hold a loop, and kafkajs' disconnect (it waits for the requests in
        // flight), for the request timeout: after STOP_WAIT_MS stop returns, and the connections are closed in the
        // background, again once everything has settled (a late step may have opened one).
        const settled = Promise.all([...loops.values(), refreshing, handling]);
        const closeAll = () => cluster.disconnect().catch((err: unknown) => log?.debug({ err }, 'stream connections did not close cleanly'));
        const late = await Promise.race([settled.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), STOP_WAIT_MS).unref())]);
        if (!late) await closeAll();
        else {
          log?.debug('the stream stops with a request in flight; its connections close in the background');
          void closeAll().then(() => settled.then(closeAll));
        }
      })();
      return stopping;
    },
  };
}
