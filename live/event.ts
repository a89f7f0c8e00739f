// Kafka record → live event: decoded with the ingestion's decoder (the same validation as the lake) and rendered
// exactly as the lake renders the same stored values, so an event looks the same live and replayed.

import type { Dataset, FieldDef } from '../config';
import { createTextDecoder } from '../ingestion/decode';
import type { KafkaMessage } from '../kafka';

/** What a subscription root field resolves to: the dataset's fields plus `_meta` (cursor filled per delivery). */
export interface LiveEvent {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Field values in GraphQL output form (also what live filters read); null when the record did not decode. */
  readonly row: Record<string, unknown> | null;
  readonly timestampMs: number;
  readonly timestamp: string;
  readonly key: string | null;
  /** Bytes of key + value, for queue accounting. */
  readonly bytes: number;
}

const DAY_MS = 86_400_000;
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const TWO = Array.from({ length: 100 }, (_, i) => pad(i, 2));
const THREE = Array.from({ length: 1000 }, (_, i) => pad(i, 3));
/** The microseconds' digits after the milliseconds', trailing zeros trimmed ("" for 0). */
const MICRO = Array.from({ length: 1000 }, (_, i) => pad(i, 3).replace(/0+$/, ''));
// The date part of the last day rendered: events of one stream are mostly of one day.
let memoDay = NaN;
let memoDate = '';

/** Epoch microseconds → "YYYY-MM-DDTHH:MM:SS.fffZ" with the lake's fraction digits (trailing zeros trimmed, ≥ 3). */
export function microsToIso(us: number): string {
  const ms = Math.floor(us / 1000);
  const micro = us - ms * 1000;
  if (!Number.isInteger(us)) return slowMicrosToIso(ms, micro);
  const day = Math.floor(ms / DAY_MS);
  // Every live event with a timestamp renders one: Date#toISOString once per day, arithmetic for the time of day.
  if (day !== memoDay) {
    const date = new Date(day * DAY_MS).toISOString();
    if (date.length !== 24) return slowMicrosToIso(ms, micro); // years outside 0000–9999 (±YYYYYY-…)
    memoDay = day;
    memoDate = date.slice(0, 11);
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${memoDate}${TWO[h]}:${TWO[m]}:${TWO[s]}.${THREE[rest - s * 1000]}${MICRO[micro]}Z`;
}

function slowMicrosToIso(ms: number, micro: number): string {
  const iso = new Date(ms).toISOString(); // ….mmmZ
  if (micro === 0) return iso;
  const frac = (iso.slice(-4, -1) + String(micro).padStart(3, '0')).replace(/0+$/, '');
  return `${iso.slice(0, -4)}${frac}Z`;
}

function daysToIso(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

type Render = (v: unknown) => unknown;

function renderScalar(f: FieldDef): Render {
  switch (f.type) {
    case 'timestamp':
      return (v) => microsToIso(v as number);
    case 'date':
      return (v) => daysToIso(v as number);
    case 'long':
      return (v) => String(v);
    case 'json':
      return (v) => JSON.parse(v as string);
    default:
      return (v) => v;
  }
}

export type EventDecoder = (topic: string, partition: number, msg: KafkaMessage) => LiveEvent;

/**
 * A record as the tail decodes it, and as its ring (ring.ts, which keeps the bytes outside the JS heap) gives one
 * back for a replay: the value as text, decoded again on each use. A decoded event is some twenty objects (row,
 * values, lists); kept for replays they were promoted and collected at ~15% of the gateway's CPU at 10k events/s.
 */
export interface HeldRecord {
  readonly partition: number;
  readonly offset: bigint;
  readonly timestampMs: number;
  readonly key: string | null;
  /** The value decoded from UTF-8 as Buffer#toString does it; null for a tombstone. */
  readonly text: string | null;
  /** Bytes of key + value, for queue accounting. */
  readonly bytes: number;
}

export function heldRecord(partition: number, msg: KafkaMessage): HeldRecord {
  return {
    partition,
    offset: BigInt(msg.offset),
    timestampMs: Number(msg.timestamp),
    key: msg.key === null || msg.key === undefined ? null : msg.key.toString('utf8'),
    text: msg.value === null || msg.value === undefined ? null : msg.value.toString('utf8'),
    bytes: (msg.key?.length ?? 0) + (msg.value?.length ?? 0),
  };
}

/**
 * The event of a held record (decoded afresh on each call).
 *
 * A json field's value is the parsed value itself when the record's text holds no `\u` escape: the decoder writes a
 * json value as text only to refuse an unpaired UTF-16 surrogate (which only a `\u` escape can put in a parsed
 * string: Buffer#toString replaces malformed UTF-8), and rendering parsed that text back. Both give the same JSON when
 * serialized (JSON.stringify of a parsed value, parsed again, is the same value), so the verdict and the bytes sent
 * are unchanged; a text with a `\u` escape takes the full decoder.
 */
export function createHeldDecoder(ds: Dataset): (topic: string, h: HeldRecord) => LiveEvent {
  const decode = createTextDecoder(ds);
  const hasJson = ds.fields.some((f) => f.type === 'json');
  const decodeAsIs = hasJson ? createTextDecoder(ds, { jsonAsIs: true }) : decode;
  const rendersOf = (asIs: boolean) =>
    ds.fields.map((f) => {
      // A number too large for a double parses as ±Infinity, which the decoder's text makes `null`.
      const one = asIs && f.type === 'json' ? (v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v) : renderScalar(f);
      return f.list ? (v: unknown) => (v as unknown[]).map(one) : one;
    });
  const renders = rendersOf(false);
  const rendersAsIs = hasJson ? rendersOf(true) : renders;
  const names = ds.fields.map((f) => f.name);
  return (topic, h) => {
    const asIs = h.text !== null && !h.text.includes('\\u');
    const res = (asIs ? decodeAsIs : decode)(h.text);
    let row: Record<string, unknown> | null = null;
    if (res.ok) {
      const rs = asIs ? rendersAsIs : renders;
      row = {};
      const vals = res.row.values;
      for (let i = 0; i < names.length; i++) {
        const v = vals[i];
        row[names[i]!] = v === null || v === undefined ? null : rs[i]!(v);
      }
    }
    return new Event(topic, h.partition, h.offset, row, h.timestampMs, h.key, h.bytes);
  };
}

export function createEventDecoder(ds: Dataset): EventDecoder {
  const decodeHeld = createHeldDecoder(ds);
  return (topic, partition, msg) => decodeHeld(topic, heldRecord(partition, msg));
}

/** A LiveEvent whose ISO timestamp is written when first read (only a selection of `_meta.timestamp` reads it). */
class Event implements LiveEvent {
  private iso: string | null = null;
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: bigint,
    readonly row: Record<string, unknown> | null,
    readonly timestampMs: number,
    readonly key: string | null,
    readonly bytes: number,
  ) {}
  get timestamp(): string {
    return (this.iso ??= new Date(this.timestampMs).toISOString());
  }
}
