// End-to-end checks of tools/dev-cluster with real clients: kafkajs produces, kcat (librdkafka) reads back.
// Each test owns its cluster, topic and producers and disposes of them in t.after, so order does not matter.
import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, Partitioners, type Consumer, type ISocketFactory, type Message, type Producer, type RetryOptions } from 'kafkajs';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster';

const run = promisify(execFile);
// Compiled to <repo>/dist/tests/tools.
const repoRoot = path.resolve(__dirname, '..', '..', '..');
const PRODUCE = 0; // Kafka ApiKey of Produce requests
const NOT_LEADER_FOR_PARTITION = 6;
const SYNC_GROUP = 14; // Kafka ApiKey of SyncGroup requests
const binary = path.join(repoRoot, 'tools', 'bin', 'dev-cluster');
/** What build.sh builds: librdkafka 2.12.0's mock with lakegate's four patches, SyncGroup, fetch wake, LeaveGroup and rejoin (tools/dev-cluster/). */
const MOCK = /^librdkafka 2\.12\.0; mock with librdkafka-mock-syncgroup\.patch, librdkafka-mock-fetch-wake\.patch, librdkafka-mock-leavegroup\.patch, librdkafka-mock-rejoin\.patch$/;

/** `"partition offset"` → value: what produce acks promised and what a reader must find. */
type Log = Map<string, string>;

before(async () => {
  // A no-op when the binary is up to date; makes the test file runnable on its own after a fresh clone.
  await run('bash', [path.join(repoRoot, 'tools', 'dev-cluster', 'build.sh')]);
});

async function cluster(t: TestContext, brokers: number, partitions: number): Promise<{ dc: DevCluster; topic: string }> {
  const topic = `dc-test-${randomUUID().slice(0, 8)}`;
  const dc = await startDevCluster({ brokers, topics: { [topic]: partitions } });
  t.after(() => dc.stop());
  return { dc, topic };
}

async function producer(t: TestContext, dc: DevCluster, retry: RetryOptions): Promise<Producer> {
  // Short network timeouts: every peer is on loopback, and a down broker should fail fast, not in 30 s.
  const kafka = new Kafka({ brokers: dc.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 1_000, requestTimeout: 5_000 });
  const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry });
  await p.connect();
  t.after(() => p.disconnect());
  return p;
}

function messages(topic: string, from: number, count: number, partitions: number): Message[] {
  return Array.from({ length: count }, (_, k) => {
    const id = from + k;
    return { partition: id % partitions, value: JSON.stringify({ id, topic, kind: 'dev-cluster-test', payload: 'x'.repeat(40) }) };
  });
}

/** Sends one batch and records where the acks say each message landed (baseOffset + rank within its partition). */
async function sendTracked(p: Producer, topic: string, batch: Message[], log: Log): Promise<void> {
  const acks = await p.send({ topic, messages: batch });
  const base = new Map(acks.map((a) => [a.partition, BigInt(a.baseOffset ?? '-1')]));
  const rank = new Map<number, bigint>();
  for (const m of batch) {
    const partition = m.partition as number;
    const offset = base.get(partition);
    assert.ok(offset !== undefined && offset >= 0n, `no ack for partition ${partition}`);
    const r = rank.get(partition) ?? 0n;
    rank.set(partition, r + 1n);
    log.set(`${partition} ${offset + r}`, String(m.value));
  }
}

/** Reads the whole topic with kcat, an independent (librdkafka) client. */
async function readWithKcat(dc: DevCluster, topic: string): Promise<Log> {
  const { stdout } = await run('kcat', ['-b', dc.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\n'], {
    timeout: 20_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const log: Log = new Map();
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const [partition, offset] = line.split(' ', 2);
    const key = `${partition} ${offset}`;
    assert.ok(!log.has(key), `kcat returned ${key} twice`);
    log.set(key, line.slice(key.length + 1));
  }
  return log;
}

test('kafkajs produces 2,000 messages to 3 brokers and kcat reads back exactly the acked offsets', async (t) => {
  const { dc, topic } = await cluster(t, 3, 3);
  assert.equal(dc.brokers.length, 3);
  for (const b of dc.brokers) assert.match(b, /^127\.0\.0\.1:\d+$/);
  const p = await producer(t, dc, { retries: 3 });

  const sent: Log = new Map();
  for (let from = 0; from < 2_000; from += 200) await sendTracked(p, topic, messages(topic, from, 200, 3), sent);
  assert.equal(sent.size, 2_000);

  const read = await readWithKcat(dc, topic);
  assert.deepEqual(read, sent);
  for (const partition of [0, 1, 2]) {
    const offsets = [...read.keys()].filter((k) => k.startsWith(`${partition} `)).map((k) => Number(k.split(' ')[1]));
    assert.equal(Math.max(...offsets) + 1, offsets.length, `partition ${partition} offsets are dense from 0`);
  }
});

test('a downed broker fails or stalls produce until it is back; injected Produce errors are retried without duplicates', async (t) => {
  const { dc, topic } = await cluster(t, 3, 3);
  // Leaders are spread at random on creation; pin them so that broker 1 leads partition 0 and nothing else.
  for (const partition of [0, 1, 2]) await dc.setLeader(topic, partition, partition + 1);
  const impatient = await producer(t, dc, { retries: 1, initialRetryTime: 100 });
  const patient = await producer(t, dc, { retries: 10, initialRetryTime: 100, maxRetryTime: 500 });
  const sent: Log = new Map();
  await sendTracked(impatient, topic, messages(topic, 0, 3, 3), sent);

  await dc.brokerDown(1);
  // librdkafka 2.12's mock also leaves a down broker out of Metadata answers (as a Kafka cluster does), so kafkajs may
  // fail before it even connects: "Broker 1 not found in the cached metadata" (2.0.2's listed it: ECONNREFUSED).
  await assert.rejects(impatient.send({ topic, messages: [{ partition: 0, value: 'lost-while-down' }] }), /ECONNREFUSED|Connection|Broker 1 not found in the cached metadata/);
  // Partitions led by the other brokers keep working (retries: metadata requests may still pick broker 1 first).
  await sendTracked(patient, topic, [{ partition: 1, value: 'p1-while-down' }, { partition: 2, value: 'p2-while-down' }], sent);

  const started = Date.now();
  const pending = sendTracked(patient, topic, [{ partition: 0, value: 'retried-until-up' }], sent);
  await new Promise((resolve) => setTimeout(resolve, 600));
  await dc.brokerUp(1);
  await pending;
  assert.ok(Date.now() - started >= 600, 'the send only completed once the broker was back');
  await sendTracked(patient, topic, [{ partition: 0, value: 'after-up' }], sent);

  // One injected error and no retries: the error reaches the caller, so injection really happens.
  await dc.pushRequestErrors(PRODUCE, 1, NOT_LEADER_FOR_PARTITION);
  const noRetry = await producer(t, dc, { retries: 0 });
  await assert.rejects(noRetry.send({ topic, messages: [{ partition: 0, value: 'rejected-by-injection' }] }), (err: Error & { cause?: { type?: string } }) => {
    assert.equal(err.cause?.type ?? (err as { type?: string }).type, 'NOT_LEADER_FOR_PARTITION');
    return true;
  });
  // Three injected errors against a batch spread over three brokers: retries must deliver each message once.
  await dc.pushRequestErrors(PRODUCE, 3, NOT_LEADER_FOR_PARTITION);
  await sendTracked(patient, topic, messages(topic, 100, 300, 3), sent);

  assert.deepEqual(await readWithKcat(dc, topic), sent);
});

test('moving partition leaders is visible in metadata and produce keeps working', async (t) => {
  const { dc, topic } = await cluster(t, 3, 3);
  const kafka = new Kafka({ brokers: dc.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 1_000, requestTimeout: 5_000 });
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  const leaders = async (): Promise<number[]> => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0].partitions.sort((a, b) => a.partitionId - b.partitionId).map((p) => p.leader);
  };
  const p = await producer(t, dc, { retries: 5, initialRetryTime: 100 });
  const sent: Log = new Map();
  await sendTracked(p, topic, messages(topic, 0, 300, 3), sent);

  const initial = await leaders();
  const after = initial.map((id) => (id % 3) + 1); // every partition moves to another broker
  for (const [partition, id] of after.entries()) await dc.setLeader(topic, partition, id);
  assert.deepEqual(await leaders(), after);

  // The producer's metadata is stale now: it must follow NOT_LEADER replies to the new leaders.
  await sendTracked(p, topic, messages(topic, 300, 300, 3), sent);
  assert.deepEqual(await readWithKcat(dc, topic), sent);
});

test('wrapper: ERR replies and bad arguments reject, stop is idempotent, a missing binary fails clearly', async (t) => {
  const { dc, topic } = await cluster(t, 1, 1);
  await assert.rejects(dc.brokerDown(7), /down 7: BROKER_NOT_AVAILABLE/);
  await assert.rejects(dc.createTopic(topic, 2), /TOPIC_ALREADY_EXISTS/);
  await assert.rejects(dc.createTopic('bad name', 1), /invalid topic name/);
  await assert.rejects(dc.command('no-such-command'), /bad command/);
  await assert.rejects(dc.command('up 1\nup 1'), /one non-empty line/);
  assert.match(await dc.command('rtt 1 0'), /^OK rtt 1 0$/); // the queue still works after errors
  await Promise.all([dc.stop(), dc.stop()]);
  await assert.rejects(dc.brokerUp(1), /was stopped/);

  await assert.rejects(startDevCluster({ binary: path.join(repoRoot, 'tools', 'bin', 'no-such-binary') }), /cannot run .*build\.sh/);
});

test('consumer group: a member that disconnects leaves at once, and the rest rebalance without waiting for its session to time out (as from Kafka)', { timeout: 90_000 }, async (t) => {
  // kafkajs sends LeaveGroup v3 (a batch of members). librdkafka's unpatched mock advertises v3 but reads one MemberId
  // and answers without the member array: the member never left (it held its partitions until its session timed out)
  // and kafkajs could not parse the answer. tools/dev-cluster/librdkafka-mock-leavegroup.patch fixes that.
  const SESSION_MS = 10_000;
  const consumers: Consumer[] = [];
  t.after(() => Promise.allSettled(consumers.map((c) => c.disconnect())));
  const { dc, topic } = await cluster(t, 3, 4);
  const logged: string[] = [];
  const group: GroupSetup = { dc, topic, groupId: `g-${randomUUID().slice(0, 8)}`, sessionTimeout: SESSION_MS, consumers, logged };
  const a = await groupMember(group, 'a');
  await until('the first member\'s assignment', () => a.assignment?.length === 4);
  const b = await groupMember(group, 'b');
  await until('both members\' assignments', () => b.assignment?.length === 2 && a.assignment!.length === 2, 60_000);

  a.rebalancingAt = null;
  await b.c.disconnect();
  const left = Date.now();
  await until('the remaining member takes every partition', () => a.assignment!.length === 4, 60_000);
  const took = Date.now() - left;
  t.diagnostic(`rebalance seen by the remaining member ${a.rebalancingAt === null ? 'never' : `${a.rebalancingAt - left} ms`} after the other left; all 4 partitions after ${took} ms`);
  assert.deepEqual(logged.filter((l) => /LeaveGroup/.test(l)), [], 'kafkajs logged a LeaveGroup error');
  // Left at once: the rebalance starts at the remaining member's next heartbeat (every 500 ms), not after the session.
  assert.ok(a.rebalancingAt !== null && a.rebalancingAt - left < 3_000, `the rebalance started ${a.rebalancingAt === null ? 'never' : `${a.rebalancingAt - left} ms`} after the leave (session timeout ${SESSION_MS} ms)`);
  assert.deepEqual(a.assignment, [0, 1, 2, 3]);
  assert.equal(a.crash, null, 'the remaining member\'s consumer crashed');
});

test('consumer group: a rebalance ends as soon as every member has rejoined, not when the session timeout is near (as from Kafka)', { timeout: 90_000 }, async (t) => {
  // A second member joins a running group. Kafka's coordinator ends the join phase once every known member has sent
  // its JoinGroup (the first member rejoins at its next heartbeat, every 500 ms here). librdkafka's unpatched mock
  // waited session timeout - 1 s (19 s here) in every rebalance of a non-empty group, even with everyone back;
  // tools/dev-cluster/librdkafka-mock-rejoin.patch fixes that.
  const SESSION_MS = 20_000;
  const consumers: Consumer[] = [];
  t.after(() => Promise.allSettled(consumers.map((c) => c.disconnect())));
  const { dc, topic } = await cluster(t, 3, 4);
  const group: GroupSetup = { dc, topic, groupId: `g-${randomUUID().slice(0, 8)}`, sessionTimeout: SESSION_MS, consumers };
  const a = await groupMember(group, 'a');
  await until('the first member\'s assignment', () => a.assignment?.length === 4);
  const joining = Date.now();
  const b = await groupMember(group, 'b');
  await until('both members\' assignments', () => !!a.crash || !!b.crash || (b.assignment?.length === 2 && a.assignment!.length === 2), 60_000);
  const took = Date.now() - joining;
  t.diagnostic(`the second member joined and both held 2 partitions after ${took} ms (session timeout ${SESSION_MS} ms)`);
  assert.equal(a.crash, null, 'the first member\'s consumer crashed');
  assert.equal(b.crash, null, 'the second member\'s consumer crashed');
  assert.deepEqual([...a.assignment!, ...b.assignment!].sort(), [0, 1, 2, 3]);
  // The rejoin comes with a's next heartbeat; the unpatched mock took SESSION_MS - 1 s.
  assert.ok(took < 8_000, `the rebalance took ${took} ms`);
});

test('the binary names its mock: librdkafka 2.12.0 with the SyncGroup, fetch-wake, LeaveGroup and rejoin patches (--version and the version command)', async (t) => {
  const { stdout } = await run(binary, ['--version']);
  assert.match(stdout.trim(), MOCK);
  const { dc } = await cluster(t, 1, 1);
  const reply = await dc.command('version');
  t.diagnostic(reply);
  assert.match(reply.replace(/^OK version /, ''), MOCK);
});

interface GroupSetup {
  dc: DevCluster;
  topic: string;
  groupId: string;
  sessionTimeout: number;
  /** Every consumer made, for the test's t.after to disconnect. */
  consumers: Consumer[];
  /** When given, kafkajs' warnings and errors are collected here (else it logs nothing). */
  logged?: string[];
}

/** What a group member's consumer has been told, updated from kafkajs' events. */
interface GroupMember {
  c: Consumer;
  assignment: number[] | null;
  leader: boolean | null;
  /** When kafkajs last reported a rebalance starting (null until then; a test may reset it). */
  rebalancingAt: number | null;
  /** The consumer crashed or run() failed (null: it did not). */
  crash: string | null;
}

/** A kafkajs consumer of the test's topic in its group (heartbeat every 500 ms), running. */
async function groupMember(g: GroupSetup, name: string, socketFactory?: ISocketFactory): Promise<GroupMember> {
  const logged = g.logged;
  const kafka = new Kafka({
    brokers: g.dc.brokers,
    clientId: name,
    connectionTimeout: 1_000,
    socketFactory,
    logLevel: logged ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => ({ log }) => void logged?.push(`${name}: ${log.message} ${String((log as { error?: unknown }).error ?? '')}`),
  });
  const c = kafka.consumer({ groupId: g.groupId, sessionTimeout: g.sessionTimeout, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 });
  const m: GroupMember = { c, assignment: null, leader: null, rebalancingAt: null, crash: null };
  c.on(c.events.GROUP_JOIN, (e) => {
    m.assignment = [...(e.payload.memberAssignment[g.topic] ?? [])].sort();
    m.leader = e.payload.isLeader;
  });
  c.on(c.events.REBALANCING, () => void (m.rebalancingAt ??= Date.now()));
  c.on(c.events.CRASH, (e) => {
    m.crash = `${(e.payload.error as { type?: string }).type ?? e.payload.error.message} (restart: ${e.payload.restart})`;
  });
  g.consumers.push(c);
  await c.connect();
  await c.subscribe({ topics: [g.topic], fromBeginning: true });
  await c.run({ eachMessage: async () => {} }).catch((e: Error) => {
    m.crash ??= e.message;
  });
  return m;
}

/** Polls `ok` every 50 ms; fails the test after `ms`. */
async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** kafkajs sockets that hold every SyncGroup request back `ms` before sending it (one write is one request). */
function lateSyncGroup(ms: number, held: { count: number }): ISocketFactory {
  return ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk) && chunk.length >= 6 && chunk.readInt16BE(4) === SYNC_GROUP) {
        held.count++;
        setTimeout(() => write(chunk, ...rest), ms);
        return true;
      }
      return write(chunk, ...rest);
    }) as typeof socket.write;
    return socket;
  };
}

test('consumer group: a follower whose SyncGroup comes after the leader\'s still gets its partitions (as from Kafka)', { timeout: 60_000 }, async (t) => {
  // librdkafka's unpatched mock completes the generation on the leader's SyncGroup and answers a later follower's
  // INVALID_REQUEST, which kafkajs treats as fatal; tools/dev-cluster/librdkafka-mock-syncgroup.patch fixes that.
  // Consumers leave before the cluster stops (t.after hooks run in registration order, so this one comes first): a
  // consumer whose brokers are gone retries its disconnect for a long time.
  const consumers: Consumer[] = [];
  t.after(() => Promise.allSettled(consumers.map((c) => c.disconnect())));
  const { dc, topic } = await cluster(t, 3, 4);
  const group: GroupSetup = { dc, topic, groupId: `g-${randomUUID().slice(0, 8)}`, sessionTimeout: 6_000, consumers };
  const a = await groupMember(group, 'a');
  await until('the first member\'s assignment', () => a.assignment?.length === 4);
  assert.equal(a.leader, true);
  // The second member joins (the group rebalances); its SyncGroup goes out 500 ms after the leader's.
  const held = { count: 0 };
  const b = await groupMember(group, 'b', lateSyncGroup(500, held));
  await until('both members\' assignments', () => !!b.crash || (!!b.assignment && a.assignment!.length === 2 && b.assignment.length === 2));
  assert.equal(b.crash, null, 'the late follower\'s consumer crashed');
  assert.ok(held.count >= 1, 'no SyncGroup was held back');
  assert.equal(b.leader, false);
  assert.deepEqual([...a.assignment!, ...b.assignment!].sort(), [0, 1, 2, 3]);
  await Promise.all(consumers.map((c) => c.disconnect()));
});

test('a caught-up consumer gets each new record as soon as it is produced, not at the end of its fetch MaxWait (as from Kafka)', { timeout: 30_000 }, async (t) => {
  // librdkafka's unpatched mock answers a Fetch that finds no data only after the request's whole MaxWait, even when a
  // producer appends meanwhile: a consumer idle for IDLE_MS in a MAX_WAIT_MS fetch got each record ~MAX_WAIT_MS - IDLE_MS
  // (~2 s) late. tools/dev-cluster/librdkafka-mock-fetch-wake.patch answers the held Fetch on append, as a broker does.
  const MAX_WAIT_MS = 3_000;
  const IDLE_MS = 1_000; // before each produce: long enough for the consumer to be parked in a fetch again
  const ROUNDS = 5;
  const LATE_MS = 1_000; // well below MAX_WAIT_MS - IDLE_MS, the delay without the patch
  // The consumer leaves before the cluster stops (t.after hooks run in registration order, so this one comes first).
  let consumer: Consumer | undefined;
  t.after(() => consumer?.disconnect());
  const { dc, topic } = await cluster(t, 3, 2);
  // Partition leaders on two brokers: each round's append must wake the fetch parked on its own partition's leader.
  await dc.setLeader(topic, 0, 1);
  await dc.setLeader(topic, 1, 2);
  const p = await producer(t, dc, { retries: 3 });
  const kafka = new Kafka({ brokers: dc.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 1_000, requestTimeout: 5_000 });
  consumer = kafka.consumer({
    groupId: `g-${randomUUID().slice(0, 8)}`,
    maxWaitTimeInMs: MAX_WAIT_MS,
    minBytes: 1,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  let joined = false;
  let crash: string | null = null;
  const consumed: string[] = []; // "partition value", in arrival order
  const arrivedAt = new Map<string, number>(); // value → when eachMessage saw it
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  consumer.on(consumer.events.CRASH, (e) => {
    crash = `${(e.payload.error as { type?: string }).type ?? e.payload.error.message} (restart: ${e.payload.restart})`;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true }); // the topic is empty: nothing to catch up on
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const value = String(message.value);
      arrivedAt.set(value, Date.now());
      consumed.push(`${partition} ${value}`);
    },
  });
  await until('the consumer to join its group', () => joined || crash !== null);
  assert.equal(crash, null, 'the consumer crashed');

  const produced: string[] = [];
  const delays: number[] = []; // produce ack → eachMessage, ms
  for (let round = 0; round < ROUNDS; round++) {
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const partition = round % 2;
    const value = `fetch-wake-${round}-${randomUUID().slice(0, 8)}`;
    produced.push(`${partition} ${value}`);
    await p.send({ topic, messages: [{ partition, value }] });
    const ackedAt = Date.now();
    await until(`round ${round}'s message`, () => arrivedAt.has(value) || crash !== null, 10_000);
    assert.equal(crash, null, 'the consumer crashed');
    // The fetch answer can even beat the produce ack to this process: a delay ≤ 0 is on time too.
    delays.push(arrivedAt.get(value)! - ackedAt);
  }
  t.diagnostic(`produce ack → eachMessage delays (ms): ${delays.join(', ')}`);
  assert.deepEqual(consumed, produced, 'the consumer got exactly the produced records, in order');
  assert.ok(
    delays.every((d) => d < LATE_MS),
    `records reached the consumer late (ms after the produce ack: ${delays.join(', ')}; fetch MaxWait ${MAX_WAIT_MS} ms, idle ${IDLE_MS} ms before each produce)`,
  );
});
