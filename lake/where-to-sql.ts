// The one translation of a where tree into SQL. Every value is a bound parameter, every identifier a catalog name.
// Each leaf is written so that it is never NULL (two-valued logic), which keeps `not` a plain negation.

import type { Dataset, FieldDef } from '../config';
import { assertNever } from '../errors';
import { type WhereNode, eventTimeBounds } from './where';
import { Params, duckType, ident } from './sql';

/** Text form of a GraphQL input value for binding; SQL casts it to the column type. */
export function toParamText(f: FieldDef, v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function whereToSql(node: WhereNode, p: Params, alias = ''): string {
  switch (node.kind) {
    case 'and':
      return node.items.length === 0 ? 'TRUE' : `(${node.items.map((n) => whereToSql(n, p, alias)).join(' AND ')})`;
    case 'or':
      return node.items.length === 0 ? 'FALSE' : `(${node.items.map((n) => whereToSql(n, p, alias)).join(' OR ')})`;
    case 'not':
      return `(NOT ${whereToSql(node.item, p, alias)})`;
    case 'leaf':
      return leafToSql(node.field, node.op, node.value, p, alias);
    default:
      return assertNever(node, 'where node');
  }
}

function leafToSql(f: FieldDef, op: string, value: unknown, p: Params, alias: string): string {
  const col = alias + ident(f.name);
  const t = duckType(f.type);
  if (op === 'isNull') return value ? `(${col} IS NULL)` : `(${col} IS NOT NULL)`;
  if (f.list) {
    switch (op) {
      case 'contains':
        return `(${col} IS NOT NULL AND list_contains(${col}, ${p.scalar(toParamText(f, value), t)}))`;
      case 'containsAll':
        return `(${col} IS NOT NULL AND list_has_all(${col}, ${p.list((value as unknown[]).map((x) => toParamText(f, x)), t)}))`;
      case 'containsAny':
        return `(${col} IS NOT NULL AND list_has_any(${col}, ${p.list((value as unknown[]).map((x) => toParamText(f, x)), t)}))`;
      case 'isEmpty':
        return value ? `(${col} IS NOT NULL AND len(${col}) = 0)` : `(${col} IS NOT NULL AND len(${col}) > 0)`;
    }
    throw new Error(`unknown list operator ${op}`);
  }
  const one = (): string => p.scalar(toParamText(f, value), t);
  const many = (): string => p.list((value as unknown[]).map((x) => toParamText(f, x)), t);
  let expr: string;
  switch (op) {
    case 'eq':
      expr = `${col} = ${one()}`;
      break;
    case 'ne':
      expr = `${col} <> ${one()}`;
      break;
    case 'gt':
      expr = `${col} > ${one()}`;
      break;
    case 'gte':
      expr = `${col} >= ${one()}`;
      break;
    case 'lt':
      expr = `${col} < ${one()}`;
      break;
    case 'lte':
      expr = `${col} <= ${one()}`;
      break;
    case 'in':
      expr = `list_contains(${many()}, ${col})`;
      break;
    case 'nin':
      expr = `NOT list_contains(${many()}, ${col})`;
      break;
    case 'like':
      expr = `${col} LIKE ${one()}`;
      break;
    case 'ilike':
      expr = `${col} ILIKE ${one()}`;
      break;
    case 'startsWith':
      expr = `starts_with(${col}, ${one()})`;
      break;
    case 'contains':
      expr = `contains(${col}, ${one()})`;
      break;
    default:
      throw new Error(`unknown operator ${op}`);
  }
  return `(${col} IS NOT NULL AND ${expr})`;
}

/** Extra predicates on the Hive partition columns implied by event-time filters; DuckDB prunes files with them. */
export function partitionPruningSql(ds: Dataset, node: WhereNode, p: Params): string[] {
  if (ds.partitionBy === 'none' || !ds.eventTime) return [];
  const b = eventTimeBounds(ds, node);
  const day = (v: string): string => `CAST(${p.scalar(v, 'TIMESTAMPTZ')} AS DATE)`;
  const out: string[] = [];
  if (b.eq !== undefined) out.push(`"date" = ${day(b.eq)}`);
  if (b.lower) out.push(`"date" >= ${day(b.lower.v)}`);
  if (b.upper) out.push(`"date" <= ${day(b.upper.v)}`);
  return out;
}
