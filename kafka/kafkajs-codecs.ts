// Faster equivalents of two kafkajs 2.2.4 codecs, for lakegate's own processes: the record batch decoder of fetches
// and the produce request encoder (versions 3 to 7 share it). kafkajs is unmaintained past 2.2.4 and spends most of a
// consumer's or producer's CPU here: per record it decodes offset and timestamp with BigInt arithmetic on strings and
// builds a Buffer and a Decoder, and it encodes a record into a zero-filled 512-byte Encoder with one Buffer per varint.
// Measured per 300-byte record: decoding 2.8 → 0.8 µs; see tests/kafka/kafkajs-codecs.test.ts for the encoder.
//
// Invariants:
// - The output is kafkajs' own, exactly: the decoder gives the same record objects (same keys, values, Buffers' bytes,
//   errors), the encoder the same request bytes. tests/kafka/kafkajs-codecs.test.ts compares both with kafkajs' codecs
//   on adversarial batches.
// - Only the plain shapes take the fast path: uncompressed batches of records without headers or 64-bit timestamp deltas
//   (decoder); uncompressed produce requests of messages without timestamps or headers, keys and values strings,
//   Buffers or null (encoder). Everything else (and any record the fast path finds malformed) is handed to kafkajs'
//   code, so its behaviour, errors included, stays kafkajs'.
// - installKafkajsCodecs() replaces the two modules in Node's module cache, and drops from it the kafkajs modules that
//   captured them (they are loaded again, lazily, by kafkajs' request lookup), so the order of loading does not matter.
//   It is called by the CLI (cli/main.ts) only: a test process and the benchmarks' raw baselines keep stock kafkajs.

/* eslint-disable @typescript-eslint/no-require-imports */
import type { PartitionerArgs } from 'kafkajs';
import { crc32c } from './crc32c';

const KAFKAJS_VERSION = '2.2.4';

interface KDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readVarIntBytes(): Buffer | null;
  slice(n: number): KDecoder;
  forward(n: number): void;
}
interface KEncoder {
  buf: Buffer;
  offset: number;
}
interface LongLike {
  getHighBits(): number;
  getLowBits(): number;
}
type KRecord = Record<string, unknown>;
type BatchDecoder = (fetchDecoder: KDecoder) => Promise<Record<string, unknown>>;
type RecordDecoder = (d: KDecoder, ctx: Record<string, unknown>) => KRecord;

interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: Array<{ topic: string; partitions: Array<{ partition: number; firstSequence?: number; messages: Array<Record<string, unknown>> }> }>;
}
type ProduceRequest = (args: ProduceArgs) => { apiKey: number; apiVersion: number; apiName: string; expectResponse: () => boolean; encode: () => Promise<KEncoder> };

const kjs = (p: string) => require.resolve(`kafkajs/src/${p}`);
const load = <T>(p: string) => require(kjs(p)) as T;

/** kafkajs' modules this file builds on (loaded on first use: importing this file has no effect on kafkajs). */
function kafkajs() {
  return {
    Decoder: load<new (b: Buffer | null) => KDecoder>('protocol/decoder'),
    Encoder: load<{ prototype: object }>('protocol/encoder'),
    Long: load<{ fromValue(v: unknown): LongLike; fromInt(n: number): LongLike }>('utils/long'),
    TimestampTypes: load<{ LOG_APPEND_TIME: number; CREATE_TIME: number }>('protocol/timestampTypes'),
    PartialMessageError: load<{ KafkaJSPartialMessageError: new (m: string) => Error }>('errors').KafkaJSPartialMessageError,
    apiKey: load<{ Produce: number }>('protocol/requests/apiKeys').Produce,
  };
}

const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
const COMPRESSION_CODEC_MASK = 0x07;

/** kafkajs' Decoder.readVarInt, on a buffer at a cursor (the same arithmetic, so the same result on any bytes). */
function varInt(buf: Buffer, cur: { o: number }): number {
  let b: number;
  let r = 0;
  let i = 0;
  do {
    b = buf[cur.o++]!;
    r += (b & 0x7f) << i;
    i += 7;
  } while (b >= 0x80);
  return (r >>> 1) ^ -(r & 1);
}

/**
 * The record batch decoder (kafkajs/src/protocol/recordBatch/v0/decoder.js) with a fast path for the records of an
 * uncompressed batch. `stock` is kafkajs' own batch decoder, `stockRecord` its record decoder.
 */
export function createRecordBatchDecoder(stock: BatchDecoder, stockRecord: RecordDecoder): BatchDecoder {
  const { Decoder, TimestampTypes, PartialMessageError } = kafkajs();
  // kafkajs' decodeRecord: the record's bytes (a varint-prefixed slice) decoded by a Decoder of their own.
  const slowRecord = (d: KDecoder, ctx: Record<string, unknown>) => stockRecord(new Decoder(d.readVarIntBytes()), ctx);
  return async (fetchDecoder) => {
    const start = fetchDecoder.offset;
    // As kafkajs, field by field: the batch header.
    const firstOffset = fetchDecoder.readInt64().toString();
    const length = fetchDecoder.readInt32();
    const decoder = fetchDecoder.slice(length);
    fetchDecoder.forward(length);
    const remainingBytes = Buffer.byteLength(decoder.buffer);
    if (remainingBytes < length) {
      throw new PartialMessageError(`Tried to decode a partial record batch: remainingBytes(${remainingBytes}) < recordBatchLength(${length})`);
    }
    const partitionLeaderEpoch = decoder.readInt32();
    const magicByte = decoder.readInt8();
    decoder.readInt32(); // crc, not checked (as kafkajs)
    const attributes = decoder.readInt16();
    if ((attributes & COMPRESSION_CODEC_MASK) !== 0) {
      fetchDecoder.offset = start;
      return stock(fetchDecoder);
    }
    const lastOffsetDelta = decoder.readInt32();
    const firstTimestamp = decoder.readInt64().toString();
    const maxTimestamp = decoder.readInt64().toString();
    const producerId = decoder.readInt64().toString();
    const producerEpoch = decoder.readInt16();
    const firstSequence = decoder.readInt32();
    const inTransaction = (attributes & TRANSACTIONAL_FLAG_MASK) > 0;
    const isControlBatch = (attributes & CONTROL_FLAG_MASK) > 0;
    const timestampType = (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? TimestampTypes.LOG_APPEND_TIME : TimestampTypes.CREATE_TIME;
    // kafkajs builds these two with `{ ...recordContext, magicByte }` and `{ ...recordContext, records }`. On Node 20
    // (V8 11.3) an object spread followed by a property makes a new hidden class (a map and a descriptor array, in
    // the old generation) on every run: two per batch, the largest part of what a live tail made V8 collect in full
    // GCs. Written out, every batch shares two hidden classes (tests/kafka/kafkajs-codecs.test.ts checks it).
    const ctx = { firstOffset, firstTimestamp, partitionLeaderEpoch, inTransaction, isControlBatch, lastOffsetDelta, producerId, producerEpoch, firstSequence, maxTimestamp, timestampType, magicByte };

    // The records (kafkajs: decoder.readArray(decodeRecord)).
    const count = decoder.readInt32();
    const records: KRecord[] = count === -1 ? [] : new Array<KRecord>(count);
    const buf = decoder.buffer;
    const cur = { o: decoder.offset };
    const frame: Frame = {
      ctx,
      magicByte,
      isControlBatch,
      firstOffset,
      firstTimestamp,
      fo: safeOrNaN(Number(firstOffset)),
      ft: safeOrNaN(Number(firstTimestamp)),
      logAppend: timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp !== '',
      maxTimestamp,
    };
    for (let i = 0; i < count; i++) {
      const recStart = cur.o;
      const len = varInt(buf, cur);
      const end = cur.o + len;
      const rec = len >= 0 && end <= buf.length ? fastRecord(buf, cur, end, frame) : null;
      if (rec === null) {
        decoder.offset = recStart;
        records[i] = slowRecord(decoder, ctx);
        cur.o = decoder.offset;
      } else {
        records[i] = rec;
        cur.o = end;
      }
    }
    return { firstOffset, firstTimestamp, partitionLeaderEpoch, inTransaction, isControlBatch, lastOffsetDelta, producerId, producerEpoch, firstSequence, maxTimestamp, timestampType, records };
  };
}

/** What a batch's records share. fo / ft: first offset and timestamp as numbers, NaN when not exact. */
interface Frame {
  ctx: Record<string, unknown>;
  magicByte: number;
  isControlBatch: boolean;
  firstOffset: string;
  firstTimestamp: string;
  fo: number;
  ft: number;
  logAppend: boolean;
  maxTimestamp: string;
}

const safeOrNaN = (n: number) => (Number.isSafeInteger(n) ? n : NaN);

/** base (a number, NaN when not exact; its text) plus delta, as the decimal text kafkajs' BigInt Long gives. */
const sum = (base: number, baseText: string, delta: number) => (Number.isSafeInteger(base + delta) ? String(base + delta) : String(BigInt(baseText) + BigInt(delta)));

/**
 * The record between cur.o (after its length) and end, as kafkajs' record decoder gives it, or null for anything the
 * fast path leaves to kafkajs: headers, a timestamp delta of over 7 varint bytes (beyond 2^48), a negative length
 * other than -1, or fields that run past the record's end.
 */
function fastRecord(buf: Buffer, cur: { o: number }, end: number, f: Frame): KRecord | null {
  let o = cur.o;
  const attributes = (buf[o++]! << 24) >> 24;
  // Varlong, zig-zag: as a number while it fits 7 bytes.
  let b: number;
  let n = 0;
  let scale = 1;
  let bytes = 0;
  do {
    b = buf[o++]!;
    n += (b & 0x7f) * scale;
    scale *= 128;
    bytes++;
  } while (b >= 0x80 && bytes < 8);
  if (b >= 0x80 || bytes > 7) return null;
  const timestampDelta = n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  cur.o = o;
  const offsetDelta = varInt(buf, cur);
  const kl = varInt(buf, cur);
  if (kl < -1) return null;
  const key = kl === -1 ? null : buf.slice(cur.o, (cur.o += kl));
  const vl = varInt(buf, cur);
  if (vl < -1) return null;
  const value = vl === -1 ? null : buf.slice(cur.o, (cur.o += vl));
  const headers = varInt(buf, cur);
  if ((headers !== 0 && headers !== -1) || cur.o > end) return null;
  const timestamp = f.logAppend ? f.maxTimestamp : sum(f.ft, f.firstTimestamp, timestampDelta);
  const offset = sum(f.fo, f.firstOffset, offsetDelta);
  return { magicByte: f.magicByte, attributes, timestamp, offset, key, value, headers: {}, isControlRecord: f.isControlBatch, batchContext: f.ctx };
}

/** Bytes of kafkajs' Encoder.writeVarInt(v) (zig-zag, then 7 bits per byte). */
function sizeOfVarInt(v: number): number {
  let u = (v << 1) ^ (v >> 31);
  let n = 1;
  while ((u & 0xffffff80) !== 0) {
    n++;
    u >>>= 7;
  }
  return n;
}

function writeVarInt(buf: Buffer, o: number, v: number): number {
  let u = (v << 1) ^ (v >> 31);
  while ((u & 0xffffff80) !== 0) {
    buf[o++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[o++] = u & 0x7f;
  return o;
}

function writeInt64(buf: Buffer, o: number, v: LongLike): number {
  buf.writeInt32BE(v.getHighBits(), o);
  buf.writeInt32BE(v.getLowBits(), o + 4);
  return o + 8;
}

/** A message the fast encoder takes: no headers, key and value strings, Buffers or null. */
function plainMessage(m: Record<string, unknown>): boolean {
  const h = m.headers;
  if (h !== undefined) {
    if (h === null || typeof h !== 'object') return false;
    for (const _ in h) return false;
  }
  const plain = (v: unknown) => v === null || v === undefined || typeof v === 'string' || Buffer.isBuffer(v);
  return plain(m.key) && plain(m.value);
}

/** kafkajs' Encoder.writeVarIntBytes of a plain value whose byte length (-1 for null) is `len`. */
function writeBytes(buf: Buffer, o: number, v: unknown, len: number): number {
  o = writeVarInt(buf, o, len);
  if (len < 0) return o;
  return o + (typeof v === 'string' ? buf.write(v, o, len, 'utf8') : (v as Buffer).copy(buf, o));
}

const byteLength = (v: unknown) => (v === null || v === undefined ? -1 : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : (v as Buffer).length);

/** Largest timestamp delta the fast encoder writes (as a number; kafkajs' own code takes larger ones). */
const MAX_DELTA = 2 ** 48;

/** Bytes of kafkajs' Encoder.writeVarLong(d) for a safe integer |d| <= MAX_DELTA (zig-zag, then 7 bits per byte). */
function sizeOfVarLong(d: number): number {
  let z = d >= 0 ? 2 * d : -2 * d - 1;
  let n = 1;
  while (z >= 128) {
    n++;
    z = Math.floor(z / 128);
  }
  return n;
}

function writeVarLong(buf: Buffer, o: number, d: number): number {
  let z = d >= 0 ? 2 * d : -2 * d - 1;
  while (z >= 128) {
    buf[o++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[o++] = z;
  return o;
}

/** A timestamp as kafkajs' Long.fromValue reads it, for the forms whose arithmetic here is exactly kafkajs'. */
const plainTimestamp = (t: unknown) => (typeof t === 'number' ? Number.isSafeInteger(t) : typeof t === 'string' && /^-?[0-9]{1,15}$/.test(t));

/**
 * The produce request (kafkajs/src/protocol/requests/produce/v3/request.js; v4 to v7 are it with another apiVersion)
 * with a fast encoder for uncompressed requests of plain messages: one buffer sized up front, written once.
 */
export function createProduceRequest(stock: ProduceRequest): ProduceRequest {
  const { Encoder, Long, apiKey } = kafkajs();

  /** The request's bytes, or null for a request the fast path leaves to kafkajs (timestamps out of its forms). */
  const encodeFast = (args: ProduceArgs): KEncoder | null => {
    const { acks, timeout, transactionalId = null, producerEpoch = 0, topicData } = args;
    const producerId = args.producerId === undefined ? Long.fromInt(-1) : Long.fromValue(args.producerId);
    // Sizes first: per record its body's size and timestamp delta, per partition its batch's size and timestamps.
    interface Part { sizes: number[]; deltas: number[]; keyLens: number[]; valueLens: number[]; first: LongLike; max: LongLike }
    const parts: Part[][] = [];
    let total = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId, 'utf8')) + 2 + 4 + 4;
    for (const t of topicData) {
      const perTopic: Part[] = [];
      total += 2 + Buffer.byteLength(t.topic, 'utf8') + 4;
      for (const p of t.partitions) {
        // As kafkajs: the batch's first and max timestamps are the smallest and largest given (sort() compares them
        // as strings), Date.now() when none is; a record's delta is (its timestamp || now) - first.
        const dateNow = Date.now();
        const given = p.messages.map((m) => m.timestamp).filter((ts) => ts != null).sort();
        const timestamps = given.length === 0 ? [dateNow] : given;
        const first = timestamps[0];
        const max = timestamps[timestamps.length - 1];
        if (!plainTimestamp(first) || !plainTimestamp(max)) return null;
        const sizes: number[] = [];
        const deltas: number[] = [];
        const keyLens: number[] = [];
        const valueLens: number[] = [];
        let batch = 0;
        for (let i = 0; i < p.messages.length; i++) {
          const m = p.messages[i]!;
          const delta = ((m.timestamp || dateNow) as number) - (first as number);
          if (!Number.isSafeInteger(delta) || Math.abs(delta) > MAX_DELTA) return null;
          const kl = byteLength(m.key);
          const vl = byteLength(m.value);
          // attributes, timestamp delta, offset delta, key, value, no headers
          const body = 1 + sizeOfVarLong(delta) + sizeOfVarInt(i) + sizeOfVarInt(kl) + Math.max(kl, 0) + sizeOfVarInt(vl) + Math.max(vl, 0) + 1;
          sizes.push(body);
          deltas.push(delta);
          keyLens.push(kl);
          valueLens.push(vl);
          batch += sizeOfVarInt(body) + body;
        }
        perTopic.push({ sizes, deltas, keyLens, valueLens, first: Long.fromValue(first), max: Long.fromValue(max) });
        // partition, batch size, first offset, length, leader epoch, magic, crc, attributes, last offset delta,
        // first and max timestamps, producer id, epoch, first sequence, record count
        total += 4 + 4 + 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4 + batch;
      }
      parts.push(perTopic);
    }
    const buf = Buffer.allocUnsafe(total);
    let o = 0;
    if (transactionalId === null) o = buf.writeInt16BE(-1, o);
    else {
      o = buf.writeInt16BE(Buffer.byteLength(transactionalId, 'utf8'), o);
      o += buf.write(transactionalId, o, 'utf8');
    }
    o = buf.writeInt16BE(acks, o);
    o = buf.writeInt32BE(timeout, o);
    o = buf.writeInt32BE(topicData.length, o);
    const attributes = transactionalId ? TRANSACTIONAL_FLAG_MASK : 0;
    for (let ti = 0; ti < topicData.length; ti++) {
      const t = topicData[ti]!;
      o = buf.writeInt16BE(Buffer.byteLength(t.topic, 'utf8'), o);
      o += buf.write(t.topic, o, 'utf8');
      o = buf.writeInt32BE(t.partitions.length, o);
      for (let pi = 0; pi < t.partitions.length; pi++) {
        const p = t.partitions[pi]!;
        const { sizes, deltas, keyLens, valueLens, first, max } = parts[ti]![pi]!;
        o = buf.writeInt32BE(p.partition, o);
        const sizeAt = o;
        o += 4;
        o = writeInt64(buf, o, Long.fromInt(0)); // first offset
        const lengthAt = o;
        o += 4;
        o = buf.writeInt32BE(0, o); // partition leader epoch
        o = buf.writeInt8(2, o); // magic
        const crcAt = o;
        o += 4;
        const bodyAt = o;
        o = buf.writeInt16BE(attributes, o);
        o = buf.writeInt32BE(p.messages.length - 1, o);
        o = writeInt64(buf, o, first);
        o = writeInt64(buf, o, max);
        o = writeInt64(buf, o, producerId);
        o = buf.writeInt16BE(producerEpoch, o);
        o = buf.writeInt32BE(p.firstSequence ?? 0, o);
        o = buf.writeInt32BE(p.messages.length, o);
        for (let i = 0; i < p.messages.length; i++) {
          const m = p.messages[i]!;
          o = writeVarInt(buf, o, sizes[i]!);
          buf[o++] = 0; // attributes
          o = writeVarLong(buf, o, deltas[i]!);
          o = writeVarInt(buf, o, i);
          o = writeBytes(buf, o, m.key, keyLens[i]!);
          o = writeBytes(buf, o, m.value, valueLens[i]!);
          buf[o++] = 0; // no headers
        }
        buf.writeUInt32BE(crc32c(buf.subarray(bodyAt, o)), crcAt);
        buf.writeInt32BE(o - lengthAt - 4, lengthAt);
        buf.writeInt32BE(o - sizeAt - 4, sizeAt);
      }
    }
    if (o !== total) throw new Error(`internal: produce request encoded to ${o} bytes, sized ${total}`);
    const enc = Object.create(Encoder.prototype) as KEncoder;
    enc.buf = buf;
    enc.offset = total;
    return enc;
  };

  return (args) => {
    const { acks, compression = 0, topicData } = args;
    if (compression !== 0 || !topicData.every((t) => t.partitions.every((p) => p.messages.every(plainMessage)))) return stock(args);
    return {
      apiKey,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => acks !== 0,
      encode: async () => encodeFast(args) ?? stock(args).encode(),
    };
  };
}

let installed: { ok: boolean; reason: string } | null = null;

/**
 * Puts the fast codecs in place of kafkajs' own for this process. Returns whether it did; not when the installed
 * kafkajs is not the version they were written and tested against (its own codecs then stay).
 */
export function installKafkajsCodecs(): { ok: boolean; reason: string } {
  if (installed) return installed;
  if (process.env.LAKEGATE_KAFKAJS_CODECS === 'kafkajs') return (installed = { ok: false, reason: "LAKEGATE_KAFKAJS_CODECS=kafkajs: kafkajs' own codecs are used" });
  const version = (require('kafkajs/package.json') as { version: string }).version;
  if (version !== KAFKAJS_VERSION) return (installed = { ok: false, reason: `kafkajs ${version} is not ${KAFKAJS_VERSION}: its own codecs are used` });
  const batchPath = kjs('protocol/recordBatch/v0/decoder');
  const producePath = kjs('protocol/requests/produce/v3/request');
  const stockBatch = require(batchPath) as BatchDecoder;
  const stockRecord = load<RecordDecoder>('protocol/recordBatch/record/v0/decoder');
  const stockProduce = require(producePath) as ProduceRequest;
  require.cache[batchPath]!.exports = createRecordBatchDecoder(stockBatch, stockRecord);
  require.cache[producePath]!.exports = createProduceRequest(stockProduce);
  // The modules that hold kafkajs' codecs from their own loading: loaded again on their next use.
  const holders = [
    'protocol/requests/fetch/v4/decodeMessages',
    ...[4, 5, 6, 7, 8, 9, 10, 11].map((v) => `protocol/requests/fetch/v${v}/response`),
    ...[4, 5, 6, 7].map((v) => `protocol/requests/produce/v${v}/request`),
  ];
  for (const h of holders) delete require.cache[kjs(h)];
  return (installed = { ok: true, reason: `kafkajs ${version}: lakegate's record batch decoder and produce encoder` });
}

/** kafkajs' murmur2 (Kafka's Java Utils.murmur2) in 32-bit integer arithmetic: kafkajs computes it with BigInt. */
export function murmur2(key: string | Buffer): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * kafkajs' DefaultPartitioner (Java's pre-2.4 default: murmur2 of the key modulo the partition count), with the keyed
 * case computed here; messages with a partition or without a key go to kafkajs' own (its round-robin counters).
 */
export function createDefaultPartitioner(stock: (a: PartitionerArgs) => number): (a: PartitionerArgs) => number {
  return (a) => {
    const { key, partition } = a.message;
    if (partition !== null && partition !== undefined) return partition;
    if (key === null || key === undefined) return stock(a);
    return (murmur2(key) & 0x7fffffff) % a.partitionMetadata.length;
  };
}
