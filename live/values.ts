// Per-type semantics for live filters: constants read as SQL reads them (bound text, then CAST), row values as decoded.
// Invariant: both become keys where equal values are identical (=== / Set) and order is DuckDB's order for the type.

import type { ScalarType } from '../config';
import { assertNever, badInput } from '../errors';
import { compareCodePoints, hasHighUnits, toWellFormed } from './text';

/** A comparable form of one value: string (VARCHAR), number, bigint (BIGINT, big TIMESTAMPTZ), boolean. */
export type Key = string | number | bigint | boolean;

export interface TypeSemantics {
  /** Row value → key; undefined for null/undefined and for a value of the wrong shape (it then matches nothing). */
  readonly key: (v: unknown) => Key | undefined;
  /** Filter value → key, exactly as `CAST(<param text> AS <type>)` reads it; throws BAD_USER_INPUT if SQL would fail. */
  readonly constant: (v: unknown) => Key;
  /** Sign of (row key − constant), in DuckDB's order for the type; made once per constant. */
  readonly orderAgainst: (c: Key) => (k: Key) => number;
}

/** Equality of two keys of one type: NaN equals NaN (as in DuckDB); -0 never occurs in keys. */
export function sameKey(a: Key, b: Key): boolean {
  return a === b || (a !== a && b !== b);
}

/** The text a filter value is bound as; the same rules as lake/where-to-sql.ts's toParamText. */
export function paramText(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/;
const FLOAT_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

const numericOrder = (c: Key) => (k: Key) => (k < c ? -1 : k > c ? 1 : 0);

const stringSemantics: TypeSemantics = {
  key: (v) => (typeof v === 'string' ? toWellFormed(v) : undefined),
  constant: (v) => toWellFormed(paramText(v)),
  // Native `<` (UTF-16 order) is exact unless the constant has units ≥ U+D800: at the first difference the row's
  // unit is then either below both orders' boundary or above the constant's in both.
  orderAgainst: (c) => {
    const cs = c as string;
    if (!hasHighUnits(cs)) return (k) => ((k as string) < cs ? -1 : (k as string) > cs ? 1 : 0);
    return (k) => Math.sign(compareCodePoints(k as string, cs));
  },
};

const intSemantics: TypeSemantics = {
  key: (v) => (typeof v === 'number' ? (v === v ? v + 0 : undefined) : typeof v === 'bigint' ? Number(v) : undefined),
  constant: (v) => {
    const t = paramText(v);
    const n = INTEGER_TEXT.test(t) ? Number(t) : NaN;
    if (!(n >= INT32_MIN && n <= INT32_MAX)) throw badInput(`${JSON.stringify(t)} is not a 32-bit integer`);
    return n + 0;
  },
  orderAgainst: numericOrder,
};

const longSemantics: TypeSemantics = {
  key: (v) => {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
    if (typeof v === 'string') return /^-?\d{1,19}$/.test(v) ? BigInt(v) : undefined;
    return undefined;
  },
  constant: (v) => {
    const t = paramText(v).trim();
    const b = /^[+-]?\d+$/.test(t) ? BigInt(t) : undefined;
    if (b === undefined || b < INT64_MIN || b > INT64_MAX) throw badInput(`${JSON.stringify(t)} is not a 64-bit integer`);
    return b;
  },
  orderAgainst: numericOrder,
};

const floatSemantics: TypeSemantics = {
  // -0 becomes 0 (DuckDB: -0.0 = 0.0); NaN stays NaN.
  key: (v) => (typeof v === 'number' ? v + 0 : undefined),
  constant: (v) => {
    const t = paramText(v).trim();
    if (FLOAT_TEXT.test(t)) return Number(t) + 0;
    const special = t.replace(/^\+/, '').toLowerCase();
    if (special === 'nan' || special === '-nan') return NaN;
    if (special === 'inf' || special === 'infinity') return Infinity;
    if (special === '-inf' || special === '-infinity') return -Infinity;
    throw badInput(`${JSON.stringify(t)} is not a number`);
  },
  // DuckDB orders NaN above +Infinity and equal to itself.
  orderAgainst: (c) => {
    const cn = c as number;
    if (cn !== cn) return (k) => ((k as number) !== (k as number) ? 0 : -1);
    return (k) => ((k as number) !== (k as number) ? 1 : (k as number) < cn ? -1 : (k as number) > cn ? 1 : 0);
  },
};

const booleanSemantics: TypeSemantics = {
  key: (v) => (typeof v === 'boolean' ? v : undefined),
  constant: (v) => {
    const t = paramText(v).toLowerCase(); // DuckDB trims numbers and dates, not booleans
    if (t === 'true' || t === 't' || t === '1') return true;
    if (t === 'false' || t === 'f' || t === '0') return false;
    throw badInput(`${JSON.stringify(t)} is not a boolean`);
  },
  orderAgainst: (c) => (k) => Number(k) - Number(c),
};

// Instants are keyed in microseconds since the epoch, the precision of DuckDB's TIMESTAMPTZ and of the lake's
// Parquet files: a number while it is a safe integer, a bigint beyond (mixed `<` between them is exact in JS).
const MAX_SAFE_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1000) - 1;

function microsKey(us: bigint): number | bigint {
  return us >= -BigInt(Number.MAX_SAFE_INTEGER) && us <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(us) : us;
}

/**
 * Epoch milliseconds → microseconds as ingestion/decode.ts stores them: Math.round(ms × 1000) (half a microsecond
 * rounds up); exact integer arithmetic where that product is no longer a safe integer.
 */
function msKey(ms: number): number | bigint | undefined {
  if (!Number.isFinite(ms)) return undefined;
  if (ms >= -MAX_SAFE_MS && ms <= MAX_SAFE_MS) return Math.round(ms * 1000) + 0;
  const whole = Math.floor(ms);
  return microsKey(BigInt(whole) * 1000n + BigInt(Math.round((ms - whole) * 1000)));
}

// The forms the DateTime scalar hands over, and a date alone (midnight). DuckDB's cast reads more (24:00:00, zone
// names, offsets with seconds, times without seconds); those are refused here rather than guessed at.
const ISO_TIMESTAMP = /^(\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * An ISO-8601 instant in microseconds, read as DuckDB casts text to TIMESTAMPTZ: no zone means UTC (the engine's
 * session zone), an offset is hours × 60 + minutes taken as they are, fraction digits past the sixth are dropped.
 */
export function parseInstantMicros(text: string): bigint | undefined {
  const m = ISO_TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', tz = 'Z'] = m;
  const day = civilDay(Number(y), Number(mo), Number(d));
  if (day === undefined || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let offsetMin = 0;
  if (tz !== 'Z') {
    const digits = tz.slice(1).replace(':', '');
    offsetMin = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * (tz[0] === '-' ? -1 : 1);
  }
  const seconds = BigInt(day) * 86400n + BigInt(Number(h) * 3600 + Number(mi) * 60 + Number(s) - offsetMin * 60);
  // DuckDB keeps six fractional digits and drops the rest (no rounding).
  return seconds * 1_000_000n + BigInt(frac.slice(0, 6).padEnd(6, '0'));
}

const timestampSemantics: TypeSemantics = {
  key: (v) => {
    if (typeof v === 'number') return msKey(v);
    if (v instanceof Date) return msKey(v.getTime());
    if (typeof v === 'string') {
      const us = parseInstantMicros(v);
      return us === undefined ? undefined : microsKey(us);
    }
    return undefined;
  },
  constant: (v) => {
    const t = paramText(v);
    const us = parseInstantMicros(t);
    if (us === undefined) throw badInput(`${JSON.stringify(t)} is not an ISO-8601 date-time`);
    return microsKey(us);
  },
  orderAgainst: numericOrder,
};

/** Days since 1970-01-01 of a proleptic Gregorian date, or undefined if the date is not in the calendar. */
export function civilDay(y: number, m: number, d: number): number | undefined {
  if (!(m >= 1 && m <= 12 && d >= 1)) return undefined;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = m === 2 ? (leap ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
  if (d > dim) return undefined;
  // Howard Hinnant's days_from_civil.
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const ISO_DATE = /^(\d{4,})-(\d{2})-(\d{2})$/;

function dateDay(s: string): number | undefined {
  const m = ISO_DATE.exec(s);
  return m ? civilDay(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
}

const dateSemantics: TypeSemantics = {
  key: (v) => (typeof v === 'string' ? dateDay(v) : v instanceof Date && v.getTime() === v.getTime() ? Math.floor(v.getTime() / 86_400_000) : undefined),
  constant: (v) => {
    const t = paramText(v).trim();
    const day = dateDay(t);
    if (day === undefined) throw badInput(`${JSON.stringify(t)} is not a calendar date "YYYY-MM-DD"`);
    return day;
  },
  orderAgainst: numericOrder,
};

const jsonSemantics: TypeSemantics = {
  key: () => undefined,
  constant: () => {
    throw badInput('JSON values can only be tested with isNull');
  },
  orderAgainst: () => () => 0,
};

export function semanticsOf(t: ScalarType): TypeSemantics {
  switch (t) {
    case 'string':
      return stringSemantics;
    case 'int':
      return intSemantics;
    case 'long':
      return longSemantics;
    case 'float':
      return floatSemantics;
    case 'boolean':
      return booleanSemantics;
    case 'timestamp':
      return timestampSemantics;
    case 'date':
      return dateSemantics;
    case 'json':
      return jsonSemantics;
    default:
      return assertNever(t, 'scalar type');
  }
}
