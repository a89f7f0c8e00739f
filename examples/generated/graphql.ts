/* eslint-disable */
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A 64-bit integer, serialized as a string of digits (JSON numbers lose precision above 2^53). */
  BigInt: { input: string; output: string; }
  /** A calendar date, "YYYY-MM-DD". */
  Date: { input: string; output: string; }
  /** An instant as an ISO-8601 string with a time zone, e.g. "2026-11-21T13:00:00.000Z". Output is always UTC. */
  DateTime: { input: string; output: string; }
  /** The `JSON` scalar type represents JSON values as specified by [ECMA-404](http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf). */
  JSON: { input: unknown; output: unknown; }
};

/** Conditions on a BigInt field; all that are set must hold. */
export type BigIntFilter = {
  /** equal to */
  eq?: InputMaybe<Scalars['BigInt']['input']>;
  /** greater than */
  gt?: InputMaybe<Scalars['BigInt']['input']>;
  /** greater than or equal to */
  gte?: InputMaybe<Scalars['BigInt']['input']>;
  /** equal to one of */
  in?: InputMaybe<Array<Scalars['BigInt']['input']>>;
  /** true: the value is null; false: it is not */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** less than */
  lt?: InputMaybe<Scalars['BigInt']['input']>;
  /** less than or equal to */
  lte?: InputMaybe<Scalars['BigInt']['input']>;
  /** not equal to (null values never match; use isNull) */
  ne?: InputMaybe<Scalars['BigInt']['input']>;
  /** equal to none of (null values never match) */
  nin?: InputMaybe<Array<Scalars['BigInt']['input']>>;
};

/** Conditions on a Boolean field; all that are set must hold. */
export type BooleanFilter = {
  /** equal to */
  eq?: InputMaybe<Scalars['Boolean']['input']>;
  /** true: the value is null; false: it is not */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** not equal to (null values never match; use isNull) */
  ne?: InputMaybe<Scalars['Boolean']['input']>;
};

export type Customer = {
  __typename?: 'Customer';
  /** Where the event came from */
  _meta: EventMeta;
  country?: Maybe<Scalars['String']['output']>;
  email?: Maybe<Scalars['String']['output']>;
  id: Scalars['String']['output'];
  name: Scalars['String']['output'];
  segment?: Maybe<Scalars['String']['output']>;
  signupDate?: Maybe<Scalars['Date']['output']>;
  updatedAt: Scalars['DateTime']['output'];
};

export type CustomerAggregate = {
  __typename?: 'CustomerAggregate';
  count: Scalars['BigInt']['output'];
  group: CustomerGroup;
  max?: Maybe<CustomerMinMax>;
  min?: Maybe<CustomerMinMax>;
};

export type CustomerConnection = {
  __typename?: 'CustomerConnection';
  edges: Array<CustomerEdge>;
  pageInfo: PageInfo;
};

export type CustomerEdge = {
  __typename?: 'CustomerEdge';
  cursor: Scalars['String']['output'];
  node: Customer;
};

/** Fields of Customer that can be grouped by */
export type CustomerField =
  | 'country'
  | 'email'
  | 'id'
  | 'name'
  | 'segment'
  | 'signupDate'
  | 'updatedAt';

export type CustomerGroup = {
  __typename?: 'CustomerGroup';
  /** start of the time bucket (with timeBucket) */
  bucket?: Maybe<Scalars['DateTime']['output']>;
  country?: Maybe<Scalars['String']['output']>;
  email?: Maybe<Scalars['String']['output']>;
  id?: Maybe<Scalars['String']['output']>;
  name?: Maybe<Scalars['String']['output']>;
  segment?: Maybe<Scalars['String']['output']>;
  signupDate?: Maybe<Scalars['Date']['output']>;
  updatedAt?: Maybe<Scalars['DateTime']['output']>;
};

/** A Customer event to publish to Kafka topic "customers" */
export type CustomerInput = {
  country?: InputMaybe<Scalars['String']['input']>;
  email?: InputMaybe<Scalars['String']['input']>;
  id: Scalars['String']['input'];
  name: Scalars['String']['input'];
  segment?: InputMaybe<Scalars['String']['input']>;
  signupDate?: InputMaybe<Scalars['Date']['input']>;
  updatedAt: Scalars['DateTime']['input'];
};

export type CustomerMinMax = {
  __typename?: 'CustomerMinMax';
  country?: Maybe<Scalars['String']['output']>;
  email?: Maybe<Scalars['String']['output']>;
  id?: Maybe<Scalars['String']['output']>;
  name?: Maybe<Scalars['String']['output']>;
  segment?: Maybe<Scalars['String']['output']>;
  signupDate?: Maybe<Scalars['Date']['output']>;
  updatedAt?: Maybe<Scalars['DateTime']['output']>;
};

/** Set exactly one field per list element, e.g. [{amount: DESC}, {id: ASC}] */
export type CustomerOrderBy = {
  country?: InputMaybe<SortOrder>;
  email?: InputMaybe<SortOrder>;
  id?: InputMaybe<SortOrder>;
  name?: InputMaybe<SortOrder>;
  segment?: InputMaybe<SortOrder>;
  signupDate?: InputMaybe<SortOrder>;
  updatedAt?: InputMaybe<SortOrder>;
};

/** Filter on Customer; every condition set must hold */
export type CustomerWhere = {
  /** all of these hold */
  and?: InputMaybe<Array<CustomerWhere>>;
  country?: InputMaybe<StringFilter>;
  email?: InputMaybe<StringFilter>;
  id?: InputMaybe<StringFilter>;
  name?: InputMaybe<StringFilter>;
  /** this does not hold */
  not?: InputMaybe<CustomerWhere>;
  /** at least one of these holds */
  or?: InputMaybe<Array<CustomerWhere>>;
  segment?: InputMaybe<StringFilter>;
  signupDate?: InputMaybe<DateFilter>;
  updatedAt?: InputMaybe<DateTimeFilter>;
};

export type DatasetInfo = {
  __typename?: 'DatasetInfo';
  bytes: Scalars['BigInt']['output'];
  /** Messages in the dead-letter topic (null when Kafka is not reachable) */
  deadLettered?: Maybe<Scalars['BigInt']['output']>;
  files: Scalars['Int']['output'];
  /** Messages in Kafka not yet in the lake (null when unknown) */
  lagMessages?: Maybe<Scalars['BigInt']['output']>;
  lastEventTime?: Maybe<Scalars['DateTime']['output']>;
  name: Scalars['String']['output'];
  rows: Scalars['BigInt']['output'];
  topic: Scalars['String']['output'];
  typeName: Scalars['String']['output'];
};

/** Conditions on a Date field; all that are set must hold. */
export type DateFilter = {
  /** equal to */
  eq?: InputMaybe<Scalars['Date']['input']>;
  /** greater than */
  gt?: InputMaybe<Scalars['Date']['input']>;
  /** greater than or equal to */
  gte?: InputMaybe<Scalars['Date']['input']>;
  /** equal to one of */
  in?: InputMaybe<Array<Scalars['Date']['input']>>;
  /** true: the value is null; false: it is not */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** less than */
  lt?: InputMaybe<Scalars['Date']['input']>;
  /** less than or equal to */
  lte?: InputMaybe<Scalars['Date']['input']>;
  /** not equal to (null values never match; use isNull) */
  ne?: InputMaybe<Scalars['Date']['input']>;
  /** equal to none of (null values never match) */
  nin?: InputMaybe<Array<Scalars['Date']['input']>>;
};

/** Conditions on a DateTime field; all that are set must hold. */
export type DateTimeFilter = {
  /** equal to */
  eq?: InputMaybe<Scalars['DateTime']['input']>;
  /** greater than */
  gt?: InputMaybe<Scalars['DateTime']['input']>;
  /** greater than or equal to */
  gte?: InputMaybe<Scalars['DateTime']['input']>;
  /** equal to one of */
  in?: InputMaybe<Array<Scalars['DateTime']['input']>>;
  /** true: the value is null; false: it is not */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** less than */
  lt?: InputMaybe<Scalars['DateTime']['input']>;
  /** less than or equal to */
  lte?: InputMaybe<Scalars['DateTime']['input']>;
  /** not equal to (null values never match; use isNull) */
  ne?: InputMaybe<Scalars['DateTime']['input']>;
  /** equal to none of (null values never match) */
  nin?: InputMaybe<Array<Scalars['DateTime']['input']>>;
};

/** Where an event came from */
export type EventMeta = {
  __typename?: 'EventMeta';
  /** Opaque position of this event; `from: {cursor}` resumes right after it */
  cursor: Scalars['String']['output'];
  key?: Maybe<Scalars['String']['output']>;
  offset: Scalars['BigInt']['output'];
  partition: Scalars['Int']['output'];
  /** Kafka record timestamp */
  timestamp: Scalars['DateTime']['output'];
  topic: Scalars['String']['output'];
};

/** Conditions on a Float field; all that are set must hold. */
export type FloatFilter = {
  /** equal to */
  eq?: InputMaybe<Scalars['Float']['input']>;
  /** greater than */
  gt?: InputMaybe<Scalars['Float']['input']>;
  /** greater than or equal to */
  gte?: InputMaybe<Scalars['Float']['input']>;
  /** equal to one of */
  in?: InputMaybe<Array<Scalars['Float']['input']>>;
  /** true: the value is null; false: it is not */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** less than */
  lt?: InputMaybe<Scalars['Float']['input']>;
  /** less than or equal to */
  lte?: InputMaybe<Scalars['Float']['input']>;
  /** not equal to (null values never match; use isNull) */
  ne?: InputMaybe<Scalars['Float']['input']>;
  /** equal to none of (null values never match) */
  nin?: InputMaybe<Array<Scalars['Float']['input']>>;
};

/** Conditions on a Int field; all that are set must hold. */
export type IntFilter = {
  /** equal to */
  eq?: InputMaybe<Scalars['Int']['input']>;
  /** greater than */
  gt?: InputMaybe<Scalars['Int']['input']>;
  /** greater than or equal to */
  gte?: InputMaybe<Scalars['Int']['input']>;
  /** equal to one of */
  in?: InputMaybe<Array<Scalars['Int']['input']>>;
  /** true: the value is null; false: it is not */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** less than */
  lt?: InputMaybe<Scalars['Int']['input']>;
  /** less than or equal to */
  lte?: InputMaybe<Scalars['Int']['input']>;
  /** not equal to (null values never match; use isNull) */
  ne?: InputMaybe<Scalars['Int']['input']>;
  /** equal to none of (null values never match) */
  nin?: InputMaybe<Array<Scalars['Int']['input']>>;
};

/** Conditions on a JSON field; all that are set must hold. */
export type JsonFilter = {
  /** true: the value is null; false: it is not */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
};

export type Mutation = {
  __typename?: 'Mutation';
  /** Publish one Customer event to Kafka topic "customers"; returns once the broker acknowledged it (acks=all) */
  publishCustomer: PublishResult;
  /** Publish Customer events in one request (keys from id); results in input order, after the broker's ack */
  publishCustomerBatch: Array<PublishResult>;
  /** Publish one Order event to Kafka topic "orders"; returns once the broker acknowledged it (acks=all) */
  publishOrder: PublishResult;
  /** Publish Order events in one request (keys from id); results in input order, after the broker's ack */
  publishOrderBatch: Array<PublishResult>;
};


export type MutationPublishCustomerArgs = {
  input: CustomerInput;
  key?: InputMaybe<Scalars['String']['input']>;
};


export type MutationPublishCustomerBatchArgs = {
  inputs: Array<CustomerInput>;
};


export type MutationPublishOrderArgs = {
  input: OrderInput;
  key?: InputMaybe<Scalars['String']['input']>;
};


export type MutationPublishOrderBatchArgs = {
  inputs: Array<OrderInput>;
};

export type Order = {
  __typename?: 'Order';
  /** Where the event came from */
  _meta: EventMeta;
  amount: Scalars['Float']['output'];
  attributes?: Maybe<Scalars['JSON']['output']>;
  createdAt: Scalars['DateTime']['output'];
  /** The Customer this Order refers to (latest version) */
  customer?: Maybe<Customer>;
  customerId: Scalars['String']['output'];
  id: Scalars['String']['output'];
  paid?: Maybe<Scalars['Boolean']['output']>;
  quantity?: Maybe<Scalars['Int']['output']>;
  status?: Maybe<Scalars['String']['output']>;
  tags?: Maybe<Array<Scalars['String']['output']>>;
  total?: Maybe<Scalars['BigInt']['output']>;
};

export type OrderAggregate = {
  __typename?: 'OrderAggregate';
  avg?: Maybe<OrderNumeric>;
  count: Scalars['BigInt']['output'];
  group: OrderGroup;
  max?: Maybe<OrderMinMax>;
  min?: Maybe<OrderMinMax>;
  sum?: Maybe<OrderNumeric>;
};

export type OrderConnection = {
  __typename?: 'OrderConnection';
  edges: Array<OrderEdge>;
  pageInfo: PageInfo;
};

export type OrderEdge = {
  __typename?: 'OrderEdge';
  cursor: Scalars['String']['output'];
  node: Order;
};

/** Fields of Order that can be grouped by */
export type OrderField =
  | 'amount'
  | 'createdAt'
  | 'customerId'
  | 'id'
  | 'paid'
  | 'quantity'
  | 'status'
  | 'total';

export type OrderGroup = {
  __typename?: 'OrderGroup';
  amount?: Maybe<Scalars['Float']['output']>;
  /** start of the time bucket (with timeBucket) */
  bucket?: Maybe<Scalars['DateTime']['output']>;
  createdAt?: Maybe<Scalars['DateTime']['output']>;
  customerId?: Maybe<Scalars['String']['output']>;
  id?: Maybe<Scalars['String']['output']>;
  paid?: Maybe<Scalars['Boolean']['output']>;
  quantity?: Maybe<Scalars['Int']['output']>;
  status?: Maybe<Scalars['String']['output']>;
  total?: Maybe<Scalars['BigInt']['output']>;
};

/** A Order event to publish to Kafka topic "orders" */
export type OrderInput = {
  amount: Scalars['Float']['input'];
  attributes?: InputMaybe<Scalars['JSON']['input']>;
  createdAt: Scalars['DateTime']['input'];
  customerId: Scalars['String']['input'];
  id: Scalars['String']['input'];
  paid?: InputMaybe<Scalars['Boolean']['input']>;
  quantity?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<Scalars['String']['input']>;
  tags?: InputMaybe<Array<Scalars['String']['input']>>;
  total?: InputMaybe<Scalars['BigInt']['input']>;
};

export type OrderMinMax = {
  __typename?: 'OrderMinMax';
  amount?: Maybe<Scalars['Float']['output']>;
  createdAt?: Maybe<Scalars['DateTime']['output']>;
  customerId?: Maybe<Scalars['String']['output']>;
  id?: Maybe<Scalars['String']['output']>;
  quantity?: Maybe<Scalars['Int']['output']>;
  status?: Maybe<Scalars['String']['output']>;
  total?: Maybe<Scalars['BigInt']['output']>;
};

/** Sums and averages, as Float */
export type OrderNumeric = {
  __typename?: 'OrderNumeric';
  amount?: Maybe<Scalars['Float']['output']>;
  quantity?: Maybe<Scalars['Float']['output']>;
  total?: Maybe<Scalars['Float']['output']>;
};

/** Set exactly one field per list element, e.g. [{amount: DESC}, {id: ASC}] */
export type OrderOrderBy = {
  amount?: InputMaybe<SortOrder>;
  createdAt?: InputMaybe<SortOrder>;
  customerId?: InputMaybe<SortOrder>;
  id?: InputMaybe<SortOrder>;
  paid?: InputMaybe<SortOrder>;
  quantity?: InputMaybe<SortOrder>;
  status?: InputMaybe<SortOrder>;
  total?: InputMaybe<SortOrder>;
};

/** Filter on Order; every condition set must hold */
export type OrderWhere = {
  amount?: InputMaybe<FloatFilter>;
  /** all of these hold */
  and?: InputMaybe<Array<OrderWhere>>;
  attributes?: InputMaybe<JsonFilter>;
  createdAt?: InputMaybe<DateTimeFilter>;
  customerId?: InputMaybe<StringFilter>;
  id?: InputMaybe<StringFilter>;
  /** this does not hold */
  not?: InputMaybe<OrderWhere>;
  /** at least one of these holds */
  or?: InputMaybe<Array<OrderWhere>>;
  paid?: InputMaybe<BooleanFilter>;
  quantity?: InputMaybe<IntFilter>;
  status?: InputMaybe<StringFilter>;
  tags?: InputMaybe<StringListFilter>;
  total?: InputMaybe<BigIntFilter>;
};

export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

/** Where the broker stored a published event (returned only after acks=all) */
export type PublishResult = {
  __typename?: 'PublishResult';
  offset: Scalars['BigInt']['output'];
  partition: Scalars['Int']['output'];
  /** Kafka record timestamp */
  timestamp: Scalars['DateTime']['output'];
  topic: Scalars['String']['output'];
};

export type Query = {
  __typename?: 'Query';
  /** Events of dataset "customers" from the lake */
  customers: Array<Customer>;
  /** Counts, sums, averages, minima and maxima of customers */
  customersAggregate: Array<CustomerAggregate>;
  /** Keyset-paginated customers */
  customersConnection: CustomerConnection;
  /** The datasets of the catalog, with lake statistics */
  datasets: Array<DatasetInfo>;
  /** Events of dataset "orders" from the lake */
  orders: Array<Order>;
  /** Counts, sums, averages, minima and maxima of orders */
  ordersAggregate: Array<OrderAggregate>;
  /** Keyset-paginated orders */
  ordersConnection: OrderConnection;
};


export type QueryCustomersArgs = {
  limit?: InputMaybe<Scalars['Int']['input']>;
  offset?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<Array<CustomerOrderBy>>;
  where?: InputMaybe<CustomerWhere>;
};


export type QueryCustomersAggregateArgs = {
  groupBy?: InputMaybe<Array<CustomerField>>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  timeBucket?: InputMaybe<TimeBucket>;
  where?: InputMaybe<CustomerWhere>;
};


export type QueryCustomersConnectionArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<Array<CustomerOrderBy>>;
  where?: InputMaybe<CustomerWhere>;
};


export type QueryOrdersArgs = {
  limit?: InputMaybe<Scalars['Int']['input']>;
  offset?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<Array<OrderOrderBy>>;
  where?: InputMaybe<OrderWhere>;
};


export type QueryOrdersAggregateArgs = {
  groupBy?: InputMaybe<Array<OrderField>>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  timeBucket?: InputMaybe<TimeBucket>;
  where?: InputMaybe<OrderWhere>;
};


export type QueryOrdersConnectionArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<Array<OrderOrderBy>>;
  where?: InputMaybe<OrderWhere>;
};

/** ASC puts nulls last and DESC puts them first (as in Postgres); the other two say where nulls go. */
export type SortOrder =
  | 'ASC'
  | 'ASC_NULLS_FIRST'
  | 'DESC'
  | 'DESC_NULLS_LAST';

export type StreamPosition =
  /** every event the lake and Kafka hold, oldest first, then live */
  | 'EARLIEST'
  /** events from now on (the default) */
  | 'LATEST';

/** Where a subscription starts; set at most one field. History comes from the lake, then the stream continues live from Kafka with no gap and no duplicate. */
export type StreamStart = {
  /** _meta.cursor of a delivered event: resume right after it */
  cursor?: InputMaybe<Scalars['String']['input']>;
  /** LATEST (default) or EARLIEST */
  position?: InputMaybe<StreamPosition>;
  /** replay from this Kafka record time on, then continue live */
  timestamp?: InputMaybe<Scalars['DateTime']['input']>;
};

/** Conditions on a String field; all that are set must hold. */
export type StringFilter = {
  /** contains this text */
  contains?: InputMaybe<Scalars['String']['input']>;
  /** equal to */
  eq?: InputMaybe<Scalars['String']['input']>;
  /** greater than */
  gt?: InputMaybe<Scalars['String']['input']>;
  /** greater than or equal to */
  gte?: InputMaybe<Scalars['String']['input']>;
  /** SQL LIKE pattern, case-insensitive */
  ilike?: InputMaybe<Scalars['String']['input']>;
  /** equal to one of */
  in?: InputMaybe<Array<Scalars['String']['input']>>;
  /** true: the value is null; false: it is not */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** SQL LIKE pattern (% any run, _ one character), case-sensitive */
  like?: InputMaybe<Scalars['String']['input']>;
  /** less than */
  lt?: InputMaybe<Scalars['String']['input']>;
  /** less than or equal to */
  lte?: InputMaybe<Scalars['String']['input']>;
  /** not equal to (null values never match; use isNull) */
  ne?: InputMaybe<Scalars['String']['input']>;
  /** equal to none of (null values never match) */
  nin?: InputMaybe<Array<Scalars['String']['input']>>;
  /** starts with this text */
  startsWith?: InputMaybe<Scalars['String']['input']>;
};

export type StringListFilter = {
  /** the list has this element */
  contains?: InputMaybe<Scalars['String']['input']>;
  /** the list has all of these elements */
  containsAll?: InputMaybe<Array<Scalars['String']['input']>>;
  /** the list has at least one of these elements */
  containsAny?: InputMaybe<Array<Scalars['String']['input']>>;
  /** true: the list is empty (not null); false: it has elements */
  isEmpty?: InputMaybe<Scalars['Boolean']['input']>;
  /** true: the list is null; false: it is not */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
};

export type Subscription = {
  __typename?: 'Subscription';
  /** Events of dataset "customers" as they reach Kafka topic "customers", filtered on the server; with `from`, history from the lake first */
  customers: Customer;
  /** Events of dataset "orders" as they reach Kafka topic "orders", filtered on the server; with `from`, history from the lake first */
  orders: Order;
};


export type SubscriptionCustomersArgs = {
  from?: InputMaybe<StreamStart>;
  where?: InputMaybe<CustomerWhere>;
};


export type SubscriptionOrdersArgs = {
  from?: InputMaybe<StreamStart>;
  where?: InputMaybe<OrderWhere>;
};

/** Buckets of `size` units of the dataset's eventTime (UTC; weeks start on Monday) */
export type TimeBucket = {
  size?: InputMaybe<Scalars['Int']['input']>;
  unit: TimeUnit;
};

export type TimeUnit =
  | 'DAY'
  | 'HOUR'
  | 'MINUTE'
  | 'MONTH'
  | 'SECOND'
  | 'WEEK';

export type RecentBigOrdersQueryVariables = Exact<{
  since: Scalars['DateTime']['input'];
  minAmount: Scalars['Float']['input'];
  limit?: InputMaybe<Scalars['Int']['input']>;
}>;


export type RecentBigOrdersQuery = { __typename?: 'Query', orders: Array<{ __typename?: 'Order', id: string, amount: number, status?: string | null, createdAt: string, tags?: Array<string> | null, customer?: { __typename?: 'Customer', id: string, name: string } | null, _meta: { __typename?: 'EventMeta', partition: number, offset: string } }> };

export type OrdersPageQueryVariables = Exact<{
  first: Scalars['Int']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type OrdersPageQuery = { __typename?: 'Query', ordersConnection: { __typename?: 'OrderConnection', edges: Array<{ __typename?: 'OrderEdge', cursor: string, node: { __typename?: 'Order', id: string, createdAt: string } }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null } } };

export type DailyRevenueByStatusQueryVariables = Exact<{
  where?: InputMaybe<OrderWhere>;
}>;


export type DailyRevenueByStatusQuery = { __typename?: 'Query', ordersAggregate: Array<{ __typename?: 'OrderAggregate', count: string, group: { __typename?: 'OrderGroup', bucket?: string | null, status?: string | null }, sum?: { __typename?: 'OrderNumeric', amount?: number | null } | null }> };

export type PaidOrdersSubscriptionVariables = Exact<{
  minAmount: Scalars['Float']['input'];
  from?: InputMaybe<StreamStart>;
}>;


export type PaidOrdersSubscription = { __typename?: 'Subscription', orders: { __typename?: 'Order', id: string, amount: number, createdAt: string, _meta: { __typename?: 'EventMeta', partition: number, offset: string, cursor: string } } };

export type PublishOrderMutationVariables = Exact<{
  input: OrderInput;
}>;


export type PublishOrderMutation = { __typename?: 'Mutation', publishOrder: { __typename?: 'PublishResult', topic: string, partition: number, offset: string, timestamp: string } };

export type PublishOrdersMutationVariables = Exact<{
  inputs: Array<OrderInput> | OrderInput;
}>;


export type PublishOrdersMutation = { __typename?: 'Mutation', publishOrderBatch: Array<{ __typename?: 'PublishResult', partition: number, offset: string }> };


export const RecentBigOrdersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"RecentBigOrders"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"since"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"DateTime"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"minAmount"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Float"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"limit"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"orders"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"where"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"createdAt"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"gte"},"value":{"kind":"Variable","name":{"kind":"Name","value":"since"}}}]}},{"kind":"ObjectField","name":{"kind":"Name","value":"amount"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"gte"},"value":{"kind":"Variable","name":{"kind":"Name","value":"minAmount"}}}]}}]}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"ListValue","values":[{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"amount"},"value":{"kind":"EnumValue","value":"DESC"}}]},{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"id"},"value":{"kind":"EnumValue","value":"ASC"}}]}]}},{"kind":"Argument","name":{"kind":"Name","value":"limit"},"value":{"kind":"Variable","name":{"kind":"Name","value":"limit"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"tags"}},{"kind":"Field","name":{"kind":"Name","value":"customer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"_meta"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partition"}},{"kind":"Field","name":{"kind":"Name","value":"offset"}}]}}]}}]}}]} as unknown as DocumentNode<RecentBigOrdersQuery, RecentBigOrdersQueryVariables>;
export const OrdersPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"OrdersPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"ordersConnection"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"ListValue","values":[{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"createdAt"},"value":{"kind":"EnumValue","value":"DESC"}}]}]}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<OrdersPageQuery, OrdersPageQueryVariables>;
export const DailyRevenueByStatusDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DailyRevenueByStatus"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"where"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"OrderWhere"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"ordersAggregate"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"where"},"value":{"kind":"Variable","name":{"kind":"Name","value":"where"}}},{"kind":"Argument","name":{"kind":"Name","value":"groupBy"},"value":{"kind":"ListValue","values":[{"kind":"EnumValue","value":"status"}]}},{"kind":"Argument","name":{"kind":"Name","value":"timeBucket"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"unit"},"value":{"kind":"EnumValue","value":"DAY"}}]}},{"kind":"Argument","name":{"kind":"Name","value":"limit"},"value":{"kind":"IntValue","value":"1000"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"group"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"bucket"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}},{"kind":"Field","name":{"kind":"Name","value":"count"}},{"kind":"Field","name":{"kind":"Name","value":"sum"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}}]}}]}}]}}]} as unknown as DocumentNode<DailyRevenueByStatusQuery, DailyRevenueByStatusQueryVariables>;
export const PaidOrdersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"PaidOrders"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"minAmount"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Float"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"from"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"StreamStart"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"orders"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"where"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"paid"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"eq"},"value":{"kind":"BooleanValue","value":true}}]}},{"kind":"ObjectField","name":{"kind":"Name","value":"amount"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"gte"},"value":{"kind":"Variable","name":{"kind":"Name","value":"minAmount"}}}]}}]}},{"kind":"Argument","name":{"kind":"Name","value":"from"},"value":{"kind":"Variable","name":{"kind":"Name","value":"from"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"_meta"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partition"}},{"kind":"Field","name":{"kind":"Name","value":"offset"}},{"kind":"Field","name":{"kind":"Name","value":"cursor"}}]}}]}}]}}]} as unknown as DocumentNode<PaidOrdersSubscription, PaidOrdersSubscriptionVariables>;
export const PublishOrderDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"PublishOrder"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"OrderInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"publishOrder"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"topic"}},{"kind":"Field","name":{"kind":"Name","value":"partition"}},{"kind":"Field","name":{"kind":"Name","value":"offset"}},{"kind":"Field","name":{"kind":"Name","value":"timestamp"}}]}}]}}]} as unknown as DocumentNode<PublishOrderMutation, PublishOrderMutationVariables>;
export const PublishOrdersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"PublishOrders"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"inputs"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"OrderInput"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"publishOrderBatch"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"inputs"},"value":{"kind":"Variable","name":{"kind":"Name","value":"inputs"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partition"}},{"kind":"Field","name":{"kind":"Name","value":"offset"}}]}}]}}]} as unknown as DocumentNode<PublishOrdersMutation, PublishOrdersMutationVariables>;