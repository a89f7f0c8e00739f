// Depth, cost, alias and directive limits as GraphQL validation rules, shared by HTTP (Apollo) and websocket operations.
// A rejected operation gets extensions.code LIMIT_EXCEEDED and never reaches a resolver.

import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';
import type { Limits } from '../config';

/** Most tokens a document may have (bounds parser work before validation even starts). */
export const MAX_TOKENS = 5_000;
/** Largest request body accepted over HTTP and largest websocket message. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

export function limitRules(limits: Limits): ValidationRule[] {
  const onReject = [
    (ctx: ValidationContext | null, error: GraphQLError) => {
      ctx?.reportError(new GraphQLError(error.message, { extensions: { code: 'LIMIT_EXCEEDED' } }));
    },
  ];
  const common = { propagateOnRejection: false, onReject, exposeLimits: true };
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...common }),
    costLimitRule({ maxCost: limits.maxCost, ignoreIntrospection: true, ...common }),
    maxAliasesRule({ n: limits.maxAliases, ...common }),
    maxDirectivesRule({ n: 50, ...common }),
  ] as ValidationRule[];
}
