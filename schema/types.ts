// Catalog → type-graphql classes made at runtime: object types, filter inputs, orderBy, enums, aggregates, pages.
// Classes are cached by GraphQL name (a catalog fingerprint guards against two different shapes under one name).

import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { GraphQLScalarType } from 'graphql';
import type { Dataset, FieldDef, ScalarType } from '../config';
import { isComparable, isNumeric } from '../config';
import { SORT_ORDERS, TIME_UNITS, opsFor } from '../lake';
import { BigIntScalar, DateScalar, DateTimeScalar, JSONScalar } from './scalars';

// type-graphql wants decorator "type functions"; these are the values they may return.
type TypeValue = Function | GraphQLScalarType | object | [TypeValue];
export type Cls = new () => object;

const built = new Map<string, { fingerprint: string; type: Cls }>();

/** A named empty class (GraphQL types take the class name only for messages; the decorator gives the real name). */
function namedClass(name: string): Cls {
  return { [name]: class {} }[name] as Cls;
}

function cached(name: string, fingerprint: string, make: () => Cls): Cls {
  const hit = built.get(name);
  if (hit) {
    if (hit.fingerprint !== fingerprint) throw new Error(`GraphQL type ${name} was already built with a different shape in this process`);
    return hit.type;
  }
  const type = make();
  built.set(name, { fingerprint, type });
  return type;
}

export function graphqlScalar(t: ScalarType): TypeValue {
  switch (t) {
    case 'string':
      return String;
    case 'int':
      return Int;
    case 'long':
      return BigIntScalar;
    case 'float':
      return Float;
    case 'boolean':
      return Boolean;
    case 'timestamp':
      return DateTimeScalar;
    case 'date':
      return DateScalar;
    case 'json':
      return JSONScalar;
  }
}

function fieldType(f: FieldDef): TypeValue {
  return f.list ? [graphqlScalar(f.type)] : graphqlScalar(f.type);
}

// ---- Shared enums and inputs -------------------------------------------------------------------------------------

export const SortOrderEnum = Object.fromEntries(SORT_ORDERS.map((s) => [s, s])) as Record<(typeof SORT_ORDERS)[number], string>;
registerEnumType(SortOrderEnum, {
  name: 'SortOrder',
  description: 'ASC puts nulls last and DESC puts them first (as in Postgres); the other two say where nulls go.',
});
export const StreamPositionEnum = { LATEST: 'LATEST', EARLIEST: 'EARLIEST' } as const;
registerEnumType(StreamPositionEnum, {
  name: 'StreamPosition',
  valuesConfig: {
    LATEST: { description: 'events from now on (the default)' },
    EARLIEST: { description: 'every event the lake and Kafka hold, oldest first, then live' },
  },
});
export const TimeUnitEnum = Object.fromEntries(TIME_UNITS.map((s) => [s, s])) as Record<(typeof TIME_UNITS)[number], string>;
registerEnumType(TimeUnitEnum, { name: 'TimeUnit' });

const filterNames: Record<ScalarType, string> = {
  string: 'StringFilter',
  int: 'IntFilter',
  long: 'BigIntFilter',
  float: 'FloatFilter',
  boolean: 'BooleanFilter',
  timestamp: 'DateTimeFilter',
  date: 'DateFilter',
  json: 'JSONFilter',
};

const OP_DOCS: Record<string, string> = {
  eq: 'equal to',
  ne: 'not equal to (null values never match; use isNull)',
  gt: 'greater than',
  gte: 'greater than or equal to',
  lt: 'less than',
  lte: 'less than or equal to',
  in: 'equal to one of',
  nin: 'equal to none of (null values never match)',
  isNull: 'true: the value is null; false: it is not',
  like: 'SQL LIKE pattern (% any run, _ one character), case-sensitive',
  ilike: 'SQL LIKE pattern, case-insensitive',
  startsWith: 'starts with this text',
  contains: 'contains this text',
};

/** Per-scalar filter input, e.g. StringFilter { eq ne gt … }. */
export function scalarFilter(t: ScalarType, ops: readonly string[]): Cls {
  const name = filterNames[t];
  return cached(name, ops.join(','), () => {
    const C = namedClass(name);
    const scalar = graphqlScalar(t);
    for (const op of ops) {
      const type: TypeValue = op === 'isNull' ? Boolean : op === 'in' || op === 'nin' ? [scalar] : scalar;
      Field(() => type as never, { nullable: true, description: OP_DOCS[op] })(C.prototype, op);
    }
    InputType(name, { description: `Conditions on a ${name.replace('Filter', '')} field; all that are set must hold.` })(C);
    return C;
  });
}

/** Filter for list fields, e.g. StringListFilter { contains containsAll containsAny isNull isEmpty }. */
export function listFilter(t: ScalarType): Cls {
  const name = filterNames[t].replace('Filter', 'ListFilter');
  return cached(name, 'list', () => {
    const C = namedClass(name);
    const scalar = graphqlScalar(t);
    Field(() => scalar as never, { nullable: true, description: 'the list has this element' })(C.prototype, 'contains');
    Field(() => [scalar] as never, { nullable: true, description: 'the list has all of these elements' })(C.prototype, 'containsAll');
    Field(() => [scalar] as never, { nullable: true, description: 'the list has at least one of these elements' })(C.prototype, 'containsAny');
    Field(() => Boolean, { nullable: true, description: 'true: the list is null; false: it is not' })(C.prototype, 'isNull');
    Field(() => Boolean, { nullable: true, description: 'true: the list is empty (not null); false: it has elements' })(C.prototype, 'isEmpty');
    InputType(name)(C);
    return C;
  });
}

export function shared() {
  const EventMeta = cached('EventMeta', '', () => {
    const C = namedClass('EventMeta');
    Field(() => String)(C.prototype, 'topic');
    Field(() => Int)(C.prototype, 'partition');
    Field(() => BigIntScalar)(C.prototype, 'offset');
    Field(() => DateTimeScalar, { description: 'Kafka record timestamp' })(C.prototype, 'timestamp');
    Field(() => String, { nullable: true })(C.prototype, 'key');
    Field(() => String, { description: 'Opaque position of this event; `from: {cursor}` resumes right after it' })(C.prototype, 'cursor');
    ObjectType('EventMeta', { description: 'Where an event came from' })(C);
    return C;
  });
  const PageInfo = cached('PageInfo', '', () => {
    const C = namedClass('PageInfo');
    Field(() => Boolean)(C.prototype, 'hasNextPage');
    Field(() => String, { nullable: true })(C.prototype, 'endCursor');
    ObjectType('PageInfo')(C);
    return C;
  });
  const TimeBucket = cached('TimeBucket', '', () => {
    const C = namedClass('TimeBucket');
    Field(() => TimeUnitEnum)(C.prototype, 'unit');
    Field(() => Int, { nullable: true, defaultValue: 1 })(C.prototype, 'size');
    InputType('TimeBucket', { description: "Buckets of `size` units of the dataset's eventTime (UTC; weeks start on Monday)" })(C);
    return C;
  });
  const DatasetInfo = cached('DatasetInfo', '', () => {
    const C = namedClass('DatasetInfo');
    Field(() => String)(C.prototype, 'name');
    Field(() => String)(C.prototype, 'topic');
    Field(() => String)(C.prototype, 'typeName');
    Field(() => Int)(C.prototype, 'files');
    Field(() => BigIntScalar)(C.prototype, 'bytes');
    Field(() => BigIntScalar)(C.prototype, 'rows');
    Field(() => DateTimeScalar, { nullable: true })(C.prototype, 'lastEventTime');
    Field(() => BigIntScalar, { nullable: true, description: 'Messages in Kafka not yet in the lake (null when unknown)' })(C.prototype, 'lagMessages');
    Field(() => BigIntScalar, { nullable: true, description: 'Messages in the dead-letter topic (null when Kafka is not reachable)' })(C.prototype, 'deadLettered');
    ObjectType('DatasetInfo')(C);
    return C;
  });
  const StreamStart = cached('StreamStart', '', () => {
    const C = namedClass('StreamStart');
    Field(() => StreamPositionEnum, { nullable: true, description: 'LATEST (default) or EARLIEST' })(C.prototype, 'position');
    Field(() => DateTimeScalar, { nullable: true, description: 'replay from this Kafka record time on, then continue live' })(C.prototype, 'timestamp');
    Field(() => String, { nullable: true, description: '_meta.cursor of a delivered event: resume right after it' })(C.prototype, 'cursor');
    InputType('StreamStart', { description: 'Where a subscription starts; set at most one field. History comes from the lake, then the stream continues live from Kafka with no gap and no duplicate.' })(C);
    return C;
  });
  const PublishResult = cached('PublishResult', '', () => {
    const C = namedClass('PublishResult');
    Field(() => String)(C.prototype, 'topic');
    Field(() => Int)(C.prototype, 'partition');
    Field(() => BigIntScalar)(C.prototype, 'offset');
    Field(() => DateTimeScalar, { description: 'Kafka record timestamp' })(C.prototype, 'timestamp');
    ObjectType('PublishResult', { description: 'Where the broker stored a published event (returned only after acks=all)' })(C);
    return C;
  });
  return { EventMeta, PageInfo, TimeBucket, DatasetInfo, StreamStart, PublishResult };
}

// ---- Per-dataset types -------------------------------------------------------------------------------------------

export interface DatasetTypes {
  Object: Cls;
  Where: Cls;
  OrderBy: Cls;
  FieldEnum: object | null;
  Aggregate: Cls;
  Connection: Cls;
  Input: Cls;
}

function fingerprint(ds: Dataset): string {
  return JSON.stringify([ds.fields.map((f) => [f.name, f.type, f.list, f.required]), ds.relations.map((r) => [r.name, r.dataset]), ds.eventTime]);
}

export function datasetTypes(ds: Dataset): DatasetTypes {
  const fp = fingerprint(ds);
  const t = ds.typeName;
  const { EventMeta, PageInfo } = shared();

  const Obj = cached(t, fp, () => {
    const C = namedClass(t);
    for (const f of ds.fields) Field(() => fieldType(f) as never, { nullable: !f.required, description: f.description })(C.prototype, f.name);
    // Relation fields are declared by the resolver (FieldResolver) so they can batch.
    Field(() => EventMeta, { description: 'Where the event came from' })(C.prototype, '_meta');
    ObjectType(t, { description: ds.description })(C);
    return C;
  });

  const Where: Cls = cached(`${t}Where`, fp, () => {
    const C = namedClass(`${t}Where`);
    for (const f of ds.fields) {
      const F = f.list ? listFilter(f.type) : scalarFilter(f.type, opsFor(f));
      Field(() => F, { nullable: true })(C.prototype, f.name);
    }
    Field(() => [C], { nullable: true, description: 'all of these hold' })(C.prototype, 'and');
    Field(() => [C], { nullable: true, description: 'at least one of these holds' })(C.prototype, 'or');
    Field(() => C, { nullable: true, description: 'this does not hold' })(C.prototype, 'not');
    InputType(`${t}Where`, { description: `Filter on ${t}; every condition set must hold` })(C);
    return C;
  });

  const comparable = ds.fields.filter(isComparable);
  const OrderBy = cached(`${t}OrderBy`, fp, () => {
    const C = namedClass(`${t}OrderBy`);
    for (const f of comparable) Field(() => SortOrderEnum, { nullable: true })(C.prototype, f.name);
    InputType(`${t}OrderBy`, { description: 'Set exactly one field per list element, e.g. [{amount: DESC}, {id: ASC}]' })(C);
    return C;
  });

  let FieldEnum: object | null = null;
  const enumName = `${t}Field`;
  const enumHit = built.get(enumName);
  if (enumHit) FieldEnum = enumHit.type;
  else if (comparable.length > 0) {
    FieldEnum = Object.fromEntries(comparable.map((f) => [f.name, f.name]));
    registerEnumType(FieldEnum, { name: enumName, description: `Fields of ${t} that can be grouped by` });
    built.set(enumName, { fingerprint: fp, type: FieldEnum as Cls });
  }

  const Group = cached(`${t}Group`, fp, () => {
    const C = namedClass(`${t}Group`);
    for (const f of comparable) Field(() => graphqlScalar(f.type) as never, { nullable: true })(C.prototype, f.name);
    Field(() => DateTimeScalar, { nullable: true, description: 'start of the time bucket (with timeBucket)' })(C.prototype, 'bucket');
    ObjectType(`${t}Group`)(C);
    return C;
  });
  const numeric = ds.fields.filter(isNumeric);
  const Numeric = numeric.length
    ? cached(`${t}Numeric`, fp, () => {
        const C = namedClass(`${t}Numeric`);
        for (const f of numeric) Field(() => Float, { nullable: true })(C.prototype, f.name);
        ObjectType(`${t}Numeric`, { description: 'Sums and averages, as Float' })(C);
        return C;
      })
    : null;
  const minMaxFields = comparable.filter((f) => f.type !== 'boolean');
  const MinMax = minMaxFields.length
    ? cached(`${t}MinMax`, fp, () => {
        const C = namedClass(`${t}MinMax`);
        for (const f of minMaxFields) Field(() => graphqlScalar(f.type) as never, { nullable: true })(C.prototype, f.name);
        ObjectType(`${t}MinMax`)(C);
        return C;
      })
    : null;
  const Aggregate = cached(`${t}Aggregate`, fp, () => {
    const C = namedClass(`${t}Aggregate`);
    Field(() => Group)(C.prototype, 'group');
    Field(() => BigIntScalar)(C.prototype, 'count');
    if (Numeric) {
      Field(() => Numeric, { nullable: true })(C.prototype, 'sum');
      Field(() => Numeric, { nullable: true })(C.prototype, 'avg');
    }
    if (MinMax) {
      Field(() => MinMax, { nullable: true })(C.prototype, 'min');
      Field(() => MinMax, { nullable: true })(C.prototype, 'max');
    }
    ObjectType(`${t}Aggregate`)(C);
    return C;
  });

  const Edge = cached(`${t}Edge`, fp, () => {
    const C = namedClass(`${t}Edge`);
    Field(() => Obj)(C.prototype, 'node');
    Field(() => String)(C.prototype, 'cursor');
    ObjectType(`${t}Edge`)(C);
    return C;
  });
  const Connection = cached(`${t}Connection`, fp, () => {
    const C = namedClass(`${t}Connection`);
    Field(() => [Edge])(C.prototype, 'edges');
    Field(() => PageInfo)(C.prototype, 'pageInfo');
    ObjectType(`${t}Connection`)(C);
    return C;
  });

  const Input = cached(`${t}Input`, fp, () => {
    const C = namedClass(`${t}Input`);
    for (const f of ds.fields) Field(() => fieldType(f) as never, { nullable: !f.required, description: f.description })(C.prototype, f.name);
    InputType(`${t}Input`, { description: `A ${t} event to publish to Kafka topic "${ds.topic}"` })(C);
    return C;
  });

  return { Object: Obj, Where, OrderBy, FieldEnum, Aggregate, Connection, Input };
}
