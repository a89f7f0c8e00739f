// When the open file of a partition is committed, besides its flush interval: a backlog whose records were produced
// (Kafka CreateTime) longer than flushIntervalMs ago is committed as soon as the partition is caught up, one file per
// partition; fresh records keep waiting for the interval (no file per fetch). Checked on the visible files, read
// without lakegate's code, against the producer's acks.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createIngester } from '../../ingestion';
import { buildDevCluster, compareLake, createKafkaLake, lakeEngineAndKafka, orderEvent, quietLogger, trackedProducer, visibleFiles, waitFor, type KafkaLake } from '../helpers/kafka-fixture';

before(buildDevCluster);

const PARTS = 4;
const N = 2_000;
/** Longer than any test here: only the catch-up rule can commit a file before ing.flush(). */
const FLUSH_MS = 600_000;

async function ingestBacklog(t: import('node:test').TestContext, timestamp: number | undefined) {
  const kl: KafkaLake = await createKafkaLake(t, { partitions: PARTS });
  const prod = await trackedProducer(kl);
  for (let b = 0; b < N; b += 500) {
    await prod.send(Array.from({ length: 500 }, (_, k) => ({ key: `o-${b + k}`, value: JSON.stringify(orderEvent(b + k)), partition: (b + k) % PARTS, timestamp })));
  }
  const { engine, kafka } = await lakeEngineAndKafka(kl);
  const ing = createIngester({ catalog: kl.catalog, engine, kafka, logger: quietLogger(), settings: { flushIntervalMs: FLUSH_MS } });
  await ing.start();
  kl.defer(() => ing.stop());
  const ds = kl.catalog.datasetMap.get('orders')!;
  return { kl, prod, ing, ds, datasetDir: path.join(kl.lakePath, 'orders') };
}

test('a backlog produced over flushIntervalMs ago is committed once read: one file per partition, every offset once', { timeout: 120_000 }, async (t) => {
  const { prod, datasetDir } = await ingestBacklog(t, Date.now() - 2 * FLUSH_MS);
  const t0 = Date.now();
  // Without the rule these files would appear only after FLUSH_MS (10 minutes).
  const files = await waitFor('the backlog committed', async () => {
    const res = await compareLake(datasetDir, prod.produced);
    return res.rows === N ? res : null;
  }, 60_000, 100);
  t.diagnostic(`backlog of ${N} committed ${Date.now() - t0} ms after the ingester started, in ${files.files} files`);
  assert.deepEqual({ missing: files.missing.length, extra: files.extra.length, duplicates: files.duplicates, wrong: files.wrong.length }, { missing: 0, extra: 0, duplicates: 0, wrong: 0 });
  // Caught up once per partition: a file each, not one per fetch.
  assert.equal((await visibleFiles(datasetDir)).length, PARTS);
});

test('fresh records wait for the flush interval: caught up, nothing is committed until then', { timeout: 120_000 }, async (t) => {
  const { prod, ing, ds, datasetDir } = await ingestBacklog(t, undefined);
  await waitFor('the records consumed', () => ing.stats(ds).records >= N, 60_000, 50);
  // Past the catch-up rule's minimum time open (1 s) and a few timer ticks.
  await new Promise((r) => setTimeout(r, 3_000));
  assert.deepEqual(await visibleFiles(datasetDir), []);
  await ing.flush();
  const res = await compareLake(datasetDir, prod.produced);
  assert.deepEqual({ missing: res.missing.length, extra: res.extra.length, duplicates: res.duplicates, wrong: res.wrong.length, rows: res.rows }, { missing: 0, extra: 0, duplicates: 0, wrong: 0, rows: N });
});
