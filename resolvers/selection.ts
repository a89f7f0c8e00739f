// Which fields a client selected, read from the GraphQL AST (fragments included), for projection pushdown.
// Over-approximates on @skip/@include: selecting a column too many is harmless, one too few is not.

import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';

function collect(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, out: Map<string, FieldNode[]>, seen: Set<string>): void {
  if (!set) return;
  for (const sel of set.selections) {
    if (sel.kind === 'Field') {
      const name = sel.name.value;
      const arr = out.get(name);
      if (arr) arr.push(sel);
      else out.set(name, [sel]);
    } else if (sel.kind === 'InlineFragment') {
      collect(sel.selectionSet, fragments, out, seen);
    } else {
      const name = sel.name.value;
      if (seen.has(name)) continue;
      seen.add(name);
      collect(fragments[name]?.selectionSet, fragments, out, seen);
    }
  }
}

/** Sub-fields selected under the current field (merged across the field's occurrences). */
export function childFields(info: GraphQLResolveInfo): Map<string, FieldNode[]> {
  const out = new Map<string, FieldNode[]>();
  for (const node of info.fieldNodes) collect(node.selectionSet, info.fragments, out, new Set());
  return out;
}

/** Sub-fields of the given child nodes (one level down). */
export function fieldsOf(nodes: FieldNode[] | undefined, info: GraphQLResolveInfo): Map<string, FieldNode[]> {
  const out = new Map<string, FieldNode[]>();
  for (const node of nodes ?? []) collect(node.selectionSet, info.fragments, out, new Set());
  return out;
}
