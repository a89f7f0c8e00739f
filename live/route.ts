// An index of subscription groups by a top-level `eq` condition of their filter, so that an event is offered only to
// the groups whose `eq` value it has (one Map lookup per indexed field) instead of calling every group's predicate.
// Invariant: a group is a candidate for every row its predicate accepts (its `eq` leaf is a conjunct of the filter,
// compared with the filter's own key semantics: NaN finds NaN, bigints by value); candidates still run the predicate.

import type { WhereNode } from '../lake';
import { fieldReader } from './filter';
import { type Key, semanticsOf } from './values';

export interface Route {
  field: string;
  key: Key;
  keyOf: (v: unknown) => Key | undefined;
}

/** The `eq` conjunct of a normalized filter on a scalar field (the first one), or null. */
export function routeOf(where: WhereNode): Route | null {
  const leaves = where.kind === 'leaf' ? [where] : where.kind === 'and' ? where.items : [];
  for (const n of leaves) {
    if (n.kind !== 'leaf' || n.op !== 'eq' || n.field.list) continue;
    const sem = semanticsOf(n.field.type);
    let key: Key;
    try {
      key = sem.constant(n.value);
    } catch {
      continue; // compileWhere refuses it anyway
    }
    return { field: n.field.name, key, keyOf: sem.key };
  }
  return null;
}

export class RouteIndex<T> {
  private readonly fields = new Map<string, { read: (row: Record<string, unknown>) => unknown; keyOf: (v: unknown) => Key | undefined; byKey: Map<Key, Set<T>> }>();
  private readonly routes = new Map<T, Route>();
  get size(): number {
    return this.routes.size;
  }
  items(): T[] {
    return [...this.routes.keys()];
  }
  add(item: T, route: Route): void {
    let f = this.fields.get(route.field);
    if (!f) this.fields.set(route.field, (f = { read: fieldReader(route.field), keyOf: route.keyOf, byKey: new Map() }));
    let set = f.byKey.get(route.key);
    if (!set) f.byKey.set(route.key, (set = new Set()));
    set.add(item);
    this.routes.set(item, route);
  }
  delete(item: T): void {
    const route = this.routes.get(item);
    if (!route) return;
    this.routes.delete(item);
    const f = this.fields.get(route.field)!;
    const set = f.byKey.get(route.key)!;
    set.delete(item);
    if (set.size === 0) f.byKey.delete(route.key);
    if (f.byKey.size === 0) this.fields.delete(route.field);
  }
  /** Calls `each` for every item whose `eq` value the row has. */
  match(row: Record<string, unknown>, each: (item: T) => void): void {
    for (const f of this.fields.values()) {
      const k = f.keyOf(f.read(row));
      if (k === undefined) continue;
      const set = f.byKey.get(k);
      if (set) for (const item of set) each(item);
    }
  }
}
