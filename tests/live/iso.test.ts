// live/event.ts' microsToIso (every live timestamp is rendered by it) against an independent rendering: the epoch
// microseconds split with BigInt, the date and time from Date#toISOString, the lake's fraction rule (the microsecond
// digits appended, trailing zeros trimmed, never fewer than the three millisecond digits). Exact within JavaScript's
// safe integers (microseconds of years 1685–2255); beyond them a double holds no exact microsecond, and the rendering
// must stay what it was before stop 18 (`before`, that code as it was).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { microsToIso } from '../../live/event';

function reference(us: number): string {
  const b = BigInt(us);
  const msB = b >= 0n ? b / 1000n : -((-b + 999n) / 1000n); // floor
  const iso = new Date(Number(msB)).toISOString();
  const digits = iso.slice(-4, -1) + String(Number(b - msB * 1000n)).padStart(3, '0');
  const trimmed = digits.replace(/0+$/, '');
  return `${iso.slice(0, -4)}${trimmed.length < 3 ? digits.slice(0, 3) : trimmed}Z`;
}

/** live/event.ts' microsToIso as it was before stop 18. */
function before(us: number): string {
  const ms = Math.floor(us / 1000);
  const micro = us - ms * 1000;
  const iso = new Date(ms).toISOString();
  if (micro === 0) return iso;
  const frac = (iso.slice(20, 23) + String(micro).padStart(3, '0')).replace(/0+$/, '');
  return `${iso.slice(0, 20)}${frac}Z`;
}

const DAY_US = 86_400_000_000;
const MIN = -Number.MAX_SAFE_INTEGER;
const MAX = Number.MAX_SAFE_INTEGER;

test('microsToIso: the same text as an independent rendering, on boundaries and at random', () => {
  const cases: number[] = [0, 1, -1, 999, 1000, 1001, -999, -1000, -1001, 100, 10, 120, 123_000, 86_399_999_999, MIN, MAX];
  for (let d = -3; d <= 3; d++) for (const e of [-1001, -1000, -1, 0, 1, 999, 1000]) cases.push(d * DAY_US + e);
  for (const y of [1686, 1899, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 2254]) {
    const day = Date.UTC(y, 0, 1) * 1000;
    cases.push(day, day - 1, day + 1, day + 123_456, day - 123_456);
  }
  // Random: whole range; and runs within one day (the memo), alternating days (its invalidation).
  let seed = 42;
  const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 20_000; i++) cases.push(Math.floor(MIN + rnd() * (MAX - MIN)));
  const base = Date.UTC(2026, 10, 21) * 1000;
  for (let i = 0; i < 5_000; i++) cases.push(base + Math.floor(rnd() * DAY_US), base - DAY_US + Math.floor(rnd() * DAY_US));
  for (const frac of [0, 1, 10, 100, 110, 500, 999]) for (const milli of [0, 1, 10, 100, 999]) cases.push(base + 3_723_000_000 + milli * 1000 + frac);
  let checked = 0;
  for (const us of cases) {
    assert.equal(microsToIso(us), reference(us), `microsToIso(${us})`);
    checked++;
  }
  assert.equal(checked, cases.length);
});

test('microsToIso: beyond safe integers (to years 0000 and 9999 and past them) as before stop 18; NaN is refused as before', () => {
  const cases = [MAX + 1, MAX * 3, -MAX * 3];
  for (const y of [0, 1, 999, 1000, 1600, 2300, 9999, 10000, 275759]) cases.push(Date.UTC(y, 0, 1) * 1000, Date.UTC(y, 6, 1, 13, 14, 15, 167) * 1000 + 2048);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 5_000; i++) cases.push(Math.floor(Date.UTC(0, 0, 1) * 1000 + rnd() * (Date.UTC(10000, 0, 1) - Date.UTC(0, 0, 1)) * 1000));
  for (const us of cases) {
    if (Math.abs(us) <= MAX) assert.equal(microsToIso(us), reference(us), `microsToIso(${us})`);
    else if (new Date(Math.floor(us / 1000)).toISOString().length === 24) assert.equal(microsToIso(us), before(us), `microsToIso(${us})`);
    else {
      // ±YYYYYY years: the old code's slicing assumed 4-digit years (it cut the fraction out of the seconds); the
      // double's milliseconds and microseconds as before, placed after the seconds.
      const ms = Math.floor(us / 1000);
      const iso = new Date(ms).toISOString();
      const digits = iso.slice(-4, -1) + String(us - ms * 1000).padStart(3, '0');
      const trimmed = digits.replace(/0+$/, '');
      assert.equal(microsToIso(us), `${iso.slice(0, -4)}${trimmed.length < 3 ? digits.slice(0, 3) : trimmed}Z`, `microsToIso(${us}), a ±YYYYYY year`);
    }
  }
  assert.throws(() => microsToIso(Number.NaN), RangeError);
});
