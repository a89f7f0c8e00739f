// The validated, normalized catalog every other folder works from.
// Invariant: every name in here is a valid GraphQL name and every reference (key, eventTime, relation) resolves.

export const SCALAR_TYPES = ['string', 'int', 'long', 'float', 'boolean', 'timestamp', 'date', 'json'] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];

export interface FieldDef {
  readonly name: string;
  readonly type: ScalarType;
  /** `[T]` in the config: a list of T (elements are never null). */
  readonly list: boolean;
  readonly required: boolean;
  readonly description?: string;
}

export interface RelationDef {
  readonly name: string;
  readonly dataset: string;
  /** Pairs of (field of this dataset, field of the target dataset). */
  readonly on: ReadonlyArray<readonly [string, string]>;
}

export type PartitionBy = 'day' | 'hour' | 'none';

export interface Dataset {
  readonly name: string;
  readonly typeName: string;
  readonly topic: string;
  readonly key?: string;
  readonly eventTime?: string;
  readonly partitionBy: PartitionBy;
  readonly fields: readonly FieldDef[];
  readonly fieldMap: ReadonlyMap<string, FieldDef>;
  readonly relations: readonly RelationDef[];
  readonly dlqTopic: string;
  readonly description?: string;
}

export interface Limits {
  readonly defaultLimit: number;
  readonly maxLimit: number;
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxAliases: number;
  readonly queryTimeoutMs: number;
}

export interface IngestSettings {
  readonly groupId: string;
  readonly rotate: { readonly maxRows: number; readonly maxBytes: number; readonly maxRecordSpanMs: number };
  readonly flushIntervalMs: number;
  readonly maxBufferedBytes: number;
  readonly rowGroupSize: number;
  readonly compaction: { readonly enabled: boolean; readonly targetBytes: number; readonly minFiles: number; readonly intervalMs: number };
}

export interface SubscriptionSettings {
  readonly allowedOrigins: readonly string[];
  readonly maxPerConnection: number;
  readonly connectionInitTimeoutMs: number;
  readonly keepAliveMs: number;
  readonly queue: { readonly maxEvents: number; readonly maxBytes: number };
  readonly replayBufferEvents: number;
  readonly replayBufferBytes: number;
  readonly tailLingerMs: number;
}

export interface Catalog {
  /** Absolute path of the config file the catalog came from (for messages). */
  readonly file: string;
  readonly lake: { readonly path: string; readonly threads: number; readonly memoryLimit: string };
  readonly kafka: { readonly brokers: readonly string[]; readonly clientId: string };
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly production: boolean;
    readonly graphiql: boolean;
    readonly csrfPrevention: boolean;
    readonly limits: Limits;
  };
  readonly ingest: IngestSettings;
  readonly subscriptions: SubscriptionSettings;
  readonly datasets: readonly Dataset[];
  readonly datasetMap: ReadonlyMap<string, Dataset>;
}

/** Scalar (non-list, non-JSON) fields: the ones that can be sorted, grouped and compared. */
export function isComparable(f: FieldDef): boolean {
  return !f.list && f.type !== 'json';
}

export function isNumeric(f: FieldDef): boolean {
  return !f.list && (f.type === 'int' || f.type === 'long' || f.type === 'float');
}

/** Hive partition columns the lake layout adds for a dataset. */
export function partitionColumns(ds: Dataset): string[] {
  switch (ds.partitionBy) {
    case 'day':
      return ['date'];
    case 'hour':
      return ['date', 'hour'];
    case 'none':
      return [];
  }
}

export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

export function lowerFirst(name: string): string {
  return name[0]!.toLowerCase() + name.slice(1);
}
