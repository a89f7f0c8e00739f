// lakegate.yaml → validated Catalog. Pure apart from reading the file and the environment.
// Every error names the file, the path inside it and the problem (ConfigError).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { Catalog, Dataset, FieldDef, RelationDef, ScalarType } from './catalog';
import { SCALAR_TYPES, pascalCase, partitionColumns } from './catalog';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ReadonlyArray<{ path: string; message: string }>,
  ) {
    super(problems.map((p) => `${file}: ${p.path ? p.path + ': ' : ''}${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const graphqlName = z
  .string()
  .regex(GRAPHQL_NAME, 'is not a valid GraphQL name (letters, digits and _, not starting with a digit)')
  .refine((s) => !s.startsWith('__'), 'names starting with "__" are reserved by GraphQL');

const FIELD_TYPE = /^(\[)?(string|int|long|float|boolean|timestamp|date|json)(\])?$/;

const fieldSchema = z.strictObject({
  type: z.string().refine((t) => {
    const m = FIELD_TYPE.exec(t.trim());
    return m !== null && Boolean(m[1]) === Boolean(m[3]) && !(m[1] && m[2] === 'json');
  }, `must be one of ${SCALAR_TYPES.join(', ')} or a list of one of them such as "[string]" (lists of json are not supported)`),
  required: z.boolean().default(false),
  description: z.string().optional(),
});

const relationSchema = z.strictObject({
  dataset: z.string(),
  on: z.record(z.string(), z.string()).refine((o) => Object.keys(o).length > 0, 'needs at least one field pair'),
});

const datasetSchema = z.strictObject({
  typeName: graphqlName.optional(),
  topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'is not a valid Kafka topic name').optional(),
  key: z.string().optional(),
  eventTime: z.string().optional(),
  partitionBy: z.enum(['day', 'hour', 'none']).optional(),
  description: z.string().optional(),
  dlqTopic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'is not a valid Kafka topic name').optional(),
  fields: z.record(graphqlName, fieldSchema).refine((o) => Object.keys(o).length > 0, 'needs at least one field'),
  relations: z.record(graphqlName, relationSchema).default({}),
});

const positiveInt = z.number().int().positive();

const configSchema = z.strictObject({
  lake: z
    .strictObject({
      path: z.string().min(1).default('./data/lake'),
      threads: positiveInt.optional(),
      memoryLimit: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, 'must look like "2GB"').optional(),
    })
    .default({ path: './data/lake' }),
  kafka: z
    .strictObject({
      brokers: z.array(z.string().min(1)).min(1).default(['127.0.0.1:9092']),
      clientId: z.string().min(1).default('lakegate'),
    })
    .default({ brokers: ['127.0.0.1:9092'], clientId: 'lakegate' }),
  server: z
    .strictObject({
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65535).default(4000),
      production: z.boolean().optional(),
      graphiql: z.boolean().default(true),
      csrfPrevention: z.boolean().default(true),
      limits: z
        .strictObject({
          defaultLimit: positiveInt.default(100),
          maxLimit: positiveInt.default(10_000),
          maxDepth: positiveInt.default(10),
          maxCost: positiveInt.default(5_000),
          maxAliases: positiveInt.default(15),
          queryTimeoutMs: positiveInt.default(30_000),
        })
        .default({ defaultLimit: 100, maxLimit: 10_000, maxDepth: 10, maxCost: 5_000, maxAliases: 15, queryTimeoutMs: 30_000 }),
    })
    .prefault({}),
  ingest: z
    .strictObject({
      groupId: z.string().min(1).default('lakegate-ingest'),
      /** Rotation is driven by the records (count, bytes, Kafka timestamps), so a replay cuts the same files. */
      rotate: z
        .strictObject({
          maxRows: positiveInt.default(1_000_000),
          maxBytes: positiveInt.default(64 * 1024 * 1024),
          maxRecordSpanMs: positiveInt.default(10 * 60_000),
        })
        .prefault({}),
      /** An open file idle (no new record) this long is committed, so other processes see it; fenced by claims. */
      flushIntervalMs: positiveInt.default(5_000),
      /** Consumption pauses while this many bytes of decoded records wait for their file commit. */
      maxBufferedBytes: positiveInt.default(128 * 1024 * 1024),
      rowGroupSize: positiveInt.default(16_384),
      compaction: z
        .strictObject({
          enabled: z.boolean().default(true),
          targetBytes: positiveInt.default(128 * 1024 * 1024),
          minFiles: z.number().int().min(2).default(4),
          intervalMs: positiveInt.default(5 * 60_000),
        })
        .prefault({}),
    })
    .prefault({}),
  subscriptions: z
    .strictObject({
      /** Origins a browser may open a websocket from ("*": any); empty: only same-host origins and non-browser clients. */
      allowedOrigins: z.array(z.string().min(1)).default([]),
      maxPerConnection: positiveInt.default(100),
      connectionInitTimeoutMs: positiveInt.default(5_000),
      keepAliveMs: positiveInt.default(12_000),
      /** A subscriber with more than this many events or bytes not yet written to its socket is closed (4008). */
      queue: z.strictObject({ maxEvents: positiveInt.default(1_000), maxBytes: positiveInt.default(8 * 1024 * 1024) }).prefault({}),
      /** Events of each topic kept in memory so that a replay switches from the lake to live without a private read. */
      replayBufferEvents: positiveInt.default(50_000),
      /** At most this many bytes of keys and values in that buffer (the oldest events leave first). */
      replayBufferBytes: positiveInt.default(64 * 1024 * 1024),
      /** A topic's Kafka tail stays open this long after its last subscriber left. */
      tailLingerMs: z.number().int().min(0).default(5_000),
    })
    .prefault({}),
  datasets: z.record(graphqlName, datasetSchema).refine((o) => Object.keys(o).length > 0, 'needs at least one dataset'),
});

type RawConfig = z.infer<typeof configSchema>;

/** GraphQL type names the gateway defines itself; a dataset's typeName must not take them. */
const RESERVED_TYPE_NAMES = new Set([
  'String', 'Int', 'Float', 'Boolean', 'ID', 'DateTime', 'Date', 'BigInt', 'JSON', 'Query', 'Mutation', 'Subscription',
  'EventMeta', 'DatasetInfo', 'PageInfo', 'PublishResult', 'TimeBucket', 'TimeUnit', 'SortOrder', 'StreamStart',
  'StreamPosition', 'StringFilter', 'IntFilter', 'FloatFilter', 'BigIntFilter', 'BooleanFilter', 'DateTimeFilter',
  'DateFilter', 'JSONFilter',
]);

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

export function loadConfig(file: string, opts: LoadOptions = {}): Catalog {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ConfigError(abs, [{ path: '', message: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? e})` }]);
  }
  return parseConfig(text, abs, opts);
}

export function parseConfig(text: string, file: string, opts: LoadOptions = {}): Catalog {
  const env = opts.env ?? process.env;
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      file,
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: describeIssue(i) })),
    );
  }
  const problems: Array<{ path: string; message: string }> = [];
  const catalog = normalize(parsed.data, file, env, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return catalog;
}

function describeIssue(i: z.core.$ZodIssue): string {
  if (i.code === 'unrecognized_keys') return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
  if (i.code === 'invalid_type') return /received undefined$/.test(i.message) ? 'is required' : `must be ${i.expected === 'object' ? 'a mapping' : i.expected === 'array' ? 'a list' : `a ${i.expected}`}`;
  // A bad map key (dataset, field or relation name): say what is wrong with the name itself.
  if (i.code === 'invalid_key') return i.issues.map((x) => x.message).join('; ');
  return i.message;
}

function normalize(raw: RawConfig, file: string, env: NodeJS.ProcessEnv, problems: Array<{ path: string; message: string }>): Catalog {
  const baseDir = path.dirname(file);
  const lakePath = path.resolve(baseDir, env.LAKEGATE_LAKE_PATH || raw.lake.path);

  let brokers = raw.kafka.brokers;
  if (env.LAKEGATE_KAFKA_BROKERS) {
    brokers = env.LAKEGATE_KAFKA_BROKERS.split(',').map((s) => s.trim()).filter(Boolean);
    if (brokers.length === 0) problems.push({ path: 'kafka.brokers', message: 'LAKEGATE_KAFKA_BROKERS is set but lists no broker' });
  }
  let port = raw.server.port;
  if (env.LAKEGATE_PORT !== undefined && env.LAKEGATE_PORT !== '') {
    const p = /^\d{1,5}$/.test(env.LAKEGATE_PORT) ? Number(env.LAKEGATE_PORT) : NaN;
    if (!Number.isInteger(p) || p < 0 || p > 65535) problems.push({ path: 'server.port', message: `LAKEGATE_PORT="${env.LAKEGATE_PORT}" is not a port number` });
    else port = p;
  }
  const limits = raw.server.limits;
  if (limits.defaultLimit > limits.maxLimit) {
    problems.push({ path: 'server.limits.defaultLimit', message: `must not exceed maxLimit (${limits.maxLimit})` });
  }

  const datasets: Dataset[] = [];
  const typeNames = new Map<string, string>();
  const rootFields = new Map<string, string>([['datasets', '(built-in)']]);
  for (const [name, d] of Object.entries(raw.datasets)) {
    const at = `datasets.${name}`;
    const typeName = d.typeName ?? pascalCase(name);
    if (!/^[_A-Za-z][_0-9A-Za-z]*$/.test(typeName)) problems.push({ path: `${at}.typeName`, message: `"${typeName}" is not a valid GraphQL name` });
    if (RESERVED_TYPE_NAMES.has(typeName)) problems.push({ path: `${at}.typeName`, message: `"${typeName}" is a type name lakegate defines itself` });
    const clash = typeNames.get(typeName);
    if (clash) problems.push({ path: `${at}.typeName`, message: `"${typeName}" is also the type of dataset "${clash}"` });
    typeNames.set(typeName, name);
    for (const root of [name, `${name}Connection`, `${name}Aggregate`, `publish${typeName}`, `publish${typeName}Batch`]) {
      const other = rootFields.get(root);
      if (other) problems.push({ path: at, message: `root field "${root}" would clash with ${other === '(built-in)' ? 'a built-in field' : `dataset "${other}"`}` });
      rootFields.set(root, name);
    }

    const fields: FieldDef[] = [];
    for (const [fname, f] of Object.entries(d.fields)) {
      const m = FIELD_TYPE.exec(f.type.trim())!;
      if (fname.startsWith('_')) problems.push({ path: `${at}.fields.${fname}`, message: 'field names starting with "_" are reserved (_meta, _offset, …)' });
      fields.push({ name: fname, type: m[2] as ScalarType, list: Boolean(m[1]), required: f.required, description: f.description });
    }
    const fieldMap = new Map(fields.map((f) => [f.name, f]));
    if (d.key !== undefined) {
      const k = fieldMap.get(d.key);
      if (!k) problems.push({ path: `${at}.key`, message: `"${d.key}" is not a field of the dataset` });
      else if (k.list || k.type === 'json') problems.push({ path: `${at}.key`, message: `"${d.key}" must be a scalar field, not ${k.list ? 'a list' : 'json'}` });
    }
    const partitionBy = d.partitionBy ?? (d.eventTime ? 'day' : 'none');
    if (d.eventTime !== undefined) {
      const t = fieldMap.get(d.eventTime);
      if (!t) problems.push({ path: `${at}.eventTime`, message: `"${d.eventTime}" is not a field of the dataset` });
      else if (t.type !== 'timestamp' || t.list) problems.push({ path: `${at}.eventTime`, message: `"${d.eventTime}" must be a timestamp field` });
    } else if (partitionBy !== 'none') {
      problems.push({ path: `${at}.partitionBy`, message: `"${partitionBy}" needs an eventTime field to partition by` });
    }
    const ds: Dataset = {
      name,
      typeName,
      topic: d.topic ?? name,
      key: d.key,
      eventTime: d.eventTime,
      partitionBy,
      fields,
      fieldMap,
      relations: [],
      dlqTopic: d.dlqTopic ?? `${d.topic ?? name}.dlq`,
      description: d.description,
    };
    for (const col of partitionColumns(ds)) {
      if (fieldMap.has(col)) problems.push({ path: `${at}.fields.${col}`, message: `"${col}" is a partition column of the lake layout (partitionBy: ${partitionBy}); rename the field` });
    }
    datasets.push(ds);
  }

  const datasetMap = new Map(datasets.map((d) => [d.name, d]));
  for (const ds of datasets) {
    const relations: RelationDef[] = [];
    for (const [rname, r] of Object.entries(raw.datasets[ds.name]!.relations)) {
      const at = `datasets.${ds.name}.relations.${rname}`;
      if (ds.fieldMap.has(rname)) problems.push({ path: at, message: `"${rname}" is also a field of the dataset` });
      const target = datasetMap.get(r.dataset);
      if (!target) {
        problems.push({ path: `${at}.dataset`, message: `unknown dataset "${r.dataset}" (known: ${[...datasetMap.keys()].join(', ')})` });
        continue;
      }
      for (const [local, remote] of Object.entries(r.on)) {
        const lf = ds.fieldMap.get(local);
        const rf = target.fieldMap.get(remote);
        if (!lf) problems.push({ path: `${at}.on.${local}`, message: `"${local}" is not a field of dataset "${ds.name}"` });
        if (!rf) problems.push({ path: `${at}.on.${local}`, message: `"${remote}" is not a field of dataset "${target.name}"` });
        if (lf && rf && (lf.type !== rf.type || lf.list || rf.list)) {
          problems.push({ path: `${at}.on.${local}`, message: `"${local}" (${lf.type}) and "${target.name}.${remote}" (${rf.type}) must be scalar fields of one type` });
        }
      }
      relations.push({ name: rname, dataset: target.name, on: Object.entries(r.on) });
    }
    (ds as unknown as { relations: RelationDef[] }).relations = relations;
  }

  return {
    file,
    lake: { path: lakePath, threads: raw.lake.threads ?? 0, memoryLimit: raw.lake.memoryLimit ?? '' },
    kafka: { brokers, clientId: raw.kafka.clientId },
    server: {
      host: raw.server.host,
      port,
      production: raw.server.production ?? env.NODE_ENV === 'production',
      graphiql: raw.server.graphiql,
      csrfPrevention: raw.server.csrfPrevention,
      limits,
    },
    ingest: raw.ingest,
    subscriptions: raw.subscriptions,
    datasets,
    datasetMap,
  };
}
