// The checked-in SDL and the typed client documents must match what the example config generates today.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { buildSchema as buildSdl, parse, validate } from 'graphql';
import { loadConfig } from '../../config';
import { buildGatewaySchema, printGatewaySchema } from '../../schema';

const root = path.resolve(__dirname, '../../..');

test('schema/schema.graphql is the schema of lakegate.yaml (run `npm run schema` when this fails)', async () => {
  const catalog = loadConfig(path.join(root, 'lakegate.yaml'), { env: {} });
  const fresh = printGatewaySchema(await buildGatewaySchema(catalog));
  const checkedIn = readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8');
  assert.equal(checkedIn, fresh);
});

test('the contract names exist in the generated schema', () => {
  const sdl = buildSdl(readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8'));
  const q = sdl.getQueryType()!.getFields();
  for (const f of ['orders', 'ordersConnection', 'ordersAggregate', 'customers', 'datasets']) assert.ok(q[f], `Query.${f}`);
  assert.deepEqual(Object.keys(q.orders!.args.reduce((a, x) => ({ ...a, [x.name]: 1 }), {})), ['where', 'orderBy', 'limit', 'offset']);
  assert.deepEqual(q.ordersConnection!.args.map((a) => a.name), ['where', 'orderBy', 'first', 'after']);
  assert.deepEqual(q.ordersAggregate!.args.map((a) => a.name), ['where', 'groupBy', 'timeBucket', 'limit']);
  for (const t of ['Order', 'OrderWhere', 'OrderOrderBy', 'OrderField', 'OrderAggregate', 'OrderGroup', 'OrderNumeric', 'OrderMinMax', 'OrderConnection', 'EventMeta', 'PageInfo', 'DatasetInfo', 'TimeBucket', 'TimeUnit', 'SortOrder', 'StringFilter', 'IntFilter', 'FloatFilter', 'BigIntFilter', 'BooleanFilter', 'DateTimeFilter', 'DateTime', 'BigInt', 'JSON']) {
    assert.ok(sdl.getType(t), `type ${t}`);
  }
  const sortOrder = sdl.getType('SortOrder') as import('graphql').GraphQLEnumType;
  assert.deepEqual(sortOrder.getValues().map((v) => v.name), ['ASC', 'DESC', 'ASC_NULLS_FIRST', 'DESC_NULLS_LAST']);
  const order = sdl.getType('Order') as import('graphql').GraphQLObjectType;
  const f = order.getFields();
  assert.equal(String(f.id!.type), 'String!');
  assert.equal(String(f.total!.type), 'BigInt');
  assert.equal(String(f.createdAt!.type), 'DateTime!');
  assert.equal(String(f.tags!.type), '[String!]');
  assert.equal(String(f.customer!.type), 'Customer');
  assert.equal(String(f._meta!.type), 'EventMeta!');
});

test('example documents validate against the schema and the generated types are current', async () => {
  const sdl = buildSdl(readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8'));
  const doc = parse(readFileSync(path.join(root, 'examples/orders.graphql'), 'utf8'));
  assert.deepEqual(validate(sdl, doc), []);
  // --check exits non-zero when the generated files differ from what the config produces.
  await promisify(execFile)(path.join(root, 'node_modules/.bin/graphql-codegen'), ['--check', '--config', 'codegen.yml'], { cwd: root });
});
