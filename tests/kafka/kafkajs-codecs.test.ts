// kafka/kafkajs-codecs.ts against kafkajs' own codecs: the record batch decoder must give kafkajs' records (or its
// errors) for any bytes, the produce encoder kafkajs' bytes for any request; and, installed in a process, a kafkajs
// producer and consumer on the dev cluster must write and read what kcat (librdkafka, an independent client) reads.

/* eslint-disable @typescript-eslint/no-require-imports */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Partitioners } from 'kafkajs';
import { crc32c } from '../../kafka/crc32c';
import { createDefaultPartitioner, createProduceRequest, createRecordBatchDecoder, murmur2 } from '../../kafka/kafkajs-codecs';
import { startDevCluster } from '../../tools/dev-cluster';
import { buildDevCluster, repoRoot } from '../helpers/kafka-fixture';
import { kcatAll } from '../helpers/live-fixture';

const kjs = (p: string) => require(require.resolve(`kafkajs/src/${p}`)) as unknown;
type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const Decoder = kjs('protocol/decoder') as Any;
const Encoder = kjs('protocol/encoder') as Any;
const Long = kjs('utils/long') as Any;
const { RecordBatch } = kjs('protocol/recordBatch/v0') as Any;
const Record = kjs('protocol/recordBatch/record/v0') as Any;
const { Types: Compression } = kjs('protocol/message/compression') as Any;
const stockBatch = kjs('protocol/recordBatch/v0/decoder') as Any;
const stockRecord = kjs('protocol/recordBatch/record/v0/decoder') as Any;
const stockProduce = kjs('protocol/requests/produce/v3/request') as Any;
const fastBatch = createRecordBatchDecoder(stockBatch, stockRecord) as Any;
const fastProduce = createProduceRequest(stockProduce) as Any;

/** A seeded PRNG (mulberry32): the same cases on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]! };
}

const texts = ['', 'k', 'order-17', 'é€𝄞 unicode', 'x'.repeat(200), 'y'.repeat(20_000), '{"id":"o-1","amount":1.5}'];

function randomValue(r: ReturnType<typeof prng>): string | Buffer | null {
  switch (r.int(4)) {
    case 0:
      return null;
    case 1:
      return Buffer.from(Array.from({ length: r.int(300) }, () => r.int(256)));
    default:
      return r.pick(texts);
  }
}

/** Record batches as kafkajs' producer writes them, over the shapes a fetch can hold. */
async function batches(r: ReturnType<typeof prng>, count: number): Promise<Buffer> {
  const enc = new Encoder();
  for (let b = 0; b < count; b++) {
    const n = r.pick([0, 1, 3, 40, 130]);
    const firstOffset = r.pick([0, 5, 1_000_000, 2 ** 53 - 20, 2 ** 62]);
    const firstTimestamp = r.pick([0, 1_763_740_000_000, 2 ** 53 - 10]);
    const records = Array.from({ length: n }, (_, i) =>
      Record({
        offsetDelta: i,
        timestampDelta: r.pick([0, 1, -5, 1_000_000, 2 ** 40, 2 ** 50, -(2 ** 50)]),
        key: randomValue(r),
        value: randomValue(r),
        headers: r.int(5) === 0 ? { h: 'v', multi: ['a', Buffer.from([1, 2])] } : {},
      }),
    );
    const compression = r.int(6) === 0 ? Compression.GZIP : Compression.None;
    const rb = await RecordBatch({ compression, firstOffset: Long.fromValue(String(firstOffset)), firstTimestamp, maxTimestamp: firstTimestamp + 7, lastOffsetDelta: n - 1, transactional: r.int(4) === 0, records });
    const bytes: Buffer = rb.buffer;
    // Attribute bits the producer does not set: log-append time and control batches (attributes: int16 at 21).
    const flags = r.pick([0, 0, 0, 0x08, 0x20]);
    if (flags) bytes.writeInt16BE(bytes.readInt16BE(21) | flags, 21);
    enc.writeBuffer(bytes);
  }
  return enc.buffer;
}

/** As kafkajs' fetch decodeMessages: batches while 49 bytes remain, a partial batch at the end ends the loop. */
async function decodeAll(dec: Any, buf: Buffer): Promise<{ batches: unknown[]; error?: string }> {
  const d = new Decoder(buf);
  const out: unknown[] = [];
  try {
    while (d.canReadBytes(49)) {
      try {
        out.push(await dec(d));
      } catch (e) {
        if ((e as Error).name === 'KafkaJSPartialMessageError') break;
        throw e;
      }
    }
  } catch (e) {
    return { batches: out, error: `${(e as Error).name}: ${(e as Error).message}` };
  }
  return { batches: out };
}

test('record batch decoder: the records kafkajs decodes, over offsets and timestamps past 2^53, headers, nulls, compression, control and log-append batches', async () => {
  const r = prng(7);
  let records = 0;
  for (let k = 0; k < 20; k++) {
    const buf = await batches(r, 6);
    const want = await decodeAll(stockBatch, buf);
    const got = await decodeAll(fastBatch, buf);
    assert.equal(want.error, undefined);
    assert.deepStrictEqual(got, want);
    records += want.batches.reduce<number>((a, b) => a + (b as { records: unknown[] }).records.length, 0);
  }
  assert.ok(records > 1000, `only ${records} records decoded`);
});

test('record batch decoder: on truncated and corrupted bytes, the same records or the same error as kafkajs', async () => {
  const r = prng(11);
  let differentOutcomes = 0;
  for (let k = 0; k < 300; k++) {
    const buf = Buffer.from(await batches(r, 2));
    if (r.int(3) === 0) {
      const cut = buf.subarray(0, r.int(buf.length));
      const want = await decodeAll(stockBatch, cut);
      assert.deepStrictEqual(await decodeAll(fastBatch, cut), want);
      continue;
    }
    // Past the first batch's header (its length field decides where the next batch starts), flip a few bytes.
    for (let f = 0; f < 1 + r.int(4); f++) buf[61 + r.int(buf.length - 61)] = r.int(256);
    const want = await decodeAll(stockBatch, buf);
    if (want.error) differentOutcomes++;
    assert.deepStrictEqual(await decodeAll(fastBatch, buf), want);
  }
  // The corruption reaches kafkajs' error paths too, not only records of other values.
  assert.ok(differentOutcomes > 0);
});

test('record batch decoder: every batch it decodes shares one hidden class, and so do their record contexts', async () => {
  // A hidden class (V8 map) per batch is allocated in the old generation: at a live tail's rate that made full GCs
  // every few seconds (kafka/kafkajs-codecs.ts). V8 tells whether two objects share one (%HaveSameMap) only to a
  // process started with --allow-natives-syntax: a child decodes 50 batches of one shape with each decoder.
  const script = `
    const kjs = (p) => require(require.resolve('kafkajs/src/' + p, { paths: [${JSON.stringify(repoRoot)}] }));
    const { createRecordBatchDecoder } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'kafka', 'kafkajs-codecs.js'))});
    const Decoder = kjs('protocol/decoder');
    const Long = kjs('utils/long');
    const { RecordBatch } = kjs('protocol/recordBatch/v0');
    const Record = kjs('protocol/recordBatch/record/v0');
    const stock = kjs('protocol/recordBatch/v0/decoder');
    const fast = createRecordBatchDecoder(stock, kjs('protocol/recordBatch/record/v0/decoder'));
    (async () => {
      const out = {};
      for (const [name, dec] of [['fast', fast], ['stock', stock]]) {
        const seen = [];
        for (let i = 0; i < 50; i++) {
          const records = [0, 1, 2].map((d) => Record({ offsetDelta: d, timestampDelta: d, key: 'k' + i, value: '{"n":' + i + '}' }));
          const rb = await RecordBatch({ firstOffset: Long.fromValue(String(1000 * i)), firstTimestamp: 1763740000000 + i, lastOffsetDelta: 2, records });
          seen.push(await dec(new Decoder(rb.buffer)));
        }
        out[name] = {
          batches: seen.filter((b) => %HaveSameMap(b, seen[0])).length,
          contexts: seen.filter((b) => %HaveSameMap(b.records[0].batchContext, seen[0].records[0].batchContext)).length,
          records: seen.reduce((n, b) => n + b.records.length, 0),
        };
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '-e', script]);
  const got = JSON.parse(stdout) as Record<'fast' | 'stock', { batches: number; contexts: number; records: number }>;
  assert.equal(got.fast.records, 150);
  assert.deepStrictEqual({ batches: got.fast.batches, contexts: got.fast.contexts }, { batches: 50, contexts: 50 }, `kafkajs' own decoder on this Node: ${JSON.stringify(got.stock)}`);
});

/** Runs f with Date.now() fixed at `now` (kafkajs' encoder stamps batches without a timestamp with it). */
async function atFixedNow<T>(now: number, f: () => Promise<T>): Promise<T> {
  const real = Date.now;
  Date.now = () => now;
  try {
    return await f();
  } finally {
    Date.now = real;
  }
}

async function encoded(make: Any, args: unknown): Promise<{ bytes: string; meta: unknown } | { error: string }> {
  try {
    const req = make(args);
    const enc = await req.encode();
    return { bytes: (enc.buffer as Buffer).toString('hex'), meta: [req.apiKey, req.apiVersion, req.apiName, req.expectResponse()] };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

test("produce encoder: kafkajs' bytes for any request (keys, values, timestamps, headers, compression, transactions)", async () => {
  const r = prng(3);
  const timestampOf = () => r.pick([undefined, undefined, null, 0, '1763740000123', 1_763_740_000_456, '999', 1000, '', 'x', 1.5, 2 ** 60]);
  let fast = 0;
  for (let k = 0; k < 300; k++) {
    const plain = r.int(3) > 0;
    const topicData = Array.from({ length: 1 + r.int(2) }, (_, t) => ({
      topic: r.pick(['orders', 'tópico-é', 'o']) + t,
      partitions: Array.from({ length: 1 + r.int(4) }, (_, p) => ({
        partition: p,
        firstSequence: r.pick([undefined, 0, 17, 2 ** 31 - 1]),
        messages: Array.from({ length: r.pick([0, 1, 5, 200]) }, () => {
          const m: Record<string, unknown> = { key: randomValue(r), value: randomValue(r) };
          if (r.int(2)) m.timestamp = plain ? r.pick([undefined, String(1_763_740_000_000 + r.int(200_000)), 1_763_740_000_000 + r.int(2 ** 20)]) : timestampOf();
          if (!plain && r.int(8) === 0) m.headers = { h: 'v' };
          if (!plain && r.int(20) === 0) m.value = 42;
          return m;
        }),
      })),
    }));
    const args = {
      acks: r.pick([-1, 0, 1]),
      timeout: 30_000,
      transactionalId: r.pick([undefined, null, 'tx-é']),
      producerId: r.pick([undefined, Long.fromValue(4000), 77, '123456789012']),
      producerEpoch: r.pick([undefined, 0, 3]),
      compression: !plain && r.int(5) === 0 ? Compression.GZIP : r.pick([undefined, Compression.None]),
      topicData,
    };
    const now = 1_763_740_000_000 + r.int(1_000_000);
    const want = await atFixedNow(now, () => encoded(stockProduce, args));
    const got = await atFixedNow(now, () => encoded(fastProduce, args));
    assert.deepStrictEqual(got, want, `case ${k}`);
    if (plain && !('error' in want)) fast++;
  }
  assert.ok(fast > 100);
});

test("CRC-32C: the standard check value, and kafkajs' crc32C of random bytes of every length up to 300 and of views at every alignment", () => {
  // The check value of the CRC-32C catalogue (RFC 3720, B.4): an answer that does not come from kafkajs.
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43); // and of ones
  const stockCrc = kjs('protocol/recordBatch/crc32C') as (b: Buffer) => number;
  const rnd = prng(7);
  const pool = Buffer.alloc(70_000);
  for (let i = 0; i < pool.length; i++) pool[i] = rnd.int(256);
  let checked = 0;
  for (let len = 0; len <= 300; len++) {
    for (let shift = 0; shift < 8; shift++) {
      const view = pool.subarray(shift + len * 7, shift + len * 7 + len);
      assert.equal(crc32c(view), stockCrc(view), `length ${len}, offset ${shift}`);
      checked++;
    }
  }
  for (const len of [1021, 4096, 65_537]) assert.equal(crc32c(pool.subarray(3, 3 + len)), stockCrc(pool.subarray(3, 3 + len)));
  assert.equal(checked, 301 * 8);
});

test("default partitioner: kafkajs' partition for every key (murmur2 of strings, unicode and bytes of every length)", () => {
  const r = prng(5);
  const stockMurmur2 = kjs('producer/partitioners/default/murmur2') as (k: unknown) => number;
  const stock = Partitioners.DefaultPartitioner() as Any;
  const ours = createDefaultPartitioner(stock) as Any;
  const alphabet = ['a', 'Z', '0', '-', 'é', '€', '𝄞', '\u0000', 'ÿ'];
  for (let k = 0; k < 20_000; k++) {
    const key: string | Buffer = r.int(4) === 0 ? Buffer.from(Array.from({ length: r.int(40) }, () => r.int(256))) : Array.from({ length: r.int(40) }, () => r.pick(alphabet)).join('');
    assert.equal(murmur2(key), stockMurmur2(key), JSON.stringify(key));
    const partitionMetadata = Array.from({ length: 1 + r.int(50) }, (_, i) => ({ partitionId: i, leader: r.int(3) - 1 }));
    const message = { key, value: 'v', ...(r.int(10) === 0 ? { partition: r.int(5) } : {}) };
    assert.equal(ours({ topic: 't', partitionMetadata, message }), stock({ topic: 't', partitionMetadata, message }));
  }
  // Without a key, kafkajs' round robin (its counter) decides: every available partition in turn.
  const partitionMetadata = [0, 1, 2].map((i) => ({ partitionId: i, leader: 1 }));
  const seen = new Set(Array.from({ length: 6 }, () => ours({ topic: 'rr', partitionMetadata, message: { key: null } })));
  assert.deepStrictEqual([...seen].sort(), [0, 1, 2]);
});

before(buildDevCluster);

test('installed in a process: what a kafkajs producer writes and its consumer reads is what kcat reads', async (t) => {
  const dc = await startDevCluster({ brokers: 3, topics: { codecs: 3 } });
  t.after(() => dc.stop());
  // The child installs the codecs, produces (acks=all, one request in flight: the mock has no controller to give an
  // idempotent producer its id; half with explicit timestamps, some keys null), then
  // consumes the topic from the beginning, and prints what its producer was told and what its consumer read.
  const child = `
    const { installKafkajsCodecs } = require(${JSON.stringify(path.join(repoRoot, 'dist/kafka/kafkajs-codecs.js'))});
    if (!installKafkajsCodecs().ok) throw new Error('not installed');
    const { Kafka, logLevel, Partitioners } = require('kafkajs');
    (async () => {
      const kafka = new Kafka({ brokers: ${JSON.stringify(dc.brokers)}, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
      const producer = kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
      await producer.connect();
      const sent = [];
      for (let b = 0; b < 6; b++) {
        const messages = Array.from({ length: 250 }, (_, i) => ({
          key: i % 7 === 0 ? null : 'k-' + b + '-' + i,
          value: JSON.stringify({ b, i, text: 'é€𝄞'.repeat(i % 5) }),
          ...(b % 2 ? { timestamp: String(1763740000000 + b * 1000 + i) } : {}),
        }));
        const res = await producer.send({ topic: 'codecs', acks: -1, messages });
        sent.push(res.map((x) => [x.partition, x.baseOffset]));
      }
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: 'codecs-test' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'codecs', fromBeginning: true });
      const got = [];
      await new Promise((resolve) => {
        consumer.run({ eachMessage: async ({ partition, message }) => {
          got.push({ partition, offset: message.offset, ts: message.timestamp, key: message.key && message.key.toString(), payload: message.value.toString() });
          if (got.length === 1500) resolve();
        } });
      });
      await consumer.disconnect();
      process.stdout.write(JSON.stringify({ sent, got }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', child], { cwd: repoRoot, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  const { got } = JSON.parse(stdout) as { got: Array<{ partition: number; offset: string; ts: string; key: string | null; payload: string }> };
  const key = (m: { partition: number; offset: number | string }) => `${m.partition}:${m.offset}`;
  const kcat = await kcatAll(dc.brokers.join(','), 'codecs');
  assert.equal(kcat.length, 1500);
  const byPos = new Map(kcat.map((m) => [key(m), m]));
  assert.equal(got.length, 1500);
  assert.equal(new Set(got.map(key)).size, 1500);
  for (const m of got) {
    const k = byPos.get(key(m));
    assert.ok(k, `kcat has no message at ${key(m)}`);
    assert.deepStrictEqual({ ts: Number(m.ts), key: m.key, payload: m.payload }, { ts: k.ts, key: k.key, payload: k.payload }, key(m));
  }
  // The explicit timestamps reached the broker as given.
  const explicit = kcat.filter((m) => JSON.parse(m.payload!).b % 2 === 1);
  for (const m of explicit) {
    const v = JSON.parse(m.payload!) as { b: number; i: number };
    assert.equal(m.ts, 1_763_740_000_000 + v.b * 1000 + v.i);
  }
});
