/** Helpers shared by the loaders: building validated probes row by row and wrapping them as a DatasetLoader. */
import path from "node:path";
import { probeSchema } from "../../domain/schemas.ts";
import type { CategoryId } from "../../domain/taxonomy.ts";
import { mapDatasetLabel, mapDatasetLabelFirst } from "../../domain/taxonomy.ts";
import type { Probe, ProbeLabel } from "../../domain/types.ts";
import { type CsvRow, readCsv } from "../read.ts";
import { type DatasetInfo, type DatasetLoader, ProblemCollector } from "../types.ts";

/** A required, non-empty field; throws "column 'x' is empty". */
export function required(row: CsvRow, col: string): string {
  const v = row.fields[col];
  if (v === undefined || v.trim() === "") throw new Error(`column '${col}' is empty`);
  return v;
}

export function optional(row: CsvRow, col: string): string | undefined {
  const v = row.fields[col];
  return v === undefined || v.trim() === "" ? undefined : v;
}

/** Maps a label through the dataset's taxonomy map, with a message that names the column. */
export function mapLabel(dataset: string, col: string, label: string): CategoryId {
  try {
    return mapDatasetLabel(dataset, label);
  } catch {
    throw new Error(`${col} '${label}' has no mapping onto the harm taxonomy (dataset '${dataset}')`);
  }
}

export function mapLabelFirst(dataset: string, col: string, labels: readonly string[]): CategoryId {
  try {
    return mapDatasetLabelFirst(dataset, labels);
  } catch {
    throw new Error(`${col} '${labels.at(-1)}' has no mapping onto the harm taxonomy (dataset '${dataset}')`);
  }
}

export interface ProbeFields {
  id: string;
  prompt: string;
  category: CategoryId;
  label: ProbeLabel;
  language: string;
  sourceLabel?: string;
  history?: Probe["history"];
  meta?: Probe["meta"];
}

/** Builds a Probe of `info`'s dataset and validates it against the domain schema. */
export function makeProbe(info: DatasetInfo, f: ProbeFields): Probe {
  const p: Probe = {
    id: `${info.name}:${f.id}`,
    prompt: f.prompt,
    category: f.category,
    label: f.label,
    language: f.language,
    source: info.name,
    license: info.license,
  };
  if (f.history) p.history = f.history;
  if (f.sourceLabel !== undefined) p.sourceLabel = f.sourceLabel;
  if (f.meta && Object.keys(f.meta).length > 0) p.meta = f.meta;
  const r = probeSchema.safeParse(p);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  if (!p.prompt.trim()) throw new Error("the prompt is empty");
  return p;
}

/**
 * Reads one CSV and turns each row into zero or more probes with `build`. All rows are validated first; any problem
 * (with its line) fails the whole file. Duplicate ids are problems too.
 */
export function probesFromCsv(
  file: string,
  columns: readonly string[],
  build: (row: CsvRow) => Probe[],
  seen: Map<string, string> = new Map(),
): Probe[] {
  const rows = readCsv(file, columns);
  const pc = new ProblemCollector(file);
  const out: Probe[] = [];
  for (const row of rows) {
    const probes = pc.check(row.line, () => build(row));
    for (const p of probes ?? []) {
      const prev = seen.get(p.id);
      if (prev !== undefined) pc.add(row.line, `duplicate id '${p.id}' (first at ${prev})`);
      else seen.set(p.id, `${path.basename(file)}:${row.line}`);
      out.push(p);
    }
  }
  pc.throwIfAny();
  return out;
}

/** Wraps a synchronous probe reader as a DatasetLoader. */
export function probeLoader(info: DatasetInfo, read: (dir: string) => Probe[]): DatasetLoader<Probe> {
  return {
    info,
    load: async (dir) => read(dir),
    facets: (p) => ({ category: p.category, label: p.label, language: p.language }),
    idOf: (p) => p.id,
  };
}

/** The file of `info` named `name`, inside `dir`. */
export function fileIn(dir: string, name: string): string {
  return path.join(dir, name);
}
