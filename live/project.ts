// The fast path of a subscription execution: a selection of plain dataset fields and `_meta` fields (no aliases,
// fragments, directives, arguments, __typename or relations) is compiled once per group into a function that writes
// the event straight to the response JSON, byte for byte what graphql-js `execute` + `JSON.stringify({data})` give.
// Invariant: it answers a string only when execute would answer the same data without errors; for anything else
// (a null in a non-null field, a value the scalar refuses, a non-list in a list field) it answers null and the caller
// executes normally. Each leaf goes through the schema's own `serialize`; each field resolver is checked once to be
// type-graphql's plain property read (`root[name]`, synchronous), or the selection is not compiled.

import {
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
  Kind,
  getOperationAST,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';

/** Event row (or lake row) and its `_meta` object; answers the response JSON, or null: execute instead. */
export type Projection = ((row: Record<string, unknown>, meta: Record<string, unknown> | null) => string | null) & {
  /** The selection reads `_meta` (the caller builds the meta object only then). */
  readonly needsMeta: boolean;
};

/** A value's JSON, or undefined: not representable without an error (the caller executes instead). */
type Writer = (v: unknown) => string | undefined;

const META_FIELD = '_meta';

/** Does this field's resolver return `root[name]` synchronously (type-graphql's basic field resolver, no middleware)? */
const plainCache = new WeakMap<GraphQLField<unknown, unknown>, boolean>();
function isPlainRead(field: GraphQLField<unknown, unknown>): boolean {
  let ok = plainCache.get(field);
  if (ok !== undefined) return ok;
  ok = false;
  if (!field.resolve) ok = true; // graphql's default resolver: a property read (row values are never functions)
  else {
    const sentinel = { sentinel: true };
    const reads: PropertyKey[] = [];
    const root = new Proxy(
      {},
      {
        get(_t, p) {
          reads.push(p);
          return p === field.name ? sentinel : undefined;
        },
      },
    );
    try {
      const r = field.resolve(root, {}, undefined, { fieldName: field.name } as never);
      ok = r === sentinel && reads.length === 1 && reads[0] === field.name;
    } catch {
      ok = false;
    }
  }
  plainCache.set(field, ok);
  return ok;
}

function writerOf(type: GraphQLOutputType): Writer | null {
  if (isNonNullType(type)) {
    const inner = writerOf(type.ofType);
    if (!inner) return null;
    return (v) => (v === null || v === undefined ? undefined : inner(v));
  }
  if (isListType(type)) {
    const item = writerOf(type.ofType);
    if (!item) return null;
    return (v) => {
      if (v === null || v === undefined) return 'null';
      if (!Array.isArray(v)) return undefined;
      let out = '[';
      for (let i = 0; i < v.length; i++) {
        const s = item(v[i]);
        if (s === undefined) return undefined;
        out += i === 0 ? s : ',' + s;
      }
      return out + ']';
    };
  }
  if (isLeafType(type)) {
    return (v) => {
      if (v === null || v === undefined) return 'null';
      const s = type.serialize(v);
      if (s === null || s === undefined) return undefined;
      return JSON.stringify(s);
    };
  }
  return null;
}

/** Plain fields of one object type: each selected once, by name, without alias, arguments or directives. */
function plainFields(type: GraphQLObjectType, sel: SelectionSetNode | undefined, allowMeta: boolean): Array<{ name: string; field: GraphQLField<unknown, unknown>; node: FieldNode }> | null {
  if (!sel) return null;
  const seen = new Set<string>();
  const out: Array<{ name: string; field: GraphQLField<unknown, unknown>; node: FieldNode }> = [];
  for (const s of sel.selections) {
    if (s.kind !== Kind.FIELD || s.alias || s.directives?.length || s.arguments?.length) return null;
    const name = s.name.value;
    if (seen.has(name)) return null;
    seen.add(name);
    const field = type.getFields()[name];
    if (!field || !isPlainRead(field as GraphQLField<unknown, unknown>)) return null;
    if (name === META_FIELD && !allowMeta) return null;
    out.push({ name, field: field as GraphQLField<unknown, unknown>, node: s });
  }
  return out.length ? out : null;
}

/**
 * Compiles the subscription's selection, or null when it needs graphql execute (the caller then always executes).
 * The root field must resolve to its source (schema/build.ts makes every subscription root field the identity).
 */
export function compileProjection(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): Projection | null {
  const op = getOperationAST(document, operationName);
  if (!op || op.operation !== 'subscription' || op.directives?.length) return null;
  const subType = schema.getSubscriptionType();
  if (!subType || op.selectionSet.selections.length !== 1) return null;
  const rootNode = op.selectionSet.selections[0]!;
  if (rootNode.kind !== Kind.FIELD || rootNode.alias || rootNode.directives?.length) return null;
  const rootField = subType.getFields()[rootNode.name.value];
  if (!rootField) return null;
  const probe = {};
  if (!rootField.resolve || rootField.resolve(probe, {}, undefined, {} as never) !== probe) return null;
  const rootType = isNonNullType(rootField.type) ? rootField.type.ofType : rootField.type;
  if (!isObjectType(rootType)) return null;
  const fields = plainFields(rootType, rootNode.selectionSet, true);
  if (!fields) return null;

  type Part = { prefix: string; write: Writer; meta: false; name: string } | { prefix: string; meta: true; sub: Array<{ prefix: string; name: string; write: Writer }>; nonNull: boolean };
  const parts: Part[] = [];
  let needsMeta = false;
  for (let i = 0; i < fields.length; i++) {
    const { name, field, node } = fields[i]!;
    const prefix = (i === 0 ? '' : ',') + JSON.stringify(name) + ':';
    if (name === META_FIELD) {
      const metaNonNull = isNonNullType(field.type);
      const metaType = metaNonNull ? (field.type as { ofType: GraphQLOutputType }).ofType : field.type;
      if (!isObjectType(metaType)) return null;
      const sub = plainFields(metaType, node.selectionSet, false);
      if (!sub) return null;
      const subParts: Array<{ prefix: string; name: string; write: Writer }> = [];
      for (let j = 0; j < sub.length; j++) {
        const w = writerOf(sub[j]!.field.type);
        if (!w) return null;
        subParts.push({ prefix: (j === 0 ? '' : ',') + JSON.stringify(sub[j]!.name) + ':', name: sub[j]!.name, write: w });
      }
      parts.push({ prefix, meta: true, sub: subParts, nonNull: metaNonNull });
      needsMeta = true;
    } else {
      const w = writerOf(field.type);
      if (!w) return null;
      parts.push({ prefix, write: w, meta: false, name });
    }
  }
  const head = `{"data":{${JSON.stringify(rootNode.name.value)}:{`;
  const fn = (row: Record<string, unknown>, meta: Record<string, unknown> | null): string | null => {
    let out = head;
    try {
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (p.meta) {
          if (meta === null || meta === undefined) {
            if (p.nonNull) return null;
            out += p.prefix + 'null';
            continue;
          }
          out += p.prefix + '{';
          for (let j = 0; j < p.sub.length; j++) {
            const q = p.sub[j]!;
            const s = q.write(meta[q.name]);
            if (s === undefined) return null;
            out += q.prefix + s;
          }
          out += '}';
        } else {
          const s = p.write(row[p.name]);
          if (s === undefined) return null;
          out += p.prefix + s;
        }
      }
    } catch {
      return null;
    }
    return out + '}}}';
  };
  return Object.assign(fn, { needsMeta });
}
