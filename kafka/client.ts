// The only module that imports kafkajs: one client per process, producers, group consumers and offset look-ups.
// Invariant: kafkajs failures leave this folder as GatewayError BROKER_UNAVAILABLE (the cause kept for the logs).

import { Kafka, logLevel, CompressionTypes, type Consumer, type EachBatchPayload, type IHeaders, type Producer, type KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { GatewayError } from '../errors';

export type { EachBatchPayload, KafkaMessage, IHeaders };

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
}

export interface KafkaClient {
  readonly kafka: Kafka;
  /** Low and high watermarks of every partition of a topic. */
  topicOffsets(topic: string): Promise<Array<{ partition: number; low: bigint; high: bigint }>>;
  createProducer(opts?: { idempotent?: boolean }): Promise<LakegateProducer>;
  createConsumer(groupId: string, opts?: ConsumerOptions): Consumer;
  close(): Promise<void>;
}

export interface ConsumerOptions {
  sessionTimeout?: number;
  heartbeatInterval?: number;
  maxBytesPerPartition?: number;
  rebalanceTimeout?: number;
}

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

export interface LakegateProducer {
  /** Resolves once the broker acknowledged (acks=all) every message; one result per partition written. */
  send(topic: string, messages: OutgoingMessage[]): Promise<SendResult[]>;
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

export function brokerError(message: string, cause: unknown): GatewayError {
  return new GatewayError('BROKER_UNAVAILABLE', message, { cause });
}

export function createKafkaClient(settings: KafkaSettings, logger?: Logger): KafkaClient {
  const kafka = new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 },
  });
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

  return {
    kafka,
    async topicOffsets(topic) {
      try {
        const a = await getAdmin();
        const res = await a.fetchTopicOffsets(topic);
        return res.map((r) => ({ partition: r.partition, low: BigInt(r.low), high: BigInt(r.high) }));
      } catch (cause) {
        throw brokerError(`could not read the offsets of topic "${topic}"`, cause);
      }
    },
    async createProducer(opts = {}) {
      let idempotent = opts.idempotent ?? true;
      const make = () => kafka.producer({ idempotent, maxInFlightRequests: 1, allowAutoTopicCreation: true });
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
      const wrapped: LakegateProducer = {
        async send(topic, messages) {
          try {
            const res = await p.send({
              topic,
              acks: -1,
              compression: CompressionTypes.None,
              messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers, partition: m.partition, timestamp: m.timestamp })),
            });
            return res.map((r) => ({ topic: r.topicName, partition: r.partition, baseOffset: BigInt(r.baseOffset ?? '-1'), timestamp: r.logAppendTime && r.logAppendTime !== '-1' ? r.logAppendTime : '' }));
          } catch (cause) {
            throw brokerError(`the broker did not acknowledge the write to "${topic}"`, cause);
          }
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
        maxWaitTimeInMs: 100,
        allowAutoTopicCreation: true,
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
