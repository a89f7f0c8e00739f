// Staging of records not yet in a data file: one newline-delimited JSON file per segment under `<dataset>/_staging/`,
// in a canonical form that DuckDB reads back exactly (no coercion left to do): the values a decoder produced,
// serialized so that `read_json` with explicit column types yields the very values the old per-row appender stored.
// Invariants: the typed relation of a staging file has the columns and types of the segment's future data file
// (JSON kept as text); serializing is the only per-record work of staging (DuckDB parses at commit), done in the
// ingestion's decode workers (ingestion/decode-batch.ts) or on its thread. A line is one JSON.stringify of an object
// of canonical values (fastLine) and is, character for character, what the per-value reference serializer writes
// (slowLine, which takes every row the fast path declines: longs and timestamps beyond ±2^53, unexpected JS types).
//
// Canonical line: {"c0":…,"c1":…,…,"o":<offset>,"t":<kafka ms>,"k":<key>}, null values left out (read as NULL).
//   string → JSON string (lone surrogates as U+FFFD, as DuckDB's own UTF-8 conversion did); json → its text as a
//   JSON string; int / long → digits; float → shortest round-trip digits, or "-0" / "Infinity" / "-Infinity" as
//   strings (DuckDB casts them); boolean; timestamp → epoch microseconds; date → days since the epoch; lists → arrays.

import type { Dataset, FieldDef } from '../config';
import { assertNever } from '../errors';
import { ident, literal } from './sql';
import type { StagedRow } from './writer';

/** DuckDB's timestamp range in epoch microseconds (make_timestamptz refuses values outside it). */
const TS_MIN = -9_223_372_022_400_000_000n;
const TS_MAX = 9_223_372_036_854_775_806n;

type Ser = (v: unknown) => string;

/** String.prototype.isWellFormed / toWellFormed (Node 20; not in the ES2022 lib typings). */
type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };

const str: Ser = (v) => {
  const s = v as string & WellFormed;
  return JSON.stringify(s.isWellFormed() ? s : s.toWellFormed());
};

const float: Ser = (v) => {
  const n = v as number;
  if (Number.isFinite(n)) return n === 0 && 1 / n < 0 ? '"-0"' : String(n);
  return `"${String(n)}"`;
};

const micros: Ser = (v) => {
  const n = Math.round(v as number);
  if (Number.isSafeInteger(n)) return String(n);
  // As the appender did (BigInt of the rounded value), with DuckDB's range checked here rather than at commit.
  const b = BigInt(n);
  if (b < TS_MIN || b > TS_MAX) throw new RangeError(`timestamp ${String(v)} µs is out of DuckDB's range`);
  return b.toString();
};

function scalarSer(f: FieldDef): Ser {
  switch (f.type) {
    case 'string':
      return str;
    case 'json':
      return (v) => JSON.stringify(v as string);
    case 'int':
    case 'date':
      return (v) => String(v as number);
    case 'long':
      return (v) => (v as bigint).toString();
    case 'float':
      return float;
    case 'boolean':
      return (v) => ((v as boolean) ? 'true' : 'false');
    case 'timestamp':
      return micros;
    default:
      return assertNever(f.type, 'scalar type');
  }
}

/** The type read_json reads a field's canonical value as. */
function readType(f: FieldDef): string {
  let t: string;
  switch (f.type) {
    case 'string':
    case 'json':
      t = 'VARCHAR';
      break;
    case 'int':
    case 'date':
      t = 'INTEGER';
      break;
    case 'long':
    case 'timestamp':
      t = 'BIGINT';
      break;
    case 'float':
      t = 'DOUBLE';
      break;
    case 'boolean':
      t = 'BOOLEAN';
      break;
    default:
      return assertNever(f.type, 'scalar type');
  }
  return f.list ? `${t}[]` : t;
}

/** SQL turning a canonical column into the staging type (the data file's type; JSON stays text). */
function typedExpr(f: FieldDef, col: string): string {
  const one = (x: string) => (f.type === 'timestamp' ? `make_timestamptz(${x})` : f.type === 'date' ? `CAST(DATE '1970-01-01' + ${x} AS DATE)` : x);
  if (f.type !== 'timestamp' && f.type !== 'date') return col;
  return f.list ? `list_transform(${col}, x -> ${one('x')})` : one(col);
}

export interface StagingPlan {
  /**
   * Canonical NDJSON lines (each ending in \n) of the rows of one segment, and a bound on the bytes of the longest
   * line (read_json must be told: its buffers are twice that size).
   */
  serialize(rows: readonly StagedRow[]): { text: string; maxLineBytes: number };
  /** The canonical line of one row, without its \n (what `serialize` writes for it; throws as it would). */
  line(row: StagedRow): string;
  /**
   * `line` of the row of these decoded values at a Kafka offset given in decimal (as kafkajs gives it): the same
   * line, or the same exception (BigInt's for an offset that is not one), without a BigInt for the common offsets.
   */
  lineOf(values: readonly unknown[], offset: string, timestampMs: number, key: string | null): string;
  /**
   * Per field, the canonical value of a decoded value (what a line holds for it: JSON.stringify of it is the field's
   * text), or SLOW when the row needs the reference serializer. Not called for null values (left out of a line).
   */
  readonly canons: ReadonlyArray<(v: unknown) => unknown>;
  /**
   * `lineOf` of a row given by its canonical values (per `canons`, undefined for a null value), for a caller that made
   * them itself: the same line, or null when the row needs `lineOf` (an offset beyond 15 digits, a Kafka timestamp that
   * is not integral milliseconds). `canonical` is read, not kept.
   */
  lineOfCanonical(canonical: readonly unknown[], offset: string, timestampMs: number, key: string | null): string | null;
  /** The per-value reference serializer that `serialize` must equal (for tests; `line` falls back to its per-row form). */
  serializeReference(rows: readonly StagedRow[]): { text: string; maxLineBytes: number };
  /**
   * A SELECT of the staging file with the typed columns of the data file (JSON as text), in offset order.
   * `live`: tolerate a line being written at this instant (a partial last line reads as no row).
   * `maxObject`: read_json's maximum_object_size, at least the longest line (see objectBound).
   */
  select(file: string, topic: string, partition: number, opts: { live: boolean; jsonCast: boolean; maxObject: number }): string;
}

/** read_json's maximum_object_size for lines of up to `maxLineBytes`: a power of two, at least 1 MiB. */
export function objectBound(maxLineBytes: number): number {
  let n = 1 << 20;
  while (n <= maxLineBytes + 1) n *= 2;
  return n;
}

/** A value the fast path cannot hand to JSON.stringify as is: the row is serialized by the reference path. */
export const SLOW: unique symbol = Symbol('slow');

/**
 * The value whose JSON.stringify is exactly the canonical text of `scalarSer(f)(v)`, or SLOW (a value out of the
 * common shapes: a long or timestamp beyond ±2^53, an unexpected JS type). Every branch is checked against the
 * reference serializer in tests/lake/staging-fast.test.ts.
 */
function scalarCanon(f: FieldDef): (v: unknown) => unknown {
  switch (f.type) {
    case 'string':
      return (v) => {
        if (typeof v !== 'string') return SLOW;
        const s = v as string & WellFormed;
        return s.isWellFormed() ? s : s.toWellFormed();
      };
    case 'json':
      return (v) => (typeof v === 'string' ? v : SLOW);
    case 'int':
    case 'date':
      return (v) => (typeof v === 'number' && Number.isFinite(v) ? v : SLOW);
    case 'long':
      return (v) => (typeof v === 'bigint' && v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : SLOW);
    case 'float':
      return (v) => {
        if (typeof v !== 'number') return SLOW;
        if (Number.isFinite(v)) return v === 0 && 1 / v < 0 ? '-0' : v;
        return String(v);
      };
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : SLOW);
    case 'timestamp':
      return (v) => {
        if (typeof v !== 'number') return SLOW;
        const n = Math.round(v);
        return Number.isSafeInteger(n) ? n : SLOW;
      };
    default:
      return assertNever(f.type, 'scalar type');
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The value of 1 to 15 ASCII digits (exact as a double), or -1 for any other text (BigInt then decides). */
function smallOffset(s: string): number {
  const len = s.length;
  if (len === 0 || len > 15) return -1;
  let v = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export function stagingPlan(ds: Dataset): StagingPlan {
  const fields = ds.fields;
  const sers = fields.map((f) => {
    const one = scalarSer(f);
    return f.list ? (v: unknown) => { const a = v as unknown[]; let s = '['; for (let i = 0; i < a.length; i++) s += (i ? ',' : '') + one(a[i]); return s + ']'; } : one;
  });
  const canons = fields.map((f) => {
    const one = scalarCanon(f);
    if (!f.list) return one;
    return (v: unknown) => {
      if (!Array.isArray(v)) return SLOW;
      // The list itself while every element is its own canonical value (the common case: no copy, and a packed array
      // for JSON.stringify's fast path); a copy from the first element that is not.
      let out: unknown[] | null = null;
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        // The reference path would write "null" for a missing element; never produced by a decoder: keep it exact.
        if (x === null || x === undefined) return SLOW;
        const c = one(x);
        if (c === SLOW) return SLOW;
        if (out === null && c !== x) out = v.slice(0, i);
        if (out !== null) out.push(c);
      }
      return out ?? v;
    };
  });
  const keys = fields.map((_, i) => `"c${i}":`);
  const names = fields.map((_, i) => `c${i}`);
  const columns = [...fields.map((f, i) => `c${i}: '${readType(f)}'`), `o: 'BIGINT'`, `t: 'BIGINT'`, `k: 'VARCHAR'`].join(', ');
  const n = fields.length;

  /** The reference serializer of one row (any value the decoder can produce, with its errors). */
  const slowLine = (row: StagedRow): string => {
    const values = row.values;
    let line = '{';
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      line += (line.length > 1 ? ',' : '') + keys[i] + sers[i]!(v);
    }
    // Kafka timestamps are integral milliseconds (the appender refused anything else).
    if (!Number.isSafeInteger(row.timestampMs)) throw new RangeError(`record timestamp ${row.timestampMs} is not integral milliseconds`);
    return line + `${line.length > 1 ? ',' : ''}"o":${row.offset},"t":${row.timestampMs},"k":${row.key === null ? 'null' : str(row.key)}}`;
  };

  /**
   * An object literal of the canonical values in field order, then o, t, k (made once per dataset: one hidden class
   * for every line, where keyed stores of c0…cN went megamorphic). Its code holds only column indices.
   */
  const lineObject = new Function('a', 'o', 't', 'k', `return {${[...names.map((c, i) => `${c}: a[${i}]`), 'o: o', 't: t', 'k: k'].join(', ')}};`) as (
    a: readonly unknown[],
    o: number,
    t: number,
    k: string | null,
  ) => object;
  const canonical = new Array<unknown>(n);

  /**
   * The same line (without its \n) by one native JSON.stringify of that literal: its string keys keep their order and
   * undefined values (null fields) are left out, so its text is the reference line character for character. Null when
   * the row needs the reference path. `offset`: a safe integer.
   */
  const fastLineOf = (values: readonly unknown[], offset: number, timestampMs: number, key: string | null): string | null => {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        canonical[i] = undefined;
        continue;
      }
      const c = canons[i]!(v);
      if (c === SLOW) return null;
      canonical[i] = c;
    }
    return canonicalLine(canonical, offset, timestampMs, key);
  };

  /** The line of canonical values, or null when the Kafka timestamp or the key needs the reference path. */
  const canonicalLine = (values: readonly unknown[], offset: number, timestampMs: number, key: string | null): string | null => {
    if (!Number.isSafeInteger(timestampMs)) return null;
    if (key !== null && typeof key !== 'string') return null;
    const k = key === null ? null : (key as string & WellFormed).isWellFormed() ? key : (key as string & WellFormed).toWellFormed();
    return JSON.stringify(lineObject(values, offset, timestampMs, k));
  };

  const fastLine = (row: StagedRow): string | null => {
    const off = row.offset;
    if (typeof off !== 'bigint' || off < -MAX_SAFE || off > MAX_SAFE) return null;
    return fastLineOf(row.values, Number(off), row.timestampMs, row.key);
  };

  const line = (row: StagedRow): string => fastLine(row) ?? slowLine(row);

  return {
    line,
    canons,
    lineOfCanonical(values, offset, timestampMs, key) {
      const small = smallOffset(offset);
      return small < 0 ? null : canonicalLine(values, small, timestampMs, key);
    },
    lineOf(values, offset, timestampMs, key) {
      const small = smallOffset(offset);
      return (small >= 0 ? fastLineOf(values, small, timestampMs, key) : null) ?? slowLine({ values, offset: BigInt(offset), timestampMs, key, bytes: 0 });
    },
    serialize(rows) {
      const lines = new Array<string>(rows.length);
      let longest = 0;
      for (let r = 0; r < rows.length; r++) {
        const l = line(rows[r]!);
        if (l.length > longest) longest = l.length;
        lines[r] = l;
      }
      // UTF-16 units to UTF-8 bytes: at most 3 bytes per unit (and the \n).
      return { text: rows.length ? lines.join('\n') + '\n' : '', maxLineBytes: (longest + (rows.length ? 1 : 0)) * 3 };
    },
    serializeReference(rows) {
      let out = '';
      let longest = 0;
      for (const row of rows) {
        const line = slowLine(row) + '\n';
        if (line.length > longest) longest = line.length;
        out += line;
      }
      return { text: out, maxLineBytes: longest * 3 };
    },
    select(file, topic, partition, opts) {
      const cols = fields.map((f, i) => {
        const e = typedExpr(f, `j.c${i}`);
        return f.type === 'json' && opts.jsonCast ? `CAST(${e} AS ${f.list ? 'JSON[]' : 'JSON'}) AS ${ident(f.name)}` : `${e} AS ${ident(f.name)}`;
      });
      cols.push(
        `CAST(${literal(topic)} AS VARCHAR) AS "_topic"`,
        `CAST(${partition} AS INTEGER) AS "_partition"`,
        `j.o AS "_offset"`,
        `make_timestamptz(j.t * 1000) AS "_timestamp"`,
        `j.k AS "_key"`,
      );
      const opt = `format = 'newline_delimited', records = true, auto_detect = false, maximum_object_size = ${opts.maxObject}${opts.live ? ', ignore_errors = true' : ''}`;
      // A malformed line (only ever a partial last line, read while it is written) reads as a row of NULLs.
      return `SELECT ${cols.join(', ')} FROM read_json(${literal(file)}, columns = {${columns}}, ${opt}) AS j${opts.live ? ' WHERE j.o IS NOT NULL' : ''}`;
    },
  };
}
