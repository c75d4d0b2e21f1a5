/** Counting a loaded dataset by category, label and language (what `breakfix data show` prints). */
import { type DatasetLoader, printable } from "./types.ts";

export interface DatasetSummary {
  name: string;
  total: number;
  by_label: Record<string, number>;
  by_category: Record<string, number>;
  by_language: Record<string, number>;
}

function sortedCounts(m: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export function summarize<T>(loader: DatasetLoader<T>, rows: readonly T[]): DatasetSummary {
  const label = new Map<string, number>();
  const cat = new Map<string, number>();
  const lang = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const r of rows) {
    const f = loader.facets(r);
    inc(label, f.label);
    inc(cat, f.category);
    inc(lang, f.language);
  }
  return {
    name: loader.info.name,
    total: rows.length,
    by_label: sortedCounts(label),
    by_category: sortedCounts(cat),
    by_language: sortedCounts(lang),
  };
}

/** A plain-text table of a summary. */
export function formatSummary(s: DatasetSummary): string {
  const block = (title: string, counts: Record<string, number>) => {
    const entries = Object.entries(counts).map(([k, n]) => [printable(k, 80), n] as const);
    const w = Math.max(...entries.map(([k]) => k.length), 4);
    return [`${title}:`, ...entries.map(([k, n]) => `  ${k.padEnd(w)}  ${String(n).padStart(6)}`)].join("\n");
  };
  return [
    `${s.name}: ${s.total} rows`,
    block("by label", s.by_label),
    block("by category", s.by_category),
    block("by language", s.by_language),
  ].join("\n");
}
