// Ingestion end to end on the dev Kafka cluster and real DuckDB: the lake must hold exactly the produced set of
// (partition, offset), read back by an independent DuckDB over the visible files; poison records land in the DLQ.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { createIngester } from '../../ingestion';
import { buildDevCluster, compareLake, createKafkaLake, lakeEngineAndKafka, orderEvent, quietLogger, trackedProducer, waitFor } from '../helpers/kafka-fixture';

before(buildDevCluster);

test('every produced event lands exactly once; poison records go to the DLQ with their source headers', { timeout: 120_000 }, async (t) => {
  const kl = await createKafkaLake(t);
  const { engine, kafka } = await lakeEngineAndKafka(kl);
  const ing = createIngester({ catalog: kl.catalog, engine, kafka, logger: quietLogger() });
  await ing.start();
  kl.defer(() => ing.stop());

  const prod = await trackedProducer(kl);
  const poison = [
    { value: '{not json', why: /invalid JSON/ },
    { value: JSON.stringify({ ...orderEvent(1), amount: 'lots' }), why: /field "amount"/ },
    { value: JSON.stringify({ ...orderEvent(2), id: undefined }), why: /field "id" is required/ },
    { value: JSON.stringify({ ...orderEvent(3), total: 2 ** 60 }), why: /field "total"/ },
    { value: '[1,2]', why: /expected a JSON object/ },
  ];
  const poisonAt = new Map<string, RegExp>();
  const N = 6_000;
  for (let b = 0; b < N; b += 500) {
    const batch = Array.from({ length: 500 }, (_, k) => ({ key: `o-${b + k}`, value: JSON.stringify(orderEvent(b + k)), partition: (b + k) % 4 }));
    await prod.send(batch);
    if (b % 1000 === 0) {
      const pz = poison[(b / 1000) % poison.length]!;
      const before = new Set(prod.produced.keys());
      await prod.send([{ key: 'bad', value: pz.value, partition: (b / 1000) % 4 }]);
      for (const k of prod.produced.keys()) if (!before.has(k)) poisonAt.set(k, pz.why);
    }
  }
  const expected = new Map([...prod.produced].filter(([k]) => !poisonAt.has(k)));
  const datasetDir = path.join(kl.lakePath, 'orders');
  const res = await waitFor('all events in the lake', async () => {
    const r = await compareLake(datasetDir, expected);
    return r.missing.length === 0 ? r : null;
  }, 60_000, 250);
  assert.deepEqual(res.extra, [], 'rows the producer never wrote (or poison records)');
  assert.equal(res.duplicates, 0);
  assert.deepEqual(res.wrong, []);
  assert.equal(res.rows, expected.size);

  // The DLQ, read by a plain kafkajs consumer: one message per poison record, with headers naming the source.
  const k = new Kafka({ brokers: kl.dc.brokers, logLevel: logLevel.NOTHING });
  const c = k.consumer({ groupId: `dlq-check-${Date.now()}` });
  await c.connect();
  kl.defer(() => c.disconnect());
  await c.subscribe({ topic: 'orders.dlq', fromBeginning: true });
  const seen = new Map<string, string>();
  await c.run({
    eachMessage: async ({ message }) => {
      const h = (n: string) => message.headers?.[n]?.toString();
      assert.equal(h('lakegate.errors.topic'), 'orders');
      seen.set(`${h('lakegate.errors.partition')}:${h('lakegate.errors.offset')}`, h('lakegate.errors.message') ?? '');
    },
  });
  await waitFor('dead letters', () => seen.size >= poisonAt.size, 30_000);
  assert.deepEqual([...seen.keys()].sort(), [...poisonAt.keys()].sort());
  for (const [key, why] of poisonAt) assert.match(seen.get(key)!, why, key);
  assert.equal(ing.stats(kl.catalog.datasetMap.get('orders')!).deadLettered, poisonAt.size);
});

test('a record that cannot be dead-lettered stops its partition (nothing after it is skipped) until the DLQ works again', { timeout: 120_000 }, async (t) => {
  const kl = await createKafkaLake(t, { partitions: 2 });
  const { engine, kafka } = await lakeEngineAndKafka(kl);
  const prod = await trackedProducer(kl);
  const before = Array.from({ length: 200 }, (_, i) => ({ key: `o-${i}`, value: JSON.stringify(orderEvent(i)), partition: i % 2 }));
  await prod.send(before);
  const poisonKeys = new Set(prod.produced.keys());
  await prod.send([{ key: 'bad', value: '{broken', partition: 0 }]);
  const poisonKey = [...prod.produced.keys()].find((k) => !poisonKeys.has(k))!;
  await prod.send(Array.from({ length: 200 }, (_, i) => ({ key: `o-${200 + i}`, value: JSON.stringify(orderEvent(200 + i)), partition: i % 2 })));
  // From now on the broker refuses produce requests (the producer above is done): the DLQ write fails.
  await kl.dc.pushRequestErrors(0, 4, 29 /* TOPIC_AUTHORIZATION_FAILED, not retriable */);

  const ing = createIngester({ catalog: kl.catalog, engine, kafka, logger: quietLogger() });
  await ing.start();
  kl.defer(() => ing.stop());
  const [pz, pzOffset] = poisonKey.split(':').map(Number) as [number, number];
  const datasetDir = path.join(kl.lakePath, 'orders');
  await waitFor('partition stopped', () => ing.partitions().find((p) => p.topic === 'orders' && p.partition === pz && p.stopped), 30_000);
  await new Promise((r) => setTimeout(r, 1_500));
  const during = await compareLake(datasetDir, new Map([...prod.produced].filter(([k]) => k !== poisonKey)));
  // Nothing at or after the poison offset of that partition is in the lake; the other partition is complete.
  for (const k of during.missing) {
    const [p, o] = k.split(':').map(Number) as [number, number];
    assert.equal(p, pz, `missing ${k} from a partition that did not stop`);
    assert.ok(o > pzOffset, `missing ${k} before the poison record`);
  }
  assert.ok(during.missing.length > 0, 'records after the poison were not skipped past');
  assert.match(ing.partitions().find((p) => p.partition === pz && p.topic === 'orders')!.stopped!, new RegExp(`offset ${pzOffset}`));
  // The errors are used up: after the retry pause the DLQ write succeeds and everything lands.
  const expected = new Map([...prod.produced].filter(([k]) => k !== poisonKey));
  const res = await waitFor('all events after the DLQ recovered', async () => {
    const r = await compareLake(datasetDir, expected);
    return r.missing.length === 0 ? r : null;
  }, 60_000, 500);
  assert.deepEqual({ extra: res.extra, duplicates: res.duplicates }, { extra: [], duplicates: 0 });
  assert.equal(ing.stats(kl.catalog.datasetMap.get('orders')!).deadLettered, 1);
});

test('a lake that ends before the oldest record Kafka still has: one warning names the offsets passed over, and ingestion goes on from that record, each once', { timeout: 120_000 }, async (t) => {
  const kl = await createKafkaLake(t, { partitions: 1 });
  const { engine, kafka } = await lakeEngineAndKafka(kl);
  const warnings: Array<{ msg: string; from?: string; to?: string }> = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (c, _e, cb) => (warnings.push(JSON.parse(String(c))), cb()) }));
  const datasetDir = path.join(kl.lakePath, 'orders');
  const prod = await trackedProducer(kl);

  // 1. 200 events ingested, then the ingester stops.
  await prod.send(Array.from({ length: 200 }, (_, i) => ({ key: `o-${i}`, value: JSON.stringify(orderEvent(i)), partition: 0 })));
  const first = createIngester({ catalog: kl.catalog, engine, kafka, logger });
  await first.start();
  await waitFor('the first 200 in the lake', async () => (await compareLake(datasetDir, prod.produced)).missing.length === 0, 60_000, 250);
  await first.stop();

  // 2. Meanwhile 8 MiB more: the dev cluster keeps about 5 MiB per partition, so records after the lake's end are gone.
  for (let b = 200; b < 712; b += 32) {
    await prod.send(Array.from({ length: 32 }, (_, k) => ({ key: `o-${b + k}`, value: JSON.stringify({ ...orderEvent(b + k), status: 'x'.repeat(16 * 1024) }), partition: 0 })));
  }
  const admin = new Kafka({ brokers: kl.dc.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  kl.defer(() => admin.disconnect());
  const [offs] = await admin.fetchTopicOffsets('orders');
  const low = BigInt(offs!.low);
  assert.ok(low > 200n, `the dev cluster dropped nothing after the lake's end (low watermark ${low}): no gap to test`);
  t.diagnostic(`the lake ends at 199; Kafka holds ${low}..${BigInt(offs!.high) - 1n}`);

  // 3. A new ingester resumes where the lake ends (200), which Kafka no longer has.
  const second = createIngester({ catalog: kl.catalog, engine, kafka, logger });
  await second.start();
  kl.defer(() => second.stop());
  const expected = new Map([...prod.produced].filter(([k]) => BigInt(k.split(':')[1]!) < 200n || BigInt(k.split(':')[1]!) >= low));
  await waitFor('every record Kafka still had in the lake', async () => (await compareLake(datasetDir, expected)).missing.length === 0, 60_000, 250);
  await second.stop();
  const r = await compareLake(datasetDir, expected);
  assert.deepEqual([r.missing, r.extra, r.duplicates, r.wrong], [[], [], 0, []]);
  assert.equal(r.rows, expected.size);
  const gaps = warnings.filter((w) => /no longer in Kafka/.test(w.msg));
  assert.deepEqual(gaps.map((g) => [g.from, g.to]), [['200', String(low - 1n)]], 'one warning naming the offsets passed over');
});
