// kafka/stream.ts (the reads behind live tails and replays) against the dev cluster's brokers going away and its log
// dropping old records: what the stream delivers is compared with what an independent kafkajs producer had acked, and
// with the partition's offsets as an independent kafkajs admin reads them.

import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import pino from 'pino';
import { createKafkaClient, openTopicStream, type KafkaMessage } from '../../kafka';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster';
import { buildDevCluster, cleanupStack, waitFor } from '../helpers/kafka-fixture';

before(buildDevCluster);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** "partition:offset" → value, as the producer's acks placed them. */
type Log = Map<string, string>;

async function setUp(t: TestContext, topics: Record<string, number>) {
  const defer = cleanupStack(t);
  const dc: DevCluster = await startDevCluster({ brokers: 3, topics });
  defer(() => dc.stop());
  const kafka = new Kafka({ brokers: dc.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 1_000, requestTimeout: 10_000 });
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1_000 } });
  await producer.connect();
  defer(() => producer.disconnect());
  const admin = kafka.admin();
  await admin.connect();
  defer(() => admin.disconnect());
  // What lakegate logged at warn and above, to check the warnings it owes.
  const lines: Array<{ level: number; msg: string; from?: string; to?: string }> = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c))), cb()) }));
  const client = createKafkaClient({ brokers: dc.brokers, clientId: 'stream-test' }, logger);
  defer(() => client.close());
  const sent: Log = new Map();
  const send = async (topic: string, partition: number, values: string[]) => {
    const [r] = await producer.send({ topic, acks: -1, messages: values.map((value) => ({ partition, value })) });
    values.forEach((v, k) => sent.set(`${partition}:${BigInt(r!.baseOffset!) + BigInt(k)}`, v));
  };
  const got: Log = new Map();
  const gotTwice: string[] = [];
  /** Offsets in the order the stream delivered them, per partition. */
  const order = new Map<number, bigint[]>();
  const open = async (topic: string, start: Map<number, bigint>) => {
    const stream = await openTopicStream(client, {
      topic,
      start,
      role: 'stream-test',
      logger,
      onBatch: (partition: number, messages: KafkaMessage[]) => {
        for (const m of messages) {
          const k = `${partition}:${m.offset}`;
          order.set(partition, [...(order.get(partition) ?? []), BigInt(m.offset)]);
          if (got.has(k)) gotTwice.push(k);
          got.set(k, String(m.value));
        }
      },
    });
    defer(() => stream.stop());
    return stream;
  };
  return { dc, admin, send, sent, got, gotTwice, order, open, lines };
}

/** Kafka API keys and error codes for the dev cluster's pushRequestErrors. */
const FETCH = 1;
const FIND_COORDINATOR = 10;
const NOT_LEADER_OR_FOLLOWER = 6;
const COORDINATOR_NOT_AVAILABLE = 15;

const increasing = (xs: bigint[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

test('a stream joins no consumer group: with no group coordinator to be found it reads each record within a second of its send', { timeout: 60_000 }, async (t) => {
  const { dc, send, sent, got, gotTwice, open } = await setUp(t, { events: 3 });
  // Every FindCoordinator request for a long while is answered COORDINATOR_NOT_AVAILABLE: a consumer group could not
  // even find its coordinator, let alone join (and a group's first join waits 3 s on the dev cluster, as on Kafka).
  await dc.pushRequestErrors(FIND_COORDINATOR, 10_000, COORDINATOR_NOT_AVAILABLE);
  await open('events', new Map([[0, 0n], [1, 0n], [2, 0n]]));
  const slowest: number[] = [];
  for (let round = 0; round < 3; round++) {
    const before = sent.size;
    const sentAt = Date.now();
    for (const p of [0, 1, 2]) await send('events', p, [`r${round}-a`, `r${round}-b`]);
    await waitFor(`round ${round}`, async () => got.size === sent.size, 10_000, 5);
    slowest.push(Date.now() - sentAt);
    assert.equal(sent.size, before + 6);
  }
  t.diagnostic(`every record of each round read ${slowest.join(' / ')} ms after its first send`);
  for (const ms of slowest) assert.ok(ms < 1_000, `a round took ${ms} ms`);
  assert.deepEqual(got, sent);
  assert.deepEqual(gotTwice, []);
});

test('leaders moving and fetches refused while a stream reads: every record once, in offset order per partition', { timeout: 90_000 }, async (t) => {
  const { dc, send, sent, got, gotTwice, order, open, lines } = await setUp(t, { events: 3 });
  for (const p of [0, 1, 2]) await dc.setLeader('events', p, p + 1);
  await open('events', new Map([[0, 0n], [1, 0n], [2, 0n]]));
  let stop = false;
  let round = 0;
  const producing = (async () => {
    while (!stop) {
      for (const p of [0, 1, 2]) await send('events', p, Array.from({ length: 5 }, (_, k) => `r${round}-${k}`));
      round++;
      await sleep(20);
    }
  })();
  // Three moves of every leader, with refused fetches (NOT_LEADER_OR_FOLLOWER, as a broker answers one that reached it
  // just after it lost a partition) in between.
  for (let move = 1; move <= 3; move++) {
    await sleep(700);
    for (const p of [0, 1, 2]) await dc.setLeader('events', p, ((p + move) % 3) + 1);
    await dc.pushRequestErrors(FETCH, 3, NOT_LEADER_OR_FOLLOWER);
  }
  await sleep(700);
  stop = true;
  await producing;
  await waitFor('every acked record', async () => got.size >= sent.size, 20_000, 50);
  t.diagnostic(`${sent.size} records in ${round} rounds`);
  assert.ok(round >= 10, `only ${round} rounds were produced`);
  assert.deepEqual(got, sent);
  assert.deepEqual(gotTwice, []);
  for (const [p, offs] of order) assert.ok(increasing(offs), `partition ${p} was delivered out of order`);
  assert.deepEqual(lines.filter((l) => /no longer in Kafka/.test(l.msg)), [], 'no offsets were passed over');
});

test('stop() returns within seconds while a broker holds a fetch unanswered', { timeout: 60_000 }, async (t) => {
  const { dc, send, sent, got, open } = await setUp(t, { events: 1 });
  await dc.setLeader('events', 0, 1);
  const stream = await open('events', new Map([[0, 0n]]));
  await send('events', 0, ['a', 'b']);
  await waitFor('the records', async () => got.size === sent.size, 15_000, 20);
  // Broker 1 now answers each request 30 s late (kafkajs' request timeout): the stream's next fetch hangs there.
  await dc.command('rtt 1 30000');
  t.after(() => dc.command('rtt 1 0').catch(() => {}));
  await sleep(300);
  const stopAt = Date.now();
  await stream.stop();
  const took = Date.now() - stopAt;
  t.diagnostic(`stop() took ${took} ms with a fetch unanswered`);
  assert.ok(took < 3_000, `stop() took ${took} ms`);
});

test('a partition whose leader was down when the stream last read metadata is read again within seconds of the broker coming back', { timeout: 60_000 }, async (t) => {
  const { dc, send, sent, got, gotTwice, open } = await setUp(t, { events: 3 });
  for (const p of [0, 1, 2]) await dc.setLeader('events', p, p + 1);
  await open('events', new Map([[0, 0n], [1, 0n], [2, 0n]]));
  const all = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
  for (const p of [0, 1, 2]) await send('events', p, all(20).map((v) => `${v}-before`));
  await waitFor('the first records', async () => got.size === sent.size, 15_000, 50);

  // Broker 2 (the leader of partition 1) goes away: the stream's fetch to it fails and kafkajs re-reads the metadata,
  // which no longer lists broker 2, so its fetchers are made again for brokers 1 and 3 only. The other partitions go on.
  await dc.brokerDown(2);
  await sleep(1_500);
  for (const p of [0, 2]) await send('events', p, all(20).map((v) => `${v}-while-down`));
  await waitFor('records of the partitions led by the other brokers', async () => got.size === sent.size, 15_000, 50);
  await sleep(1_500);

  // Back: with kafkajs' default metadata age (5 minutes) and no error to prompt a re-read, partition 1 would wait minutes.
  await dc.brokerUp(2);
  const upAt = Date.now();
  await send('events', 1, all(20).map((v) => `${v}-after-up`));
  await waitFor('partition 1 read again after its leader came back', async () => got.size === sent.size, 20_000, 50);
  const took = Date.now() - upAt;
  t.diagnostic(`partition 1 read again ${took} ms after its leader came back`);
  assert.ok(took < 15_000, `took ${took} ms`);
  assert.deepEqual(got, sent);
  assert.deepEqual(gotTwice, []);
});

test('a stream that starts before the oldest record Kafka still has warns of the gap and reads from that record on, each once', { timeout: 90_000 }, async (t) => {
  const { admin, send, sent, got, gotTwice, open, lines } = await setUp(t, { big: 1 });
  // The dev cluster keeps about 5 MiB per partition: 8 MiB of 16 KiB records pushes the oldest out.
  const value = (i: number) => `${String(i).padStart(8, '0')}${'x'.repeat(16 * 1024)}`;
  for (let i = 0; i < 512; i += 32) await send('big', 0, Array.from({ length: 32 }, (_, k) => value(i + k)));
  const [offs] = await admin.fetchTopicOffsets('big');
  const low = BigInt(offs!.low);
  const high = BigInt(offs!.high);
  assert.ok(low > 0n, `the dev cluster dropped nothing (low watermark ${low}): no gap to test`);
  t.diagnostic(`the partition holds offsets ${low}..${high - 1n} of 0..${sent.size - 1}`);

  await open('big', new Map([[0, 0n]]));
  const expected: Log = new Map([...sent].filter(([k]) => BigInt(k.split(':')[1]!) >= low));
  await waitFor('every record Kafka still has', async () => got.size >= expected.size, 30_000, 50);
  // Then a few more, read on from there.
  await send('big', 0, ['after-1', 'after-2']);
  for (const [k, v] of sent) if (BigInt(k.split(':')[1]!) >= high) expected.set(k, v);
  await waitFor('the records produced after', async () => got.size >= expected.size, 15_000, 50);
  assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), 'exactly the offsets Kafka still had, and those after');
  assert.deepEqual(got, expected);
  assert.deepEqual(gotTwice, []);
  const gaps = lines.filter((l) => /no longer in Kafka/.test(l.msg));
  assert.deepEqual(gaps.map((g) => [g.from, g.to]), [['0', String(low - 1n)]], 'one warning naming the offsets passed over');
});
