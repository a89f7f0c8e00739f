// One Kafka tail per dataset per gateway process, shared by all its subscribers: reads every partition from the high
// watermarks at open (no consumer group commits), decodes each record once, keeps the most recent events in a ring
// so that replays can join live without a read of their own, and hands each event to its listeners in order.
// Invariant: listeners see the events of each partition in offset order, each once; `positions` after an event is
// exactly what a subscriber that received it (and everything before it) has had.

import type { Logger } from 'pino';
import type { Dataset } from '../config';
import { GatewayError } from '../errors';
import { openTopicStream, withDeadline, type KafkaClient, type TopicStream } from '../kafka';
import { createHeldDecoder, heldRecord, type LiveEvent } from './event';
import { RecordRing } from './ring';

export interface TailListener {
  /** Called synchronously for each event, in tail order; must not throw. */
  onEvent(ev: LiveEvent): void;
  /** The tail died (Kafka gave up): the listener must end. */
  onTailError(err: GatewayError): void;
}

export interface Tail {
  readonly ds: Dataset;
  /** Next offset of each partition (what every listener has been offered). */
  readonly next: ReadonlyMap<number, bigint>;
  /** Events dispatched so far; during a dispatch, the number of the event being dispatched. */
  readonly seq: number;
  /** Cursor of the position right after the event being dispatched (or now, between events). */
  cursor(): string;
  /** Oldest offset of a partition still offered by `replayFrom` (at or below `next`). */
  floor(partition: number): bigint;
  /** Offer the ring's events of these partitions with offset ≥ from[p], in tail order. */
  replayFrom(from: ReadonlyMap<number, bigint>, each: (ev: LiveEvent) => void): void;
  addListener(l: TailListener): void;
  removeListener(l: TailListener): void;
}

export interface TailManagerOptions {
  kafka: KafkaClient;
  logger: Logger;
  bufferEvents: number;
  bufferBytes: number;
  lingerMs: number;
  encodeCursor: (topic: string, next: ReadonlyMap<number, bigint>) => string;
  onChange?: () => void;
}

interface TailImpl extends Tail {
  seq: number;
  users: number;
  stop(): Promise<void>;
  linger: NodeJS.Timeout | null;
  /** Failed or stopped: no longer in the manager's maps (a newer tail of the dataset may be). */
  readonly dead: boolean;
}

export interface TailManager {
  /** The running tail of a dataset, opened if needed (BROKER_UNAVAILABLE when Kafka does not answer). */
  acquire(ds: Dataset): Promise<Tail>;
  release(tail: Tail): void;
  /** Tails open (start offsets read); one still opening is not counted. */
  count(): number;
  close(): Promise<void>;
}

export function createTailManager(opts: TailManagerOptions): TailManager {
  const tails = new Map<string, Promise<TailImpl>>();
  /** Datasets whose tail is open: its start offsets are read, so every later event reaches its subscribers. */
  const opened = new Set<string>();
  const log = opts.logger;

  async function open(ds: Dataset): Promise<TailImpl> {
    let offsets;
    try {
      // Bounded: a subscriber should hear "broker unavailable" in seconds, not after kafkajs' full retry budget.
      offsets = await withDeadline(opts.kafka.topicOffsets(ds.topic), 10_000, () => new GatewayError('BROKER_UNAVAILABLE', `no Kafka broker answered for topic "${ds.topic}"`));
    } catch (e) {
      throw e instanceof GatewayError ? e : new GatewayError('BROKER_UNAVAILABLE', `could not read topic "${ds.topic}"`, { cause: e });
    }
    if (offsets.length === 0) throw new GatewayError('BROKER_UNAVAILABLE', `topic "${ds.topic}" has no partitions`);
    const next = new Map<number, bigint>(offsets.map((o) => [o.partition, o.high]));
    const floors = new Map<number, bigint>(next);
    const decode = createHeldDecoder(ds);
    const listeners = new Set<TailListener>();
    // The ring: the latest records across partitions, in tail order, held outside the JS heap (ring.ts); a record
    // that leaves it raises its partition's floor.
    const ring = new RecordRing(Math.max(1, opts.bufferEvents), Math.max(1, opts.bufferBytes), (p, o) => floors.set(p, o + 1n));
    let cursorMemo: string | null = null;
    let dead = false;

    const fail = (err: GatewayError) => {
      if (dead) return;
      dead = true;
      tails.delete(ds.name);
      opened.delete(ds.name);
      for (const l of [...listeners]) l.onTailError(err);
      listeners.clear();
      void stream?.stop();
      opts.onChange?.();
    };

    let stream: TopicStream | null = null;
    const tail: TailImpl = {
      ds,
      next,
      seq: 0,
      users: 0,
      linger: null,
      get dead() {
        return dead;
      },
      cursor() {
        return (cursorMemo ??= opts.encodeCursor(ds.topic, next));
      },
      floor(p) {
        return floors.get(p) ?? 0n;
      },
      replayFrom(from, each) {
        for (let i = 0; i < ring.length; i++) {
          const f = from.get(ring.partitionAt(i));
          if (f !== undefined && ring.offsetAt(i) >= f) each(decode(ds.topic, ring.recordAt(i)));
        }
      },
      addListener(l) {
        listeners.add(l);
      },
      removeListener(l) {
        listeners.delete(l);
      },
      async stop() {
        dead = true;
        listeners.clear();
        await stream?.stop();
      },
    };

    try {
      stream = await openTopicStream(opts.kafka, {
        topic: ds.topic,
        start: next,
        role: 'live',
        logger: log,
        onFatal: (err) => fail(new GatewayError('BROKER_UNAVAILABLE', `the live stream of "${ds.topic}" stopped`, { cause: err })),
        onBatch: (partition, messages) => {
          if (dead) return;
          if (!floors.has(partition)) floors.set(partition, BigInt(messages[0]!.offset));
          for (const msg of messages) {
            const h = heldRecord(partition, msg);
            const ev = decode(ds.topic, h);
            next.set(partition, ev.offset + 1n);
            cursorMemo = null;
            ring.push(partition, h.offset, h.timestampMs, msg.key, msg.value);
            tail.seq++;
            for (const l of listeners) l.onEvent(ev);
          }
          cursorMemo = null;
        },
      });
    } catch (e) {
      throw e instanceof GatewayError ? e : new GatewayError('BROKER_UNAVAILABLE', `could not open a live stream of "${ds.topic}"`, { cause: e });
    }
    log.info({ dataset: ds.name, topic: ds.topic, partitions: next.size }, 'live tail opened');
    return tail;
  }

  const manager: TailManager = {
    async acquire(ds) {
      let p = tails.get(ds.name);
      if (!p) {
        p = open(ds);
        tails.set(ds.name, p);
        const mine = p;
        p.then(
          () => {
            if (tails.get(ds.name) === mine) opened.add(ds.name);
            opts.onChange?.();
          },
          () => tails.delete(ds.name),
        );
      }
      const t = await p;
      t.users++;
      if (t.linger) {
        clearTimeout(t.linger);
        t.linger = null;
      }
      return t;
    },
    release(tail) {
      const t = tail as TailImpl;
      t.users = Math.max(0, t.users - 1);
      if (t.users > 0 || t.linger || t.dead) return;
      const close = () => {
        t.linger = null;
        // A tail that failed (now, or while it lingered) left the maps already: they may hold a newer tail of the dataset.
        if (t.users > 0 || t.dead) return;
        tails.delete(t.ds.name);
        opened.delete(t.ds.name);
        opts.onChange?.(); // the gauge follows count() at once, not after the consumer's disconnect
        void t.stop().then(() => {
          log.info({ dataset: t.ds.name }, 'live tail closed (no subscriber)');
          opts.onChange?.();
        });
      };
      if (opts.lingerMs === 0) close();
      else {
        t.linger = setTimeout(close, opts.lingerMs);
        t.linger.unref();
      }
    },
    count() {
      return opened.size;
    },
    async close() {
      const all = [...tails.values()];
      tails.clear();
      opened.clear();
      await Promise.all(
        all.map((p) =>
          p.then(
            (t) => {
              if (t.linger) clearTimeout(t.linger);
              return t.stop();
            },
            () => {},
          ),
        ),
      );
    },
  };
  return manager;
}
