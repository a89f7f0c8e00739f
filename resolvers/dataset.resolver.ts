// One resolver class per dataset, made at runtime: <dataset>, <dataset>Connection, <dataset>Aggregate and relations.
// Thin: reads the selection for projection pushdown, hands arguments to lake/, batches relations with DataLoader.

import DataLoader from 'dataloader';
import type { GraphQLFieldResolver, GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, Info, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Catalog, Dataset, RelationDef } from '../config';
import { GatewayError } from '../errors';
import type { AggregateArgs, OrderByInput, Record_, Selection, TimeUnit } from '../lake';
import type { DatasetTypes } from '../schema/types';
import { shared } from '../schema/types';
import type { GatewayContext } from './context';
import { childFields, fieldsOf } from './selection';

type Method = (...args: never[]) => unknown;

/** Columns to read for a node of `ds`: selected fields, relation join keys, and _meta. */
export function selectionFor(ds: Dataset, fields: Map<string, unknown>): Selection {
  const cols = new Set<string>();
  for (const name of fields.keys()) if (ds.fieldMap.has(name)) cols.add(name);
  for (const rel of ds.relations) if (fields.has(rel.name)) for (const [local] of rel.on) cols.add(local);
  return { fields: [...cols], meta: fields.has('_meta') };
}

/** Root fields whose resolver the schema builder installs as is, past type-graphql's (schema/build.ts). */
const DIRECT = Symbol('lakegate direct resolvers');
type DirectResolvers = Record<string, GraphQLFieldResolver<unknown, GatewayContext>>;

/** The resolvers a resolver class asks to have installed directly on the schema's root fields, by field name. */
export function directResolversOf(cls: Function): DirectResolvers {
  return (cls as unknown as { [DIRECT]?: DirectResolvers })[DIRECT] ?? {};
}

function define(cls: { prototype: object }, name: string, fn: Method): PropertyDescriptor {
  Object.defineProperty(cls.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
  return Object.getOwnPropertyDescriptor(cls.prototype, name)!;
}

export function createDatasetResolver(ds: Dataset, types: DatasetTypes, typesOf: (dataset: string) => DatasetTypes, catalog: Catalog): Function {
  const t = ds.typeName;
  const R = { [`${t}Resolver`]: class {} }[`${t}Resolver`]!;
  const proto = R.prototype;

  // <dataset>(where, orderBy, limit, offset): [T!]!
  // (Object.assign rather than `{ ...selection, where, … }`: on Node 20 a spread followed by properties makes a new
  // hidden class per call, in the old generation; kafka/kafkajs-codecs.ts.)
  const list = define(R, 'list', (async (where: object | null, orderBy: OrderByInput | null, limit: number | null, offset: number | null, ctx: GatewayContext, info: GraphQLResolveInfo) => {
    return ctx.lake.list(ds, Object.assign({}, selectionFor(ds, childFields(info)), { where: where as Record<string, unknown>, orderBy, limit, offset }));
  }) as Method);
  Arg('where', () => types.Where, { nullable: true })(proto, 'list', 0);
  Arg('orderBy', () => [types.OrderBy], { nullable: true })(proto, 'list', 1);
  Arg('limit', () => Int, { nullable: true, description: `default ${catalog.server.limits.defaultLimit}, at most ${catalog.server.limits.maxLimit}` })(proto, 'list', 2);
  Arg('offset', () => Int, { nullable: true })(proto, 'list', 3);
  Ctx()(proto, 'list', 4);
  Info()(proto, 'list', 5);
  Query(() => [types.Object], { name: ds.name, description: ds.description ?? `Events of dataset "${ds.name}" from the lake` })(proto, 'list', list);

  // <dataset>Connection(where, orderBy, first, after): keyset pages
  const conn = define(R, 'connection', (async (where: object | null, orderBy: OrderByInput | null, first: number | null, after: string | null, ctx: GatewayContext, info: GraphQLResolveInfo) => {
    const top = childFields(info);
    const edges = fieldsOf(top.get('edges'), info);
    const node = fieldsOf(edges.get('node'), info);
    const page = await ctx.lake.page(ds, Object.assign({}, selectionFor(ds, node), { where: where as Record<string, unknown>, orderBy, first, after }));
    return { edges: page.edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
  }) as Method);
  Arg('where', () => types.Where, { nullable: true })(proto, 'connection', 0);
  Arg('orderBy', () => [types.OrderBy], { nullable: true })(proto, 'connection', 1);
  Arg('first', () => Int, { nullable: true })(proto, 'connection', 2);
  Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page' })(proto, 'connection', 3);
  Ctx()(proto, 'connection', 4);
  Info()(proto, 'connection', 5);
  Query(() => types.Connection, { name: `${ds.name}Connection`, description: `Keyset-paginated ${ds.name}` })(proto, 'connection', conn);

  // <dataset>Aggregate(where, groupBy, timeBucket, limit)
  const agg = define(R, 'aggregate', (async (
    where: object | null,
    groupBy: string[] | null,
    timeBucket: { unit: TimeUnit; size?: number | null } | null,
    limit: number | null,
    ctx: GatewayContext,
    info: GraphQLResolveInfo,
  ) => {
    const top = childFields(info);
    const names = (k: string) => [...fieldsOf(top.get(k), info).keys()].filter((n) => ds.fieldMap.has(n));
    const args: AggregateArgs = {
      where: where as Record<string, unknown>,
      groupBy,
      timeBucket,
      limit,
      count: top.has('count'),
      sum: names('sum'),
      avg: names('avg'),
      min: names('min'),
      max: names('max'),
    };
    return ctx.lake.aggregate(ds, args);
  }) as Method);
  Arg('where', () => types.Where, { nullable: true })(proto, 'aggregate', 0);
  Arg('groupBy', () => [types.FieldEnum ?? String], { nullable: true })(proto, 'aggregate', 1);
  Arg('timeBucket', () => shared().TimeBucket, { nullable: true })(proto, 'aggregate', 2);
  Arg('limit', () => Int, { nullable: true })(proto, 'aggregate', 3);
  Ctx()(proto, 'aggregate', 4);
  Info()(proto, 'aggregate', 5);
  Query(() => [types.Aggregate], { name: `${ds.name}Aggregate`, description: `Counts, sums, averages, minima and maxima of ${ds.name}` })(proto, 'aggregate', agg);

  // Subscription <dataset>(where, from): served by the live hub through graphql-ws, which executes this field once
  // per event (and per group of identical subscriptions) with the event as root.
  const live = define(R, 'live', ((_where: unknown, _from: unknown, root: unknown) => root) as Method);
  Arg('where', () => types.Where, { nullable: true })(proto, 'live', 0);
  Arg('from', () => shared().StreamStart, { nullable: true, description: 'default: LATEST' })(proto, 'live', 1);
  Root()(proto, 'live', 2);
  Subscription(() => types.Object, {
    name: ds.name,
    description: `Events of dataset "${ds.name}" as they reach Kafka topic "${ds.topic}", filtered on the server; with \`from\`, history from the lake first`,
    subscribe: () => {
      throw new GatewayError('BAD_USER_INPUT', 'subscriptions are served over graphql-ws (graphql-transport-ws) at /graphql');
    },
  })(proto, 'live', live);

  // publish<Type>(input, key) and publish<Type>Batch(inputs)
  const publisher = (ctx: GatewayContext) => {
    if (!ctx.publisher) throw new GatewayError('BROKER_UNAVAILABLE', 'this process does not publish to Kafka');
    return ctx.publisher;
  };
  const publishOne = async (input: Record<string, unknown>, key: string | null | undefined, ctx: GatewayContext) => {
    const [r] = await publisher(ctx).publish(ds, [input], [key === null ? undefined : key]);
    return r;
  };
  const publishMany = (inputs: Record<string, unknown>[], ctx: GatewayContext) => publisher(ctx).publish(ds, inputs);
  // The publish fields are declared through type-graphql (schema shape, descriptions) but resolved directly: its
  // argument pipeline turns every input into a class instance (metadata lookups per field, ~5 µs an event in a batch)
  // that would only be copied back into a plain object; graphql-js has already coerced them to plain objects.
  (R as unknown as { [DIRECT]: DirectResolvers })[DIRECT] = {
    [`publish${t}`]: (_src, args, ctx) => publishOne(args['input'] as Record<string, unknown>, args['key'] as string | null | undefined, ctx),
    [`publish${t}Batch`]: (_src, args, ctx) => publishMany(args['inputs'] as Record<string, unknown>[], ctx),
  };
  // The type-graphql bodies only declare the fields (schema/build.ts installs the direct resolvers above).
  const pub = define(R, 'publish', publishOne as Method);
  Arg('input', () => types.Input)(proto, 'publish', 0);
  Arg('key', () => String, { nullable: true, description: ds.key ? `Kafka message key (default: the ${ds.key} field)` : 'Kafka message key (default: none)' })(proto, 'publish', 1);
  Ctx()(proto, 'publish', 2);
  Mutation(() => shared().PublishResult, { name: `publish${t}`, description: `Publish one ${t} event to Kafka topic "${ds.topic}"; returns once the broker acknowledged it (acks=all)` })(proto, 'publish', pub);

  const batch = define(R, 'publishBatch', publishMany as Method);
  Arg('inputs', () => [types.Input])(proto, 'publishBatch', 0);
  Ctx()(proto, 'publishBatch', 1);
  Mutation(() => [shared().PublishResult], { name: `publish${t}Batch`, description: `Publish ${t} events in one request (keys from ${ds.key ?? 'nowhere: no key'}); results in input order, after the broker's ack` })(proto, 'publishBatch', batch);

  for (const rel of ds.relations) addRelation(R, ds, rel, typesOf(rel.dataset), catalog);

  Resolver(() => types.Object)(R);
  return R;
}

/** A many-to-one relation: the latest record of the target whose key equals this record's key; one query per level. */
function addRelation(R: { prototype: object }, ds: Dataset, rel: RelationDef, target: DatasetTypes, catalog: Catalog): void {
  const targetDs = catalog.datasetMap.get(rel.dataset)!;
  const method = `relation_${rel.name}`;
  const localFields = rel.on.map(([l]) => l);
  const remoteFields = rel.on.map(([, r]) => r);
  const desc = define(R, method, (async (root: Record_, ctx: GatewayContext, info: GraphQLResolveInfo) => {
    const keyVals = localFields.map((f) => root[f]);
    if (keyVals.some((v) => v === null || v === undefined)) return null;
    const sel = selectionFor(targetDs, childFields(info));
    const loaderKey = `${ds.name}.${rel.name}|${[...sel.fields].sort().join(',')}|${sel.meta}`;
    let loader = ctx.loaders.get(loaderKey) as DataLoader<string, Record_ | null> | undefined;
    if (!loader) {
      loader = new DataLoader<string, Record_ | null>(async (keys) => {
        const tuples = keys.map((k) => JSON.parse(k) as unknown[]);
        const rows = await ctx.lake.lookup(targetDs, remoteFields, tuples, sel);
        const byKey = new Map(rows.map((r) => [JSON.stringify(remoteFields.map((f) => r[f])), r]));
        return keys.map((k) => byKey.get(k) ?? null);
      }, { maxBatchSize: 5000 });
      ctx.loaders.set(loaderKey, loader as DataLoader<string, unknown>);
    }
    return loader.load(JSON.stringify(keyVals));
  }) as Method);
  Root()(R.prototype, method, 0);
  Ctx()(R.prototype, method, 1);
  Info()(R.prototype, method, 2);
  FieldResolver(() => target.Object, { name: rel.name, nullable: true, description: `The ${targetDs.typeName} this ${ds.typeName} refers to (latest version)` })(R.prototype, method, desc);
}

export function createDatasetsResolver(): Function {
  const R = class DatasetsResolver {};
  const desc = define(R, 'datasets', (async (ctx: GatewayContext) => Promise.all(ctx.catalog.datasets.map((d) => ctx.lake.info(d)))) as Method);
  Ctx()(R.prototype, 'datasets', 0);
  Query(() => [shared().DatasetInfo], { name: 'datasets', description: 'The datasets of the catalog, with lake statistics' })(R.prototype, 'datasets', desc);
  Resolver()(R);
  return R;
}
