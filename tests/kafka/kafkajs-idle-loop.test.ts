// kafka/kafkajs-idle-loop.ts on the dev cluster. Stock kafkajs 2.2.4 is measured first, in the same process, as the
// control: its request queues check for pending requests about once a millisecond per connection, whatever the traffic.
// With the fix, a queue checks exactly when kafkajs has a reason to (a response arrived: fulfillRequest), plus the
// checks a throttle or a queued request schedules; and what is produced while requests wait behind a throttle or the
// in-flight limit is still sent, acked and read back, compared with the partition offsets an admin client reads.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { installKafkajsIdleLoopFix } from '../../kafka/kafkajs-idle-loop';
import { startDevCluster } from '../../tools/dev-cluster';
import { buildDevCluster, cleanupStack, waitFor } from '../helpers/kafka-fixture';

before(buildDevCluster);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A client whose requests are stuck (the failure this test looks for) never finishes disconnecting: bounded. */
const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => {}), sleep(3_000)]);

interface Queue {
  pending: unknown[];
  maybeThrottle(ms: number): void;
}
type QueueProto = Record<'checkPendingRequests' | 'fulfillRequest', (this: Queue, ...a: unknown[]) => unknown>;

test('kafkajs request queues: no 1 ms timer loop once fixed; throttled and in-flight-limited requests still go out', { timeout: 60_000 }, async (t) => {
  const defer = cleanupStack(t);
  const dc = await startDevCluster({ brokers: 3, topics: { idle: 3 } });
  defer(() => dc.stop());

  // Counters on kafkajs' own RequestQueue (the class the fix patches): checks run, responses fulfilled.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proto = (require(require.resolve('kafkajs/src/network/requestQueue')) as { prototype: QueueProto }).prototype;
  const queues = new Set<Queue>();
  let checks = 0;
  let fulfilled = 0;
  const stockCheck = proto.checkPendingRequests;
  const stockFulfill = proto.fulfillRequest;
  proto.checkPendingRequests = function (...a) {
    checks++;
    queues.add(this);
    return stockCheck.apply(this, a);
  };
  proto.fulfillRequest = function (...a) {
    fulfilled++;
    return stockFulfill.apply(this, a);
  };
  defer(() => {
    proto.checkPendingRequests = stockCheck;
    proto.fulfillRequest = stockFulfill;
  });
  const window = async (ms: number) => {
    const c0 = checks;
    const f0 = fulfilled;
    await sleep(ms);
    return { checks: checks - c0, fulfilled: fulfilled - f0 };
  };

  const kafka = new Kafka({ clientId: 'idle-loop-test', brokers: dc.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  defer(() => bounded(admin.disconnect()));
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1 });
  await producer.connect();
  defer(() => bounded(producer.disconnect()));
  const consumer = kafka.consumer({ groupId: `idle-loop-${process.pid}`, maxWaitTimeInMs: 200, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  defer(() => bounded(consumer.disconnect()));
  await consumer.subscribe({ topic: 'idle', fromBeginning: true });
  const read = new Set<string>();
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) read.add(`${batch.partition}:${m.offset}`);
    },
  });
  await waitFor('the consumer joined its group', () => joined);
  await producer.send({ topic: 'idle', acks: -1, messages: [{ partition: 0, value: 'connect every broker' }, { partition: 1, value: 'x' }, { partition: 2, value: 'x' }] });

  // Control: stock kafkajs, idle. Every response runs one check; the loop runs about a thousand more per second.
  const stock = await window(1_000);
  t.diagnostic(`stock, idle 1 s: ${stock.checks} checks, ${stock.fulfilled} responses, ${queues.size} queues`);
  assert.ok(stock.checks > stock.fulfilled + 300, `stock kafkajs should loop (${stock.checks} checks for ${stock.fulfilled} responses): the control no longer holds`);

  assert.equal(installKafkajsIdleLoopFix().ok, true);
  assert.equal(installKafkajsIdleLoopFix().ok, true, 'idempotent');
  await sleep(50); // timers the stock code had already set run once more, then stop
  const idle = await window(1_500);
  t.diagnostic(`fixed, idle 1.5 s: ${idle.checks} checks, ${idle.fulfilled} responses`);
  assert.ok(idle.fulfilled > 0, 'the consumer keeps fetching');
  assert.equal(idle.checks, idle.fulfilled, 'one check per response, none from a timer');

  // Every producer request waits behind a throttle; they go out when it ends, and only then.
  const sent = new Set<string>();
  const record = (rs: Array<{ partition: number; baseOffset?: string }>, n: number) => {
    for (const r of rs) for (let k = 0; k < n; k++) sent.add(`${r.partition}:${BigInt(r.baseOffset!) + BigInt(k)}`);
  };
  for (const q of queues) q.maybeThrottle(400);
  const t0 = performance.now();
  const throttled = producer.send({ topic: 'idle', acks: -1, messages: Array.from({ length: 5 }, (_, i) => ({ partition: 0, value: `throttled ${i}` })) });
  const stuck = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a send behind a throttle was not sent within 10 s')), 10_000).unref());
  record(await Promise.race([throttled, stuck]), 5);
  const took = performance.now() - t0;
  t.diagnostic(`a send behind a 400 ms throttle took ${took.toFixed(0)} ms`);
  assert.ok(took >= 350, `the send waited for the throttle (${took.toFixed(0)} ms)`);

  // maxInFlightRequests 1: concurrent sends to one broker queue up and go out one response at a time.
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send({ topic: 'idle', acks: -1, messages: [{ partition: 1, value: `queued ${i}` }, { partition: 1, value: `queued ${i}b` }] })));
  for (const r of results) record(r, 2);
  assert.equal(sent.size, 45);

  // Independent answers: the partitions' offsets as the admin reads them, and what the consumer read.
  const offsets = await admin.fetchTopicOffsets('idle');
  const high = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  assert.equal(high.get(0), 1 + 5);
  assert.equal(high.get(1), 1 + 40);
  await waitFor('the consumer read every acked record', () => [...sent].every((k) => read.has(k)), 15_000);
  assert.equal(read.size, 3 + 45);

  // And the loop stays off after the throttle and the queue are gone.
  const after = await window(1_000);
  t.diagnostic(`fixed, idle again 1 s: ${after.checks} checks, ${after.fulfilled} responses`);
  assert.equal(after.checks, after.fulfilled);
});
