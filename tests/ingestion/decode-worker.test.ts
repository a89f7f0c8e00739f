// Decoding and serializing in worker threads (ingestion/decode-pool.ts): for adversarial records, a worker gives
// exactly what the ingestion thread's per-record path gives — the same dead-letter error text, the same canonical
// staging line (the writer's reference serializer), the same exception for a row that cannot be staged, the same
// event time — and in record order, whatever the batches and however many workers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Dataset } from '../../config';
import { createDecoder } from '../../ingestion';
import { RecordStatus, type DecodedBatch, type ThrownError } from '../../ingestion/decode-batch';
import { createDecodePool } from '../../ingestion/decode-pool';
import { stagingPlan } from '../../lake/staging';
import { TEST_CONFIG } from '../helpers/lake-fixture';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lakegate-decode-worker-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'lakegate.yaml'), TEST_CONFIG(path.join(dir, 'lake')));
const catalog = loadConfig(path.join(dir, 'lakegate.yaml'));
const orders = catalog.datasetMap.get('orders')!;
const customers = catalog.datasetMap.get('customers')!;

interface Rec {
  value: Buffer | null;
  key: Buffer | null;
  offset: string;
  timestamp: string;
}

const base = { id: 'a', customerId: 'c', amount: 1.5, createdAt: '2026-11-21T10:00:00Z' };
const LONE = '\ud800';
/** Values that the decoder refuses, accepts in odd shapes, or accepts but cannot be staged. */
const ADVERSARIAL: Array<string | null | Buffer> = [
  null, // tombstone
  '',
  'not json',
  '{"id": "a",',
  '[1,2]',
  '"a string"',
  '42',
  'null',
  JSON.stringify({ ...base, id: null }),
  JSON.stringify({ customerId: 'c', amount: 1, createdAt: 0 }),
  JSON.stringify({ ...base, amount: 'abc' }),
  JSON.stringify({ ...base, amount: '-0' }),
  JSON.stringify({ ...base, amount: '1e999' }),
  JSON.stringify({ ...base, amount: '-1e999' }),
  '{"id":"a","customerId":"c","amount":-0,"createdAt":"2026-11-21T10:00:00Z"}',
  JSON.stringify({ ...base, amount: 5e-324, quantity: '  42 ' }),
  JSON.stringify({ ...base, quantity: 2147483648 }),
  JSON.stringify({ ...base, quantity: '+7', total: '-9223372036854775808' }),
  JSON.stringify({ ...base, quantity: 1.5 }),
  JSON.stringify({ ...base, total: '9007199254740993' }), // beyond 2^53: the reference path's line
  JSON.stringify({ ...base, total: '-9007199254740993' }),
  JSON.stringify({ ...base, total: '9223372036854775808' }),
  '{"id":"a","customerId":"c","amount":1,"createdAt":0,"total":9007199254740993}',
  JSON.stringify({ ...base, total: 9007199254740991 }),
  JSON.stringify({ ...base, paid: 'true', status: 'false' }),
  JSON.stringify({ ...base, paid: 'yes' }),
  JSON.stringify({ ...base, id: `lone ${LONE} high`, customerId: 'low \udc00', note: 'pair 😀 ünï' }),
  JSON.stringify({ ...base, note: 'nul\u0000 ctl\u0001 quote " backslash \\ \u2028' }),
  JSON.stringify({ ...base, attributes: { k: `v${LONE}` } }),
  JSON.stringify({ ...base, attributes: { [`k${LONE}`]: 1 } }),
  JSON.stringify({ ...base, attributes: { k: '\\ud800 written as text', c: '\u0001', e: '😀' } }),
  JSON.stringify({ ...base, attributes: [1, 'two', { three: [null, true] }] }),
  JSON.stringify({ ...base, attributes: 'just a string' }),
  JSON.stringify({ ...base, attributes: 0 }),
  JSON.stringify({ ...base, tags: ['a', null] }),
  JSON.stringify({ ...base, tags: 'a' }),
  JSON.stringify({ ...base, tags: [], scores: ['3', 4.0, '-0'] }),
  JSON.stringify({ ...base, tags: [`x${LONE}`, ''], scores: [1.5] }),
  JSON.stringify({ ...base, shipDate: '2026-02-30' }),
  JSON.stringify({ ...base, shipDate: '0001-01-01' }),
  JSON.stringify({ ...base, createdAt: 1795000000123.4567 }),
  JSON.stringify({ ...base, createdAt: 1e300 }), // decodes; its micros are beyond DuckDB's range: cannot be staged
  JSON.stringify({ ...base, createdAt: -8.64e15 }),
  JSON.stringify({ ...base, createdAt: '2026-11-21T10:00:00.123456789+05:30' }),
  JSON.stringify({ ...base, createdAt: '2026-11-21 10:00' }),
  JSON.stringify({ ...base, createdAt: '2026-13-01T00:00:00Z' }),
  JSON.stringify({ ...base, createdAt: '0099-01-01T00:00:00Z' }),
  JSON.stringify({ ...base, createdAt: true }),
  '{"__proto__":{"id":"x"},"id":"a","customerId":"c","amount":1,"createdAt":0,"extra":[1,2,3]}',
  Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // invalid UTF-8
  Buffer.concat([Buffer.from(JSON.stringify({ ...base, note: 'bad utf8 ' }).slice(0, -2)), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
  JSON.stringify({ ...base, note: 'x'.repeat(200_000) }),
  // The codec's one-pass path for the common shapes (ingestion/decode-batch.ts, commonShape): each of its own
  // branches, and the values at their edges that it hands to the decoder's path instead.
  JSON.stringify({ ...base, quantity: 3, total: 42, paid: false, status: 'shipped', note: 'ünï 😀 "q" \\ \n', shipDate: '2026-11-01', tags: ['a', 'b'], scores: [1, -2], attributes: { n: 1, nested: { ok: true } } }),
  JSON.stringify({ ...base, quantity: null, total: null, paid: null, status: null, note: null, shipDate: null, tags: null, scores: null, attributes: null }),
  JSON.stringify({ ...base, quantity: -2147483648, total: -9007199254740991, amount: 1e308 }),
  JSON.stringify({ ...base, quantity: 2147483647, total: 9007199254740992 }),
  '{"id":"a","customerId":"c","amount":1,"createdAt":0,"quantity":-0,"total":-0}',
  JSON.stringify({ ...base, total: '123456789012345' }),
  JSON.stringify({ ...base, total: '1234567890123456' }),
  JSON.stringify({ ...base, total: '-123456789012345' }),
  JSON.stringify({ ...base, total: '+5' }),
  JSON.stringify({ ...base, total: '-0' }),
  JSON.stringify({ ...base, total: '007' }),
  JSON.stringify({ ...base, total: ' 5' }),
  JSON.stringify({ ...base, total: '5 ' }),
  JSON.stringify({ ...base, total: '' }),
  JSON.stringify({ ...base, total: '1.0' }),
  JSON.stringify({ ...base, total: 1.5 }),
  JSON.stringify({ ...base, total: true }),
  JSON.stringify({ ...base, quantity: '12' }),
  JSON.stringify({ ...base, amount: 0, quantity: 0 }),
  JSON.stringify({ ...base, amount: '2.5' }),
  JSON.stringify({ ...base, amount: [1] }),
  JSON.stringify({ ...base, paid: 0 }),
  JSON.stringify({ ...base, id: 5 }),
  JSON.stringify({ ...base, id: ['a'] }),
  JSON.stringify({ ...base, id: {} }),
  JSON.stringify({ ...base, createdAt: '2026-02-29T00:00:00Z' }),
  JSON.stringify({ ...base, createdAt: '2028-02-29T23:59:59.999999Z' }),
  JSON.stringify({ ...base, createdAt: -1.5 }),
  JSON.stringify({ ...base, createdAt: 9007199254740.991 }),
  JSON.stringify({ ...base, createdAt: 9007199254740.993 }),
  JSON.stringify({ ...base, createdAt: '' }),
  JSON.stringify({ ...base, createdAt: null }),
  JSON.stringify({ ...base, createdAt: {} }),
  JSON.stringify({ ...base, tags: ['x', 3] }),
  JSON.stringify({ ...base, scores: [1, 2147483648] }),
  JSON.stringify({ ...base, scores: {} }),
  JSON.stringify({ ...base, shipDate: 20261101 }),
  JSON.stringify({ id: 'a', customerId: 'c', amount: 1 }),
];
const KEYS: Array<Buffer | null> = [null, Buffer.alloc(0), Buffer.from('k'), Buffer.from([0xff, 0x00, 0x41]), Buffer.from('ключ 😀')];

const records = (values: ReadonlyArray<string | null | Buffer>, firstOffset: number, ts: (i: number) => number): Rec[] =>
  values.map((v, i) => ({
    value: v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v),
    key: KEYS[i % KEYS.length]!,
    offset: String(firstOffset + i),
    timestamp: String(ts(i)),
  }));

type Outcome = { status: number; line?: string; error?: string | ThrownError; eventTimeMs: number };

/** The ingestion thread's per-record path: createDecoder, then the writer's reference serializer of that one row. */
function reference(ds: Dataset, recs: readonly Rec[]): Outcome[] {
  const decode = createDecoder(ds);
  const plan = stagingPlan(ds);
  return recs.map((r) => {
    let res;
    try {
      res = decode(r.value);
    } catch (e) {
      return { status: RecordStatus.DecodeThrew, error: { name: (e as Error).name, message: (e as Error).message }, eventTimeMs: NaN };
    }
    if (!res.ok) return { status: RecordStatus.Invalid, error: res.error, eventTimeMs: NaN };
    const eventTimeMs = res.row.eventTimeMs ?? NaN;
    try {
      const row = { values: res.row.values, offset: BigInt(r.offset), timestampMs: Number(r.timestamp), key: r.key ? r.key.toString('utf8') : null, bytes: 0 };
      return { status: RecordStatus.Ok, line: plan.serializeReference([row]).text, eventTimeMs };
    } catch (e) {
      return { status: RecordStatus.LineThrew, error: { name: (e as Error).name, message: (e as Error).message }, eventTimeMs };
    }
  });
}

function outcomes(b: DecodedBatch): Outcome[] {
  const out: Outcome[] = [];
  for (let i = 0; i < b.status.length; i++) {
    const start = i === 0 ? 0 : b.ends[i - 1]!;
    const o: Outcome = { status: b.status[i]!, eventTimeMs: b.eventTimeMs[i]! };
    if (o.status === RecordStatus.Ok) o.line = Buffer.from(b.data.subarray(start, b.ends[i]!)).toString('utf8');
    else {
      assert.equal(b.ends[i], start, `record ${i} without a line takes no text`);
      const e = b.errors.get(i)!;
      o.error = typeof e === 'string' ? e : { name: e.name, message: e.message };
    }
    out.push(o);
  }
  assert.equal(b.ends.length ? b.ends[b.ends.length - 1] : 0, b.data.length, 'the bytes are the lines and nothing else');
  return out;
}

// Offsets of up to 15 digits take the codec's number path, longer ones its BigInt path: both against the reference.
for (const firstOffset of [1_000, 9_007_199_254_740_000]) {
  test(`a worker decodes and serializes adversarial records exactly as the ingestion thread does (offsets from ${firstOffset})`, async () => {
    const recs = records(ADVERSARIAL, firstOffset, (i) => 1_795_000_000_000 + i * 1_000);
    const expected = reference(orders, recs);
    // The inputs do reach every outcome.
    const seen = new Set(expected.map((e) => e.status));
    for (const s of [RecordStatus.Ok, RecordStatus.Invalid, RecordStatus.LineThrew]) assert.ok(seen.has(s), `outcome ${s} exercised`);
    assert.ok(expected.some((e) => typeof e.error === 'string' && e.error.includes('unpaired UTF-16 surrogate')));
    for (const workers of [0, 1, 2]) {
      const pool = createDecodePool(catalog.datasets, workers);
      try {
        const got = outcomes(await pool.decode(orders, recs));
        assert.equal(got.length, recs.length);
        for (let i = 0; i < recs.length; i++) assert.deepEqual(got[i], expected[i], `workers=${workers}, record ${i}: ${String(ADVERSARIAL[i]).slice(0, 80)}`);
      } finally {
        await pool.close();
      }
    }
  });
}

/**
 * The records as views of one buffer, as kafkajs hands over a fetched batch: each record's key and value after a few
 * bytes of its own header, `gap` bytes of other data between records.
 */
function asOneResponse(recs: readonly Rec[], gap: number): Rec[] {
  const size = recs.reduce((a, r) => a + 7 + gap + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0);
  const buf = Buffer.alloc(size, 0xee);
  let at = 0;
  return recs.map((r) => {
    at += 7 + gap;
    const view = (b: Buffer | null) => {
      if (b === null) return null;
      b.copy(buf, at);
      at += b.length;
      return buf.subarray(at - b.length, at);
    };
    const key = view(r.key);
    const value = view(r.value);
    return { ...r, key, value };
  });
}

test('records that are views of one fetched response (copied to the worker as one span, or one by one when the span is mostly other data): the same outcomes', async () => {
  const recs = records(ADVERSARIAL.filter((v) => !(typeof v === 'string' && v.length > 100_000)), 5_000, (i) => 1_795_000_000_000 + i * 1_000);
  const expected = reference(orders, recs);
  for (const gap of [0, 3, 5_000]) {
    const pool = createDecodePool(catalog.datasets, 1);
    try {
      assert.deepEqual(outcomes(await pool.decode(orders, asOneResponse(recs, gap))), expected, `gap ${gap}`);
    } finally {
      await pool.close();
    }
  }
});

test('offsets beyond 2^53, odd Kafka timestamps and keys: the same lines or the same exceptions', async () => {
  const ok = JSON.stringify({ id: 'c1', name: 'n', updatedAt: '2026-11-21T10:00:00Z' });
  const recs: Rec[] = [
    { value: Buffer.from(ok), key: null, offset: '9223372036854775806', timestamp: '1795000000000' },
    { value: Buffer.from(ok), key: Buffer.from([0xed, 0xa0, 0x80]), offset: '0', timestamp: '-1' },
    { value: Buffer.from(ok), key: Buffer.from('k'), offset: '1', timestamp: '1.5' }, // not integral ms: cannot be staged
    { value: Buffer.from(ok), key: Buffer.from('k'), offset: '2', timestamp: 'NaN' },
    // Offsets kafkajs never gives, where BigInt decides: the same value, or the same exception.
    { value: Buffer.from(ok), key: Buffer.from('k'), offset: '007', timestamp: '1795000000000' },
    { value: Buffer.from(ok), key: Buffer.from('k'), offset: ' 12', timestamp: '1795000000000' },
    { value: Buffer.from(ok), key: Buffer.from('k'), offset: '0x1f', timestamp: '1795000000000' },
    { value: Buffer.from(ok), key: Buffer.from('k'), offset: '1e3', timestamp: '1795000000000' },
    { value: Buffer.from(ok), key: Buffer.from('k'), offset: '', timestamp: '1795000000000' },
    { value: Buffer.from(ok), key: Buffer.from('k'), offset: '999999999999999', timestamp: '1795000000000' },
    { value: Buffer.from(ok), key: Buffer.from('k'), offset: '9007199254740993', timestamp: '1795000000000' },
  ];
  const expected = reference(customers, recs);
  assert.equal(expected[2]!.status, RecordStatus.LineThrew);
  assert.equal(expected[7]!.status, RecordStatus.LineThrew, 'BigInt refuses 1e3');
  const pool = createDecodePool(catalog.datasets, 1);
  try {
    assert.deepEqual(outcomes(await pool.decode(customers, recs)), expected);
  } finally {
    await pool.close();
  }
});

test('a list and a scalar of every type: the one-pass path and the decoder give the same outcomes', async () => {
  // A dataset of its own (the fixture's has only [string] and [int] lists), in a catalog loaded from YAML as any.
  const file = path.join(dir, 'every-type.yaml');
  const types = ['string', 'int', 'long', 'float', 'boolean', 'timestamp', 'date', 'json'];
  // (a list of json is not a field type)
  const fields = types.flatMap((t) => [`      ${t}One: { type: ${t} }`, ...(t === 'json' ? [] : [`      ${t}List: { type: "[${t}]" }`])]).join('\n');
  writeFileSync(file, `lake:\n  path: ${JSON.stringify(path.join(dir, 'lake-every'))}\ndatasets:\n  samples:\n    typeName: Sample\n    eventTime: at\n    fields:\n      at: { type: timestamp, required: true }\n${fields}\n`);
  const cat = loadConfig(file);
  const ds = cat.datasetMap.get('samples')!;
  const at = '2026-11-21T10:00:00Z';
  const lists: Record<string, unknown[][]> = {
    string: [[], ['a', ''], [`x${LONE}`], ['ok', `${LONE}`], ['a', 1], ['a', null]],
    int: [[], [0, -0, 2147483647, -2147483648], [2147483648], [1.5], ['3'], [true]],
    long: [[], [1, '2', '-0'], ['9007199254740993'], [1.5]],
    float: [[], [1.5, 0, 1e308, -1e-308], [-0], [1, -0], ['2.5'], [null]],
    boolean: [[], [true, false], ['true'], [0], [true, null]],
    timestamp: [[], [at, 0, 1.5], ['2026-02-30T00:00:00Z'], [1e300]],
    date: [[], ['2026-11-01'], ['2026-02-30'], [1]],
    json: [[], [{ a: 1 }, [2], 'three', null], [{ k: LONE }]],
  };
  const values: string[] = [];
  for (const t of types) {
    if (t !== 'json') {
      for (const l of lists[t]!) values.push(JSON.stringify({ at, [`${t}List`]: l }));
      values.push(JSON.stringify({ at, [`${t}List`]: 'not a list' }), JSON.stringify({ at, [`${t}List`]: null }));
    }
    for (const one of [...lists[t]!.flat(), {}, [], 'x', 1, true]) values.push(JSON.stringify({ at, [`${t}One`]: one }));
  }
  // -0 as JSON text (JSON.stringify writes it 0): a float list keeps it as "-0", an int list as 0.
  values.push(`{"at":"${at}","floatList":[-0]}`, `{"at":"${at}","floatList":[1,-0.0]}`, `{"at":"${at}","intList":[-0]}`, `{"at":"${at}","floatOne":-0}`);
  values.push(JSON.stringify({ at: 1795000000123.5, stringList: ['a'], intList: [1], floatList: [0.1], booleanList: [false], stringOne: 's', intOne: 1, floatOne: -0 }));
  const recs = records(values, 100, (i) => 1_795_000_000_000 + i);
  const expected = reference(ds, recs);
  // Both sides of every list type: kept as it is, and refused or left to the decoder.
  assert.ok(expected.filter((e) => e.status === RecordStatus.Ok).length > 40 && expected.filter((e) => e.status === RecordStatus.Invalid).length > 40);
  for (const workers of [0, 1]) {
    const pool = createDecodePool(cat.datasets, workers);
    try {
      const got = outcomes(await pool.decode(ds, recs));
      for (let i = 0; i < recs.length; i++) assert.deepEqual(got[i], expected[i], `workers=${workers}, record ${i}: ${values[i]}`);
    } finally {
      await pool.close();
    }
  }
});

test('many batches at once, over two workers: every batch whole and in record order', async () => {
  const pool = createDecodePool(catalog.datasets, 2);
  try {
    const batches = Array.from({ length: 24 }, (_, b) =>
      records(
        Array.from({ length: 300 }, (_, i) => (i % 37 === 5 ? 'oops' : JSON.stringify({ ...base, id: `b${b}-${i}`, quantity: i, tags: [`t${i % 3}`] }))),
        b * 1000,
        (i) => 1_795_000_000_000 + i,
      ),
    );
    const got = await Promise.all(batches.map((recs) => pool.decode(orders, recs)));
    for (let b = 0; b < batches.length; b++) assert.deepEqual(outcomes(got[b]!), reference(orders, batches[b]!), `batch ${b}`);
  } finally {
    await pool.close();
  }
});

test('a pool falls back to the calling thread after close, and a closed pool keeps no process alive', async () => {
  const pool = createDecodePool(catalog.datasets, 1);
  const recs = records([JSON.stringify(base)], 0, () => 0);
  await pool.decode(orders, recs);
  await pool.close();
  assert.deepEqual(outcomes(await pool.decode(orders, recs)), reference(orders, recs));
});
