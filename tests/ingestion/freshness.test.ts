// Ingestion inside the gateway (`serve --ingest`): records are queryable before any file holds them, and at the
// instant they move into a file no query sees one twice or misses one. The oracle is the tracked producer's acks.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startGateway } from '../../server';
import { buildDevCluster, compareLake, createKafkaLake, orderEvent, quietLogger, trackedProducer, visibleFiles, waitFor } from '../helpers/kafka-fixture';
import { gqlData } from '../helpers/lake-fixture';

before(buildDevCluster);

const ALL = `query All($after: String) { ordersConnection(first: 5000, after: $after) { edges { node { id _meta { partition offset } } } pageInfo { hasNextPage endCursor } } }`;

async function allOrders(url: string): Promise<Array<{ id: string; key: string }>> {
  const out: Array<{ id: string; key: string }> = [];
  let after: string | null = null;
  for (;;) {
    const d: any = await gqlData(url, ALL, { after });
    for (const e of d.ordersConnection.edges) out.push({ id: e.node.id, key: `${e.node._meta.partition}:${e.node._meta.offset}` });
    if (!d.ordersConnection.pageInfo.hasNextPage) return out;
    after = d.ordersConnection.pageInfo.endCursor;
  }
}

test('in-process ingestion: unflushed records are queryable, and the move into files shows no row twice or missing', { timeout: 120_000 }, async (t) => {
  const kl = await createKafkaLake(t, {
    // Files only when asked (flush) or past 50k rows: everything below stays in the in-memory segments.
    ingest: `ingest:\n  groupId: fresh\n  flushIntervalMs: 3600000\n  rotate: { maxRows: 50000 }\n  compaction: { enabled: false }\n`,
  });
  const gw = await startGateway({ catalog: kl.catalog, logger: quietLogger(), port: 0, host: '127.0.0.1', ingest: true });
  kl.defer(() => gw.stop());
  const prod = await trackedProducer(kl);
  const N = 1_200;
  await prod.send(Array.from({ length: N }, (_, i) => ({ key: `o-${i}`, value: JSON.stringify(orderEvent(i)), partition: i % 4 })));
  const datasetDir = path.join(kl.lakePath, 'orders');

  // 1. Visible through GraphQL while no data file exists yet.
  const seen = await waitFor('records visible in queries', async () => {
    const rows = await allOrders(gw.url);
    return rows.length === N ? rows : null;
  }, 60_000, 50);
  assert.deepEqual((await visibleFiles(datasetDir)).length, 0, 'no data file yet: the rows came from the unflushed segments');
  assert.deepEqual(new Set(seen.map((r) => r.key)), new Set(prod.produced.keys()));

  // 2. Flush while queries run: every answer holds each record exactly once.
  let stop = false;
  let answers = 0;
  const checker = (async () => {
    while (!stop) {
      const rows = await allOrders(gw.url);
      const keys = new Set(rows.map((r) => r.key));
      assert.equal(rows.length, N, `answer ${answers}: ${rows.length} rows`);
      assert.equal(keys.size, N, `answer ${answers}: duplicates`);
      const agg: any = await gqlData(gw.url, `{ ordersAggregate { count } }`);
      assert.equal(agg.ordersAggregate[0].count, String(N));
      answers++;
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  await gw.ingester!.flush();
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await checker;
  assert.ok(answers >= 2, `queries ran during the flush (${answers})`);
  const files = await visibleFiles(datasetDir);
  assert.ok(files.length >= 4, `files after flush: ${files.length}`);
  const res = await compareLake(datasetDir, prod.produced);
  assert.deepEqual({ missing: res.missing.length, extra: res.extra.length, duplicates: res.duplicates }, { missing: 0, extra: 0, duplicates: 0 });

  // 3. datasets reports the lag from Kafka's watermarks: all consumed.
  const info: any = await gqlData(gw.url, `{ datasets { name lagMessages deadLettered } }`);
  const orders = info.datasets.find((d: any) => d.name === 'orders');
  assert.equal(orders.lagMessages, '0');
  assert.equal(orders.deadLettered, '0');
});
