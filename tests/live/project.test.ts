// The subscription fast path (live/project.ts) against graphql-js: for every compiled selection and many decoded events
// (nulls, lists, JSON, longs, timestamps with microseconds, awkward text) the projection's JSON must be byte-identical
// to execute + JSON.stringify({data}); where execute reports an error the projection must decline (null); selections
// with aliases, fragments, directives, __typename or relations must not compile (they keep graphql execute).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ExecutionResult, execute, parse } from 'graphql';
import { parseConfig } from '../../config';
import { compileProjection, createEventDecoder } from '../../live';
import { buildGatewaySchema } from '../../schema';
import { orderEvent } from '../helpers/kafka-fixture';
import { TEST_CONFIG } from '../helpers/lake-fixture';

const FAST = [
  `subscription { orders { id } }`,
  `subscription Mine($c: String!) { orders(where: { customerId: { eq: $c } }) { id customerId amount status note createdAt } }`,
  `subscription { orders { id customerId amount quantity total paid status note shipDate createdAt tags scores attributes } }`,
  `subscription { orders { attributes tags _meta { partition offset } scores total } }`,
  `subscription { orders { _meta { topic partition offset timestamp key cursor } id } }`,
  `subscription($w: OrderWhere) { orders(where: $w) { id quantity _meta { cursor key } } }`,
  `subscription A { orders { id } } subscription B { orders { amount } }`,
];

const SLOW = [
  `subscription { orders { i: id } }`,
  `subscription { o: orders { id } }`,
  `subscription { orders { id id } }`,
  `subscription { orders { ...F } } fragment F on Order { id }`,
  `subscription { orders { ... on Order { id } } }`,
  `subscription { orders { id @include(if: true) } }`,
  `subscription { orders { id __typename } }`,
  `subscription { orders { id customer { name } } }`,
  `subscription { orders { _meta { p: partition } } }`,
  `subscription { orders { _meta { partition partition } } }`,
];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TEXTS = ['', 'plain', 'quote " and \\ backslash', 'line\nbreak\ttab', 'ünïcödé', '\u2028\u2029', '😀 emoji', '\u0001ctl', '</script>'];

function variant(i: number, r: () => number): Record<string, unknown> {
  const e: Record<string, unknown> = orderEvent(i);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  for (const f of ['quantity', 'total', 'paid', 'status', 'note', 'shipDate', 'tags', 'scores', 'attributes']) {
    const u = r();
    if (u < 0.15) e[f] = null;
    else if (u < 0.25) delete e[f];
  }
  if (r() < 0.5) e.note = pick(TEXTS);
  if (r() < 0.3) e.status = pick(TEXTS);
  if (r() < 0.3) e.id = `o-${i}-${pick(TEXTS)}`;
  if (r() < 0.3) e.total = pick(['9223372036854775807', '-9223372036854775808', '0', '-1', '12345678901234567']);
  if (r() < 0.3) e.amount = pick([0, -0, 1e-7, 1e21, -3.5, 123456789.125, 0.1 + 0.2]);
  if (r() < 0.3) e.quantity = pick([0, -1, 2147483647, -2147483648]);
  if (r() < 0.3) e.createdAt = pick(['2026-11-21T00:00:00.123456Z', '2026-11-21T10:11:12.5Z', '1970-01-01T00:00:00Z', '2026-02-28T23:59:59.999999Z', '1969-12-31T23:59:59.000001Z']);
  if (r() < 0.3) e.shipDate = pick(['2026-11-21', '1970-01-01', '1969-12-31', '2000-02-29']);
  if (r() < 0.3) e.tags = pick([[], [''], TEXTS, ['a', 'b', 'c']]);
  if (r() < 0.3) e.scores = pick([[], [0], [2147483647, -2147483648, 7]]);
  if (r() < 0.4) e.attributes = pick([{}, [], 'text', 3.25, true, { a: [1, { b: null }], 'k"ey': '\u2028' }, { big: 1e21, neg: -0 }, [null, 'x']]);
  return e;
}

test('compiled projection = graphql execute + JSON.stringify, byte for byte', async () => {
  const catalog = parseConfig(TEST_CONFIG('/nonexistent-lake'), '/nonexistent-lake/lakegate.yaml', { env: {} });
  const schema = await buildGatewaySchema(catalog);
  const ds = catalog.datasetMap.get('orders')!;
  const decode = createEventDecoder(ds);
  const r = rng(42);
  const events = [];
  for (let i = 0; events.length < 1500 && i < 5000; i++) {
    const value = Buffer.from(JSON.stringify(variant(i, r)));
    const key = r() < 0.2 ? null : Buffer.from(`k-${i}-${TEXTS[i % TEXTS.length]}`);
    const ev = decode('orders', i % 4, { key, value, offset: String(1000 + i), timestamp: String(Date.parse('2026-11-21T00:00:00Z') + i * 1001) } as never);
    if (ev.row !== null) events.push(ev);
  }
  assert.ok(events.length >= 1000, `decoded ${events.length} events`);
  // Rows execute refuses (a null in a non-null field, a non-list in a list field, a value a scalar cannot serialize):
  // the projection must decline them rather than answer anything.
  const base = events[0]!.row!;
  const broken = [
    { ...base, id: null },
    { ...base, amount: undefined },
    { ...base, tags: 'not a list' },
    { ...base, tags: ['a', null] },
    { ...base, quantity: 'x' },
    { ...base, quantity: 2 ** 40 },
    { ...base, createdAt: {} },
  ];

  let compared = 0;
  let declined = 0;
  for (const text of FAST) {
    const document = parse(text);
    const opNames = text.includes('subscription A') ? ['A', 'B'] : [undefined];
    for (const operationName of opNames) {
      const project = compileProjection(schema, document, operationName);
      assert.ok(project, `compiles: ${text}`);
      const rows: Array<{ row: Record<string, unknown>; meta: Record<string, unknown> }> = [
        ...events.map((ev, n) => ({ row: ev.row!, meta: { topic: ev.topic, partition: ev.partition, offset: ev.offset.toString(), timestamp: ev.timestamp, key: ev.key, cursor: `cur-${n}` } })),
        ...broken.map((row) => ({ row: row as Record<string, unknown>, meta: { topic: 'orders', partition: 1, offset: '7', timestamp: '2026-11-21T00:00:00.000Z', key: null, cursor: 'c' } })),
        { row: base, meta: { topic: 'orders', partition: 'x', offset: '7', timestamp: '2026-11-21T00:00:00.000Z', key: null, cursor: 'c' } },
      ];
      for (const { row, meta } of rows) {
        const res = execute({ schema, document, operationName, rootValue: { ...row, _meta: meta }, contextValue: {}, variableValues: { c: 'c-1', w: null } }) as ExecutionResult;
        assert.ok(!(res instanceof Promise), 'synchronous execution');
        const expected = res.errors?.length ? null : JSON.stringify({ data: res.data });
        const actual: string | null = project(row, project.needsMeta ? meta : null);
        assert.equal(actual, expected, `${text} on ${JSON.stringify(row)}`);
        if (expected === null) declined++;
        else compared++;
      }
    }
  }
  assert.ok(compared > 9000 && declined >= broken.length, `compared ${compared}, declined ${declined}`);
});

test('selections graphql must execute do not compile', async () => {
  const catalog = parseConfig(TEST_CONFIG('/nonexistent-lake'), '/nonexistent-lake/lakegate.yaml', { env: {} });
  const schema = await buildGatewaySchema(catalog);
  for (const text of SLOW) assert.equal(compileProjection(schema, parse(text), undefined), null, text);
});
