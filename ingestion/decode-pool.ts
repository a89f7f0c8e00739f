// Decoding and serializing off the ingestion thread: a few worker threads run the batch codec (decode-batch.ts) on a
// partition's batch while the ingestion thread reads other partitions. Invariants: a batch's results are exactly the
// in-thread codec's (same rows, lines, dead-letter messages, exceptions); results of one call come back whole and in
// record order; the caller keeps every ordering and commit rule (it awaits one batch per partition at a time). A worker
// that dies fails its batches (the ingester re-reads them) and is replaced on the next call.

import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Dataset } from '../config';
import { batchCodec, pack, sourceOf, type DecodedBatch, type MessageLike } from './decode-batch';
import type { WorkerReply, WorkerRequest } from './decode-worker';

export interface DecodePool {
  /** Decode and serialize one batch of a dataset's records (in a worker when the pool has any). */
  decode(ds: Dataset, msgs: readonly MessageLike[]): Promise<DecodedBatch>;
  readonly workers: number;
  close(): Promise<void>;
}

/** What a worker needs of a dataset (the catalog's objects hold Maps and relations it has no use for). */
const plainDataset = (ds: Dataset) => ({
  name: ds.name,
  eventTime: ds.eventTime,
  fields: ds.fields.map((f) => ({ name: f.name, type: f.type, list: f.list, required: f.required })),
});

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (b: DecodedBatch) => void; reject: (e: Error) => void }>;
  dead: boolean;
}

/** `workers` 0: the codec runs on the calling thread (same results, no parallelism). */
export function createDecodePool(datasets: readonly Dataset[], workers: number): DecodePool {
  const local = new Map(datasets.map((ds) => [ds.name, batchCodec(ds)]));
  const slots: Array<Slot | null> = new Array(Math.max(0, workers)).fill(null);
  let nextId = 1;
  let closed = false;

  const spawn = (): Slot => {
    const worker = new Worker(path.join(__dirname, 'decode-worker.js'), { workerData: { datasets: datasets.map(plainDataset) } });
    const slot: Slot = { worker, pending: new Map(), dead: false };
    const fail = (err: Error) => {
      slot.dead = true;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    worker.on('message', (r: WorkerReply) => {
      const p = slot.pending.get(r.id);
      if (!p) return;
      slot.pending.delete(r.id);
      if (slot.pending.size === 0) worker.unref();
      if (r.batch) p.resolve(r.batch);
      else p.reject(new Error(`decode worker: ${r.error}`));
    });
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => fail(new Error(`decode worker exited (code ${code})`)));
    // Idle, a worker keeps no process alive; with a batch in flight it does (its answer is awaited).
    worker.unref();
    return slot;
  };

  /** The live worker with the fewest batches in flight (replacing dead ones). */
  const pick = (): Slot => {
    let best: Slot | null = null;
    for (let i = 0; i < slots.length; i++) {
      let s = slots[i];
      if (!s || s.dead) slots[i] = s = spawn();
      if (!best || s.pending.size < best.pending.size) best = s;
    }
    return best!;
  };

  return {
    workers: slots.length,
    async decode(ds, msgs) {
      if (slots.length === 0 || closed) return local.get(ds.name)!(sourceOf(msgs));
      const slot = pick();
      const id = nextId++;
      const records = pack(ds.name, msgs);
      return new Promise<DecodedBatch>((resolve, reject) => {
        if (slot.pending.size === 0) slot.worker.ref();
        slot.pending.set(id, { resolve, reject });
        const req: WorkerRequest = { id, records };
        slot.worker.postMessage(req, [records.bytes.buffer, records.valueStarts.buffer, records.valueLens.buffer, records.keyStarts.buffer, records.keyLens.buffer] as ArrayBuffer[]);
      });
    },
    async close() {
      closed = true;
      await Promise.all(
        slots.map(async (s, i) => {
          slots[i] = null;
          if (s && !s.dead) await s.worker.terminate();
        }),
      );
    },
  };
}
