// Compiles a normalized `where` tree into a predicate over decoded event rows, run per Kafka event per subscription.
// Invariant: answers exactly as lake/where-to-sql.ts's SQL over the same row: leaves never match null and are two-valued.

import type { FieldDef } from '../config';
import { assertNever, badInput } from '../errors';
import type { WhereNode } from '../lake';
import { compileLike, lowerCaseAsDuckDB, toWellFormed } from './text';
import { type Key, type TypeSemantics, paramText, sameKey, semanticsOf } from './values';

/** A decoded event row: field name → value; missing, undefined and null all mean SQL NULL. */
export type EventRow = Record<string, unknown>;
export type RowPredicate = (row: EventRow) => boolean;

const ALWAYS: RowPredicate = () => true;
const NEVER: RowPredicate = () => false;

/**
 * Compile once per distinct subscription filter; the predicate allocates nothing for most operators.
 * Rows are in the shape the ingestion decodes: string → string, int/float → number, long → bigint, number or a
 * string of digits, boolean → boolean, timestamp → epoch milliseconds (a fraction is kept to the microsecond, the
 * lake's precision) or a Date, date → "YYYY-MM-DD", json → any value, lists → arrays. A value of another shape
 * matches no comparison (it is not null either). Constants that SQL could not cast throw BAD_USER_INPUT here, as do
 * text forms only DuckDB's lenient casts read (the GraphQL scalars never send them).
 */
export function compileWhere(node: WhereNode): RowPredicate {
  switch (node.kind) {
    case 'and':
      return all(node.items.map(compileWhere));
    case 'or':
      return any(node.items.map(compileWhere));
    case 'not': {
      const inner = compileWhere(node.item);
      return (row) => !inner(row);
    }
    case 'leaf':
      return compileLeaf(node.field, node.op, node.value);
    default:
      return assertNever(node, 'where node');
  }
}

function all(ps: RowPredicate[]): RowPredicate {
  if (ps.length === 0) return ALWAYS;
  if (ps.length === 1) return ps[0]!;
  if (ps.length === 2) {
    const [a, b] = ps as [RowPredicate, RowPredicate];
    return (row) => a(row) && b(row);
  }
  return (row) => {
    for (let i = 0; i < ps.length; i++) if (!ps[i]!(row)) return false;
    return true;
  };
}

function any(ps: RowPredicate[]): RowPredicate {
  if (ps.length === 0) return NEVER;
  if (ps.length === 1) return ps[0]!;
  if (ps.length === 2) {
    const [a, b] = ps as [RowPredicate, RowPredicate];
    return (row) => a(row) || b(row);
  }
  return (row) => {
    for (let i = 0; i < ps.length; i++) if (ps[i]!(row)) return true;
    return false;
  };
}

/** Reads one field; names such as "constructor" must not find Object.prototype's members on a row without them. */
export function fieldReader(name: string): (row: EventRow) => unknown {
  if (!(name in Object.prototype)) return (row) => row[name];
  return (row) => (Object.prototype.hasOwnProperty.call(row, name) ? row[name] : undefined);
}

function listValue(f: FieldDef, op: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw badInput(`${f.name}.${op} must be a list`);
  return v;
}

function compileLeaf(f: FieldDef, op: string, value: unknown): RowPredicate {
  const get = fieldReader(f.name);
  // The SQL tests JS truthiness of the isNull / isEmpty value when it writes the predicate; so do we.
  if (op === 'isNull') return value ? (row) => get(row) == null : (row) => get(row) != null;
  const sem = semanticsOf(f.type);
  return f.list ? compileListLeaf(f, op, value, sem, get) : compileScalarLeaf(f, op, value, sem, get);
}

function compileListLeaf(f: FieldDef, op: string, value: unknown, sem: TypeSemantics, get: (row: EventRow) => unknown): RowPredicate {
  const key = sem.key;
  switch (op) {
    case 'contains': {
      const c = sem.constant(value);
      return (row) => {
        const a = get(row);
        if (!Array.isArray(a)) return false;
        for (let i = 0; i < a.length; i++) {
          const k = key(a[i]);
          if (k !== undefined && sameKey(k, c)) return true;
        }
        return false;
      };
    }
    case 'containsAll': {
      const needles = [...new Set(listValue(f, op, value).map(sem.constant))];
      return (row) => {
        const a = get(row);
        if (!Array.isArray(a)) return false;
        if (needles.length === 0) return true;
        const have = new Set<Key | undefined>();
        for (let i = 0; i < a.length; i++) have.add(key(a[i]));
        for (const n of needles) if (!have.has(n)) return false;
        return true;
      };
    }
    case 'containsAny': {
      const needles = new Set(listValue(f, op, value).map(sem.constant));
      return (row) => {
        const a = get(row);
        if (!Array.isArray(a) || needles.size === 0) return false;
        for (let i = 0; i < a.length; i++) {
          const k = key(a[i]);
          if (k !== undefined && needles.has(k)) return true;
        }
        return false;
      };
    }
    case 'isEmpty':
      return value
        ? (row) => {
            const a = get(row);
            return Array.isArray(a) && a.length === 0;
          }
        : (row) => {
            const a = get(row);
            return Array.isArray(a) && a.length > 0;
          };
    default:
      throw badInput(`${f.name}: operator "${op}" is not available for a list field`);
  }
}

function compileScalarLeaf(f: FieldDef, op: string, value: unknown, sem: TypeSemantics, get: (row: EventRow) => unknown): RowPredicate {
  const key = sem.key;
  const ordered = (accept: (sign: number) => boolean): RowPredicate => {
    const order = sem.orderAgainst(sem.constant(value));
    return (row) => {
      const k = key(get(row));
      return k !== undefined && accept(order(k));
    };
  };
  switch (op) {
    case 'eq': {
      const c = sem.constant(value);
      return (row) => {
        const k = key(get(row));
        return k !== undefined && sameKey(k, c);
      };
    }
    case 'ne': {
      const c = sem.constant(value);
      return (row) => {
        const k = key(get(row));
        return k !== undefined && !sameKey(k, c);
      };
    }
    case 'gt':
      return ordered((s) => s > 0);
    case 'gte':
      return ordered((s) => s >= 0);
    case 'lt':
      return ordered((s) => s < 0);
    case 'lte':
      return ordered((s) => s <= 0);
    case 'in': {
      // Set membership is SameValueZero: NaN finds NaN, bigints compare by value — DuckDB's list_contains.
      const set = new Set(listValue(f, op, value).map(sem.constant));
      return (row) => {
        const k = key(get(row));
        return k !== undefined && set.has(k);
      };
    }
    case 'nin': {
      const set = new Set(listValue(f, op, value).map(sem.constant));
      return (row) => {
        const k = key(get(row));
        return k !== undefined && !set.has(k);
      };
    }
    case 'like':
    case 'ilike':
    case 'startsWith':
    case 'contains':
      if (f.type !== 'string') throw badInput(`${f.name}: operator "${op}" is only available for string fields`);
      return compileStringLeaf(op, toWellFormed(paramText(value)), get);
    default:
      throw badInput(`${f.name}: unknown operator "${op}"`);
  }
}

function compileStringLeaf(op: 'like' | 'ilike' | 'startsWith' | 'contains', c: string, get: (row: EventRow) => unknown): RowPredicate {
  switch (op) {
    case 'like': {
      const match = compileLike(c);
      return (row) => {
        const v = get(row);
        return typeof v === 'string' && match(toWellFormed(v));
      };
    }
    case 'ilike': {
      // DuckDB's ILIKE is LIKE over lower() of both sides (per code point, no escape character).
      const match = compileLike(lowerCaseAsDuckDB(c));
      return (row) => {
        const v = get(row);
        return typeof v === 'string' && match(lowerCaseAsDuckDB(toWellFormed(v)));
      };
    }
    case 'startsWith':
      return (row) => {
        const v = get(row);
        return typeof v === 'string' && toWellFormed(v).startsWith(c);
      };
    case 'contains':
      return (row) => {
        const v = get(row);
        return typeof v === 'string' && toWellFormed(v).includes(c);
      };
    default:
      return assertNever(op, 'string operator');
  }
}
