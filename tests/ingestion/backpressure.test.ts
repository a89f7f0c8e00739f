// Backpressure while catching up a backlog: the bytes staged for files not yet committed stay under
// ingest.maxBufferedBytes (plus one fetch), measured independently by sizing `<dataset>/_staging` on disk while the
// ingester runs; and every produced offset still lands exactly once.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { createIngester } from '../../ingestion';
import { buildDevCluster, compareLake, createKafkaLake, lakeEngineAndKafka, orderEvent, quietLogger, trackedProducer, waitFor } from '../helpers/kafka-fixture';

before(buildDevCluster);

const MiB = 1024 * 1024;

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    const st = await fsp.stat(path.join(dir, name)).catch(() => null);
    if (st) n += st.size;
  }
  return n;
}

test('a backlog larger than maxBufferedBytes is staged in bounded pieces and lands exactly once', { timeout: 180_000 }, async (t) => {
  const kl = await createKafkaLake(t, { partitions: 4 });
  const prod = await trackedProducer(kl);
  const N = 24_000;
  for (let b = 0; b < N; b += 1_000) {
    await prod.send(Array.from({ length: 1_000 }, (_, k) => ({ key: `o-${b + k}`, value: JSON.stringify(orderEvent(b + k)), partition: (b + k) % 4 })));
  }
  const limit = 512 * 1024;
  const { engine, kafka } = await lakeEngineAndKafka(kl);
  // A flush interval longer than the test: only the bound cuts files while the backlog is read.
  const ing = createIngester({ catalog: kl.catalog, engine, kafka, logger: quietLogger(), settings: { maxBufferedBytes: limit, flushIntervalMs: 600_000 } });
  const datasetDir = path.join(kl.lakePath, 'orders');
  const stagingDir = path.join(datasetDir, '_staging');
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await dirBytes(stagingDir));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  await ing.start();
  kl.defer(() => ing.stop());
  const ds = kl.catalog.datasetMap.get('orders')!;
  await waitFor('the backlog consumed', () => ing.stats(ds).records >= N, 120_000, 50);
  const filesBeforeFlush = ing.stats(ds).files;
  await ing.flush();
  sampling = false;
  await sampler;

  const res = await compareLake(datasetDir, prod.produced);
  assert.deepEqual({ missing: res.missing.length, extra: res.extra.length, duplicates: res.duplicates, wrong: res.wrong.length }, { missing: 0, extra: 0, duplicates: 0, wrong: 0 });
  assert.equal(res.rows, N);
  // The backlog staged is several times the bound: it was committed in pieces while it was read, not all at the end.
  let staged = 0;
  for (const v of prod.produced.values()) staged += Buffer.byteLength(v);
  assert.ok(staged > 8 * limit, `backlog ${staged} B vs bound ${limit} B`);
  assert.ok(filesBeforeFlush >= 4, `only ${filesBeforeFlush} files were committed before the final flush`);
  // One fetch (at most 1 MiB per partition of Kafka values, staged at about their size) may pass the bound before
  // the check that follows it; nothing more.
  t.diagnostic(`peak staged on disk ${(peak / 1024).toFixed(0)} KiB (bound ${limit / 1024} KiB), ${res.files} files, ${filesBeforeFlush} before the final flush`);
  assert.ok(peak > 0, 'the sampler saw the staging files');
  assert.ok(peak <= limit + 1.5 * MiB, `peak staged ${peak} B > bound ${limit} B + one fetch`);
  // After the final flush nothing is left staged.
  await waitFor('staging files removed', async () => (await dirBytes(stagingDir)) === 0, 10_000, 50);
});
