// The publish mutations' fast path: an Apollo plugin that answers `publish<Type>` / `publish<Type>Batch` operations
// without graphql-js' execute. A batch publish is CPU-bound on graphql-js' coercion of its `inputs` variable (a generic
// walk over the input types, with development-mode instanceOf checks: ~20 µs per event, a quarter of the gateway's
// time); here the operation's variable definitions are coerced by closures compiled once per input type.
//
// Invariants:
// - It serves only operations whose answer it can give exactly as graphql-js would: one root mutation field that is a
//   publish field, no directives or fragments anywhere, a selection of PublishResult's scalar fields. Anything else, and
//   any variable value the compiled coercer is not sure of (`DECLINE`), goes through graphql-js as before.
// - The compiled coercer never accepts what graphql-js rejects, and gives what graphql-js gives when it accepts
//   (tests/server/publish-fast-path.test.ts compares them value by value); arguments are then built by graphql-js'
//   own getArgumentValues from the coerced variables.
// - The resolver it calls is the schema's own (the field's `resolve`). If that call fails (bad input per the catalog,
//   broker errors), the error is kept on the context and the operation is handed to graphql-js, whose resolver throws
//   the kept error at once: errors are located, masked and formatted by exactly one code path, and nothing is
//   published twice.

import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import {
  Kind,
  getArgumentValues,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  typeFromAST,
  type FieldNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLLeafType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { Counter } from 'prom-client';
import type { GatewayContext } from '../resolvers/context';

const DECLINE = Symbol('decline');
type Coerce = (v: unknown) => unknown; // or DECLINE

interface Plan {
  field: GraphQLField<unknown, GatewayContext>;
  fieldNode: FieldNode;
  responseKey: string;
  list: boolean;
  /** Response keys and how each is produced from a publish result. */
  out: Array<{ key: string; value: (r: Record<string, unknown>) => unknown }>;
  vars: Array<{ name: string; coerce: Coerce; nonNull: boolean }>;
}

/**
 * fieldNames: the root mutation fields to serve, those resolved directly (schema/build.ts directMutationFields): the
 * publish fields, whose resolvers do not read `info`.
 */
export function publishFastPathPlugin(schema: GraphQLSchema, fieldNames: ReadonlySet<string>, counter?: Counter<'outcome'>): ApolloServerPlugin<GatewayContext> {
  const plans = new WeakMap<OperationDefinitionNode, Plan | null>();
  const coercers = new Map<GraphQLInputType, Coerce>();
  const planOf = (op: OperationDefinitionNode) => {
    let p = plans.get(op);
    if (p === undefined) plans.set(op, (p = makePlan(schema, op, fieldNames, coercers)));
    return p;
  };
  return {
    async requestDidStart() {
      return {
        async responseForOperation(rc): Promise<GraphQLResponse | null> {
          const op = rc.operation;
          if (!op || op.operation !== 'mutation') return null;
          const plan = planOf(op);
          if (!plan) return null;
          const given = (rc.request.variables ?? {}) as Record<string, unknown>;
          const coerced: Record<string, unknown> = {};
          for (const v of plan.vars) {
            if (!Object.prototype.hasOwnProperty.call(given, v.name)) {
              if (v.nonNull) return decline(counter);
              continue;
            }
            const c = v.coerce(given[v.name]);
            if (c === DECLINE) return decline(counter);
            coerced[v.name] = c;
          }
          let args: Record<string, unknown>;
          try {
            args = getArgumentValues(plan.field as GraphQLField<unknown, unknown>, plan.fieldNode, coerced);
          } catch {
            return decline(counter);
          }
          const ctx = rc.contextValue;
          let result: unknown;
          try {
            // The direct resolvers of the publish fields (resolvers/dataset.resolver.ts) do not read `info`.
            result = await plan.field.resolve!(undefined, args, ctx, undefined as never);
          } catch (error) {
            ctx.publishFailure = { error };
            counter?.inc({ outcome: 'failed' });
            return null;
          }
          const one = (r: Record<string, unknown>) => {
            const o: Record<string, unknown> = {};
            for (const f of plan.out) o[f.key] = f.value(r);
            return o;
          };
          const data = { [plan.responseKey]: plan.list ? (result as Array<Record<string, unknown>>).map(one) : one(result as Record<string, unknown>) };
          counter?.inc({ outcome: 'served' });
          return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data } } };
        },
      };
    },
  };
}

function decline(counter?: Counter<'outcome'>): null {
  counter?.inc({ outcome: 'declined' });
  return null;
}

/** The plan for an operation, or null when it is not one this path answers exactly. */
function makePlan(schema: GraphQLSchema, op: OperationDefinitionNode, fieldNames: ReadonlySet<string>, coercers: Map<GraphQLInputType, Coerce>): Plan | null {
  if (op.directives?.length) return null;
  const sel = op.selectionSet.selections;
  if (sel.length !== 1 || sel[0]!.kind !== Kind.FIELD) return null;
  const fieldNode = sel[0] as FieldNode;
  if (fieldNode.directives?.length || !fieldNames.has(fieldNode.name.value) || !fieldNode.selectionSet) return null;
  const field = schema.getMutationType()!.getFields()[fieldNode.name.value] as GraphQLField<unknown, GatewayContext> | undefined;
  if (!field?.resolve) return null;
  // [PublishResult!]! or PublishResult!: a non-null list of non-null objects, or one non-null object.
  if (!isNonNullType(field.type)) return null;
  let t: GraphQLOutputType = field.type.ofType;
  const list = isListType(t);
  if (isListType(t)) {
    if (!isNonNullType(t.ofType)) return null;
    t = t.ofType.ofType;
  }
  const obj = getNamedType(t);
  if (obj !== t || !('getFields' in obj) || isInputObjectType(obj)) return null;
  const objFields = obj.getFields();
  const out: Plan['out'] = [];
  const keys = new Set<string>();
  for (const s of fieldNode.selectionSet.selections) {
    if (s.kind !== Kind.FIELD || s.directives?.length || s.arguments?.length || s.selectionSet) return null;
    const key = s.alias?.value ?? s.name.value;
    if (keys.has(key)) return null; // graphql-js would merge them; not worth doing here
    keys.add(key);
    if (s.name.value === '__typename') {
      const name = obj.name;
      out.push({ key, value: () => name });
      continue;
    }
    const f = objFields[s.name.value];
    if (!f || !isNonNullType(f.type)) return null;
    const leaf = f.type.ofType;
    if (!isScalarType(leaf)) return null;
    const name = f.name;
    // As graphql-js' completeLeafValue (the field resolvers of PublishResult read the property of that name).
    out.push({ key, value: (r) => serializeLeaf(leaf, r[name]) });
  }
  const vars: Plan['vars'] = [];
  for (const d of op.variableDefinitions ?? []) {
    const v = planVariable(schema, d, coercers);
    if (!v) return null;
    vars.push(v);
  }
  return { field, fieldNode, responseKey: fieldNode.alias?.value ?? fieldNode.name.value, list, out, vars };
}

function serializeLeaf(type: GraphQLLeafType, v: unknown): unknown {
  const s = type.serialize(v);
  // A publish result always has every field; were one ever missing, fail loudly rather than answer null for non-null.
  if (s === undefined || s === null) throw new Error(`internal: ${type.name} result value ${String(v)} cannot be serialized`);
  return s;
}

function planVariable(schema: GraphQLSchema, d: VariableDefinitionNode, coercers: Map<GraphQLInputType, Coerce>): Plan['vars'][number] | null {
  if (d.defaultValue || d.directives?.length) return null;
  const type = typeFromAST(schema, d.type as never) as GraphQLInputType | undefined;
  if (!type) return null;
  return { name: d.variable.name.value, coerce: coercerOf(type, coercers), nonNull: isNonNullType(type) };
}

/**
 * graphql-js' coerceInputValue for one input type, compiled: same result for what it accepts, DECLINE for anything it
 * would reject and for the forms it accepts that are not handled here (a single value given for a list, default
 * values of input fields, @oneOf input objects).
 */
export function coercerOf(type: GraphQLInputType, cache: Map<GraphQLInputType, Coerce> = new Map()): Coerce {
  const hit = cache.get(type);
  if (hit) return hit;
  let c: Coerce;
  if (isNonNullType(type)) {
    const inner = lazy(type.ofType, cache);
    c = (v) => (v === null || v === undefined ? DECLINE : inner()(v));
  } else {
    const inner = nullableCoercer(type, cache);
    c = (v) => (v === null ? null : v === undefined ? DECLINE : inner(v));
  }
  cache.set(type, c);
  return c;
}

function lazy(type: GraphQLInputType, cache: Map<GraphQLInputType, Coerce>): () => Coerce {
  let c: Coerce | null = null;
  return () => (c ??= coercerOf(type, cache));
}

function nullableCoercer(type: GraphQLInputType, cache: Map<GraphQLInputType, Coerce>): Coerce {
  if (isListType(type)) {
    const el = lazy(type.ofType as GraphQLInputType, cache);
    return (v) => {
      if (!Array.isArray(v)) return DECLINE;
      const e = el();
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        const x = e(v[i]);
        if (x === DECLINE) return DECLINE;
        out[i] = x;
      }
      return out;
    };
  }
  if (isInputObjectType(type)) {
    if ((type as { isOneOf?: boolean }).isOneOf) return () => DECLINE;
    const defs = Object.values(type.getFields());
    if (defs.some((f) => f.defaultValue !== undefined)) return () => DECLINE;
    const names = new Set(defs.map((f) => f.name));
    const fields = defs.map((f) => ({ name: f.name, nonNull: isNonNullType(f.type), coerce: lazy(f.type, cache) }));
    return (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return DECLINE;
      const o = v as Record<string, unknown>;
      for (const k in o) if (!names.has(k)) return DECLINE;
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        const x = o[f.name];
        if (x === undefined) {
          if (f.nonNull) return DECLINE;
          continue;
        }
        const c = f.coerce()(x);
        if (c === DECLINE) return DECLINE;
        out[f.name] = c;
      }
      return out;
    };
  }
  if (isScalarType(type) || isEnumType(type)) {
    const leaf = type as GraphQLLeafType;
    return (v) => {
      try {
        const r = leaf.parseValue(v);
        return r === undefined ? DECLINE : r;
      } catch {
        return DECLINE;
      }
    };
  }
  return () => DECLINE;
}

export { DECLINE };
