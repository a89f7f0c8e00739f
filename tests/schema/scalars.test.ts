// schema/scalars.ts: DateTime's shortcut for strings already in normalized UTC form gives what the pattern path gives,
// value or error, over valid and invalid instants near every boundary of that form.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDateTime, parseDateTimeByPattern } from '../../schema/scalars';

const outcome = (f: (v: unknown) => string, v: unknown) => {
  try {
    return { value: f(v) };
  } catch (e) {
    return { error: (e as Error).message, code: (e as { extensions?: { code?: string } }).extensions?.code };
  }
};

test('DateTime: the normalized-UTC shortcut agrees with the pattern path on every case', () => {
  const years = ['0999', '1000', '1900', '1970', '2000', '2024', '2026', '2100', '9999', '20a6'];
  const months = ['00', '01', '02', '04', '06', '09', '11', '12', '13', '1x'];
  const days = ['00', '01', '28', '29', '30', '31', '32'];
  const times = ['00:00:00', '23:59:59', '24:00:00', '12:60:00', '12:00:60', '1:00:00', '12:00'];
  const fractions = ['', '.', '.1', '.123', '.123456', '.1234567', '.12a'];
  const zones = ['Z', 'z', '', '+00:00', '+0530'];
  let cases = 0;
  let accepted = 0;
  for (const y of years)
    for (const mo of months)
      for (const d of days)
        for (const t of times)
          for (const f of fractions)
            for (const z of zones)
              for (const sep of ['T', 't', ' ', '_']) {
                const s = `${y}-${mo}-${d}${sep}${t}${f}${z}`;
                const want = outcome(parseDateTimeByPattern, s);
                assert.deepStrictEqual(outcome(parseDateTime, s), want, s);
                cases++;
                if ('value' in want) accepted++;
              }
  for (const v of [null, 5, '', 'Z', '2026-11-21T13:00:00.000Z ', ' 2026-11-21T13:00:00Z', '2026/11/21T13:00:00Z']) {
    assert.deepStrictEqual(outcome(parseDateTime, v), outcome(parseDateTimeByPattern, v), String(v));
  }
  assert.ok(accepted > 10_000 && accepted < cases, `${accepted} of ${cases} accepted`);
});
