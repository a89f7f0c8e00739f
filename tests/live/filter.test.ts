// compileWhere against whereToSql: every operator of every field type and nested and/or/not over awkward rows must
// select exactly the rows DuckDB selects (through the real lake engine and its binding, over a table and over Parquet).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig, type Dataset, type FieldDef, type ScalarType } from '../../config';
import { createLakeEngine, normalizeWhere, opsFor, Params, whereToSql, type LakeEngine } from '../../lake';
import { compileWhere, lowerCaseAsDuckDB, type EventRow } from '../../live';

type Where = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------
// The dataset, through the real config loader.

const CONFIG = `
datasets:
  events:
    key: id
    fields:
      id:          { type: string, required: true }
      s:           { type: string }
      i:           { type: int }
      l:           { type: long }
      f:           { type: float }
      b:           { type: boolean }
      ts:          { type: timestamp }
      d:           { type: date }
      j:           { type: json }
      ss:          { type: "[string]" }
      is:          { type: "[int]" }
      ls:          { type: "[long]" }
      fs:          { type: "[float]" }
      tss:         { type: "[timestamp]" }
      ds:          { type: "[date]" }
      bs:          { type: "[boolean]" }
      constructor: { type: string }
`;
const DS: Dataset = parseConfig(CONFIG, '/virtual/lakegate.yaml', { env: {} }).datasetMap.get('events')!;

// ---------------------------------------------------------------------------------------------------------------
// Hand-picked values per column, cycled over the rows (pool lengths differ, so combinations vary).
// MISSING leaves the key out of the row; null and undefined are set explicitly. All three are SQL NULL.

const MISSING = Symbol('missing');
const T = Date.UTC(2026, 10, 19, 1, 5, 0); // 2026-11-19T01:05:00.000Z
const HOUR = 3_600_000;

const POOLS: Record<string, unknown[]> = {
  s: [
    null, '', 'a', 'A', 'ab', 'abc', 'b', 'paid', 'Paid', `it's "quoted"; DROP TABLE x; --`, '100% off_sale', '%', '_',
    '\\', 'a\\b', 'a\\%b', 'a%b', 'a_b', 'aXb', 'a\\\\', 'café', 'CAFÉ', 'Cafe\u0301', 'ß', 'SS', 'ẞ', 'İstanbul',
    'istanbul', 'ΑΣ', 'ας', 'σασ', '🚀', '🚀x', 'x🚀', '\ufffd', '\ue000', '\uff21', '日本', 'é', ' ', 'a\nb', 'ǅ',
    '\u212a', '\u1c89', '\u{10d50}', 'zzz', MISSING, undefined, '\u{10ffff}', 'a\tb', 'ǆ', 'Ǆ', 'k', 'aa',
    // Lone surrogates (JSON.parse makes them from "\ud83d"): the lake holds U+FFFD instead.
    '\ud83d', 'x\udc00y', '\ud83d%',
  ],
  i: [null, 0, 1, -1, 7, 42, 2147483647, -2147483648, 3, MISSING, 100, -7],
  l: [
    null, 0n, 1n, -1n, '9007199254740993', 9007199254740992n, 9007199254740991, -9007199254740993n, '9223372036854775807',
    -9223372036854775808n, 42, '-42', 1234567890123456789n, MISSING,
  ],
  f: [null, 0, -0, 0.1, 0.30000000000000004, 0.3, 1.5, -1.5, 1e300, -1e300, Infinity, -Infinity, NaN, 5e-324, 2.5, 42, undefined],
  b: [null, true, false, true, false, MISSING, false],
  ts: [
    T, T, new Date(T), T + 1, T - 1, T + 0.25, T + 0.5, 0, -1, -62135596800000, 253402300799999, null, T + 24 * HOUR,
    T - 2 * HOUR, new Date(T + 1), MISSING, T + 0.75,
  ],
  d: [null, '2026-11-05', '2026-11-19', '2026-11-20', '1970-01-01', '0001-01-01', '9999-12-31', '2024-02-29', '1969-12-31', '2026-11-19', MISSING],
  j: [null, {}, [], 0, false, '', { a: 1 }, 'text', [1, [2]], { nested: { x: null } }, MISSING],
  ss: [
    null, [], ['gift'], ['gift', 'express'], ['a', 'A'], ['', '%'], ['🚀', 'café'], ['a\\b', 'a,b', '[x]', '"q"'],
    ['bulk', 'bulk'], ['x', null], MISSING, ['\ufffd', '\ue000'], ['\udc00'],
  ],
  is: [null, [], [1], [1, 2], [0, -1], [2147483647], [3, 3, 3], [7, 42], MISSING],
  ls: [null, [], [1n], ['9007199254740993'], [9007199254740992n, -1n], [42], MISSING, ['-9223372036854775808', 0]],
  fs: [null, [], [0], [-0], [NaN], [1.5, 2.5], [Infinity], [0.1], MISSING],
  tss: [null, [], [T], [new Date(T + 1)], [T + 0.25, 0], MISSING],
  ds: [null, [], ['2026-11-05'], ['1970-01-01', '9999-12-31'], MISSING],
  bs: [null, [], [true], [false], [true, false], MISSING],
  constructor: [MISSING, 'x', 'constructor', null],
};

const ROW_COUNT = 64;
const ROWS: EventRow[] = Array.from({ length: ROW_COUNT }, (_, r) => {
  const row: EventRow = { id: `r${String(r).padStart(3, '0')}` };
  for (const [name, pool] of Object.entries(POOLS)) {
    const v = pool[r % pool.length];
    if (v !== MISSING) Object.defineProperty(row, name, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return row;
});

// ---------------------------------------------------------------------------------------------------------------
// The SQL side: the same rows in a DuckDB table (and a Parquet copy), typed as the lake types them.

const DUCK: Record<ScalarType, string> = {
  string: 'VARCHAR', int: 'INTEGER', long: 'BIGINT', float: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMPTZ', date: 'DATE', json: 'JSON',
};

/** Exact microseconds of a test timestamp (pool values have sub-millisecond parts that are exact binary fractions). */
function micros(v: unknown): string {
  const ms = v instanceof Date ? v.getTime() : (v as number);
  const whole = Math.floor(ms);
  return String(BigInt(whole) * 1000n + BigInt((ms - whole) * 1000));
}

function elementText(t: ScalarType, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (t === 'float') return Object.is(v, -0) ? '-0' : String(v);
  if (t === 'timestamp') return micros(v);
  if (t === 'json') return JSON.stringify(v);
  return String(v);
}

function valueSql(f: FieldDef, v: unknown, params: unknown[]): string {
  if (v === null || v === undefined) return 'NULL';
  params.push(f.list ? (v as unknown[]).map((x) => elementText(f.type, x)) : elementText(f.type, v));
  const $ = `$${params.length}`;
  if (f.type === 'timestamp') return f.list ? `list_transform(CAST(${$} AS BIGINT[]), x -> make_timestamptz(x))` : `make_timestamptz(CAST(${$} AS BIGINT))`;
  return `CAST(${$} AS ${DUCK[f.type]}${f.list ? '[]' : ''})`;
}

let dir: string;
let engine: LakeEngine;
let parquet: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lakegate-live-filter-'));
  engine = await createLakeEngine({ lakePath: dir });
  const cols = DS.fields.map((f) => `"${f.name}" ${DUCK[f.type]}${f.list ? '[]' : ''}`).join(', ');
  await engine.exec(`CREATE TABLE t (${cols})`);
  for (const row of ROWS) {
    const params: unknown[] = [];
    const values = DS.fields.map((f) => valueSql(f, Object.prototype.hasOwnProperty.call(row, f.name) ? row[f.name] : undefined, params));
    await engine.exec(`INSERT INTO t VALUES (${values.join(', ')})`, params as string[]);
  }
  parquet = path.join(dir, 'events.parquet');
  await engine.exec(`COPY t TO '${parquet}' (FORMAT parquet)`);
});

after(() => {
  engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sqlIds(from: string, where: Where): Promise<string[]> {
  const p = new Params();
  const pred = whereToSql(normalizeWhere(DS, where), p);
  const r = await engine.query(`SELECT id FROM ${from} WHERE ${pred} ORDER BY id`, p.values);
  return r.rows.map((x) => String(x.id));
}

function liveIds(where: Where, rows: EventRow[] = ROWS): string[] {
  const pred = compileWhere(normalizeWhere(DS, where));
  return rows.filter(pred).map((r) => String(r.id)).sort();
}

// ---------------------------------------------------------------------------------------------------------------
// The where inputs: every operator of every field with several values, then combinations.

const ISO = (ms: number) => new Date(ms).toISOString();
const STRINGS = [
  ...POOLS.s!.filter((v): v is string => typeof v === 'string'),
  'aa', 'zz', '\ud7ff', 'A\u0301', '\ud83d', 'x\udc00', 'Ꮃ', '\u{1f600}',
];
const LIKE = [
  '', '%', '%%', '_', '__', '___', 'a%', '%a', '%a%', 'a_b', 'a%b', 'a\\%b', 'a\\%', 'a\\_b', 'a\\\\', 'a\\b', '\\%', '%\\',
  '%\\%', '\\', '\\_', '100\\% off_sale', '100% off\\_sale', '100%', '%off_sale', '%\\_%', '_🚀', '🚀_', '%🚀%', '🚀', '_x',
  'x_', 'caf_', 'café', 'CAF%', 'Cafe_', 'Caf_', 'Caf__', '%é%', '_\u0301', 'ß', 'İ%', 'ΑΣ', "it's%", '%"quoted"%',
  '%_%_%_%_%_%', '_%_', 'a%%b', '%a%b%', 'a\nb', 'a_%', '%_b', '%\ufffd%', '\ud83d', '%\ue000', 'a%b%', '%b%b', '_é',
];
const ILIKE = [
  ...LIKE, 'PAID', 'CAFÉ', '%É%', 'É', 'İSTANBUL', 'istanbul', 'İstanbul', 'ISTANBUL', 'ΣΑΣ', 'σας', 'ασ', 'ss', 'ß', 'ẞ', 'k',
  'K', 'ǆ', 'ǅ', 'Ǆ', '\u1c8a', '\u{10d70}', 'e\u0301', 'A\\B', '%\\%%', 'ǅ%', 'a%B',
];
const SUBSTRINGS = ['', 'a', 'A', 'ab', '🚀', '\\', '%', '_', 'é', 'e', 'caf', 'Caf', "it's", '\ud83d', '\ufffd', '\u0301', 'σ', 'b', 'aX', '\n'];

const TS_PROBES: unknown[] = [
  ISO(T), '2026-11-19T03:05:00+02:00', ISO(T + 1), ISO(T - 1), '2026-11-19T01:05:00.000001Z', '2026-11-19T01:05:00.00025Z',
  '2026-11-19T01:05:00.000250Z', '2026-11-19T01:05:00.0002509Z', '2026-11-19T01:04:59.999999Z', '2026-11-19T01:05:00.0005Z',
  '1970-01-01T00:00:00Z', '1969-12-31T23:59:59.999Z', '1969-12-31T23:59:59.9995Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z',
  '2026-11-19 01:05:00Z', '2026-11-19T01:05:00.999999999Z', '2026-11-19T03:05:00+0200', '2026-11-19T10:05:00+99:00', '2026-11-18T19:26:00-05:99',
  '0000-03-01T00:00:00Z', '0000-02-29T12:00:00+01:00', '2026-11-19T06:35:00+05:30', '2026-11-18T20:05:00-05',
  '2026-11-19T01:05:00', '2026-11-19', new Date(T), new Date(T + 1), '2026-11-20T01:05:00.000Z', '2026-11-18T23:05:00Z',
];
const DATE_PROBES = ['0000-02-29', '10000-01-01', '2026-11-05', '2026-11-19', '2026-11-20', '1970-01-01', '1969-12-31', '0001-01-01', '9999-12-31', '2024-02-29', '2025-01-01'];

const SCALAR_PROBES: Record<ScalarType, unknown[]> = {
  string: STRINGS,
  int: [0, 1, -1, 3, 7, 42, 2147483647, -2147483648, 100, -0, 5],
  long: [
    '0', '1', '-1', '42', '-42', 9007199254740991, '9007199254740992', '9007199254740993', '-9007199254740993', '9223372036854775807',
    '-9223372036854775808', '1234567890123456789', 9007199254740993n, 41, '-9007199254740992',
  ],
  float: [0, -0, 0.1, 0.3, 0.30000000000000004, 1.5, -1.5, 2.5, 1e300, -1e300, 5e-324, 42, Infinity, -Infinity, NaN, 1e21, 1e-7],
  boolean: [true, false],
  timestamp: TS_PROBES,
  date: DATE_PROBES,
  json: [],
};

const IN_LISTS: Record<ScalarType, unknown[][]> = {
  string: [[], ['a'], ['a', 'A', 'nope'], ['%', '_', '\\'], ['🚀', '\ufffd', '\ue000'], [`it's "quoted"; DROP TABLE x; --`, 'a,b', '[x]'], ['', ' '], ['\ud83d']],
  int: [[], [0], [1, 7, 99], [-2147483648, 2147483647], [42, 42], [-0]],
  long: [[], ['0'], ['9007199254740993', '9007199254740992'], ['-9223372036854775808', '9223372036854775807', 42], [1, -1], [9007199254740993n]],
  float: [[], [0], [-0], [NaN], [0.1, 0.3], [Infinity, -Infinity, 1e300], [5e-324, 42]],
  boolean: [],
  timestamp: [[], [ISO(T)], [ISO(T + 1), '2026-11-19T01:05:00.00025Z', '1970-01-01T00:00:00Z'], ['2026-11-19T03:05:00+02:00', new Date(-1)]],
  date: [[], ['2026-11-19'], ['2026-11-05', '0001-01-01', '2025-01-01'], ['9999-12-31', '1969-12-31', '2024-02-29']],
  json: [],
};

const ELEMENT_PROBES: Record<ScalarType, unknown[]> = {
  string: ['gift', 'express', 'bulk', 'a', 'A', '', '%', '🚀', 'café', 'a\\b', 'a,b', '[x]', '"q"', 'x', 'nope', '\ufffd', '\ue000', '\udc00'],
  int: [1, 2, 0, -1, 3, 7, 42, 2147483647, 99],
  long: ['1', '9007199254740993', '9007199254740992', '-1', 42, '0', '-9223372036854775808', '9007199254740994'],
  float: [0, -0, NaN, 1.5, 2.5, Infinity, 0.1, -Infinity],
  boolean: [true, false],
  timestamp: [ISO(T), ISO(T + 1), '2026-11-19T01:05:00.00025Z', '1970-01-01T00:00:00Z', '2026-11-19T03:05:00+02:00', ISO(T + 2)],
  date: ['2026-11-05', '1970-01-01', '9999-12-31', '2026-11-19'],
  json: [],
};

function elementLists(t: ScalarType): unknown[][] {
  const e = ELEMENT_PROBES[t];
  const lists = [[], [e[0]], [e[0], e[1]], [e[1], e[2], e[3]], [e[0], e[0]], [e[e.length - 1]], e.slice(2, 6)];
  // Short element pools (booleans) leave holes; drop those lists and the duplicates they leave.
  return lists.filter((l) => l.every((x) => x !== undefined)).filter((l, i, all) => all.findIndex((m) => show(m) === show(l)) === i);
}

interface Case {
  group: string;
  where: Where;
  /** Also check `{ not: where }` (every leaf is, so that each operator is seen to be two-valued). */
  negate?: boolean;
}

function leafCases(): Case[] {
  const out: Case[] = [];
  for (const f of DS.fields) {
    const group = `${f.list ? `[${f.type}]` : f.type} ${f.name}`;
    // The other string fields (the key, and a name Object.prototype also has) get every operator with fewer values.
    const stride = !f.list && f.type === 'string' && f.name !== 's' ? 7 : 1;
    let seen = 0;
    const add = (group: string, name: string, op: string, value: unknown) => {
      if (seen++ % stride === 0) out.push({ group, where: { [name]: { [op]: value } }, negate: true });
    };
    for (const op of opsFor(f)) {
      const before = out.length;
      seen = 0;
      if (op === 'isNull' || op === 'isEmpty') {
        add(group, f.name, op, true);
        add(group, f.name, op, false);
      } else if (f.list) {
        if (op === 'contains') for (const v of ELEMENT_PROBES[f.type]) add(group, f.name, op, v);
        else for (const v of elementLists(f.type)) add(group, f.name, op, v);
      } else if (op === 'in' || op === 'nin') {
        for (const v of IN_LISTS[f.type]) add(group, f.name, op, v);
      } else if (op === 'like') {
        for (const v of LIKE) add(group, f.name, op, v);
      } else if (op === 'ilike') {
        for (const v of ILIKE) add(group, f.name, op, v);
      } else if (op === 'startsWith' || op === 'contains') {
        for (const v of SUBSTRINGS) add(group, f.name, op, v);
      } else {
        for (const v of SCALAR_PROBES[f.type]) add(group, f.name, op, v);
      }
      assert.ok(out.length > before, `no probe values for ${f.name}.${op}`);
    }
  }
  return out;
}

/** A small deterministic generator (mulberry32), so the random part is the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function combinationCases(leaves: Case[]): Case[] {
  const out: Case[] = [];
  const L = leaves.map((c) => c.where);
  const n = L.length;
  const fixed: Where[] = [
    {}, { and: [] }, { or: [] }, { not: {} }, { not: { and: [] } }, { not: { or: [] } }, { s: {} }, { and: [{}] }, { or: [{}] },
    { and: [{}, { or: [] }] }, { s: { eq: 'a' }, or: [] }, { not: { not: { i: { gt: 3 } } } }, { not: { not: { not: { s: { like: 'a%' } } } } },
    { s: { gte: 'a', lt: 'q', ne: 'ab' } }, { i: { gte: 0, lt: 42 }, f: { gt: 0 } }, { not: { s: { eq: 'paid' }, b: { eq: true } } },
    { not: { s: { isNull: true }, i: { isNull: true } } }, { or: [{ s: { isNull: true } }, { not: { s: { isNull: true } } }] },
    { not: { or: [{ f: { gt: 0 } }, { f: { lte: 0 } }] } }, { not: { f: { eq: NaN } } }, { not: { ss: { contains: 'gift' } } },
    { not: { ss: { isEmpty: false } } }, { not: { ts: { lt: ISO(T) } } }, { not: { constructor: { eq: 'x' } } },
    { and: [{ or: [{ b: { eq: true } }, { f: { gte: 10 } }] }, { not: { s: { in: ['paid', 'a'] } } }] },
    { or: [{ and: [{ i: { lt: 0 } }, { s: { isNull: false } }] }, { not: { or: [{ f: { lt: 1 } }, { s: { isNull: true } }] } }] },
    { and: [{ ts: { gte: ISO(T - 1) } }, { ts: { lte: '2026-11-19T01:05:00.0005Z' } }, { not: { ts: { eq: ISO(T) } } }] },
    { l: { gt: '9007199254740992', lt: '9223372036854775807' } }, { not: { l: { nin: ['42', '-42'] } } },
  ];
  for (const w of fixed) out.push({ group: 'fixed', where: w });
  // Systematic: pairs of leaves (mostly of different fields) under and / or / not-and, and merged into one object.
  for (let i = 0; i < n; i += 5) {
    const j = (i * 7 + 11) % n;
    out.push({ group: 'and', where: { and: [L[i]!, L[j]!] } });
    out.push({ group: 'or', where: { or: [L[i]!, L[j]!] } });
    out.push({ group: 'not-and', where: { not: { and: [L[i]!, { not: L[j]! }] } } });
    const [fi] = Object.keys(L[i]!);
    const [fj] = Object.keys(L[j]!);
    if (fi !== fj) out.push({ group: 'merged', where: { ...L[i]!, ...L[j]! } });
  }
  // Seeded random trees up to depth 4.
  const rnd = prng(4);
  const pick = () => L[Math.floor(rnd() * n)]!;
  const tree = (depth: number): Where => {
    const r = rnd();
    if (depth === 0 || r < 0.3) return pick();
    const kids = Array.from({ length: Math.floor(rnd() * 4) }, () => tree(depth - 1));
    if (r < 0.5) return { and: kids };
    if (r < 0.7) return { or: kids };
    if (r < 0.85) return { not: tree(depth - 1) };
    return { ...pick(), or: kids };
  };
  for (let k = 0; k < 150; k++) out.push({ group: 'random', where: tree(4) });
  return out;
}

const LEAVES = leafCases();
const CASES = [...LEAVES, ...combinationCases(LEAVES)];

/** JSON with bigints, NaN, ±Infinity, -0 and dates made visible (for test names and messages). */
function show(w: unknown): string {
  return JSON.stringify(w, (_k, v) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (Object.is(v, -0)) return '-0';
    return v;
  });
}

// ---------------------------------------------------------------------------------------------------------------

const outcomes = { none: 0, all: 0, some: 0 };

describe('compileWhere agrees with whereToSql over the same rows', () => {
  const groups = new Map<string, Case[]>();
  for (const c of CASES) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  for (const [group, cases] of groups) {
    describe(group, () => {
      for (const c of cases) {
        const label = show(c.where);
        test(label.length > 160 ? `${label.slice(0, 157)}...` : label, async () => {
          for (const where of c.negate ? [c.where, { not: c.where }] : [c.where]) {
            const expected = await sqlIds('t', where);
            const fromParquet = await sqlIds(`read_parquet('${parquet}')`, where);
            assert.deepEqual(fromParquet, expected, 'DuckDB over Parquet and over the table disagree (not a live/ problem)');
            if (where === c.where) outcomes[expected.length === 0 ? 'none' : expected.length === ROW_COUNT ? 'all' : 'some']++;
            assert.deepEqual(liveIds(where), expected, `where ${show(where)}`);
          }
        });
      }
    });
  }
});

test('the cases are not vacuous: most select some rows but not all', () => {
  const total = outcomes.none + outcomes.all + outcomes.some;
  assert.equal(total, CASES.length);
  assert.ok(outcomes.some > total * 0.6, `only ${outcomes.some} of ${total} cases select some but not all rows`);
});

test('lowerCaseAsDuckDB maps every code point as DuckDB lower() does', async () => {
  const r = await engine.query(
    `SELECT CAST(i AS INTEGER) AS cp, unicode(lower(chr(CAST(i AS INTEGER)))) AS lo, length(lower(chr(CAST(i AS INTEGER)))) AS n
     FROM range(0, 1114112) t(i) WHERE (i < 55296 OR i > 57343) AND lower(chr(CAST(i AS INTEGER))) <> chr(CAST(i AS INTEGER))`,
    [],
  );
  const duck = new Map<number, number>();
  for (const row of r.rows) {
    assert.equal(Number(row.n), 1, `DuckDB lowers U+${Number(row.cp).toString(16)} to more than one code point`);
    duck.set(Number(row.cp), Number(row.lo));
  }
  const ours = new Map<number, number>();
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const s = String.fromCodePoint(cp);
    const lo = lowerCaseAsDuckDB(s);
    if (lo !== s) {
      assert.equal([...lo].length, 1, `U+${cp.toString(16)} lowers to ${JSON.stringify(lo)}`);
      ours.set(cp, lo.codePointAt(0)!);
    }
  }
  const diff = [...new Set([...duck.keys(), ...ours.keys()])].filter((cp) => duck.get(cp) !== ours.get(cp));
  assert.deepEqual(diff.map((cp) => `U+${cp.toString(16)}: duckdb ${duck.get(cp)?.toString(16)} ours ${ours.get(cp)?.toString(16)}`), []);
  // Whole strings: no final-sigma rule, İ to a plain i, as DuckDB.
  assert.equal(lowerCaseAsDuckDB('ΟΔΟΣ İSTANBUL'), 'οδοσ istanbul');
});

test('a compiled filter runs over 100k rows and selects the copies of the rows SQL selects', async () => {
  const where: Where = {
    or: [
      { and: [{ s: { ilike: '%a%' } }, { not: { i: { in: [0, 1] } } }] },
      { ts: { gte: '2026-11-19T01:05:00.00025Z' }, l: { gt: '9007199254740992' } },
      { ss: { containsAny: ['gift', '🚀'] }, f: { gte: 0 } },
      { not: { d: { lt: '2026-01-01' } }, s: { like: '_%' } },
    ],
  };
  const copies = Math.ceil(100_000 / ROW_COUNT);
  const big: EventRow[] = [];
  for (let k = 0; k < copies && big.length < 100_000; k++) for (const row of ROWS) if (big.length < 100_000) big.push({ ...row, id: `${row.id}#${k}` });
  const pred = compileWhere(normalizeWhere(DS, where));
  const matched = new Map<string, number>();
  for (const row of big) if (pred(row)) {
    const base = String(row.id).split('#')[0]!;
    matched.set(base, (matched.get(base) ?? 0) + 1);
  }
  const expected = await sqlIds('t', where);
  assert.ok(expected.length > 0 && expected.length < ROW_COUNT);
  assert.deepEqual([...matched.keys()].sort(), expected);
  const total = [...matched.values()].reduce((a, b) => a + b, 0);
  const perBase = (id: string) => { const r = Number(id.slice(1)); return Math.floor(100_000 / ROW_COUNT) + (r < 100_000 % ROW_COUNT ? 1 : 0); };
  assert.equal(total, expected.reduce((a, id) => a + perBase(id), 0));
});

const refused = (e: Error & { code?: string }) => e.code === 'BAD_USER_INPUT';

test('filter values SQL cannot cast are refused when the filter is compiled', async () => {
  const bad: Where[] = [
    { i: { eq: 'x' } }, { i: { gt: 2147483648 } }, { l: { lt: '9223372036854775808' } }, { l: { eq: 'x1' } }, { ts: { gte: 'yesterday' } },
    { ts: { lt: '2026-11-19T01:05Z' } }, { ts: { lt: '2026-11-19T01:05:00z' } }, { ts: { lt: '2026-11-19T23:59:60Z' } }, { ts: { in: ['2026-13-01'] } },
    { d: { eq: '2026-02-30' } }, { d: { gt: 'today' } }, { f: { lt: 'abc' } }, { b: { eq: 'maybe' } }, { b: { ne: ' true' } }, { fs: { contains: 'x' } },
  ];
  for (const where of bad) {
    await assert.rejects(sqlIds('t', where), refused, `SQL accepts ${show(where)}`);
    assert.throws(() => compileWhere(normalizeWhere(DS, where)), refused, show(where));
  }
});

test('text forms only the lenient DuckDB casts read (never sent by the GraphQL scalars) are refused, not guessed at', async () => {
  const lenient: Where[] = [
    { l: { gt: '1.5' } }, { i: { eq: '1e3' } }, { l: { eq: '0x10' } }, { ts: { gte: '2026-11-19T24:00:00Z' } }, { ts: { gte: '2026-11-19T01:05' } },
    { ts: { gte: '2026-11-19T01:05:00 UTC' } }, { d: { eq: '2026-1-5' } }, { b: { eq: 'yes' } },
  ];
  for (const where of lenient) {
    await sqlIds('t', where); // SQL reads it...
    assert.throws(() => compileWhere(normalizeWhere(DS, where)), refused, show(where)); // ...the live filter refuses it.
  }
});
