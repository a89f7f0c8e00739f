// SQL text building: identifiers quoted by one helper, every value a bound parameter.
// Invariant: nothing a client sends is ever concatenated into SQL text; only catalog names and our own literals are.

import type { FieldDef, ScalarType } from '../config';
import { assertNever } from '../errors';

/** Quote an identifier. Callers pass only catalog names or our own column names. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quote a string literal that we produced ourselves (file paths from our own listing). */
export function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export function duckType(t: ScalarType): string {
  switch (t) {
    case 'string':
      return 'VARCHAR';
    case 'int':
      return 'INTEGER';
    case 'long':
      return 'BIGINT';
    case 'float':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp':
      return 'TIMESTAMPTZ';
    case 'date':
      return 'DATE';
    case 'json':
      return 'JSON';
    default:
      return assertNever(t, 'scalar type');
  }
}

export function duckFieldType(f: FieldDef): string {
  return f.list ? `${duckType(f.type)}[]` : duckType(f.type);
}

/** A parameter value before binding: scalars travel as text and are CAST in SQL to the column's type. */
export type ParamValue = string | string[];

/** Accumulates bound parameters while SQL text is assembled. */
export class Params {
  readonly values: ParamValue[] = [];

  /** Bind one scalar and return SQL that reads it as the given DuckDB type. */
  scalar(v: string, sqlType: string): string {
    this.values.push(v);
    return `CAST($${this.values.length} AS ${sqlType})`;
  }

  /** Bind a list of scalars and return SQL that reads it as a list of the given element type. */
  list(v: string[], elemType: string): string {
    this.values.push(v);
    return `CAST($${this.values.length} AS ${elemType}[])`;
  }

  /** Bind a list as-is (for table function arguments such as the file list of read_parquet). */
  rawList(v: string[]): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }

  raw(v: string): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

export interface BoundSql {
  readonly text: string;
  readonly values: ParamValue[];
}
