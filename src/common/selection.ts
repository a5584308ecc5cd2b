import { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';

/** The fields selected directly in a selection set, through fragments and inline fragments. */
function selectedFields(selectionSet: SelectionSetNode | undefined, info: GraphQLResolveInfo): FieldNode[] {
  if (!selectionSet) return [];
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === 'Field') return [selection];
    if (selection.kind === 'InlineFragment') return selectedFields(selection.selectionSet, info);
    const fragment = info.fragments[selection.name.value];
    return fragment ? selectedFields(fragment.selectionSet, info) : [];
  });
}

/**
 * Whether the current field's result is asked for a nested field along `path` (e.g. ['rows',
 * 'devices']): lets a resolver skip work no one will see.
 */
export function isSelected(info: GraphQLResolveInfo, path: string[]): boolean {
  let level = info.fieldNodes.flatMap((node) => selectedFields(node.selectionSet, info));
  for (const [index, name] of path.entries()) {
    const matches = level.filter((field) => field.name.value === name);
    if (matches.length === 0) return false;
    if (index === path.length - 1) return true;
    level = matches.flatMap((field) => selectedFields(field.selectionSet, info));
  }
  return false;
}
