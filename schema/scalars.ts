// Custom scalars of the contract: DateTime (ISO-8601 instant), BigInt (64-bit, serialized as a string), JSON, Date.
// Parsed values stay strings in canonical form: the lake binds them as text and casts in SQL, so no precision is lost.

import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { dateTimeDigits, digits, isRealDateTime } from '../ingestion/decode';

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;

function bad(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/**
 * Whether s is already in the normalized form with a 'Z' zone (what toISOString writes: "2026-11-21T13:00:00.000Z",
 * also without or with 1–6 fraction digits) and a real instant of years 1000–9999: then it is its own normalization.
 * The common case of a batch publish, checked without a regex or a Date.
 */
function isCanonicalUtc(s: string): boolean {
  const n = s.length;
  if (n < 20 || n > 27 || n === 21 || s.charCodeAt(n - 1) !== 90 /* Z */) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  if (n > 20 && (s.charCodeAt(19) !== 46 || digits(s, 20, n - 21) < 0)) return false;
  const f = dateTimeDigits(s);
  return f !== null && f[0]! >= 1000 && isRealDateTime(f);
}

/** Validate and normalize to "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)", a form DuckDB and Date both read. */
export function parseDateTime(v: unknown): string {
  return typeof v === 'string' && isCanonicalUtc(v) ? v : parseDateTimeByPattern(v);
}

/** parseDateTime for any input (the reference its shortcut is tested against). */
export function parseDateTimeByPattern(v: unknown): string {
  const m = typeof v === 'string' ? ISO_INSTANT.exec(v) : null;
  const fail = () => bad(`DateTime must be an ISO-8601 date-time with a time zone, e.g. "2026-11-21T13:00:00Z"; got ${JSON.stringify(v)}`);
  if (!m) throw fail();
  const [, y, mo, d, h, mi, s = '00', frac = '', tzRaw] = m;
  const tz = tzRaw!.toUpperCase() === 'Z' ? 'Z' : `${tzRaw!.slice(0, 3)}:${tzRaw!.length > 3 ? tzRaw!.slice(-2) : '00'}`;
  const out = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${tz}`;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${tz}`);
  // Date.parse rolls 2026-02-31 over to March; compare the calendar fields to refuse it.
  const daysInMonth = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  if (Number.isNaN(ms) || Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > daysInMonth || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw fail();
  return out;
}

export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An instant as an ISO-8601 string with a time zone, e.g. "2026-11-21T13:00:00.000Z". Output is always UTC.',
  serialize(v) {
    if (v instanceof Date) return v.toISOString();
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return new Date(v).toISOString();
    throw new GraphQLError('DateTime cannot represent this value');
  },
  parseValue: parseDateTime,
  parseLiteral(ast: ValueNode) {
    if (ast.kind !== Kind.STRING) throw bad('DateTime must be a string');
    return parseDateTime(ast.value);
  },
});

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function parseBigInt(v: unknown): string {
  let b: bigint;
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) b = BigInt(v);
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === 'bigint') b = v;
  else throw bad(`BigInt must be an integer or a string of digits; got ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`);
  if (b < INT64_MIN || b > INT64_MAX) throw bad('BigInt is outside the 64-bit range');
  return b.toString();
}

export const BigIntScalar = new GraphQLScalarType({
  name: 'BigInt',
  description: 'A 64-bit integer, serialized as a string of digits (JSON numbers lose precision above 2^53).',
  serialize(v) {
    if (typeof v === 'bigint' || typeof v === 'number') return String(v);
    if (typeof v === 'string') return v;
    throw new GraphQLError('BigInt cannot represent this value');
  },
  parseValue: parseBigInt,
  parseLiteral(ast) {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return parseBigInt(ast.kind === Kind.INT ? (Number.isSafeInteger(Number(ast.value)) ? Number(ast.value) : ast.value) : ast.value);
    throw bad('BigInt must be an integer or a string of digits');
  },
});

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseDate(v: unknown): string {
  if (typeof v !== 'string' || !ISO_DATE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
    throw bad(`Date must be a calendar date "YYYY-MM-DD"; got ${JSON.stringify(v)}`);
  }
  return v;
}

export const DateScalar = new GraphQLScalarType({
  name: 'Date',
  description: 'A calendar date, "YYYY-MM-DD".',
  serialize(v) {
    if (v instanceof Date) return v.toISOString().slice(0, 10);
    if (typeof v === 'string') return v;
    throw new GraphQLError('Date cannot represent this value');
  },
  parseValue: parseDate,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw bad('Date must be a string');
    return parseDate(ast.value);
  },
});

export const JSONScalar = GraphQLJSON;
