// Kafka record → lake row: JSON values validated and coerced against the dataset's fields.
// Invariant: a record either becomes a row whose every value has its field's exact type, or an error naming the field.

import type { Dataset, FieldDef, ScalarType } from '../config';
import { assertNever } from '../errors';

/** A decoded record: values in catalog order (see lake's StagedRow for the representation of each type). */
export interface DecodedRow {
  values: unknown[];
  /** Event time in epoch ms (for the partition directory), or null when the dataset has no eventTime. */
  eventTimeMs: number | null;
}

export type DecodeResult = { ok: true; row: DecodedRow } | { ok: false; error: string };

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NUMERIC_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER_RE = /^[+-]?\d+$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
// ISO-8601 date-time: a zone (Z or ±hh:mm) or none (read as UTC); up to microseconds kept.
const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

class FieldError extends Error {}

type Coerce = (v: unknown) => unknown;

function scalarCoercer(t: ScalarType): Coerce {
  switch (t) {
    case 'string':
      return (v) => {
        if (typeof v === 'string') return v;
        throw new FieldError(`expected a string, got ${kind(v)}`);
      };
    case 'int':
      return (v) => {
        const n = typeof v === 'string' && INTEGER_RE.test(v.trim()) ? Number(v) : v;
        if (typeof n === 'number' && Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX) return n;
        throw new FieldError(`expected a 32-bit integer, got ${kind(v)}`);
      };
    case 'long':
      return (v) => {
        // JSON numbers past 2^53 have already lost digits in JSON.parse: refuse them rather than store a wrong value.
        if (typeof v === 'number') {
          if (Number.isSafeInteger(v)) return BigInt(v);
          throw new FieldError(Number.isInteger(v) ? 'a long beyond ±2^53 must be sent as a string of digits' : `expected an integer, got ${kind(v)}`);
        }
        const t = typeof v === 'string' ? v.trim() : null;
        if (t !== null && INTEGER_RE.test(t)) {
          const b = BigInt(t);
          if (b >= INT64_MIN && b <= INT64_MAX) return b;
        }
        throw new FieldError(`expected a 64-bit integer, got ${kind(v)}`);
      };
    case 'float':
      return (v) => {
        if (typeof v === 'number') return v;
        if (typeof v === 'string' && NUMERIC_RE.test(v.trim())) return Number(v);
        throw new FieldError(`expected a number, got ${kind(v)}`);
      };
    case 'boolean':
      return (v) => {
        if (typeof v === 'boolean') return v;
        if (v === 'true') return true;
        if (v === 'false') return false;
        throw new FieldError(`expected a boolean, got ${kind(v)}`);
      };
    case 'timestamp':
      return (v) => {
        if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1000); // epoch milliseconds
        if (typeof v === 'string') {
          const us = parseTimestampMicros(v);
          if (us !== null) return us;
        }
        throw new FieldError(`expected an ISO-8601 timestamp or epoch milliseconds, got ${kind(v)}`);
      };
    case 'date':
      return (v) => {
        if (typeof v === 'string') {
          const m = DATE_RE.exec(v);
          if (m) {
            const ms = utcMs(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 0, 0, 0);
            if (new Date(ms).toISOString().slice(0, 10) === v) return ms / 86_400_000;
          }
        }
        throw new FieldError(`expected a date YYYY-MM-DD, got ${kind(v)}`);
      };
    case 'json':
      return (v) => {
        // JSON.stringify escapes an unpaired UTF-16 surrogate as \udXXX, which DuckDB's JSON type refuses: such a
        // record could never be committed, so it goes to the DLQ here instead of stopping its partition.
        // JSON.stringify writes \u only for control characters and unpaired surrogates (a key's or a string's): text
        // without one is well-formed, and the walk is left for the rare text with one.
        const text = JSON.stringify(v);
        if (text.includes('\\u') && !wellFormed(v)) throw new FieldError('JSON with an unpaired UTF-16 surrogate in a string');
        return text;
      };
    default:
      return assertNever(t, 'scalar type');
  }
}

/** Epoch microseconds of an ISO-8601 timestamp, or null when it is not one (or not a real calendar instant). */
export function parseTimestampMicros(s: string): number | null {
  const fast = fastIsoMicros(s);
  if (fast !== undefined) return fast;
  const m = TS_RE.exec(s.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, se, frac, zone] = m;
  const base = utcMs(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se ?? 0));
  const check = new Date(base);
  if (check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(se ?? 0) > 59) {
    return null;
  }
  let offsetMin = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    offsetMin = (zm[1] === '-' ? -1 : 1) * (Number(zm[2]) * 60 + Number(zm[3]));
  }
  const micros = frac ? Number(frac.padEnd(6, '0').slice(0, 6)) : 0;
  return (base - offsetMin * 60_000) * 1000 + micros;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Value of `n` ASCII digits of s from i, or -1 when one of them is not a digit. */
export function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * The common shapes `YYYY-MM-DDTHH:MM:SSZ` and `YYYY-MM-DDTHH:MM:SS.f…Z` (what toISOString and most producers
 * write) without the regex: the same answer as the general path below, or undefined to use it.
 */
function fastIsoMicros(s: string): number | null | undefined {
  const n = s.length;
  if (n < 20 || n > 30 || s.charCodeAt(n - 1) !== 90 /* Z */ || s.charCodeAt(10) !== 84 /* T */) return undefined;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  let micros = 0;
  if (n > 20) {
    // .f{1,9}Z
    if (s.charCodeAt(19) !== 46 || n - 21 > 9 || n - 21 < 1) return undefined;
    for (let k = 20; k < 26; k++) {
      let c = 0;
      if (k < n - 1) {
        c = s.charCodeAt(k) - 48;
        if (c < 0 || c > 9) return undefined;
      }
      micros = micros * 10 + c;
    }
    for (let k = 26; k < n - 1; k++) {
      const c = s.charCodeAt(k) - 48;
      if (c < 0 || c > 9) return undefined;
    }
  }
  const f = dateTimeDigits(s);
  if (f === null) return undefined;
  if (!isRealDateTime(f)) return null;
  return (daysFromCivil(f[0]!, f[1]!, f[2]!) * 86_400_000 + f[3]! * 3_600_000 + f[4]! * 60_000 + f[5]! * 1000) * 1000 + micros;
}

/**
 * Days from 1970-01-01 to a day of the proleptic Gregorian calendar (month 1–12), by arithmetic: what
 * utcMs(y, m - 1, d, 0, 0, 0) / 86_400_000 gives for every year from 0 to 9999, without Date (H. Hinnant's
 * days_from_civil).
 */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const fields = new Int32Array(6);

/**
 * "YYYY-MM-DDTHH:MM:SS" read at its fixed places (the separators are the caller's to check): year, month, day, hour,
 * minute, second, in one array reused by every call; null when one of them is not all digits.
 */
export function dateTimeDigits(s: string): Int32Array | null {
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const se = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0) return null;
  fields[0] = y;
  fields[1] = mo;
  fields[2] = d;
  fields[3] = h;
  fields[4] = mi;
  fields[5] = se;
  return fields;
}

/** Whether dateTimeDigits' fields are a real calendar day (leap years included) and a time from 00:00:00 to 23:59:59. */
export function isRealDateTime(f: Int32Array): boolean {
  const y = f[0]!;
  const mo = f[1]!;
  const d = f[2]!;
  if (mo < 1 || mo > 12 || d < 1 || f[3]! > 23 || f[4]! > 59 || f[5]! > 59) return false;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= DAYS_IN_MONTH[mo - 1]! + (leap ? 1 : 0);
}

/** Date.UTC, except that years 0–99 are those years (Date.UTC reads them as 1900–1999). */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, se: number): number {
  if (y >= 100) return Date.UTC(y, mo, d, h, mi, se);
  const t = new Date(Date.UTC(2000, mo, d, h, mi, se));
  t.setUTCFullYear(y);
  return t.getTime();
}

/** Every string (and key) in a parsed JSON value is well-formed UTF-16. */
function wellFormed(v: unknown): boolean {
  if (typeof v === 'string') return (v as string & { isWellFormed(): boolean }).isWellFormed();
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) return v.every(wellFormed);
  for (const [k, x] of Object.entries(v)) if (!wellFormed(k) || !wellFormed(x)) return false;
  return true;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return v.length > 40 ? `the string "${v.slice(0, 40)}…"` : `the string ${JSON.stringify(v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** A json value taken as it is: any JSON value passes (for a verdict only; see createObjectDecoder's jsonAsIs). */
const jsonAsIs: Coerce = (v) => v;

/** A field's coercer: the field's value as the decoder stores it, or a FieldError (its message names no field). */
export function fieldCoercer(f: FieldDef, opts: ObjectDecoderOptions = {}): Coerce {
  const one = f.type === 'json' && opts.jsonAsIs ? jsonAsIs : scalarCoercer(f.type);
  if (!f.list) return one;
  return (v) => {
    if (!Array.isArray(v)) throw new FieldError(`expected a list, got ${kind(v)}`);
    return v.map((x, i) => {
      if (x === null || x === undefined) throw new FieldError(`element ${i} is null (list elements are never null)`);
      try {
        return one(x);
      } catch (e) {
        throw new FieldError(`element ${i}: ${(e as Error).message}`);
      }
    });
  };
}

/** A decoder for one dataset: fields are looked up once, then every record is a tight loop. */
export function createDecoder(ds: Dataset): (value: Buffer | null) => DecodeResult {
  const decodeText = createTextDecoder(ds);
  return (value) => decodeText(value === null ? null : value.toString('utf8'));
}

/** The same decoder for a value already decoded from UTF-8 (as Buffer#toString does it; null for a tombstone). */
export function createTextDecoder(ds: Dataset, opts: ObjectDecoderOptions = {}): (text: string | null) => DecodeResult {
  const decodeObject = createObjectDecoder(ds, opts);
  return (text) => {
    if (text === null) return { ok: false, error: 'the record has no value (tombstone)' };
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      return { ok: false, error: `invalid JSON: ${(e as Error).message}` };
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, error: `expected a JSON object, got ${kind(doc)}` };
    return decodeObject(doc as Record<string, unknown>);
  };
}

export interface ObjectDecoderOptions {
  /**
   * json fields are not turned into text (nor checked for unpaired surrogates): their values stay as they are. Only
   * for a caller that knows no string in the record holds an unpaired surrogate, so that the full decoder's verdict
   * is the same: the object's JSON.stringify has no "\\u" escape (createDocEncoder), or the record's text has none
   * (live/event.ts, which also takes the json values as they are).
   */
  jsonAsIs?: boolean;
}

/**
 * The same decoder for a value already parsed from JSON (or one that JSON.stringify then JSON.parse give back
 * unchanged, as the inputs of a publish mutation: plain objects, arrays, strings, finite numbers, booleans, null).
 */
export function createObjectDecoder(ds: Dataset, opts: ObjectDecoderOptions = {}): (obj: Record<string, unknown>) => DecodeResult {
  const n = ds.fields.length;
  const names = ds.fields.map((f) => f.name);
  const required = ds.fields.map((f) => f.required);
  const coerces = ds.fields.map((f) => fieldCoercer(f, opts));
  const eventIdx = ds.eventTime ? ds.fields.findIndex((f) => f.name === ds.eventTime) : -1;
  return (obj) => {
    const values = new Array<unknown>(n);
    let i = 0;
    try {
      for (; i < n; i++) {
        const v = obj[names[i]!];
        if (v === undefined || v === null) {
          if (required[i]) return { ok: false, error: `field "${names[i]}" is required` };
          values[i] = null;
          continue;
        }
        values[i] = coerces[i]!(v);
      }
    } catch (e) {
      if (e instanceof FieldError) return { ok: false, error: `field "${names[i]}": ${e.message}` };
      throw e;
    }
    const et = eventIdx >= 0 ? (values[eventIdx] as number | null) : null;
    return { ok: true, row: { values, eventTimeMs: et === null ? null : Math.floor(et / 1000) } };
  };
}

/**
 * For a publish: the full decoder's verdict on `doc` (an object that JSON.stringify then JSON.parse give back unchanged)
 * and, when it is accepted, doc's JSON text, the value to produce. The full decoder writes each json field as text
 * only to find unpaired surrogates, which doc's own text shows (JSON.stringify escapes them as \\uXXXX): the json
 * fields are first taken as they are, and the full decoder runs only when the text holds a \\u escape or on a
 * refusal (for its exact message). Same verdict, same message, one JSON.stringify per event.
 */
export function createDocEncoder(ds: Dataset): (doc: Record<string, unknown>) => { ok: true; text: string } | { ok: false; error: string } {
  const full = createObjectDecoder(ds);
  const verdict = ds.fields.some((f) => f.type === 'json') ? createObjectDecoder(ds, { jsonAsIs: true }) : full;
  return (doc) => {
    let res = verdict(doc);
    const text = res.ok ? JSON.stringify(doc) : null;
    if (verdict !== full && (text === null || text.includes('\\u'))) res = full(doc);
    return res.ok ? { ok: true, text: text ?? JSON.stringify(doc) } : { ok: false, error: res.error };
  };
}
