/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query RecentBigOrders($since: DateTime!, $minAmount: Float!, $limit: Int) {\n  orders(\n    where: {createdAt: {gte: $since}, amount: {gte: $minAmount}}\n    orderBy: [{amount: DESC}, {id: ASC}]\n    limit: $limit\n  ) {\n    id\n    amount\n    status\n    createdAt\n    tags\n    customer {\n      id\n      name\n    }\n    _meta {\n      partition\n      offset\n    }\n  }\n}\n\nquery OrdersPage($first: Int!, $after: String) {\n  ordersConnection(orderBy: [{createdAt: DESC}], first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery DailyRevenueByStatus($where: OrderWhere) {\n  ordersAggregate(\n    where: $where\n    groupBy: [status]\n    timeBucket: {unit: DAY}\n    limit: 1000\n  ) {\n    group {\n      bucket\n      status\n    }\n    count\n    sum {\n      amount\n    }\n  }\n}\n\nsubscription PaidOrders($minAmount: Float!, $from: StreamStart) {\n  orders(where: {paid: {eq: true}, amount: {gte: $minAmount}}, from: $from) {\n    id\n    amount\n    createdAt\n    _meta {\n      partition\n      offset\n      cursor\n    }\n  }\n}\n\nmutation PublishOrder($input: OrderInput!) {\n  publishOrder(input: $input) {\n    topic\n    partition\n    offset\n    timestamp\n  }\n}\n\nmutation PublishOrders($inputs: [OrderInput!]!) {\n  publishOrderBatch(inputs: $inputs) {\n    partition\n    offset\n  }\n}": typeof types.RecentBigOrdersDocument,
};
const documents: Documents = {
    "query RecentBigOrders($since: DateTime!, $minAmount: Float!, $limit: Int) {\n  orders(\n    where: {createdAt: {gte: $since}, amount: {gte: $minAmount}}\n    orderBy: [{amount: DESC}, {id: ASC}]\n    limit: $limit\n  ) {\n    id\n    amount\n    status\n    createdAt\n    tags\n    customer {\n      id\n      name\n    }\n    _meta {\n      partition\n      offset\n    }\n  }\n}\n\nquery OrdersPage($first: Int!, $after: String) {\n  ordersConnection(orderBy: [{createdAt: DESC}], first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery DailyRevenueByStatus($where: OrderWhere) {\n  ordersAggregate(\n    where: $where\n    groupBy: [status]\n    timeBucket: {unit: DAY}\n    limit: 1000\n  ) {\n    group {\n      bucket\n      status\n    }\n    count\n    sum {\n      amount\n    }\n  }\n}\n\nsubscription PaidOrders($minAmount: Float!, $from: StreamStart) {\n  orders(where: {paid: {eq: true}, amount: {gte: $minAmount}}, from: $from) {\n    id\n    amount\n    createdAt\n    _meta {\n      partition\n      offset\n      cursor\n    }\n  }\n}\n\nmutation PublishOrder($input: OrderInput!) {\n  publishOrder(input: $input) {\n    topic\n    partition\n    offset\n    timestamp\n  }\n}\n\nmutation PublishOrders($inputs: [OrderInput!]!) {\n  publishOrderBatch(inputs: $inputs) {\n    partition\n    offset\n  }\n}": types.RecentBigOrdersDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query RecentBigOrders($since: DateTime!, $minAmount: Float!, $limit: Int) {\n  orders(\n    where: {createdAt: {gte: $since}, amount: {gte: $minAmount}}\n    orderBy: [{amount: DESC}, {id: ASC}]\n    limit: $limit\n  ) {\n    id\n    amount\n    status\n    createdAt\n    tags\n    customer {\n      id\n      name\n    }\n    _meta {\n      partition\n      offset\n    }\n  }\n}\n\nquery OrdersPage($first: Int!, $after: String) {\n  ordersConnection(orderBy: [{createdAt: DESC}], first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery DailyRevenueByStatus($where: OrderWhere) {\n  ordersAggregate(\n    where: $where\n    groupBy: [status]\n    timeBucket: {unit: DAY}\n    limit: 1000\n  ) {\n    group {\n      bucket\n      status\n    }\n    count\n    sum {\n      amount\n    }\n  }\n}\n\nsubscription PaidOrders($minAmount: Float!, $from: StreamStart) {\n  orders(where: {paid: {eq: true}, amount: {gte: $minAmount}}, from: $from) {\n    id\n    amount\n    createdAt\n    _meta {\n      partition\n      offset\n      cursor\n    }\n  }\n}\n\nmutation PublishOrder($input: OrderInput!) {\n  publishOrder(input: $input) {\n    topic\n    partition\n    offset\n    timestamp\n  }\n}\n\nmutation PublishOrders($inputs: [OrderInput!]!) {\n  publishOrderBatch(inputs: $inputs) {\n    partition\n    offset\n  }\n}"): (typeof documents)["query RecentBigOrders($since: DateTime!, $minAmount: Float!, $limit: Int) {\n  orders(\n    where: {createdAt: {gte: $since}, amount: {gte: $minAmount}}\n    orderBy: [{amount: DESC}, {id: ASC}]\n    limit: $limit\n  ) {\n    id\n    amount\n    status\n    createdAt\n    tags\n    customer {\n      id\n      name\n    }\n    _meta {\n      partition\n      offset\n    }\n  }\n}\n\nquery OrdersPage($first: Int!, $after: String) {\n  ordersConnection(orderBy: [{createdAt: DESC}], first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery DailyRevenueByStatus($where: OrderWhere) {\n  ordersAggregate(\n    where: $where\n    groupBy: [status]\n    timeBucket: {unit: DAY}\n    limit: 1000\n  ) {\n    group {\n      bucket\n      status\n    }\n    count\n    sum {\n      amount\n    }\n  }\n}\n\nsubscription PaidOrders($minAmount: Float!, $from: StreamStart) {\n  orders(where: {paid: {eq: true}, amount: {gte: $minAmount}}, from: $from) {\n    id\n    amount\n    createdAt\n    _meta {\n      partition\n      offset\n      cursor\n    }\n  }\n}\n\nmutation PublishOrder($input: OrderInput!) {\n  publishOrder(input: $input) {\n    topic\n    partition\n    offset\n    timestamp\n  }\n}\n\nmutation PublishOrders($inputs: [OrderInput!]!) {\n  publishOrderBatch(inputs: $inputs) {\n    partition\n    offset\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;