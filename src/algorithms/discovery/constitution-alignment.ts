/**
 * Constitutions of successive iterations side by side (the viewer's iterations page): one row per
 * cluster label, one cell per iteration. A principle's label is its cluster's name when it has one
 * (`spri discover cluster --name-with-model`), else its medoid text; labels match after the same
 * normalisation as de-duplication (principle-set.ts), so "Concision" and "concision" share a row. A
 * label that names two clusters of one constitution keeps a row per cluster, matched by order.
 *
 * Each cell is compared with the nearest earlier iteration that has a constitution: `new` when that
 * one lacks the label, `kept` when it has it, `dropped` (a cell without a principle) when it had the
 * label and this one does not. Cells of the first constitution carry no change.
 */
import { normalisePrinciple } from "./mined-principle.ts";
import { principleKey } from "./principle-set.ts";

export interface ColumnPrinciple {
  id: string;
  text: string;
  name?: string;
  size: number;
}

export interface ConstitutionColumn {
  iter: number;
  /** Null: the iteration has no constitution (yet). */
  principles: readonly ColumnPrinciple[] | null;
}

export type AlignedCell = { principle: ColumnPrinciple; change: "new" | "kept" | null } | { change: "dropped" } | null;

export interface AlignedRow {
  /** The label as first spelt. */
  label: string;
  /** One per column, in the columns' order. */
  cells: AlignedCell[];
}

export function principleLabel(principle: ColumnPrinciple): string {
  return principle.name ?? principle.text;
}

/** Each principle of a constitution by its row key: the label's key, and its rank among equal labels. */
function keyed(principles: readonly ColumnPrinciple[]): Map<string, ColumnPrinciple> {
  const seen = new Map<string, number>();
  const byKey = new Map<string, ColumnPrinciple>();
  for (const principle of principles) {
    const label = principleKey(normalisePrinciple(principleLabel(principle)));
    const rank = seen.get(label) ?? 0;
    seen.set(label, rank + 1);
    byKey.set(`${label}\u0000${rank}`, principle);
  }
  return byKey;
}

export function alignConstitutions(columns: readonly ConstitutionColumn[]): AlignedRow[] {
  const byColumn = columns.map((column) => (column.principles === null ? null : keyed(column.principles)));
  const labels = new Map<string, string>();
  for (const constitution of byColumn)
    for (const [key, principle] of constitution ?? []) if (!labels.has(key)) labels.set(key, principleLabel(principle));
  return [...labels].map(([key, label]) => ({ label, cells: byColumn.map((_, i) => cellOf(byColumn, i, key)) }));
}

function cellOf(byColumn: readonly (Map<string, ColumnPrinciple> | null)[], index: number, key: string): AlignedCell {
  const constitution = byColumn[index];
  if (!constitution) return null;
  const previous = byColumn.slice(0, index).findLast((c) => c !== null) ?? null;
  const principle = constitution.get(key);
  if (principle) return { principle, change: previous === null ? null : previous.has(key) ? "kept" : "new" };
  return previous?.has(key) ? { change: "dropped" } : null;
}
