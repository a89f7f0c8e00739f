// Kafka → lake, exactly once: a consumer group reads the catalog's topics; records become rows in staging segments
// that are committed as data files. Invariants: the lake (not the group) says where to resume; a Kafka offset is
// committed only after the file holding it is durable; a poison record is in the dead-letter topic before any file
// whose range covers it is committed; a partition that cannot dead-letter stops instead of skipping.
// Parallelism: a batch's records are decoded and serialized at once by the decode pool (worker threads, see
// decode-pool.ts; same results as on this thread), while kafkajs hands this thread other partitions' batches
// (`partitionsConsumedConcurrently`); every decision about a record (dead letter, rotation, offsets, commits) is
// still taken here, in offset order, one batch per partition at a time.

import os from 'node:os';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Catalog, Dataset, IngestSettings } from '../config';
import { positionCheck, type Consumer, type EachBatchPayload, type KafkaClient, type KafkaMessage, type LakegateProducer } from '../kafka';
import { FencedError, compactDataset, createLakeWriter, partitionDir, type LakeEngine, type LakeWriter, type Segment, type StagedRow } from '../lake';
import { RecordStatus, raise, type ThrownError } from './decode-batch';
import { createDecodePool, type DecodePool } from './decode-pool';
import type { SerializedRows } from '../lake/writer';

export interface IngesterOptions {
  catalog: Catalog;
  engine: LakeEngine;
  kafka: KafkaClient;
  logger: Logger;
  /** Datasets to ingest (default: all of the catalog's). */
  datasets?: readonly Dataset[];
  registry?: Registry;
  settings?: Partial<IngestSettings>;
  /** Called when the consumer stopped for good (kafkajs will not restart it); `lakegate ingest` exits non-zero. */
  onFatal?: (err: Error) => void;
  /** Queries in this process read the unflushed segments (`serve --ingest`): keep committed ones a while for them. */
  queryable?: boolean;
  /**
   * Worker threads that decode and serialize batches (0: on the ingestion thread). Default: 2 when the machine has
   * more than one CPU (measured best on 2 cores: see bench/README.md). Results are the same either way.
   */
  decodeWorkers?: number;
  /** Partitions whose batches are handled at once (kafkajs keeps one batch per partition at a time). Default: 8 with workers, else 1. */
  partitionsConsumedConcurrently?: number;
}

export interface PartitionStatus {
  dataset: string;
  topic: string;
  partition: number;
  /** Next offset to consume (null before the first batch after an assignment). */
  next: string | null;
  /** Last offset whose data file is committed. */
  committed: string | null;
  highWatermark: string | null;
  stopped: string | null;
}

export interface IngestStats {
  records: number;
  deadLettered: number;
  files: number;
}

export interface Ingester {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Unflushed segments, for queries that merge them with the files (in-process ingestion). */
  liveSegments(ds: Dataset): Segment[];
  /** Messages in Kafka that this ingester has not consumed yet, per dataset (null when unknown). */
  lag(ds: Dataset): bigint | null;
  partitions(): PartitionStatus[];
  stats(ds: Dataset): IngestStats;
  /** Resolves once every open segment is committed (used by `lakegate ingest` on shutdown and by tests). */
  flush(): Promise<void>;
}

interface PartState {
  readonly ds: Dataset;
  readonly topic: string;
  readonly partition: number;
  /** Next offset to consume; null until recovered from the lake. */
  next: bigint | null;
  /** The next batch must start exactly at `next` (after a recovery or a pause): anything else is sought. */
  needSeek: boolean;
  seg: Segment | null;
  segOpenedAt: number;
  /** Closed segments waiting in `chain` for their commit, oldest first. */
  queued: Set<Segment>;
  chain: Promise<void>;
  pendingBytes: number;
  committedEnd: bigint | null;
  highWatermark: bigint | null;
  busy: boolean;
  /** Bumped by every reset: a batch in flight across a reset must not touch the partition's new state. */
  gen: number;
  /** Recovery started at the assignment, before the partition's first batch (errors: retried by that batch). */
  recovering: Promise<void> | null;
  stopped: string | null;
}

const DLQ_RETRY_MS = 10_000;
/** A file is committed on catching up with a backlog (flushDue) only once it has been open this long. */
const CATCH_UP_MIN_OPEN_MS = 1_000;

export function createIngester(opts: IngesterOptions): Ingester {
  const { catalog, engine, kafka, logger } = opts;
  const settings: IngestSettings = { ...catalog.ingest, ...opts.settings };
  const datasets = opts.datasets ?? catalog.datasets;
  const byTopic = new Map<string, Dataset>();
  for (const ds of datasets) byTopic.set(ds.topic, ds);
  const log = logger.child({ component: 'ingest' });
  // LAKEGATE_DECODE_WORKERS / LAKEGATE_INGEST_CONCURRENCY override the defaults (operations, benchmarks).
  const envInt = (name: string) => (process.env[name] && /^\d+$/.test(process.env[name]!) ? Number(process.env[name]) : undefined);
  const decodeWorkers = opts.decodeWorkers ?? envInt('LAKEGATE_DECODE_WORKERS') ?? (os.availableParallelism() > 1 ? 2 : 0);
  const concurrency = Math.max(1, opts.partitionsConsumedConcurrently ?? envInt('LAKEGATE_INGEST_CONCURRENCY') ?? (decodeWorkers > 0 ? 8 : 1));
  let pool: DecodePool = createDecodePool(datasets, decodeWorkers);
  const writer: LakeWriter = createLakeWriter(engine, {
    rowGroupSize: settings.rowGroupSize,
    // A query may have listed the files just before a segment's rename; nobody queries an ingest-only worker.
    retireAfterMs: opts.queryable ? catalog.server.limits.queryTimeoutMs * 2 + 5_000 : 0,
    log: (level, msg, extra) => log[level](extra ?? {}, msg),
  });
  const states = new Map<string, PartState>();
  const counts = new Map<string, IngestStats>(datasets.map((ds) => [ds.name, { records: 0, deadLettered: 0, files: 0 }]));
  let consumer: Consumer | null = null;
  let dlq: LakegateProducer | null = null;
  /** The dead-letter producer being created: batches of several partitions may need it at once. */
  let dlqConnecting: Promise<LakegateProducer> | null = null;
  let running = false;
  let flushTimer: NodeJS.Timeout | null = null;
  const retryTimers = new Set<NodeJS.Timeout>();
  let compactTimer: NodeJS.Timeout | null = null;
  let compacting: Promise<void> = Promise.resolve();
  const compactAll = async () => {
    const c = settings.compaction;
    for (const ds of datasets) {
      if (!running) return;
      try {
        const r = await compactDataset(engine, ds, { targetBytes: c.targetBytes, minFiles: c.minFiles, rowGroupSize: settings.rowGroupSize, log: (m, x) => log.info(x ?? {}, m) });
        if (r.written || r.removedCovered || r.removedTmp) log.info({ dataset: ds.name, ...r }, 'compaction run');
      } catch (err) {
        log.error({ err, dataset: ds.name }, 'compaction failed; retried on the next run');
      }
    }
  };

  const reg = opts.registry;
  const mRecords = reg && new Counter({ name: 'lakegate_ingest_records_total', help: 'Records written to the lake', labelNames: ['dataset'], registers: [reg] });
  const mDead = reg && new Counter({ name: 'lakegate_ingest_dead_letters_total', help: 'Records sent to the dead-letter topic', labelNames: ['dataset'], registers: [reg] });
  const mFiles = reg && new Counter({ name: 'lakegate_ingest_files_total', help: 'Data files committed', labelNames: ['dataset'], registers: [reg] });
  const mCommit = reg && new Histogram({ name: 'lakegate_ingest_commit_seconds', help: 'Time to write and commit one data file', labelNames: ['dataset'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [reg] });
  const mLag = reg && new Gauge({ name: 'lakegate_ingest_lag_messages', help: 'Messages in Kafka not yet consumed', labelNames: ['dataset'], registers: [reg] });

  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

  /**
   * partitionDir, remembered for the last UTC day (or hour, when partitioned by hour) seen per dataset: a directory
   * is a function of it. A time partitionDir refuses is never remembered, so it still throws.
   */
  const dirMemo = new Map<string, { unit: number; dir: string }>();
  const dirOf = (ds: Dataset, ms: number): string => {
    if (ds.partitionBy === 'none') return '';
    let m = dirMemo.get(ds.name);
    const unit = Math.floor(ms / (ds.partitionBy === 'hour' ? 3_600_000 : 86_400_000));
    if (m && m.unit === unit) return m.dir;
    const dir = partitionDir(ds, ms);
    if (!m) dirMemo.set(ds.name, (m = { unit, dir }));
    m.unit = unit;
    m.dir = dir;
    return dir;
  };
  const stateOf = (ds: Dataset, topic: string, partition: number): PartState => {
    const k = key(topic, partition);
    let st = states.get(k);
    if (!st) {
      st = { ds, topic, partition, next: null, needSeek: false, seg: null, segOpenedAt: 0, queued: new Set(), chain: Promise.resolve(), pendingBytes: 0, committedEnd: null, highWatermark: null, busy: false, gen: 0, recovering: null, stopped: null };
      states.set(k, st);
    }
    return st;
  };

  /** Bytes staged for data files not committed yet (open segments and those queued for their commit). */
  const totalPending = () => {
    let n = 0;
    for (const st of states.values()) n += st.pendingBytes + (st.seg?.staged ?? 0);
    return n;
  };

  /** Forget what we hold for a partition: the next batch re-reads where the lake ends. */
  const reset = (st: PartState) => {
    st.gen++;
    if (st.seg) writer.abandon(st.seg);
    st.seg = null;
    st.next = null;
    st.needSeek = false;
  };

  const commitKafkaOffset = async (st: PartState, next: bigint) => {
    try {
      await consumer?.commitOffsets([{ topic: st.topic, partition: st.partition, offset: next.toString() }]);
    } catch (err) {
      // Harmless: the lake, not the group, says where to resume.
      log.debug({ err, topic: st.topic, partition: st.partition }, 'offset commit to the group failed');
    }
  };

  /** Close the open segment and queue its commit behind the partition's earlier commits. */
  const rotate = (st: PartState) => {
    const seg = st.seg;
    if (!seg) return;
    st.seg = null;
    const myGen = st.gen;
    const bytes = seg.staged;
    st.pendingBytes += bytes;
    st.queued.add(seg);
    st.chain = st.chain.then(async () => {
      const t0 = process.hrtime.bigint();
      try {
        if (seg.state !== 'open') return;
        const res = await writer.commit(seg);
        if (res.file) {
          counts.get(st.ds.name)!.files++;
          mFiles?.inc({ dataset: st.ds.name });
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
          mCommit?.observe({ dataset: st.ds.name }, seconds);
          log.debug({ file: res.file, rows: res.rows, ms: Math.round(seconds * 1000) }, 'committed a data file');
        }
        st.committedEnd = seg.end;
        // Not awaited: a slow coordinator must not hold the next file commits (the lake is the source of truth).
        if (st.gen === myGen) void commitKafkaOffset(st, seg.end + 1n);
      } catch (err) {
        if (err instanceof FencedError) log.warn({ topic: st.topic, partition: st.partition, start: String(err.start) }, 'another ingester committed these offsets first; re-reading where the lake ends');
        else log.error({ err, topic: st.topic, partition: st.partition }, 'a data file could not be committed; re-reading from the lake');
        // The segments queued behind this one continue its offsets: committed without it they would leave a gap that
        // recovery (which resumes after the newest file) never fills. Drop them too and re-read where the lake ends.
        for (const q of st.queued) if (q !== seg) writer.abandon(q);
        reset(st);
        // Kafka may have handed us every record after these already: with no new record there would be no next batch
        // to re-read from. Seek back to this segment's start (re-reading is safe: the next batch recovers where the lake ends).
        if (states.get(key(st.topic, st.partition)) === st) {
          try {
            consumer?.seek({ topic: st.topic, partition: st.partition, offset: seg.start.toString() });
          } catch (e) {
            log.debug({ err: e, topic: st.topic, partition: st.partition }, 'could not seek back after a failed commit');
          }
        }
      } finally {
        st.queued.delete(seg);
        st.pendingBytes -= bytes;
      }
    });
  };

  const deadLetter = async (st: PartState, msg: KafkaMessage, error: string): Promise<boolean> => {
    try {
      if (!dlq) {
        dlqConnecting ??= kafka.createProducer({ idempotent: true }).finally(() => {
          dlqConnecting = null;
        });
        const p = await dlqConnecting;
        dlq ??= p;
      }
      await dlq.send(st.ds.dlqTopic, [
        {
          key: msg.key,
          value: msg.value,
          headers: {
            ...(msg.headers ?? {}),
            'lakegate.errors.topic': st.topic,
            'lakegate.errors.partition': String(st.partition),
            'lakegate.errors.offset': msg.offset,
            'lakegate.errors.timestamp': msg.timestamp,
            'lakegate.errors.dataset': st.ds.name,
            'lakegate.errors.message': error,
          },
        },
      ]);
      counts.get(st.ds.name)!.deadLettered++;
      mDead?.inc({ dataset: st.ds.name });
      log.warn({ topic: st.topic, partition: st.partition, offset: msg.offset, error, dlq: st.ds.dlqTopic }, 'dead-lettered a record');
      return true;
    } catch (err) {
      log.error({ err, topic: st.topic, partition: st.partition, offset: msg.offset }, 'dead-lettering failed');
      return false;
    }
  };

  /** A record that cannot even be dead-lettered stops its partition (never skipped); retried after a pause. */
  const stopPartition = (st: PartState, offset: bigint, why: string) => {
    st.stopped = `stopped at offset ${offset}: ${why}`;
    log.error({ topic: st.topic, partition: st.partition, offset: String(offset), dlq: st.ds.dlqTopic }, `partition stopped: ${why}`);
    consumer?.pause([{ topic: st.topic, partitions: [st.partition] }]);
    const t = setTimeout(() => {
      retryTimers.delete(t);
      if (!running) return;
      st.stopped = null;
      st.needSeek = true;
      consumer?.resume([{ topic: st.topic, partitions: [st.partition] }]);
    }, DLQ_RETRY_MS);
    t.unref();
    retryTimers.add(t);
  };

  const recover = async (st: PartState) => {
    const gen = st.gen;
    // Commits queued before a reset (e.g. of the last generation) still land: where the lake ends is known after them
    // (read before, it would send us back over their records, only to be fenced when we commit those again).
    await st.chain;
    if (st.gen !== gen) return;
    let next = await writer.recover(st.ds, st.topic, st.partition);
    if (next === null) {
      // Nothing in the lake yet: start at the oldest record Kafka still has, whatever the group committed.
      // (Shared by the partitions recovering at about the same time: one admin request for an assignment.)
      next = (await kafka.logStart(st.topic, st.partition)) ?? 0n;
    }
    if (st.gen !== gen) return;
    st.next = next;
    st.committedEnd = next - 1n;
    st.needSeek = true;
  };

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    const ds = byTopic.get(batch.topic);
    if (!ds) return resolveOffset(batch.lastOffset());
    const st = stateOf(ds, batch.topic, batch.partition);
    if (st.stopped) return;
    st.highWatermark = BigInt(batch.highWatermark);
    // A reset (new group generation, failed commit) while this batch is in flight: stop, touch nothing.
    const myGen = st.gen;
    st.busy = true;
    try {
      // Usually already recovered since the assignment (see GROUP_JOIN); otherwise (or if that failed) now.
      if (st.next === null && st.recovering) await st.recovering;
      if (st.next === null) await recover(st);
      if (st.gen !== myGen || st.next === null) return;
      const position = await positionCheck(batch, st.next, st.needSeek, () => kafka.logStart(st.topic, st.partition));
      if (st.gen !== myGen) return;
      if (position.gapFrom !== undefined) {
        log.warn({ topic: st.topic, partition: st.partition, from: String(position.gapFrom), to: String(position.next - 1n) }, 'offsets no longer in Kafka (retention or compaction) before they reached the lake');
      }
      st.next = position.next;
      if (position.action === 'seek') {
        // Not where the lake ends: ask for exactly that offset (kafkajs drops fetches older than a seek). The batch is
        // left unresolved, so the seek stands whichever broker's fetcher applies it.
        log.debug({ topic: st.topic, partition: st.partition, first: batch.messages[0]!.offset, seek: String(st.next) }, 'seeking to where the lake ends');
        st.needSeek = true;
        consumer!.seek({ topic: st.topic, partition: st.partition, offset: st.next.toString() });
        return;
      }
      st.needSeek = false;
      // Backpressure: records waiting for their file are bounded, whatever the backlog. Over the bound, every open
      // segment is cut (one file per partition, not many small ones of this partition), and consumption waits until
      // commits bring the staged bytes back under it. Checked before a batch is staged too: with several partitions'
      // batches in flight at once, each of them would otherwise pass the bound by up to a fetch.
      const relieve = async () => {
        while (running && totalPending() > settings.maxBufferedBytes && st.gen === myGen) {
          for (const o of states.values()) if (o.seg && o.seg.rows > 0 && (o === st || !o.busy)) rotate(o);
          const chains = [...states.values()].map((s) => s.chain);
          await Promise.race([Promise.all(chains), new Promise((r) => setTimeout(r, 1_000))]);
          await heartbeat();
        }
      };
      await relieve();
      if (st.gen !== myGen) return;
      const { maxRows, maxBytes, maxRecordSpanMs } = settings.rotate;
      // The records to read (those before st.next were had already), decoded and serialized at once, off this thread
      // when the pool has workers; what happens to each one is decided below, in offset order, as before.
      let from = 0;
      while (from < batch.messages.length && BigInt(batch.messages[from]!.offset) < st.next!) from++;
      const msgs = from === 0 ? batch.messages : batch.messages.slice(from);
      const decoded = await pool.decode(ds, msgs);
      if (st.gen !== myGen) return;
      const { data, ends, status, eventTimeMs, errors } = decoded;
      // Rows decoded but not appended yet: records first..last of this batch, contiguous lines of `data`.
      let pFirst = -1;
      let pLast = -1;
      let pRows = 0;
      let pBytes = 0;
      let pLongest = 0;
      let pLastOffset = 0n;
      let pThrown: ThrownError | null = null;
      const flushRows = async () => {
        if (pRows === 0 || !st.seg || st.gen !== myGen) return;
        // As the writer's serialize did: the first row of the chunk that could not be serialized fails it whole.
        if (pThrown) raise(pThrown);
        const chunk: SerializedRows = { data: data.subarray(pFirst === 0 ? 0 : ends[pFirst - 1]!, ends[pLast]!), maxLineBytes: pLongest, rows: pRows, bytes: pBytes, lastOffset: pLastOffset };
        const n = pRows;
        pFirst = pLast = -1;
        pRows = pBytes = pLongest = 0;
        await writer.appendLines(st.seg, chunk);
        counts.get(ds.name)!.records += n;
        mRecords?.inc({ dataset: ds.name }, n);
      };
      for (let i = 0; i < msgs.length; i++) {
        const msg = msgs[i]!;
        // A stop or a pending seek ends the batch early (only a shortcut: what follows a seek is re-fetched and passed
        // over up to st.next, a reset changes st.gen). Checked every 256 records: kafkajs' isStale builds a key each call.
        if (st.gen !== myGen || ((i & 255) === 0 && (!isRunning() || isStale()))) break;
        const offset = BigInt(msg.offset);
        if (offset < st.next!) {
          // Never within a batch (its offsets only grow); were it ever, the pending lines must stay contiguous.
          await flushRows();
          continue;
        }
        const tsMs = Number(msg.timestamp);
        const stat = status[i]!;
        if (stat === RecordStatus.DecodeThrew) raise(errors.get(i) as ThrownError);
        if (stat === RecordStatus.Invalid) {
          await flushRows();
          const sent = await deadLetter(st, msg, errors.get(i) as string);
          if (st.gen !== myGen) break;
          if (!sent) {
            stopPartition(st, offset, `record could not be dead-lettered to "${ds.dlqTopic}"`);
            return;
          }
          if (st.seg) writer.skip(st.seg, offset);
          st.next = offset + 1n;
          continue;
        }
        const et = eventTimeMs[i]!;
        const dir = dirOf(ds, Number.isNaN(et) ? tsMs : et);
        const bytes = (msg.value?.length ?? 0) + (msg.key?.length ?? 0);
        const seg = st.seg;
        if (seg && (seg.dir !== dir || seg.rows + pRows >= maxRows || seg.bytes + pBytes + bytes > maxBytes || tsMs - seg.firstTimestampMs >= maxRecordSpanMs)) {
          await flushRows();
          if (st.gen !== myGen) break;
          rotate(st);
        }
        if (!st.seg) {
          const opened = await writer.open(ds, st.topic, st.partition, dir, offset, tsMs);
          if (st.gen !== myGen) {
            writer.abandon(opened);
            break;
          }
          st.seg = opened;
          st.segOpenedAt = Date.now();
        }
        if (pRows === 0) {
          pFirst = i;
          pThrown = null;
        }
        pLast = i;
        pRows++;
        pBytes += bytes;
        pLastOffset = offset;
        if (stat === RecordStatus.LineThrew) pThrown ??= errors.get(i) as ThrownError;
        const len = ends[i]! - (i === 0 ? 0 : ends[i - 1]!);
        if (len > pLongest) pLongest = len;
        st.next = offset + 1n;
        if (pRows >= 8192) await flushRows();
      }
      await flushRows();
      if (st.gen !== myGen) return;
      if (st.seg) writer.skip(st.seg, st.next! - 1n);
      if (flushDue(st, Date.now())) rotate(st);
      // Resolved only for a batch handled to its end, with no seek pending: kafkajs re-fetches anything else from
      // where it was (records before st.next are passed over), and a pending seek is not overridden.
      if (isStale() || st.next! <= BigInt(batch.messages[batch.messages.length - 1]!.offset)) return;
      resolveOffset(batch.lastOffset());
      await heartbeat();
      await relieve();
    } catch (e) {
      // st.next may already be past rows that never reached the segment (a chunk not appended, a record that threw):
      // kafkajs retries the batch in place, and those offsets would be skipped, the segment's range covering them.
      // Forget the partition's state instead: the retry re-reads where the lake ends (as after a failed commit).
      if (st.gen === myGen) reset(st);
      throw e;
    } finally {
      st.busy = false;
    }
  }

  /**
   * Whether the open file of a partition is to be committed now: it has been open flushIntervalMs; or the partition is
   * caught up (nothing more to read now) with records produced (Kafka time) over flushIntervalMs ago in the file, whose
   * freshness for other processes is then already due — a backlog lands when it is read, not flushIntervalMs after its
   * file was opened, while fresh records (steady state) keep the timer's batching. At most one catch-up commit per
   * partition per CATCH_UP_MIN_OPEN_MS, whatever timestamps producers set.
   */
  const flushDue = (st: PartState, now: number): boolean => {
    const seg = st.seg;
    if (!seg || seg.rows === 0) return false;
    const open = now - st.segOpenedAt;
    if (open >= settings.flushIntervalMs) return true;
    const caughtUp = st.next !== null && st.highWatermark !== null && st.next >= st.highWatermark;
    return caughtUp && open >= CATCH_UP_MIN_OPEN_MS && now - seg.firstTimestampMs >= settings.flushIntervalMs;
  };

  const onTimer = () => {
    const now = Date.now();
    for (const st of states.values()) if (!st.busy && flushDue(st, now)) rotate(st);
    if (mLag) for (const ds of datasets) { const l = api.lag(ds); if (l !== null) mLag.set({ dataset: ds.name }, Number(l)); }
  };

  const api: Ingester = {
    async start() {
      if (running) return;
      running = true;
      consumer = kafka.createConsumer(settings.groupId);
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        // A new generation: whatever we hold may now belong to someone else. Queued commits stay fenced by claims.
        const assigned = new Set<string>();
        for (const [topic, parts] of Object.entries(e.payload.memberAssignment)) for (const p of parts) assigned.add(key(topic, p));
        for (const [k, st] of states) {
          reset(st);
          if (!assigned.has(k)) states.delete(k);
        }
        // Where the lake ends, for every assigned partition at once (one after another in their first batches, a
        // large assignment would wait that long before its first record).
        for (const [topic, parts] of Object.entries(e.payload.memberAssignment)) {
          const ds = byTopic.get(topic);
          if (!ds) continue;
          for (const p of parts) {
            const st = stateOf(ds, topic, p);
            const r: Promise<void> = recover(st)
              .catch((err) => log.debug({ err, topic, partition: p }, 'recovery at the assignment failed; retried by the first batch'))
              .finally(() => {
                if (st.recovering === r) st.recovering = null;
              });
            st.recovering = r;
          }
        }
        log.info({ assignment: e.payload.memberAssignment, memberId: e.payload.memberId }, 'joined the ingestion group');
      });
      consumer.on(consumer.events.CRASH, (e) => {
        log.error({ err: e.payload.error, restart: e.payload.restart }, 'ingestion consumer crashed');
        // kafkajs gives up on non-retriable errors: a worker that silently stopped consuming would be worse than none.
        if (!e.payload.restart && running) opts.onFatal?.(e.payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topics: datasets.map((d) => d.topic), fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: concurrency, eachBatch });
      flushTimer = setInterval(onTimer, Math.min(500, settings.flushIntervalMs));
      flushTimer.unref();
      if (settings.compaction.enabled) {
        compactTimer = setInterval(() => {
          compacting = compacting.then(compactAll);
        }, settings.compaction.intervalMs);
        compactTimer.unref();
      }
    },

    async flush() {
      for (const st of states.values()) if (st.seg && st.seg.rows > 0 && !st.busy) rotate(st);
      await Promise.all([...states.values()].map((s) => s.chain));
    },

    async stop() {
      if (!running) return;
      running = false;
      if (flushTimer) clearInterval(flushTimer);
      if (compactTimer) clearInterval(compactTimer);
      for (const t of retryTimers) clearTimeout(t);
      await compacting;
      // Stop fetching first, then commit what we hold: a clean stop leaves nothing to re-read.
      try {
        await consumer?.stop();
      } catch (err) {
        log.warn({ err }, 'consumer did not stop cleanly');
      }
      for (const st of states.values()) if (st.seg && st.seg.rows > 0) rotate(st);
      await Promise.all([...states.values()].map((s) => s.chain));
      await consumer?.disconnect().catch(() => {});
      consumer = null;
      if (dlq) await dlq.disconnect();
      dlq = null;
      await pool.close();
      pool = createDecodePool(datasets, decodeWorkers);
      await writer.close();
    },

    liveSegments(ds) {
      return writer.liveSegments(ds);
    },

    lag(ds) {
      let total = 0n;
      let known = false;
      for (const st of states.values()) {
        if (st.ds !== ds || st.highWatermark === null || st.next === null) continue;
        known = true;
        const l = st.highWatermark - st.next;
        if (l > 0n) total += l;
      }
      return known ? total : null;
    },

    partitions() {
      return [...states.values()].map((st) => ({
        dataset: st.ds.name,
        topic: st.topic,
        partition: st.partition,
        next: st.next === null ? null : String(st.next),
        committed: st.committedEnd === null ? null : String(st.committedEnd),
        highWatermark: st.highWatermark === null ? null : String(st.highWatermark),
        stopped: st.stopped,
      }));
    },

    stats(ds) {
      return { ...counts.get(ds.name)! };
    },
  };
  return api;
}
