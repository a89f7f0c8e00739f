// Catalog → executable GraphQL schema (type-graphql classes made at runtime plus the dataset resolvers).
// The printed form is sorted so that schema/schema.graphql diffs only when the API really changes.

import 'reflect-metadata';
import { type GraphQLSchema, printSchema } from "graphql";
import { buildSchema } from 'type-graphql';
import type { Catalog } from '../config';
import { createDatasetResolver, createDatasetsResolver, directResolversOf } from '../resolvers';
import type { GatewayContext } from '../resolvers/context';
import { type DatasetTypes, datasetTypes } from './types';

const directFields = new WeakMap<GraphQLSchema, ReadonlySet<string>>();

/** The root mutation fields resolved directly (not through type-graphql; their resolvers do not read `info`). */
export function directMutationFields(schema: GraphQLSchema): ReadonlySet<string> {
  return directFields.get(schema) ?? new Set();
}

export async function buildGatewaySchema(catalog: Catalog): Promise<GraphQLSchema> {
  const types = new Map<string, DatasetTypes>();
  for (const ds of catalog.datasets) types.set(ds.name, datasetTypes(ds));
  const typesOf = (name: string) => types.get(name)!;
  const resolvers = [createDatasetsResolver(), ...catalog.datasets.map((ds) => createDatasetResolver(ds, typesOf(ds.name), typesOf, catalog))];
  // type-graphql insists on a PubSub once there are subscriptions, even with a `subscribe` function on each of them;
  // lakegate's subscriptions never go through it (the live hub serves them), so this one refuses to be used.
  const pubSub = {
    publish() {
      throw new Error('lakegate does not use type-graphql PubSub');
    },
    subscribe(): never {
      throw new Error('lakegate does not use type-graphql PubSub');
    },
  };
  const schema = await buildSchema({ resolvers: resolvers as [Function, ...Function[]], validate: false, pubSub });
  // A subscription root field resolves to the event itself. type-graphql wraps every resolver in an async function,
  // which would make each per-event execution a promise (~3x slower, and fan-out would have to wait for it); the
  // identity keeps executions synchronous unless the selection needs the lake (relations).
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) field.resolve = (source: unknown) => source;
  // Root mutation fields some resolvers resolve themselves, without type-graphql's argument pipeline (the publish
  // mutations: resolvers/dataset.resolver.ts).
  const mutations = schema.getMutationType()?.getFields() ?? {};
  const direct = new Set<string>();
  for (const R of resolvers) {
    for (const [name, resolve] of Object.entries(directResolversOf(R))) {
      const field = mutations[name];
      if (!field) throw new Error(`internal: no mutation ${name} to resolve directly`);
      direct.add(name);
      field.resolve = ((src, args, ctx: GatewayContext, info) => {
        // The fast path already called this resolver for this request and it failed: report that failure, once.
        const failed = ctx.publishFailure;
        if (failed) {
          ctx.publishFailure = undefined;
          return Promise.reject(failed.error);
        }
        return resolve(src, args, ctx, info);
      }) as typeof field.resolve;
    }
  }
  directFields.set(schema, direct);
  return schema;
}

export function printGatewaySchema(schema: GraphQLSchema): string {
  return printSchema(schema) + "\n";
}
