// A live event's json field (live/event.ts): taken as the parsed value when the record's text has no `\u` escape,
// through the decoder's text otherwise. Whatever the path, the event must be delivered exactly when the lake accepts
// the record, and a subscriber must get for the json field the very JSON the lake stores (the ingestion decoder's
// canonical text, the independent answer here), with `null` exactly where the lake has none or JSON null.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../config';
import { createTextDecoder } from '../../ingestion/decode';
import { createEventDecoder } from '../../live';
import { orderEvent } from '../helpers/kafka-fixture';
import { TEST_CONFIG } from '../helpers/lake-fixture';

/** json values written as JSON text (not JSON.stringify of a JS value: `1e400`, `-0` and escapes are kept as written). */
const JSON_TEXTS = [
  'null',
  '{"n":1,"nested":{"ok":true}}',
  '[]',
  '{}',
  '[1,"two",{"three":[3]},null,true]',
  '"plain"',
  '"ünïcödé ✓ 𝄞"',
  '0',
  '-0',
  '[-0,{"z":-0}]',
  '1e400',
  '-1e400',
  '{"big":1e400,"list":[-1e400,1]}',
  '1e-400',
  '12345678901234567890',
  '3.14159',
  'true',
  'false',
  '{"__proto__":{"polluted":1},"constructor":2}',
  '{"a":1,"a":2}',
  '"tab\\tnew\\nline"',
  '"\\u00e9 escaped"',
  '"\\ud834\\udd1e pair"',
  '"\\ud834 lone high"',
  '"lone low \\udd1e"',
  '{"\\ud800":1}',
  '"control \\u0001"',
  '{"deep":[[[[[[[[[[1]]]]]]]]]]}',
];

test('a live event carries the json the lake stores, and exists exactly when the lake accepts the record', () => {
  const catalog = parseConfig(TEST_CONFIG('/nonexistent-lake'), '/nonexistent-lake/lakegate.yaml', { env: {} });
  const ds = catalog.datasetMap.get('orders')!;
  const jsonIdx = ds.fields.findIndex((f) => f.name === 'attributes');
  assert.equal(ds.fields[jsonIdx]!.type, 'json');
  const lake = createTextDecoder(ds);
  const live = createEventDecoder(ds);
  let accepted = 0;
  let refused = 0;
  let escaped = 0;
  for (let i = 0; i < JSON_TEXTS.length * 3; i++) {
    const { attributes: _, ...rest } = orderEvent(i);
    // Variant 0: only the json value may hold a \u escape; 1: another field holds one too (the whole record takes the
    // decoder's text path); 2: the json field is absent when the text is `null` (the field left out).
    if (i % 3 === 1) rest.status = 'caf\u00e9';
    const body = JSON.stringify(rest).slice(0, -1);
    const other = i % 3 === 1 ? body.replace('"status":"café"', '"status":"caf\\u00e9"') : body;
    const jt = JSON_TEXTS[Math.floor(i / 3)]!;
    const text = i % 3 === 2 && jt === 'null' ? `${other}}` : `${other},"attributes":${jt}}`;
    if (text.includes('\\u')) escaped++;
    const verdict = lake(text);
    const ev = live('orders', 0, { key: null, value: Buffer.from(text), offset: String(i), timestamp: '0' } as never);
    assert.equal(ev.row !== null, verdict.ok, `verdict for ${text}`);
    if (!verdict.ok) {
      refused++;
      continue;
    }
    accepted++;
    const stored = verdict.row.values[jsonIdx] as string | null;
    const got = ev.row!.attributes;
    if (stored === null || stored === 'null') assert.equal(got, null, `null for ${jt}`);
    else assert.equal(JSON.stringify(got), stored, `json for ${jt}`);
    // The other fields are those of the same record through the decoder's text (the status with or without escape).
    assert.equal(ev.row!.status, i % 3 === 1 ? 'café' : rest.status);
  }
  // Every branch was taken: accepted and refused records, texts with and without a \u escape.
  assert.ok(accepted > 50 && refused >= 9 && escaped > 30 && escaped < JSON_TEXTS.length * 3, `${accepted} accepted, ${refused} refused, ${escaped} escaped`);
});
