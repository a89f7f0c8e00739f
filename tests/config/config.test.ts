// lakegate.yaml → Catalog: the example config loads; every bad config is refused with the file, the exact dotted path
// and what is wrong; environment overrides; defaults.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { ConfigError, loadConfig, parseConfig, type Catalog } from '../../config';

const EXAMPLE = path.resolve(__dirname, '../../../lakegate.yaml');
const FILE = '/srv/lakegate/conf/lakegate.yaml';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lakegate-config-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Obj = Record<string, any>;

function base(): Obj {
  return {
    lake: { path: './lake' },
    kafka: { brokers: ['127.0.0.1:9092'] },
    server: { port: 4000 },
    datasets: {
      orders: {
        typeName: 'Order',
        key: 'id',
        eventTime: 'createdAt',
        partitionBy: 'day',
        fields: {
          id: { type: 'string', required: true },
          customerId: { type: 'string', required: true },
          amount: { type: 'float' },
          quantity: { type: 'int' },
          createdAt: { type: 'timestamp', required: true },
          tags: { type: '[string]' },
        },
        relations: { customer: { dataset: 'customers', on: { customerId: 'id' } } },
      },
      customers: {
        key: 'id',
        fields: { id: { type: 'string', required: true }, name: { type: 'string' } },
      },
    },
  };
}

function yamlOf(mutate: (c: Obj) => void = () => {}): string {
  const c = base();
  mutate(c);
  return stringify(c);
}

function parseWith(mutate: (c: Obj) => void = () => {}, env: NodeJS.ProcessEnv = {}): Catalog {
  return parseConfig(yamlOf(mutate), FILE, { env });
}

/** The config must be refused with a ConfigError having a line `<file>: <path>: <description>`. */
function assertRefused(fn: () => unknown, file: string, dotted: string, description: RegExp, what = dotted): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `${what}: expected a ConfigError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  const lines = caught.message.split('\n');
  const prefix = dotted ? `${file}: ${dotted}: ` : `${file}: `;
  const line = lines.find((l) => l.startsWith(prefix) && description.test(l.slice(prefix.length)));
  assert.ok(line, `${what}: no line "${prefix}…" matching ${description} in:\n${caught.message}`);
  assert.ok(caught.problems.some((p) => p.path === dotted), `${what}: problems ${JSON.stringify(caught.problems)}`);
  return caught;
}

test('the example lakegate.yaml loads and matches its own YAML', () => {
  const c = loadConfig(EXAMPLE, { env: {} });
  const raw = parse(require('node:fs').readFileSync(EXAMPLE, 'utf8')) as Obj;
  assert.equal(c.file, EXAMPLE);
  assert.equal(c.lake.path, path.resolve(path.dirname(EXAMPLE), raw.lake.path));
  assert.deepEqual([...c.kafka.brokers], raw.kafka.brokers);
  assert.equal(c.server.port, raw.server.port);
  assert.deepEqual(c.datasets.map((d) => d.name), Object.keys(raw.datasets));
  for (const ds of c.datasets) {
    const r = raw.datasets[ds.name];
    assert.equal(ds.typeName, r.typeName);
    assert.equal(ds.topic, r.topic ?? ds.name);
    assert.equal(ds.key, r.key);
    assert.equal(ds.eventTime, r.eventTime);
    assert.equal(ds.partitionBy, r.partitionBy);
    assert.deepEqual(ds.fields.map((f) => f.name), Object.keys(r.fields));
    for (const f of ds.fields) {
      assert.equal(f.list ? `[${f.type}]` : f.type, r.fields[f.name].type, `${ds.name}.${f.name}`);
      assert.equal(f.required, r.fields[f.name].required ?? false);
    }
    assert.deepEqual(ds.relations.map((x) => ({ name: x.name, dataset: x.dataset, on: Object.fromEntries(x.on) })), Object.entries(r.relations ?? {}).map(([name, x]: [string, any]) => ({ name, dataset: x.dataset, on: x.on })));
    assert.equal(c.datasetMap.get(ds.name), ds);
    assert.equal(ds.fieldMap.size, ds.fields.length);
  }
  for (const [k, v] of Object.entries(raw.server.limits)) assert.equal((c.server.limits as unknown as Obj)[k], v, `limits.${k}`);
});

test('the base config of these tests is valid (so each refusal below is caused by its one change)', () => {
  const c = parseWith();
  assert.deepEqual(c.datasets.map((d) => d.name), ['orders', 'customers']);
});

const BAD: Array<[string, (c: Obj) => void, string, RegExp]> = [
  ['unknown field type', (c) => (c.datasets.orders.fields.amount.type = 'decimal'), 'datasets.orders.fields.amount.type', /must be one of string, int/],
  ['unknown list type', (c) => (c.datasets.orders.fields.tags.type = '[decimal]'), 'datasets.orders.fields.tags.type', /must be one of/],
  ['unclosed list type', (c) => (c.datasets.orders.fields.tags.type = '[string'), 'datasets.orders.fields.tags.type', /must be one of/],
  ['list of json', (c) => (c.datasets.orders.fields.tags.type = '[json]'), 'datasets.orders.fields.tags.type', /lists of json are not supported/],
  ['unknown key in a dataset', (c) => (c.datasets.orders.colour = 'red'), 'datasets.orders', /unknown key "colour"/],
  ['unknown key in a field', (c) => (c.datasets.orders.fields.amount.nullable = true), 'datasets.orders.fields.amount', /unknown key "nullable"/],
  ['unknown key in limits', (c) => (c.server.limits = { maxRows: 5 }), 'server.limits', /unknown key "maxRows"/],
  ['unknown top-level key', (c) => (c.datasource = {}), '', /unknown key "datasource"/],
  ['typeName not a GraphQL name', (c) => (c.datasets.orders.typeName = 'My-Order'), 'datasets.orders.typeName', /not a valid GraphQL name/],
  ['typeName starting with __', (c) => (c.datasets.orders.typeName = '__Order'), 'datasets.orders.typeName', /reserved/],
  ['eventTime not a timestamp', (c) => (c.datasets.orders.eventTime = 'amount'), 'datasets.orders.eventTime', /"amount" must be a timestamp field/],
  ['eventTime a list', (c) => (c.datasets.orders.fields.createdAt.type = '[timestamp]'), 'datasets.orders.eventTime', /must be a timestamp field/],
  ['eventTime not a field', (c) => (c.datasets.orders.eventTime = 'nope'), 'datasets.orders.eventTime', /"nope" is not a field/],
  ['key not a field', (c) => (c.datasets.orders.key = 'nope'), 'datasets.orders.key', /"nope" is not a field of the dataset/],
  ['key a list', (c) => (c.datasets.orders.key = 'tags'), 'datasets.orders.key', /must be a scalar field/],
  ['relation to an unknown dataset', (c) => (c.datasets.orders.relations.customer.dataset = 'clients'), 'datasets.orders.relations.customer.dataset', /unknown dataset "clients"/],
  ['relation fields of different types', (c) => (c.datasets.orders.relations.customer.on = { quantity: 'id' }), 'datasets.orders.relations.customer.on.quantity', /\(int\).*\(string\).*one type/],
  ['relation on an unknown local field', (c) => (c.datasets.orders.relations.customer.on = { nope: 'id' }), 'datasets.orders.relations.customer.on.nope', /"nope" is not a field of dataset "orders"/],
  ['relation on an unknown remote field', (c) => (c.datasets.orders.relations.customer.on = { customerId: 'nope' }), 'datasets.orders.relations.customer.on.customerId', /"nope" is not a field of dataset "customers"/],
  ['relation with no field pair', (c) => (c.datasets.orders.relations.customer.on = {}), 'datasets.orders.relations.customer.on', /at least one/],
  ['relation named like a field', (c) => (c.datasets.orders.relations = { amount: { dataset: 'customers', on: { customerId: 'id' } } }), 'datasets.orders.relations.amount', /also a field/],
  ['field "date" in a day-partitioned dataset', (c) => (c.datasets.orders.fields.date = { type: 'string' }), 'datasets.orders.fields.date', /partition column/],
  ['field "hour" in an hour-partitioned dataset', (c) => {
    c.datasets.orders.partitionBy = 'hour';
    c.datasets.orders.fields.hour = { type: 'int' };
  }, 'datasets.orders.fields.hour', /partition column/],
  ['field name starting with _', (c) => (c.datasets.orders.fields._offset = { type: 'long' }), 'datasets.orders.fields._offset', /reserved/],
  ['reserved typeName', (c) => (c.datasets.orders.typeName = 'DateTime'), 'datasets.orders.typeName', /"DateTime" is a type name lakegate defines itself/],
  ['reserved typeName Query', (c) => (c.datasets.customers.typeName = 'Query'), 'datasets.customers.typeName', /defines itself/],
  ['two datasets with one typeName', (c) => (c.datasets.customers.typeName = 'Order'), 'datasets.customers.typeName', /also the type of dataset "orders"/],
  ['root field clash between datasets', (c) => (c.datasets.ordersConnection = { fields: { id: { type: 'string' } } }), 'datasets.ordersConnection', /root field "ordersConnection" would clash with dataset "orders"/],
  ['root field clash with a built-in', (c) => (c.datasets.datasets = { fields: { id: { type: 'string' } } }), 'datasets.datasets', /root field "datasets" would clash with a built-in/],
  ['partitionBy without eventTime', (c) => (c.datasets.customers.partitionBy = 'hour'), 'datasets.customers.partitionBy', /needs an eventTime/],
  ['unknown partitionBy', (c) => (c.datasets.orders.partitionBy = 'week'), 'datasets.orders.partitionBy', /day|hour|none/],
  ['bad topic name', (c) => (c.datasets.orders.topic = 'my topic'), 'datasets.orders.topic', /Kafka topic/],
  ['port out of range', (c) => (c.server.port = 70000), 'server.port', /65535/],
  ['defaultLimit above maxLimit', (c) => (c.server.limits = { defaultLimit: 500, maxLimit: 100 }), 'server.limits.defaultLimit', /must not exceed maxLimit \(100\)/],
  ['zero maxDepth', (c) => (c.server.limits = { maxDepth: 0 }), 'server.limits.maxDepth', /./],
  ['no datasets', (c) => (c.datasets = {}), 'datasets', /at least one dataset/],
  ['a dataset without fields', (c) => (c.datasets.customers.fields = {}), 'datasets.customers.fields', /at least one field/],
  ['a field without type', (c) => (c.datasets.orders.fields.amount = { required: true }), 'datasets.orders.fields.amount.type', /required/],
];

for (const [what, mutate, dotted, description] of BAD) {
  test(`refused: ${what} → ${dotted || '(top level)'}`, () => {
    assertRefused(() => parseWith(mutate), FILE, dotted, description, what);
  });
}

const WRONG_TYPE: Array<[string, (c: Obj) => void, string, RegExp]> = [
  ['port not a number', (c) => (c.server.port = 'http'), 'server.port', /number/i],
  ['required not a boolean', (c) => (c.datasets.orders.fields.amount.required = 'yes'), 'datasets.orders.fields.amount.required', /boolean/i],
  ['brokers not a list', (c) => (c.kafka.brokers = '127.0.0.1:9092'), 'kafka.brokers', /array|list/i],
];

test('refused: values of the wrong type, naming file and path', () => {
  for (const [what, mutate, dotted] of WRONG_TYPE) assertRefused(() => parseWith(mutate), FILE, dotted, /./, what);
});

test(
  'refused: values of the wrong type say what type was expected (not "is required")',
  () => {
    for (const [what, mutate, dotted, description] of WRONG_TYPE) assertRefused(() => parseWith(mutate), FILE, dotted, description, what);
  },
);

test('refused: names that are not GraphQL names, naming file and path', () => {
  assertRefused(() => parseWith((c) => {
    c.datasets.orders.fields['1abc'] = { type: 'int' };
  }), FILE, 'datasets.orders.fields.1abc', /./);
  assertRefused(() => parseWith((c) => {
    c.datasets['my-orders'] = c.datasets.orders;
    delete c.datasets.orders;
  }), FILE, 'datasets.my-orders', /./);
  assertRefused(() => parseWith((c) => {
    c.datasets.orders.relations['the-customer'] = c.datasets.orders.relations.customer;
    delete c.datasets.orders.relations.customer;
  }), FILE, 'datasets.orders.relations.the-customer', /./);
});

test(
  'refused: names that are not GraphQL names say so',
  () => {
    assertRefused(() => parseWith((c) => {
      c.datasets.orders.fields['1abc'] = { type: 'int' };
    }), FILE, 'datasets.orders.fields.1abc', /not a valid GraphQL name/);
    assertRefused(() => parseWith((c) => {
      c.datasets['my-orders'] = c.datasets.orders;
      delete c.datasets.orders;
    }), FILE, 'datasets.my-orders', /not a valid GraphQL name/);
  },
);

test('every problem is reported, not only the first', () => {
  const e = assertRefused(() => parseWith((c) => {
    c.datasets.orders.key = 'nope';
    c.datasets.customers.typeName = 'DateTime';
  }), FILE, 'datasets.orders.key', /not a field/);
  assert.ok(e.problems.some((p) => p.path === 'datasets.customers.typeName'), e.message);
  assert.equal(e.file, FILE);
});

test('YAML syntax errors name the file and the line', () => {
  const cases: Array<[string, RegExp]> = [
    [`${yamlOf()}\nextra: [unclosed\n`, /YAML: .*line \d+/],
    ['lake:\n  path: x\n   bad: 1\ndatasets: {}\n', /YAML: .*line 2/],
    [`${yamlOf()}lake:\n  path: y\n`, /YAML: .*unique.*line \d+/],
    ['datasets:\n\torders: {}\n', /YAML: .*line 2/],
  ];
  for (const [text, description] of cases) {
    assertRefused(() => parseConfig(text, FILE, { env: {} }), FILE, '', description, text.slice(-30));
  }
  // Not a mapping at all.
  assert.throws(() => parseConfig('- a\n- b\n', FILE, { env: {} }), (e: unknown) => e instanceof ConfigError && e.message.includes(FILE));
  assert.throws(() => parseConfig('', FILE, { env: {} }), (e: unknown) => e instanceof ConfigError && e.message.includes(FILE) && /datasets/.test(e.message));
});

test('a missing or unreadable file is a ConfigError naming it', () => {
  const missing = path.join(tmp, 'nope', 'lakegate.yaml');
  assertRefused(() => loadConfig(missing, { env: {} }), missing, '', /cannot read the file \(ENOENT\)/);
  // A relative name is reported absolute.
  const rel = path.relative(process.cwd(), missing);
  assertRefused(() => loadConfig(rel, { env: {} }), missing, '', /cannot read/);
  // A directory.
  assertRefused(() => loadConfig(tmp, { env: {} }), tmp, '', /cannot read the file \(EISDIR\)/);
});

test('a bad file on disk is reported with its absolute path', () => {
  const file = path.join(tmp, 'bad.yaml');
  writeFileSync(file, yamlOf((c) => (c.datasets.orders.fields.amount.type = 'money')));
  assertRefused(() => loadConfig(file, { env: {} }), file, 'datasets.orders.fields.amount.type', /must be one of/);
});

test('env LAKEGATE_KAFKA_BROKERS overrides brokers (comma list, blanks dropped)', () => {
  assert.deepEqual([...parseWith(undefined, { LAKEGATE_KAFKA_BROKERS: 'k1:9092, k2:9093 ,,k3:1,' }).kafka.brokers], ['k1:9092', 'k2:9093', 'k3:1']);
  assert.deepEqual([...parseWith(undefined, { LAKEGATE_KAFKA_BROKERS: 'solo:9092' }).kafka.brokers], ['solo:9092']);
  assert.deepEqual([...parseWith(undefined, { LAKEGATE_KAFKA_BROKERS: '' }).kafka.brokers], ['127.0.0.1:9092']);
  assertRefused(() => parseWith(undefined, { LAKEGATE_KAFKA_BROKERS: ' , ' }), FILE, 'kafka.brokers', /LAKEGATE_KAFKA_BROKERS/);
});

test('env LAKEGATE_PORT overrides the port; a bad one is refused', () => {
  assert.equal(parseWith(undefined, { LAKEGATE_PORT: '5555' }).server.port, 5555);
  assert.equal(parseWith(undefined, { LAKEGATE_PORT: '0' }).server.port, 0);
  assert.equal(parseWith(undefined, { LAKEGATE_PORT: '' }).server.port, 4000);
  assert.equal(parseWith(undefined, {}).server.port, 4000);
  for (const bad of ['abc', '70000', '65536', '-1', '1.5', '80abc']) {
    assertRefused(() => parseWith(undefined, { LAKEGATE_PORT: bad }), FILE, 'server.port', new RegExp(`LAKEGATE_PORT="${bad.replace('.', '\\.')}" is not a port number`), bad);
  }
});

test('env LAKEGATE_PORT accepts only decimal digits', () => {
  for (const bad of ['0x10', '1e3']) assertRefused(() => parseWith(undefined, { LAKEGATE_PORT: bad }), FILE, 'server.port', /LAKEGATE_PORT/, bad);
});

test('env LAKEGATE_LAKE_PATH overrides the lake path; the config path is relative to the config file', () => {
  assert.equal(parseWith().lake.path, '/srv/lakegate/conf/lake');
  assert.equal(parseWith(undefined, { LAKEGATE_LAKE_PATH: '/data/other-lake' }).lake.path, '/data/other-lake');
  assert.equal(parseWith((c) => (c.lake.path = '/abs/lake')).lake.path, '/abs/lake');
  // The env overrides, but never the other settings.
  const c = parseWith(undefined, { LAKEGATE_LAKE_PATH: '/data/x', LAKEGATE_PORT: '7000', LAKEGATE_KAFKA_BROKERS: 'b:1' });
  assert.deepEqual([c.lake.path, c.server.port, [...c.kafka.brokers]], ['/data/x', 7000, ['b:1']]);
  // loadConfig reads process.env when no env is given.
  const file = path.join(tmp, 'env.yaml');
  writeFileSync(file, yamlOf());
  const saved = process.env.LAKEGATE_PORT;
  process.env.LAKEGATE_PORT = '6123';
  try {
    assert.equal(loadConfig(file).server.port, 6123);
  } finally {
    if (saved === undefined) delete process.env.LAKEGATE_PORT;
    else process.env.LAKEGATE_PORT = saved;
  }
});

test('defaults: typeName PascalCase of the name, topic = name, dlqTopic <topic>.dlq, partitionBy, limits', () => {
  const c = parseWith((c) => {
    c.datasets = {
      page_views: { eventTime: 'at', fields: { at: { type: 'timestamp' }, url: { type: 'string' } } },
      clicks: { topic: 'web.clicks', fields: { id: { type: 'string' } } },
      audit: { topic: 'audit-log', dlqTopic: 'audit-dead', fields: { id: { type: 'string' } } },
      userSessions: { fields: { id: { type: 'string' } } },
    };
  });
  const ds = (n: string) => c.datasetMap.get(n)!;
  assert.equal(ds('page_views').typeName, 'PageViews');
  assert.equal(ds('page_views').topic, 'page_views');
  assert.equal(ds('page_views').dlqTopic, 'page_views.dlq');
  assert.equal(ds('page_views').partitionBy, 'day');
  assert.equal(ds('page_views').key, undefined);
  assert.equal(ds('clicks').typeName, 'Clicks');
  assert.equal(ds('clicks').topic, 'web.clicks');
  assert.equal(ds('clicks').dlqTopic, 'web.clicks.dlq');
  assert.equal(ds('clicks').partitionBy, 'none');
  assert.equal(ds('audit').dlqTopic, 'audit-dead');
  assert.equal(ds('userSessions').typeName, 'UserSessions');
  assert.equal(ds('page_views').fieldMap.get('url')!.required, false);
  assert.deepEqual(ds('page_views').relations, []);
  assert.deepEqual({ ...c.server.limits }, { defaultLimit: 100, maxLimit: 10_000, maxDepth: 10, maxCost: 5_000, maxAliases: 15, queryTimeoutMs: 30_000 });
  // Other sections' defaults.
  const bare = parseConfig(stringify({ server: { port: 4000 }, datasets: { t: { fields: { id: { type: 'string' } } } } }), FILE, { env: {} });
  assert.deepEqual([...bare.kafka.brokers], ['127.0.0.1:9092']);
  assert.equal(bare.kafka.clientId, 'lakegate');
  assert.equal(bare.lake.path, '/srv/lakegate/conf/data/lake');
  assert.equal(bare.server.graphiql, true);
  assert.equal(bare.server.csrfPrevention, true);
  // production follows NODE_ENV unless set.
  assert.equal(bare.server.production, false);
  assert.equal(parseConfig(stringify({ server: { port: 1 }, datasets: { t: { fields: { id: { type: 'string' } } } } }), FILE, { env: { NODE_ENV: 'production' } }).server.production, true);
});

test(
  'defaults: a config without a server section gets the default server settings',
  () => {
    const c = parseConfig(stringify({ datasets: { t: { fields: { id: { type: 'string' } } } } }), FILE, { env: {} });
    assert.equal(c.server.port, 4000);
    assert.equal(c.server.host, '0.0.0.0');
    assert.equal(c.server.limits.maxLimit, 10_000);
    assert.equal(c.server.graphiql, true);
    // With a server section but only a port, too.
    assert.equal(parseConfig(stringify({ server: { port: 1 }, datasets: { t: { fields: { id: { type: 'string' } } } } }), FILE, { env: {} }).server.host, '0.0.0.0');
  },
);
