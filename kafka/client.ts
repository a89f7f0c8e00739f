// kafka/ is the only folder that imports kafkajs. This file: one client per process, producers, group consumers, offsets.
// Invariant: kafkajs failures leave this folder as GatewayError BROKER_UNAVAILABLE (the cause kept for the logs).

import { Kafka, logLevel, CompressionTypes, Partitioners, type Batch, type Consumer, type EachBatchPayload, type IHeaders, type Producer, type KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { GatewayError } from '../errors';
import { createDefaultPartitioner } from './kafkajs-codecs';
import { installKafkajsIdleLoopFix } from './kafkajs-idle-loop';

export type { EachBatchPayload, KafkaMessage, IHeaders };

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
}

export interface KafkaClient {
  readonly kafka: Kafka;
  /** Low and high watermarks of every partition of a topic. */
  topicOffsets(topic: string): Promise<Array<{ partition: number; low: bigint; high: bigint }>>;
  /**
   * topicOffsets at most 2 s old: one request shared by the callers of that moment (a failed one is not kept). For
   * readers that a moment-old answer serves (a low watermark only moves forward), not for a position to start at.
   */
  recentTopicOffsets(topic: string): Promise<Array<{ partition: number; low: bigint; high: bigint }>>;
  /** The oldest offset Kafka still has in a partition (from recentTopicOffsets); null for a partition it does not list. */
  logStart(topic: string, partition: number): Promise<bigint | null>;
  /**
   * requestTimeoutMs: how long a request may go unanswered (default 30 s, kafkajs' and the Java client's): a broker
   * that keeps its connection open but never answers holds a send that long, before any retry.
   */
  createProducer(opts?: { idempotent?: boolean; retries?: number; requestTimeoutMs?: number }): Promise<LakegateProducer>;
  createConsumer(groupId: string, opts?: ConsumerOptions): Consumer;
  close(): Promise<void>;
}

export interface ConsumerOptions {
  sessionTimeout?: number;
  heartbeatInterval?: number;
  maxBytesPerPartition?: number;
  rebalanceTimeout?: number;
  /** How long a caught-up fetch waits for new records (default 100 ms). */
  maxWaitTimeInMs?: number;
  allowAutoTopicCreation?: boolean;
}

/**
 * How old the consumers' cluster metadata may get. kafkajs fetches only from the brokers its metadata lists, and
 * re-reads it only on an error or after this age (its default: 5 minutes): a partition whose leader was down when the
 * metadata was read (a restarting broker is missing from it) would not be fetched for minutes after the broker is back,
 * with no error anywhere. Java consumers re-read metadata when a partition has no live leader; a short age does the same.
 */
export const CONSUMER_METADATA_MAX_AGE_MS = 3_000;

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: IHeaders;
  partition?: number;
  timestamp?: string;
}

export interface SendResult {
  topic: string;
  partition: number;
  /** Offset of the first message of the request in its partition. */
  baseOffset: bigint;
  timestamp: string;
}

export interface MessagePosition {
  topic: string;
  partition: number;
  offset: bigint;
  /** Kafka record timestamp (epoch ms, as text): the one we set, or the broker's for LogAppendTime topics. */
  timestamp: string;
}

export interface LakegateProducer {
  /** Resolves once the broker acknowledged (acks=all) every message; one result per partition written. */
  send(topic: string, messages: OutgoingMessage[]): Promise<SendResult[]>;
  /**
   * Like send, but answers where each message went: partitions are chosen here with kafkajs' default partitioner
   * (murmur2 of the key, as the Java client; round-robin without a key), so offsets are base + index per partition.
   */
  sendEach(topic: string, messages: OutgoingMessage[]): Promise<MessagePosition[]>;
  disconnect(): Promise<void>;
}

/** kafkajs logs through pino at the same levels; kafkajs' own chatty INFO lines are kept at debug. */
function logCreator(logger: Logger | undefined) {
  return () =>
    ({ level, log }: { namespace: string; level: logLevel; label: string; log: { message: string; [k: string]: unknown } }) => {
      if (!logger) return;
      const { message, ...extra } = log;
      if (level === logLevel.ERROR) logger.warn({ kafka: extra }, message);
      else if (level === logLevel.WARN) logger.info({ kafka: extra }, message);
      else logger.debug({ kafka: extra }, message);
    };
}

/**
 * Where a fetched batch of a partition stands against the next offset wanted from it (`next`), and where to read from:
 * - `read` from `next` (records before it, had already, are for the caller to skip);
 * - `seek` to `next`, then wait for that answer: the batch starts past `next`, or a seek was asked for (`wantSeek`) and
 *   the batch does not start at `next`.
 * `gapFrom` is set when offsets [gapFrom, next) are no longer in Kafka (retention, compaction, transaction markers):
 * either Kafka, asked for exactly `gapFrom`, answered from a later offset, or the partition's log now starts past it
 * (Kafka answers such a fetch with OFFSET_OUT_OF_RANGE, and kafkajs then reads from its reset offset instead). These
 * are the only cases where offsets are passed over. Judged by the offset each batch was fetched at, not by which seek
 * came last: a fetch that another broker's fetcher sent before a leader move can land after our seek was applied.
 */
export async function positionCheck(
  batch: Batch,
  next: bigint,
  wantSeek: boolean,
  logStart: () => Promise<bigint | null>,
): Promise<{ action: 'read' | 'seek'; next: bigint; gapFrom?: bigint }> {
  const first = BigInt(batch.messages[0]!.offset);
  if (first === next) return { action: 'read', next };
  // kafkajs' Batch keeps the offset it was fetched at (not in its type declarations).
  const fetchedAt = (batch as Batch & { fetchedOffset?: string }).fetchedOffset;
  if (fetchedAt !== undefined && BigInt(fetchedAt) === next) return first > next ? { action: 'read', next: first, gapFrom: next } : { action: 'read', next };
  if (!wantSeek && first < next) return { action: 'read', next };
  if (first > next) {
    // Unknown (no answer within 5 s) reads as "not gone": the seek is retried by the next batch, nothing is skipped.
    const low = await withDeadline(logStart(), 5_000, () => new Error('no answer')).catch(() => null);
    if (low !== null && low > next) return { action: first === low ? 'read' : 'seek', next: low, gapFrom: next };
  }
  return { action: 'seek', next };
}

export function brokerError(message: string, cause: unknown): GatewayError {
  return new GatewayError('BROKER_UNAVAILABLE', message, { cause });
}

/**
 * `p`, or the error of `timeout()` once `ms` have passed without it settling (the timer is cleared either way). For
 * waits on Kafka that a client is waiting on in turn: kafkajs alone retries for tens of seconds.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeout()), ms).unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

export function createKafkaClient(settings: KafkaSettings, logger?: Logger): KafkaClient {
  // Every lakegate Kafka client, whichever command or embedding made it: no 1 ms timer loop per broker connection.
  const idle = installKafkajsIdleLoopFix();
  if (!idle.ok) logger?.debug(idle.reason);
  const clientOf = (requestTimeout: number, retry = { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 }) =>
    new Kafka({
      clientId: settings.clientId,
      brokers: [...settings.brokers],
      // kafkajs' own debug lines (fetches, seeks, rebalances) only when lakegate itself logs at debug.
      logLevel: logger?.isLevelEnabled('debug') ? logLevel.DEBUG : logLevel.WARN,
      logCreator: logCreator(logger),
      connectionTimeout: 3_000,
      requestTimeout,
      retry,
    });
  const kafka = clientOf(30_000);
  // Producers that answer a waiting client (publish mutations) give up sooner: on an unanswered request, and on
  // reconnecting to the cluster (the client's own retries: ~30 s of them when every broker is down).
  const quick = new Map<number, Kafka>();
  const clientFor = (requestTimeout: number | undefined) => {
    if (requestTimeout === undefined) return kafka;
    let k = quick.get(requestTimeout);
    if (!k) quick.set(requestTimeout, (k = clientOf(requestTimeout, { initialRetryTime: 100, retries: 3, maxRetryTime: 2_000 })));
    return k;
  };
  let admin: ReturnType<Kafka['admin']> | null = null;
  let adminReady: Promise<void> | null = null;
  const producers = new Set<LakegateProducer>();

  const getAdmin = async () => {
    if (!admin) {
      admin = kafka.admin();
      adminReady = admin.connect();
    }
    try {
      await adminReady;
    } catch (e) {
      admin = null;
      throw e;
    }
    return admin;
  };

  const topicOffsets = async (topic: string) => {
    try {
      const a = await getAdmin();
      const res = await a.fetchTopicOffsets(topic);
      return res.map((r) => ({ partition: r.partition, low: BigInt(r.low), high: BigInt(r.high) }));
    } catch (cause) {
      throw brokerError(`could not read the offsets of topic "${topic}"`, cause);
    }
  };
  const recent = new Map<string, { at: number; offsets: ReturnType<typeof topicOffsets> }>();
  const recentTopicOffsets = (topic: string) => {
    const hit = recent.get(topic);
    if (hit && Date.now() - hit.at < 2_000) return hit.offsets;
    const offsets = topicOffsets(topic);
    recent.set(topic, { at: Date.now(), offsets });
    offsets.catch(() => {
      if (recent.get(topic)?.offsets === offsets) recent.delete(topic);
    });
    return offsets;
  };

  return {
    kafka,
    topicOffsets,
    recentTopicOffsets,
    async logStart(topic, partition) {
      return (await recentTopicOffsets(topic)).find((o) => o.partition === partition)?.low ?? null;
    },
    async createProducer(opts = {}) {
      let idempotent = opts.idempotent ?? true;
      const partitioner = createDefaultPartitioner(Partitioners.DefaultPartitioner());
      const make = () =>
        clientFor(opts.requestTimeoutMs).producer({
          idempotent,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: true,
          // The partitioner sendEach places messages with (kafkajs' default, murmur2 computed here): send places the
          // same way, and kafkajs does not log its "switched default partitioner" notice at every producer.
          createPartitioner: () => partitioner,
          ...(opts.retries === undefined ? {} : { retry: { initialRetryTime: 100, retries: opts.retries, maxRetryTime: 2_000 } }),
        });
      // Partition metadata, as the Java producer keeps it (metadata.max.age.ms): read once, then refreshed in the
      // background after 10 s while the known partitions keep serving, so that a slow or unreachable cluster never
      // adds the admin client's retries (~30 s) to a send; only the first read of a topic waits, at most 5 s.
      const partitionCache = new Map<string, { at: number; meta: Array<{ partitionId: number; leader: number }>; refreshing?: Promise<unknown> }>();
      const firstReads = new Map<string, Promise<Array<{ partitionId: number; leader: number }>>>();
      const readPartitions = async (topic: string) => {
        const a = await getAdmin();
        const md = await a.fetchTopicMetadata({ topics: [topic] });
        const meta = md.topics[0]!.partitions.map((x) => ({ partitionId: x.partitionId, leader: x.leader }));
        partitionCache.set(topic, { at: Date.now(), meta });
        return meta;
      };
      const partitionsOf = async (topic: string) => {
        const hit = partitionCache.get(topic);
        if (hit) {
          if (Date.now() - hit.at >= 10_000 && !hit.refreshing) {
            hit.refreshing = readPartitions(topic).catch(() => {
              hit.refreshing = undefined;
            });
          }
          return hit.meta;
        }
        // One first read per topic, shared by the sends waiting for it (forgotten if it fails).
        let first = firstReads.get(topic);
        if (!first) {
          firstReads.set(topic, (first = readPartitions(topic)));
          void first.then(() => firstReads.delete(topic), () => firstReads.delete(topic));
        }
        return withDeadline(first, 5_000, () => new Error('no answer within 5 s'));
      };
      let p: Producer = make();
      try {
        await p.connect();
      } catch (cause) {
        // kafkajs asks the controller for a producer id; clusters that report no controller (librdkafka's mock,
        // some proxies) cannot give one. Fall back to acks=all with one request in flight: ordered, at-least-once.
        if (idempotent && (cause as Error)?.name === 'KafkaJSBrokerNotFound') {
          logger?.warn('the Kafka cluster reports no controller: producing without idempotence (acks=all, one request in flight)');
          await p.disconnect().catch(() => {});
          idempotent = false;
          p = make();
          try {
            await p.connect();
          } catch (cause2) {
            throw brokerError('could not connect a producer', cause2);
          }
        } else {
          throw brokerError('could not connect a producer', cause);
        }
      }
      // kafkajs spreads every message into its record encoder: give it only the properties that are set.
      const toKafkajs = (m: OutgoingMessage, partition: number | undefined, timestamp: string | undefined) => {
        const o: { key: string | Buffer | null; value: string | Buffer | null; headers?: IHeaders; partition?: number; timestamp?: string } = { key: m.key, value: m.value };
        if (m.headers !== undefined) o.headers = m.headers;
        if (partition !== undefined) o.partition = partition;
        if (timestamp !== undefined) o.timestamp = timestamp;
        return o;
      };
      const sendRaw = async (topic: string, messages: ReturnType<typeof toKafkajs>[]): Promise<SendResult[]> => {
        try {
          const res = await p.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
          // logAppendTime is -1 unless the topic stamps records with broker time; librdkafka's mock sends other
          // small numbers, so only a plausible instant (within a day of now) is taken as the broker's stamp.
          const plausible = (t: string | undefined) => t !== undefined && Math.abs(Number(t) - Date.now()) < 86_400_000;
          return res.map((r) => ({ topic: r.topicName, partition: r.partition, baseOffset: BigInt(r.baseOffset ?? '-1'), timestamp: plausible(r.logAppendTime) ? r.logAppendTime! : '' }));
        } catch (cause) {
          throw brokerError(`the broker did not acknowledge the write to "${topic}"`, cause);
        }
      };
      const wrapped: LakegateProducer = {
        send(topic, messages) {
          return sendRaw(topic, messages.map((m) => toKafkajs(m, m.partition, m.timestamp)));
        },
        async sendEach(topic, messages) {
          let meta;
          try {
            meta = await partitionsOf(topic);
          } catch (cause) {
            throw brokerError(`could not read the partitions of "${topic}"`, cause);
          }
          if (meta.length === 0) throw brokerError(`topic "${topic}" has no partitions`, null);
          const now = String(Date.now());
          const placed = messages.map((m) => toKafkajs(m, m.partition ?? partitioner({ topic, partitionMetadata: meta as never, message: { key: m.key, value: m.value } }), m.timestamp ?? now));
          const results = await sendRaw(topic, placed);
          const base = new Map(results.map((r) => [r.partition, r]));
          const seen = new Map<number, bigint>();
          return placed.map((m) => {
            const partition = m.partition!;
            const r = base.get(partition);
            if (!r || r.baseOffset < 0n) throw brokerError(`the broker did not report an offset for partition ${partition} of "${topic}"`, null);
            const i = seen.get(partition) ?? 0n;
            seen.set(partition, i + 1n);
            return { topic, partition, offset: r.baseOffset + i, timestamp: r.timestamp || m.timestamp! };
          });
        },
        async disconnect() {
          producers.delete(wrapped);
          await p.disconnect().catch(() => {});
        },
      };
      producers.add(wrapped);
      return wrapped;
    },
    createConsumer(groupId, opts = {}) {
      return kafka.consumer({
        groupId,
        sessionTimeout: opts.sessionTimeout ?? 10_000,
        heartbeatInterval: opts.heartbeatInterval ?? 1_000,
        rebalanceTimeout: opts.rebalanceTimeout ?? 20_000,
        maxBytesPerPartition: opts.maxBytesPerPartition ?? 1024 * 1024,
        maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 100,
        allowAutoTopicCreation: opts.allowAutoTopicCreation ?? true,
        metadataMaxAge: CONSUMER_METADATA_MAX_AGE_MS,
        retry: { initialRetryTime: 100, retries: 10, maxRetryTime: 5_000 },
      });
    },
    async close() {
      await Promise.all([...producers].map((p) => p.disconnect()));
      if (admin) await admin.disconnect().catch(() => {});
      admin = null;
    },
  };
}
