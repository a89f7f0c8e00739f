// Depth, cost, alias and directive limits as GraphQL validation rules, shared by HTTP (Apollo) and websocket operations.
// A rejected operation gets extensions.code LIMIT_EXCEEDED and never reaches a resolver.

import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { type DocumentNode, GraphQLError, type GraphQLSchema, type ValidationContext, type ValidationRule } from 'graphql';
import { getComplexity, simpleEstimator } from 'graphql-query-complexity';
import type { Limits } from '../config';

/** Most tokens a document may have (bounds parser work before validation even starts). */
export const MAX_TOKENS = 5_000;
/** Largest request body accepted over HTTP and largest websocket message. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

export function limitRules(limits: Limits): ValidationRule[] {
  const onReject = [
    (ctx: ValidationContext | null, error: GraphQLError) => {
      // Apollo re-codes validation errors as GRAPHQL_VALIDATION_FAILED; the marker survives and the formatter restores the code.
      ctx?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'LIMIT_EXCEEDED', limitExceeded: true } }));
    },
  ];
  const common = { propagateOnRejection: false, onReject, exposeLimits: true };
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...common }),
    maxAliasesRule({ n: limits.maxAliases, ...common }),
    maxDirectivesRule({ n: 50, ...common }),
  ] as ValidationRule[];
}

/**
 * Query cost with the variables known (so a literal and a variable count alike): one point per field selected,
 * counted through fragments. Rows are bounded separately by the limit cap, so page sizes do not multiply the cost.
 */
export function costError(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined | null, maxCost: number): GraphQLError | null {
  let cost: number;
  // The cost is one per selected field; variables matter only to @skip/@include. graphql-query-complexity coerces
  // every variable anyway, so a batch of 1,000 inputs would be coerced here and again by execution: lists are cut
  // to their first element (an input list never changes which fields are selected).
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(variables ?? {})) vars[k] = Array.isArray(v) ? v.slice(0, 1) : v;
  try {
    cost = getComplexity({ schema, query: document, variables: vars, operationName: operationName ?? undefined, estimators: [simpleEstimator({ defaultComplexity: 1 })] });
  } catch (e) {
    // graphql-query-complexity gives up on documents with too many nodes (fragment fan-out): that is over any budget.
    if (e instanceof Error && /maximum allowed number of nodes/i.test(e.message)) {
      return new GraphQLError(`query is too large (more than 10000 fields after expanding fragments)`, { extensions: { code: 'LIMIT_EXCEEDED', limitExceeded: true, http: { status: 400 } } });
    }
    return null; // variable errors are reported by execution itself, with their own code
  }
  if (cost <= maxCost) return null;
  return new GraphQLError(`query cost ${cost} exceeds the maximum of ${maxCost}`, { extensions: { code: 'LIMIT_EXCEEDED', limitExceeded: true, http: { status: 400 } } });
}

/** Deepest nesting of variable values accepted; deeper input would overflow graphql-js's recursive coercion. */
export const MAX_VARIABLE_DEPTH = 64;

export function variablesError(variables: unknown): GraphQLError | null {
  // Loops rather than some(): this walks every value of every request (a 1,000-event batch publish: ~20,000).
  const tooDeep = (v: unknown, depth: number): boolean => {
    if (depth > MAX_VARIABLE_DEPTH) return true;
    if (v === null || typeof v !== 'object') return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (tooDeep(v[i], depth + 1)) return true;
      return false;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (tooDeep(o[k], depth + 1)) return true;
    return false;
  };
  return tooDeep(variables, 0)
    ? new GraphQLError(`variables are nested more than ${MAX_VARIABLE_DEPTH} levels deep`, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } })
    : null;
}
