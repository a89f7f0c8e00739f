// A batch of one partition's Kafka records → their decode results and canonical staging lines, in one pass that can
// run in a worker thread (decode-pool.ts) or on the ingestion thread. Invariant: for every record, the outcome is the
// one the per-record path gives — `createDecoder(ds)` (the same row, or the same error text for the dead-letter
// topic, or the same exception) and `stagingPlan(ds).line` of that row, here by `lineOf` (the same line, or the same
// exception, raised where that row is appended). A record in the common shape (commonShape below) takes a one-pass
// path from its parsed JSON to its canonical staging values; any other goes through the decoder and `lineOf`, and
// tests/ingestion/decode-worker.test.ts holds both to the reference. Nothing here decides rotation, offsets or
// commits: the ingester still does, in order.

import type { Dataset } from '../config';
import { SLOW, stagingPlan, type StagingPlan } from '../lake/staging';
import { INT32_MAX, INT32_MIN, createObjectDecoder, createTextDecoder, fieldCoercer, parseTimestampMicros } from './decode';

/** Outcome of one record. */
export const RecordStatus = {
  /** Decoded; its line is in the text. */
  Ok: 0,
  /** Refused by the decoder: `errors` has the message (the dead-letter topic's). */
  Invalid: 1,
  /** The decoder threw (a bug or an exotic value): raised when the ingester reaches the record. */
  DecodeThrew: 2,
  /** Decoded, but serializing the row threw: raised when the ingester appends it (as the writer's serialize did). */
  LineThrew: 3,
} as const;

/** Records of one batch, as the ingester hands them over (offsets and timestamps as kafkajs gives them). */
export interface RecordSource {
  readonly count: number;
  /** The value decoded from UTF-8 as Buffer#toString does it, or null (a tombstone). */
  valueText(i: number): string | null;
  /** Bytes of all the values (what the lines' buffer starts from). */
  readonly valueBytes: number;
  /** The key decoded from UTF-8 as Buffer#toString does it, or null. */
  keyText(i: number): string | null;
  offset(i: number): string;
  timestamp(i: number): string;
}

export interface ThrownError {
  readonly name: string;
  readonly message: string;
}

export interface DecodedBatch {
  /**
   * The canonical lines of the records decoded (status Ok), in record order, each ending in \n, in UTF-8: what the
   * staging file receives as it is (encoded here, in the worker, and handed over without a copy).
   */
  readonly data: Uint8Array;
  /** Per record, the byte index in `data` just after its line; a record without a line ends where the previous one did. */
  readonly ends: Int32Array;
  readonly status: Uint8Array;
  /** Per record, the event time in epoch ms (the row's eventTimeMs), NaN when none. */
  readonly eventTimeMs: Float64Array;
  /** Per record that is not Ok: the decoder's message (Invalid) or the exception raised (DecodeThrew, LineThrew). */
  readonly errors: ReadonlyMap<number, string | ThrownError>;
}

/** The exception a ThrownError stands for (same class for the built-in ones, same message). */
export function raise(e: ThrownError): never {
  const Ctor = e.name === 'RangeError' ? RangeError : e.name === 'TypeError' ? TypeError : Error;
  const err = new Ctor(e.message);
  if (err.name !== e.name) err.name = e.name;
  throw err;
}

const asThrown = (e: unknown): ThrownError =>
  e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };

/** The batch codec of one dataset. */
export function batchCodec(ds: Dataset): (src: RecordSource) => DecodedBatch {
  const decode = createTextDecoder(ds);
  const decodeObject = createObjectDecoder(ds);
  const plan = stagingPlan(ds);
  const shape = commonShape(ds, plan);
  const canonical = new Array<unknown>(ds.fields.length);
  return (src) => {
    const n = src.count;
    const ends = new Int32Array(n);
    const status = new Uint8Array(n);
    const eventTimeMs = new Float64Array(n);
    const errors = new Map<number, string | ThrownError>();
    const out = new Utf8Lines(n * 64 + src.valueBytes);
    let end = 0;
    for (let i = 0; i < n; i++) {
      eventTimeMs[i] = NaN;
      const text = src.valueText(i);
      // The common shape: parsed once, its canonical values made in one pass, its line straight from them.
      let doc: Record<string, unknown> | null = null;
      if (text !== null) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) doc = parsed as Record<string, unknown>;
        } catch {
          // The decoder's path below gives its error.
        }
      }
      if (doc !== null) {
        let et: number | undefined;
        try {
          et = shape(doc, canonical);
        } catch {
          et = undefined; // a cold field's coercer refused: the decoder's path below gives its error
        }
        if (et !== undefined) {
          const line = plan.lineOfCanonical(canonical, src.offset(i), Number(src.timestamp(i)), src.keyText(i));
          if (line !== null) {
            if (et === et) eventTimeMs[i] = Math.floor(et / 1000);
            end = out.push(line);
            status[i] = RecordStatus.Ok;
            ends[i] = end;
            continue;
          }
        }
      }
      let res;
      try {
        res = doc !== null ? decodeObject(doc) : decode(text);
      } catch (e) {
        status[i] = RecordStatus.DecodeThrew;
        errors.set(i, asThrown(e));
        ends[i] = end;
        continue;
      }
      if (!res.ok) {
        status[i] = RecordStatus.Invalid;
        errors.set(i, res.error);
        ends[i] = end;
        continue;
      }
      if (res.row.eventTimeMs !== null) eventTimeMs[i] = res.row.eventTimeMs;
      try {
        const line = plan.lineOf(res.row.values, src.offset(i), Number(src.timestamp(i)), src.keyText(i));
        end = out.push(line);
        status[i] = RecordStatus.Ok;
      } catch (e) {
        status[i] = RecordStatus.LineThrew;
        errors.set(i, asThrown(e));
      }
      ends[i] = end;
    }
    return { data: out.bytes(), ends, status, eventTimeMs, errors };
  };
}

/**
 * A record's canonical values (staging's, see StagingPlan.canons) straight from its parsed JSON, in one pass: in
 * `out`, per field, exactly `plan.canons[i](coerce_i(value))` (undefined for a null value), where coerce_i is the
 * decoder's field coercer; returns the event time in epoch microseconds (NaN without one), as the decoder gives it.
 * Returns undefined, or throws, whenever that composition would not give a value (the decoder refuses the record, or
 * the row needs the reference serializer) and for the shapes it does not handle itself: the caller then takes the
 * decoder's path, which gives the outcome. Handled here: a string, an int, a long (a number, or a string of up to
 * 15 digits), a float, a boolean, a timestamp (epoch ms, ISO text) and a list of strings, ints, floats or booleans,
 * given as JSON makes them; json values, dates and other lists go through the composition itself. Straight-line
 * code made once per dataset: one property load per field, no call per value for the common scalar types.
 */
function commonShape(ds: Dataset, plan: StagingPlan): (doc: Record<string, unknown>, out: unknown[]) => number | undefined {
  const cold = ds.fields.map((f, i) => {
    const coerce = fieldCoercer(f);
    const canon = plan.canons[i]!;
    return (v: unknown) => canon(coerce(v));
  });
  const body: string[] = ['let v, x, et = NaN;'];
  ds.fields.forEach((f, i) => {
    // A field name is a GraphQL name (config/catalog.ts): quoted here as a JS string literal all the same.
    body.push(`v = o[${JSON.stringify(f.name)}];`);
    body.push(`if (v === undefined || v === null) { ${f.required ? 'return undefined;' : `c[${i}] = undefined;`} } else {`);
    if (f.list) {
      // A list of the common scalars: the list itself when every element is canonical (see stringList below); the
      // other lists: the composition itself.
      const list = LISTS[f.type];
      body.push(list ? `x = L${LIST_FNS.indexOf(list)}(v); if (x === undefined) return undefined; c[${i}] = x;` : `x = cold[${i}](v); if (x === SLOW) return undefined; c[${i}] = x;`);
      body.push('}');
      return;
    }
    switch (f.type) {
      case 'string':
        body.push(`if (typeof v !== 'string') return undefined; c[${i}] = v.isWellFormed() ? v : v.toWellFormed();`);
        break;
      case 'int':
        body.push(`if (typeof v !== 'number' || !Number.isInteger(v) || v < ${INT32_MIN} || v > ${INT32_MAX}) return undefined; c[${i}] = v;`);
        break;
      case 'long':
        // BigInt(v) then back to a number for |v| <= 2^53: v itself (-0 is written "0" either way).
        body.push(`if (typeof v === 'number') { if (!Number.isSafeInteger(v)) return undefined; c[${i}] = v; }`);
        body.push(`else if (typeof v === 'string' && SHORT_INT.test(v)) c[${i}] = Number(v); else return undefined;`);
        break;
      case 'float':
        body.push(`if (typeof v !== 'number' || !Number.isFinite(v)) return undefined; c[${i}] = v === 0 && 1 / v < 0 ? '-0' : v;`);
        break;
      case 'boolean':
        body.push(`if (typeof v !== 'boolean') return undefined; c[${i}] = v;`);
        break;
      case 'timestamp':
        body.push(`if (typeof v === 'number') { if (!Number.isFinite(v)) return undefined; x = Math.round(v * 1000); }`);
        body.push(`else if (typeof v === 'string') { x = isoMicros(v); if (x === null) return undefined; } else return undefined;`);
        if (f.name === ds.eventTime) body.push('et = x;');
        body.push(`x = Math.round(x); if (!Number.isSafeInteger(x)) return undefined; c[${i}] = x;`);
        break;
      default:
        // json and date: the composition itself (for json, the coercer's text is its canonical value).
        body.push(`x = cold[${i}](v); if (x === SLOW) return undefined; c[${i}] = x;`);
    }
    body.push('}');
  });
  body.push('return et;');
  const make = new Function('cold', 'SLOW', 'SHORT_INT', 'isoMicros', ...LIST_FNS.map((_, k) => `L${k}`), `return function commonShape(o, c) {\n${body.join('\n')}\n};`) as (
    ...args: unknown[]
  ) => (doc: Record<string, unknown>, out: unknown[]) => number | undefined;
  return make(cold, SLOW, SHORT_INT, parseTimestampMicros, ...LIST_FNS);
}

/**
 * Lists whose every element is its own canonical value when it has the common shape: the list itself (what staging's
 * canon of the decoder's copy writes, element for element), or undefined when an element does not have that shape
 * (the decoder's path then decides). Each is its own function, so that each call site of commonShape stays monomorphic.
 */
function stringList(v: unknown): unknown[] | undefined {
  if (!Array.isArray(v)) return undefined;
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'string' || !(x as string & { isWellFormed(): boolean }).isWellFormed()) return undefined;
  }
  return v;
}
function intList(v: unknown): unknown[] | undefined {
  if (!Array.isArray(v)) return undefined;
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    // -0 passes: the decoder keeps it, and a line writes it "0" either way.
    if (typeof x !== 'number' || !Number.isInteger(x) || x < INT32_MIN || x > INT32_MAX) return undefined;
  }
  return v;
}
function floatList(v: unknown): unknown[] | undefined {
  if (!Array.isArray(v)) return undefined;
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    // -0 is written "-0" (a string) by staging: left to the decoder's path.
    if (typeof x !== 'number' || !Number.isFinite(x) || (x === 0 && 1 / x < 0)) return undefined;
  }
  return v;
}
function booleanList(v: unknown): unknown[] | undefined {
  if (!Array.isArray(v)) return undefined;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'boolean') return undefined;
  return v;
}
const LIST_FNS = [stringList, intList, floatList, booleanList];
const LISTS: Partial<Record<string, (typeof LIST_FNS)[number]>> = { string: stringList, int: intList, float: floatList, boolean: booleanList };

/** A long's text that the fast path reads as a number: up to 15 digits (exact as a double), no space. */
const SHORT_INT = /^[+-]?\d{1,15}$/;

/** Lines encoded as UTF-8 one after another into one growing buffer (its own ArrayBuffer: transferable). */
class Utf8Lines {
  private buf: Buffer;
  private at = 0;
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(capacity, 1024));
  }
  /** Append `line` and a \n; the byte index just after them. */
  push(line: string): number {
    // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair is 2 units for 4 bytes).
    const need = this.at + line.length * 3 + 1;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.at);
      this.buf = grown;
    }
    this.at += this.buf.write(line, this.at, 'utf8');
    this.buf[this.at++] = 0x0a;
    return this.at;
  }
  /** The lines written (a view of the buffer). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/**
 * Records packed for a worker: their values' and keys' bytes in one buffer, each at its start with its length (a length
 * of -1 is a null).
 */
export interface PackedRecords {
  readonly dataset: string;
  readonly count: number;
  readonly bytes: Uint8Array;
  readonly valueStarts: Int32Array;
  readonly valueLens: Int32Array;
  readonly keyStarts: Int32Array;
  readonly keyLens: Int32Array;
  /** Sum of the values' lengths. */
  readonly valueBytes: number;
  readonly offsets: string[];
  readonly timestamps: string[];
}

export interface MessageLike {
  readonly value: Buffer | null;
  readonly key?: Buffer | null;
  readonly offset: string;
  readonly timestamp: string;
}

/**
 * Copy records into a PackedRecords whose buffer can be transferred (kafkajs' values are views of its responses). When
 * every value and key is a view of one response and they lie close together (a fetched batch: records one after
 * another), the span that holds them is copied at once; otherwise each value and key is copied after the previous one.
 */
export function pack(dataset: string, msgs: readonly MessageLike[]): PackedRecords {
  const n = msgs.length;
  const valueStarts = new Int32Array(n);
  const valueLens = new Int32Array(n);
  const keyStarts = new Int32Array(n);
  const keyLens = new Int32Array(n);
  const offsets = new Array<string>(n);
  const timestamps = new Array<string>(n);
  let vTotal = 0;
  let kTotal = 0;
  let shared: ArrayBufferLike | null | undefined;
  let lo = Infinity;
  let hi = -Infinity;
  const see = (b: Buffer) => {
    if (shared === undefined) shared = b.buffer;
    else if (shared !== b.buffer) shared = null;
    if (b.byteOffset < lo) lo = b.byteOffset;
    if (b.byteOffset + b.length > hi) hi = b.byteOffset + b.length;
  };
  for (let i = 0; i < n; i++) {
    const m = msgs[i]!;
    const v = m.value;
    const k = m.key ?? null;
    valueLens[i] = v ? v.length : -1;
    keyLens[i] = k ? k.length : -1;
    if (v) {
      vTotal += v.length;
      see(v);
    }
    if (k) {
      kTotal += k.length;
      see(k);
    }
    offsets[i] = m.offset;
    timestamps[i] = m.timestamp;
  }
  let bytes: Buffer;
  if (shared && hi - lo <= 2 * (vTotal + kTotal) + 4096) {
    // One copy of the span; each value and key where it lies in it.
    bytes = Buffer.allocUnsafeSlow(hi - lo);
    bytes.set(new Uint8Array(shared, lo, hi - lo));
    for (let i = 0; i < n; i++) {
      const m = msgs[i]!;
      if (m.value) valueStarts[i] = m.value.byteOffset - lo;
      if (m.key) keyStarts[i] = m.key.byteOffset - lo;
    }
  } else {
    bytes = Buffer.allocUnsafeSlow(vTotal + kTotal);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const m = msgs[i]!;
      if (m.value) {
        valueStarts[i] = at;
        bytes.set(m.value, at);
        at += m.value.length;
      }
      if (m.key) {
        keyStarts[i] = at;
        bytes.set(m.key, at);
        at += m.key.length;
      }
    }
  }
  return { dataset, count: n, bytes, valueStarts, valueLens, keyStarts, keyLens, valueBytes: vTotal, offsets, timestamps };
}

/** A RecordSource over PackedRecords (each text decoded straight from the packed bytes, no view per record). */
export function unpack(p: PackedRecords): RecordSource {
  const buf = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.length);
  const texts = (starts: Int32Array, lens: Int32Array) => (i: number): string | null =>
    lens[i]! < 0 ? null : buf.toString('utf8', starts[i]!, starts[i]! + lens[i]!);
  const valueText = texts(p.valueStarts, p.valueLens);
  const keyText = texts(p.keyStarts, p.keyLens);
  return { count: p.count, valueText, valueBytes: p.valueBytes, keyText, offset: (i) => p.offsets[i]!, timestamp: (i) => p.timestamps[i]! };
}

/** A RecordSource over kafkajs messages, for the codec on the ingestion thread. */
export function sourceOf(msgs: readonly MessageLike[]): RecordSource {
  let valueBytes = 0;
  for (const m of msgs) valueBytes += m.value?.length ?? 0;
  return {
    count: msgs.length,
    valueText: (i) => msgs[i]!.value?.toString('utf8') ?? null,
    valueBytes,
    keyText: (i) => msgs[i]!.key?.toString('utf8') ?? null,
    offset: (i) => msgs[i]!.offset,
    timestamp: (i) => msgs[i]!.timestamp,
  };
}
