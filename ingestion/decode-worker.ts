// Worker thread of the decode pool (decode-pool.ts): runs the batch codec of decode-batch.ts on packed records.
// Invariant: a pure function of the request (the catalog's datasets are fixed at start); it holds no state across batches.

import { parentPort, workerData } from 'node:worker_threads';
import type { Dataset } from '../config';
import { batchCodec, unpack, type DecodedBatch, type PackedRecords } from './decode-batch';

export interface WorkerRequest {
  readonly id: number;
  readonly records: PackedRecords;
}

export interface WorkerReply {
  readonly id: number;
  readonly batch?: DecodedBatch;
  readonly error?: string;
}

const datasets = (workerData as { datasets: Dataset[] }).datasets;
const codecs = new Map(datasets.map((ds) => [ds.name, batchCodec(ds)]));

parentPort!.on('message', (req: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const codec = codecs.get(req.records.dataset);
    if (!codec) throw new Error(`no dataset "${req.records.dataset}" in the decode worker`);
    const batch = codec(unpack(req.records));
    reply = { id: req.id, batch };
    parentPort!.postMessage(reply, [batch.data.buffer, batch.ends.buffer, batch.status.buffer, batch.eventTimeMs.buffer] as ArrayBuffer[]);
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    parentPort!.postMessage(reply);
  }
});
