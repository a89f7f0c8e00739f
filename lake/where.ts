// The `where` language shared by lake queries (SQL) and, later, live filters.
// Semantics: a comparison never matches a null value (use isNull); `not` is plain boolean negation; and[] = true, or[] = false.

import type { Dataset, FieldDef } from '../config';
import { badInput } from '../errors';

export const SCALAR_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull', 'like', 'ilike', 'startsWith', 'contains'] as const;
export const LIST_OPS = ['contains', 'containsAll', 'containsAny', 'isNull', 'isEmpty'] as const;
export type ScalarOp = (typeof SCALAR_OPS)[number];
export type ListOp = (typeof LIST_OPS)[number];

/** Which operators a field's filter input offers. */
export function opsFor(f: FieldDef): readonly string[] {
  if (f.list) return LIST_OPS;
  switch (f.type) {
    case 'string':
      return SCALAR_OPS;
    case 'int':
    case 'long':
    case 'float':
    case 'timestamp':
    case 'date':
      return ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'];
    case 'boolean':
      return ['eq', 'ne', 'isNull'];
    case 'json':
      return ['isNull'];
  }
}

/** A normalized where tree: leaves carry values already validated against the catalog. */
export type WhereNode =
  | { kind: 'and'; items: WhereNode[] }
  | { kind: 'or'; items: WhereNode[] }
  | { kind: 'not'; item: WhereNode }
  | { kind: 'leaf'; field: FieldDef; op: string; value: unknown };

/** Plain object as it arrives from GraphQL (type-graphql may hand us class instances). */
export type WhereInput = Record<string, unknown>;

const MAX_WHERE_NODES = 500;

export function normalizeWhere(ds: Dataset, where: WhereInput | null | undefined): WhereNode {
  let count = 0;
  const walk = (w: WhereInput, at: string): WhereNode => {
    const items: WhereNode[] = [];
    for (const [key, value] of Object.entries(w)) {
      if (value === undefined) continue;
      if (++count > MAX_WHERE_NODES) throw badInput(`where has more than ${MAX_WHERE_NODES} conditions`);
      if (key === 'and' || key === 'or') {
        if (value === null) throw badInput(`${at}.${key} must not be null`);
        const list = (value as WhereInput[]).map((x, i) => walk(x, `${at}.${key}[${i}]`));
        items.push({ kind: key, items: list });
      } else if (key === 'not') {
        if (value === null) throw badInput(`${at}.not must not be null`);
        items.push({ kind: 'not', item: walk(value as WhereInput, `${at}.not`) });
      } else {
        const field = ds.fieldMap.get(key);
        if (!field) throw badInput(`${at}: unknown field "${key}"`);
        if (value === null) throw badInput(`${at}.${key} must not be null`);
        const allowed = opsFor(field);
        for (const [op, v] of Object.entries(value as Record<string, unknown>)) {
          if (v === undefined) continue;
          if (!allowed.includes(op)) throw badInput(`${at}.${key}: operator "${op}" is not available for this field`);
          if (v === null) throw badInput(`${at}.${key}.${op} must not be null${op === 'eq' || op === 'ne' ? ' (use isNull)' : ''}`);
          if (++count > MAX_WHERE_NODES) throw badInput(`where has more than ${MAX_WHERE_NODES} conditions`);
          if (Array.isArray(v) && v.some((x) => x === null)) throw badInput(`${at}.${key}.${op} must not contain null`);
          items.push({ kind: 'leaf', field, op, value: v });
        }
      }
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  };
  return where ? walk(where, 'where') : { kind: 'and', items: [] };
}

/** Bounds on the event-time field that hold for every matching row (for partition pruning). */
export function eventTimeBounds(ds: Dataset, node: WhereNode): { lower?: { v: string; inclusive: boolean }; upper?: { v: string; inclusive: boolean }; eq?: string } {
  const out: { lower?: { v: string; inclusive: boolean }; upper?: { v: string; inclusive: boolean }; eq?: string } = {};
  if (!ds.eventTime) return out;
  const visit = (n: WhereNode): void => {
    if (n.kind === 'and') n.items.forEach(visit);
    else if (n.kind === 'leaf' && n.field.name === ds.eventTime) {
      const v = String(n.value);
      if (n.op === 'eq') out.eq = v;
      else if (n.op === 'gt' || n.op === 'gte') out.lower = { v, inclusive: n.op === 'gte' };
      else if (n.op === 'lt' || n.op === 'lte') out.upper = { v, inclusive: n.op === 'lte' };
    }
  };
  visit(node);
  return out;
}
