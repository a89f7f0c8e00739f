// Record decoding: coercions accepted, errors named by field; ISO timestamps parsed to the same instant DuckDB reads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../../config';
import { createDecoder, parseTimestampMicros } from '../../ingestion';
import { createDocEncoder, createObjectDecoder } from '../../ingestion/decode';
import { TEST_CONFIG } from '../helpers/lake-fixture';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lakegate-decode-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'lakegate.yaml'), TEST_CONFIG(path.join(dir, 'lake')));
const ds = loadConfig(path.join(dir, 'lakegate.yaml')).datasetMap.get('orders')!;
const decode = createDecoder(ds);
const base = { id: 'a', customerId: 'c', amount: 1.5, createdAt: '2026-11-21T10:00:00Z' };
const idx = (name: string) => ds.fields.findIndex((f) => f.name === name);
const run = (doc: unknown) => decode(Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)));

test('coercions: numeric strings, boolean strings, digit-string longs, epoch-ms timestamps, dates, JSON kept as text', () => {
  const r = run({ ...base, amount: '2.25', quantity: '7', total: '9007199254740993', paid: 'true', shipDate: '2026-02-28', createdAt: 1795000000123, attributes: { a: [1, { b: null }] }, tags: ['x'], scores: ['3', 4] });
  assert.ok(r.ok, r.ok ? "" : r.error);
  const v = r.row.values;
  assert.equal(v[idx('amount')], 2.25);
  assert.equal(v[idx('quantity')], 7);
  assert.equal(v[idx('total')], 9007199254740993n);
  assert.equal(v[idx('paid')], true);
  assert.equal(v[idx('shipDate')], Date.UTC(2026, 1, 28) / 86_400_000);
  assert.equal(v[idx('createdAt')], 1795000000123000);
  assert.equal(v[idx('attributes')], '{"a":[1,{"b":null}]}');
  assert.deepEqual(v[idx('scores')], [3, 4]);
  assert.equal(r.row.eventTimeMs, 1795000000123);
  // Unknown keys are ignored; absent optional fields are null.
  const r2 = run({ ...base, extra: 1 });
  assert.ok(r2.ok);
  assert.equal(r2.row.values[idx('quantity')], null);
});

test('errors name the field and the problem; nothing is guessed', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['{"id": ', /invalid JSON/],
    ['"just a string"', /expected a JSON object/],
    ['null', /expected a JSON object/],
    [{ ...base, id: null }, /field "id" is required/],
    [{ customerId: 'c', amount: 1, createdAt: base.createdAt }, /field "id" is required/],
    [{ ...base, id: 5 }, /field "id": expected a string/],
    [{ ...base, amount: 'abc' }, /field "amount": expected a number/],
    [{ ...base, quantity: 1.5 }, /field "quantity": expected a 32-bit integer/],
    [{ ...base, quantity: 2 ** 31 }, /field "quantity"/],
    [{ ...base, total: 2 ** 60 }, /field "total": a long beyond ±2\^53 must be sent as a string/],
    [{ ...base, total: '9223372036854775808' }, /field "total": expected a 64-bit integer/],
    [{ ...base, paid: 'yes' }, /field "paid": expected a boolean/],
    [{ ...base, createdAt: '2026-02-30T00:00:00Z' }, /field "createdAt"/],
    [{ ...base, createdAt: 'yesterday' }, /field "createdAt"/],
    [{ ...base, shipDate: '2026-13-01' }, /field "shipDate"/],
    [{ ...base, tags: 'x' }, /field "tags": expected a list/],
    [{ ...base, tags: ['x', null] }, /field "tags": element 1 is null/],
    [{ ...base, scores: [1, 'x'] }, /field "scores": element 1/],
  ];
  for (const [doc, why] of cases) {
    const r = run(doc);
    assert.equal(r.ok, false, JSON.stringify(doc));
    assert.match((r as { error: string }).error, why, JSON.stringify(doc));
  }
  assert.match((decode(null) as { error: string }).error, /tombstone/);
});

test('ISO-8601 timestamps decode to the instant DuckDB reads from the same text', async () => {
  const texts = [
    '2026-11-21T10:00:00Z', '2026-11-21T10:00:00.5Z', '2026-11-21T10:00:00.123456Z', '2026-11-21T10:00:00.1234567Z',
    '2026-11-21 10:00:00', '2026-11-21T10:00', '2026-11-21T23:59:59+05:30', '2026-11-21T00:00:00-08:00',
    '2024-02-29T12:00:00Z', '1970-01-01T00:00:00Z', '1969-12-31T23:59:59.999Z', '2026-11-21T10:00:00+0100',
  ];
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`SET TimeZone = 'UTC'`);
    for (const s of texts) {
      const got = parseTimestampMicros(s);
      const [row] = (await c.runAndReadAll(`SELECT CAST(epoch_us(CAST($1 AS TIMESTAMPTZ)) AS VARCHAR) AS us`, [s])).getRowObjectsJson();
      assert.equal(String(got), String(row!.us), s);
    }
  } finally {
    c.closeSync();
    db.closeSync();
  }
});

test('years 0–99 are those years (not 19xx), and JSON with an unpaired surrogate is refused (DuckDB could never store it)', async () => {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (const text of ['0050-03-01T10:00:00Z', '0001-01-01T00:00:00.5Z', '0099-12-31T23:59:59+01:00']) {
    const r = await conn.runAndReadAll(`SELECT epoch_us(CAST($1 AS TIMESTAMPTZ))::VARCHAR AS us`, [text]);
    assert.equal(String(parseTimestampMicros(text)), String(r.getRowObjectsJson()[0]!.us), text);
  }
  conn.closeSync();
  const ds = loadConfig(path.join(__dirname, '..', '..', '..', 'lakegate.yaml'), { env: {} }).datasetMap.get('orders')!;
  const decode = createDecoder(ds);
  const base = { id: 'a', customerId: 'c', amount: 1, createdAt: '2026-01-01T00:00:00Z' };
  const bad = decode(Buffer.from(JSON.stringify({ ...base, attributes: { s: '\ud800' } })));
  assert.equal(bad.ok, false);
  assert.match((bad as { error: string }).error, /attributes.*unpaired/);
  const good = decode(Buffer.from(JSON.stringify({ ...base, attributes: { s: '\ud83d\ude00', t: '\\ud800 is text' } })));
  assert.equal(good.ok, true);
});

test("publish's encoder (createDocEncoder): the full decoder's verdict and message, and JSON.stringify's text, on json values with and without escapes", () => {
  const encode = createDocEncoder(ds);
  const full = createObjectDecoder(ds);
  // json values: plain, with escapes that are well-formed (control characters, a literal backslash-u, quotes), with
  // surrogate pairs, and with unpaired surrogates in strings and in keys; with other fields valid or not.
  const jsons: unknown[] = [
    { a: 1 },
    [1, 'two', { three: [null, true] }],
    'text',
    42,
    { ctl: 'a\u0001b\tc\n' },
    { lit: 'C:\\users\\u1' },
    { pair: '😀 𝄞' },
    { lone: 'x\ud800y' },
    { ['k\udc00']: 1 },
    ['ok', ['\udbff']],
    { deep: { er: { still: 'ok\u001f' } } },
  ];
  const others: Array<Record<string, unknown>> = [{}, { amount: 'abc' }, { note: 'lone \ud800 in a string field' }, { createdAt: 'yesterday' }, { tags: ['a', null] }, { quantity: 2 ** 31 }];
  let accepted = 0;
  let refused = 0;
  for (const j of jsons) {
    for (const o of others) {
      for (const withJson of [true, false]) {
        const doc: Record<string, unknown> = { ...base, ...o, ...(withJson ? { attributes: j } : {}) };
        const want = full(doc);
        const got = encode(doc);
        if (want.ok) {
          assert.deepEqual(got, { ok: true, text: JSON.stringify(doc) }, JSON.stringify(doc));
          accepted++;
        } else {
          assert.deepEqual(got, { ok: false, error: want.error }, JSON.stringify(doc));
          refused++;
        }
      }
    }
  }
  // Both verdicts were reached, and the surrogate refusal among them.
  assert.ok(accepted >= 10 && refused >= 50, `${accepted} accepted, ${refused} refused`);
  const lone = encode({ ...base, attributes: { lone: 'x\ud800y' } });
  assert.deepEqual(lone, { ok: false, error: 'field "attributes": JSON with an unpaired UTF-16 surrogate in a string' });
});

test('the common ISO shape (…THH:MM:SS[.f]Z) is read by calendar arithmetic: every day of years 0–9999 gives the instant Date gives, and only real days pass', () => {
  const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  // The answer from Date, independent of the decoder's arithmetic (years 0–99 set as themselves, not read as 19xx).
  const dateMs = (y: number, m: number, d: number, h: number, mi: number, s: number) => {
    const t = new Date(Date.UTC(2000, m - 1, d, h, mi, s));
    t.setUTCFullYear(y, m - 1, d);
    return t.getTime();
  };
  let checked = 0;
  for (let y = 0; y <= 9999; y++) {
    const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    for (let m = 1; m <= 12; m++) {
      const last = DAYS[m - 1]! + (m === 2 && leap ? 1 : 0);
      // Every day of a few years (leap rules at centuries included), the first and last days of every month otherwise.
      const every = y % 97 === 0 || y <= 4 || y === 1900 || y === 2000 || y === 2100 || y === 9999;
      for (let d = 1; d <= last; d += every ? 1 : last - 1) {
        const h = (y + d) % 24;
        const mi = (m * 7 + d) % 60;
        const s = (y + m + d) % 60;
        const us = (y * 7919 + m * 104_729 + d) % 1_000_000;
        const day = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
        const ms = dateMs(y, m, d, h, mi, s);
        assert.equal(parseTimestampMicros(`${day}Z`), ms * 1000, `${day}Z`);
        assert.equal(parseTimestampMicros(`${day}.${pad(us, 6)}Z`), ms * 1000 + us, `${day}.${pad(us, 6)}Z`);
        assert.equal(parseTimestampMicros(`${day}.${pad(us, 6)}999Z`), ms * 1000 + us, 'nanoseconds are cut to microseconds');
        checked++;
      }
      // The day after the month's last is no date (Feb 29 of a common year, Apr 31…); the fast path must not accept it.
      if (last < 31) assert.equal(parseTimestampMicros(`${pad(y, 4)}-${pad(m, 2)}-${pad(last + 1, 2)}T00:00:00Z`), null, `${y}-${m}-${last + 1}`);
    }
  }
  assert.ok(checked > 250_000, `${checked} days checked`);
  for (const bad of ['2026-11-21T24:00:00Z', '2026-11-21T23:60:00Z', '2026-11-21T23:59:60Z', '2026-00-10T00:00:00Z', '2026-13-10T00:00:00Z', '2026-11-00T00:00:00Z']) {
    assert.equal(parseTimestampMicros(bad), null, bad);
  }
});
