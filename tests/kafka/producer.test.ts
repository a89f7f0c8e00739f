// kafka/client.ts' producer against the dev cluster: where send and sendEach put keyed messages, read back by kcat (an
// independent librdkafka client) and compared with kafkajs' own DefaultPartitioner (murmur2, as the Java client); and
// what kafkajs logs through lakegate's logger while producing.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { Partitioners } from 'kafkajs';
import pino from 'pino';
import { createKafkaClient } from '../../kafka';
import { startDevCluster } from '../../tools/dev-cluster';
import { buildDevCluster, cleanupStack } from '../helpers/kafka-fixture';

before(buildDevCluster);
const run = promisify(execFile);

test('send and sendEach place keyed messages as kafkajs\' DefaultPartitioner does (read back by kcat), and producing logs no kafkajs partitioner notice', async (t) => {
  const defer = cleanupStack(t);
  const PARTITIONS = 4;
  const dc = await startDevCluster({ brokers: 3, topics: { placed: PARTITIONS } });
  defer(() => dc.stop());
  // Everything kafkajs logs through lakegate's logger, info and above (kafkajs' notices arrive at info).
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c))), cb()) }));
  const client = createKafkaClient({ brokers: dc.brokers, clientId: 'producer-test' }, logger);
  defer(() => client.close());
  const producer = await client.createProducer();

  const keys = Array.from({ length: 60 }, (_, i) => `customer-${i}`);
  const each = await producer.sendEach('placed', keys.map((key) => ({ key, value: JSON.stringify({ key, via: 'sendEach' }) })));
  await producer.send('placed', keys.map((key) => ({ key, value: JSON.stringify({ key, via: 'send' }) })));

  // kafkajs' own partitioner, on the partition list kcat will read from.
  const stock = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  const expected = new Map(keys.map((key) => [key, stock({ topic: 'placed', partitionMetadata, message: { key, value: null } })]));
  assert.ok(new Set(expected.values()).size > 1, 'the keys should spread over more than one partition');

  const { stdout } = await run('kcat', ['-b', dc.bootstrap, '-C', '-t', 'placed', '-o', 'beginning', '-e', '-q', '-f', '%p %o %k %s\n'], { timeout: 20_000 });
  const read = stdout.trim().split('\n').map((l) => {
    const [p, o, k, ...v] = l.split(' ');
    return { partition: Number(p), offset: Number(o), key: k!, via: (JSON.parse(v.join(' ')) as { via: string }).via };
  });
  assert.equal(read.length, 2 * keys.length);
  for (const via of ['sendEach', 'send']) {
    const placed = new Map(read.filter((r) => r.via === via).map((r) => [r.key, r.partition]));
    assert.deepEqual(placed, expected, `${via}: partitions by key`);
  }
  // sendEach answers where each message went: the partition and offset kcat found it at.
  for (const [i, key] of keys.entries()) {
    const found = read.find((r) => r.via === 'sendEach' && r.key === key)!;
    assert.deepEqual({ partition: each[i]!.partition, offset: Number(each[i]!.offset) }, { partition: found.partition, offset: found.offset }, key);
  }
  assert.deepEqual(lines.filter((l) => /partitioner/i.test(l.msg)).map((l) => l.msg), [], 'kafkajs logged a partitioner notice');
});
