// A read of every partition of one topic from chosen offsets, outside any shared consumer group: live tails and the
// catch-up reads of replays. kafkajs has no group-less consumer, so each stream is the only member of a group of its
// own (random id) and never commits; positions live here, in memory, and every (re)join seeks to them.
// Invariant: messages reach onBatch in offset order per partition, each once, starting exactly at the requested
// offset; a gap is accepted only when Kafka, asked for exactly the next offset, answers from a later one (the offsets are
// gone: retention or compaction; see positionCheck).

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Consumer, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { positionCheck, type KafkaClient } from './client';

export interface StreamOptions {
  topic: string;
  /** Next offset to read per partition; a partition not named (added to the topic later) is read from its start. */
  start: ReadonlyMap<number, bigint>;
  /** Called in order, one partition's batch at a time; the stream waits for the returned promise. */
  onBatch(partition: number, messages: KafkaMessage[], highWatermark: bigint): void | Promise<void>;
  /** kafkajs gave up (it does not restart): the stream is dead. */
  onFatal?(err: Error): void;
  /** A purpose for the group id, e.g. "tail" or "catchup" (it shows in the cluster's group list). */
  role: string;
  logger?: Logger;
}

export interface TopicStream {
  /** Next offset to read per partition, as delivered so far. */
  readonly positions: ReadonlyMap<number, bigint>;
  /** Resolves once the group was joined and every partition was sought to its start. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

interface PartState {
  next: bigint;
  /** The next batch must start exactly at `next` (after a join): anything else is sought. */
  needSeek: boolean;
}

export async function openTopicStream(client: KafkaClient, opts: StreamOptions): Promise<TopicStream> {
  const log = opts.logger;
  const states = new Map<number, PartState>();
  for (const [p, o] of opts.start) states.set(p, { next: o, needSeek: true });
  const consumer: Consumer = client.createConsumer(`lakegate-${opts.role}-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`, {
    rebalanceTimeout: 10_000,
    maxWaitTimeInMs: 50,
    allowAutoTopicCreation: false,
  });
  let stopped = false;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    // Every generation starts from our own positions; whatever kafkajs fetched before is dropped by the seek.
    for (const parts of Object.values(e.payload.memberAssignment)) {
      for (const p of parts) {
        const st = states.get(p);
        if (st) {
          st.needSeek = true;
          consumer.seek({ topic: opts.topic, partition: p, offset: st.next.toString() });
        }
      }
    }
    resolveReady();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    log?.warn({ err: e.payload.error, restart: e.payload.restart, topic: opts.topic }, 'Kafka stream consumer crashed');
    if (!e.payload.restart && !stopped) opts.onFatal?.(e.payload.error);
  });

  const stateOf = async (p: number): Promise<PartState> => {
    let st = states.get(p);
    if (!st) {
      // A partition the stream did not know (added to the topic later): new partitions start empty, so read all.
      st = { next: 0n, needSeek: true };
      states.set(p, st);
    }
    return st;
  };

  try {
    await consumer.connect();
    // From the beginning: when Kafka answers a position it no longer has (OFFSET_OUT_OF_RANGE), kafkajs resets to the
    // oldest record it still has, where positionCheck notices the gap (from the newest, nothing would come until a new record).
    await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      // Positions are resolved here, only for a batch delivered whole: a batch left for a seek of ours is not, so that
      // the seek stands even when another broker's fetcher applied it while this batch was still being handled.
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, isRunning, isStale, resolveOffset }) => {
        if (stopped) return;
        const st = await stateOf(batch.partition);
        const position = await positionCheck(batch, st.next, st.needSeek, () => client.logStart(opts.topic, batch.partition));
        if (position.gapFrom !== undefined) {
          log?.warn({ topic: opts.topic, partition: batch.partition, from: String(position.gapFrom), to: String(position.next - 1n) }, 'offsets no longer in Kafka; the stream continues after them');
        }
        st.next = position.next;
        if (position.action === 'seek') {
          st.needSeek = true;
          consumer.seek({ topic: opts.topic, partition: batch.partition, offset: st.next.toString() });
          return;
        }
        st.needSeek = false;
        const first = BigInt(batch.messages[0]!.offset);
        if (!isRunning() || isStale()) return;
        const fresh = first >= st.next ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= st.next);
        if (fresh.length > 0) {
          st.next = BigInt(fresh[fresh.length - 1]!.offset) + 1n;
          await opts.onBatch(batch.partition, fresh, BigInt(batch.highWatermark));
        }
        resolveOffset(batch.lastOffset());
      },
    });
  } catch (err) {
    stopped = true;
    await consumer.disconnect().catch(() => {});
    throw err;
  }

  const positions = new Map<number, bigint>();
  return {
    get positions() {
      positions.clear();
      for (const [p, st] of states) positions.set(p, st.next);
      return positions;
    },
    ready,
    async stop() {
      if (stopped) return;
      stopped = true;
      resolveReady();
      await consumer.disconnect().catch((err) => log?.debug({ err }, 'stream consumer did not disconnect cleanly'));
    },
  };
}
