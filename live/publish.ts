// Mutations publish<Type> / publish<Type>Batch: inputs checked with the ingestion's own decoder (what is accepted here
// lands in the lake), keyed by the dataset's key field, written with acks=all, answered only after the broker's ack.
// Invariant: a result is returned only for a write the broker acknowledged; any failure is an error, never a success.

import type { Logger } from 'pino';
import type { Dataset } from '../config';
import { GatewayError, badInput } from '../errors';
import { createDocEncoder } from '../ingestion/decode';
import { withDeadline, type KafkaClient, type LakegateProducer } from '../kafka';

export interface PublishResult {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
}

export interface Publisher {
  /** keys[i] overrides the key of inputs[i] (undefined: from the dataset's key field). */
  publish(ds: Dataset, inputs: ReadonlyArray<Record<string, unknown>>, keys?: ReadonlyArray<string | null | undefined>): Promise<PublishResult[]>;
  close(): Promise<void>;
}

export const MAX_BATCH = 10_000;

export function createPublisher(kafka: KafkaClient, logger: Logger): Publisher {
  let producer: Promise<LakegateProducer> | null = null;
  const encoders = new Map<string, ReturnType<typeof createDocEncoder>>();
  const getProducer = () => {
    // Few retries and a 10 s request timeout: a client waiting on a mutation wants an answer; with kafkajs' defaults a
    // broker that stops answering held a publish ~35 s.
    producer ??= kafka.createProducer({ idempotent: true, retries: 3, requestTimeoutMs: 10_000 }).catch((e) => {
      producer = null;
      throw e;
    });
    return producer;
  };

  return {
    async publish(ds, inputs, keys) {
      if (inputs.length === 0) return [];
      if (inputs.length > MAX_BATCH) throw new GatewayError('LIMIT_EXCEEDED', `at most ${MAX_BATCH} events per batch`, { details: { max: MAX_BATCH } });
      let encode = encoders.get(ds.name);
      if (!encode) encoders.set(ds.name, (encode = createDocEncoder(ds)));
      const messages = inputs.map((input, i) => {
        const doc: Record<string, unknown> = {};
        for (const f of ds.fields) {
          const v = input[f.name];
          if (v !== undefined) doc[f.name] = v;
        }
        // Checked as ingestion will check the bytes (the doc is what JSON.parse gives back of them). The value is a
        // string: kafkajs writes it straight into the request (a Buffer would be one more allocation and copy).
        const res = encode!(doc);
        if (!res.ok) throw badInput(inputs.length > 1 ? `inputs[${i}]: ${res.error}` : res.error);
        const value = res.text;
        const given = keys?.[i];
        const keyField = ds.key ? doc[ds.key] : undefined;
        const key = given !== undefined ? given : keyField === undefined || keyField === null ? null : String(keyField);
        return { key, value };
      });
      // Connecting is bounded (nothing is sent yet, so giving up is clean); kafkajs alone would retry ~30 s.
      const p = await withDeadline(getProducer(), 5_000, () => new GatewayError('BROKER_UNAVAILABLE', 'no Kafka broker answered within 5 s; nothing was published'));
      const placed = await p.sendEach(ds.topic, messages);
      logger.debug({ dataset: ds.name, events: placed.length }, 'published');
      // A request's records share one timestamp (or a few): convert each distinct one once.
      let lastTs = '';
      let lastIso = '';
      const iso = (t: string) => (t === lastTs ? lastIso : ((lastTs = t), (lastIso = new Date(Number(t)).toISOString())));
      return placed.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset.toString(), timestamp: iso(r.timestamp) }));
    },
    async close() {
      const p = producer;
      producer = null;
      if (p) await (await p.catch(() => null))?.disconnect();
    },
  };
}
