/**
 * The decontamination index of a run: every benchmark probe set the config reports. Public suites read their dataset
 * files (from the data cache, else the shared copy); a plug-in's suites give their own reference texts (the demo
 * world's: its whole held-out split); users' suite files are read whole. Extra datasets can be named too.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { resolveSuiteNames } from "../benchmarks/registry.ts";
import { folderOf, getProbeLoader, PROBE_LOADERS } from "../datasets/registry.ts";
import type { Probe } from "../domain/types.ts";
import { ContaminationIndex, DEFAULT_HYGIENE, type HygieneConfig, type ReferenceText } from "./hygiene.ts";
import { loadSuiteFileProbes } from "./sources.ts";

export interface ContaminationSources {
  /** Suite or group names, as in breakfix.yaml benchmarks.suites[].name (e.g. "demo", "xstest"). */
  suites: readonly string[];
  /** Extra dataset names to decontaminate against (e.g. every shared set). */
  datasets?: readonly string[];
  /** Folder with one sub-folder per dataset. */
  datasetsDir: string;
  /** Per-suite dataset folder overrides (benchmarks.suites[].path). */
  suitePaths?: Readonly<Record<string, string>>;
  /** Users' own probe files measured as suites (benchmarks.suites[].file and .role), by suite name. */
  suiteFiles?: Readonly<Record<string, { file: string; role?: string }>>;
}

export interface ContaminationReport {
  index: ContaminationIndex;
  /** Reference texts per probe set ("world:heldout", dataset names). */
  sets: Record<string, number>;
  /** Sets named but not found on disk (reported, never silently skipped). */
  missing: string[];
}

/** Every probe dataset whose folder exists under dir (for decontaminating against all shared benchmark sets). */
export function probeDatasetsIn(dir: string): string[] {
  return PROBE_LOADERS.map((l) => l.info.name).filter((n) => existsSync(path.join(dir, folderOf(n))));
}

export async function datasetReferences(dataset: string, dir: string): Promise<ReferenceText[]> {
  return probeReferences(dataset, await getProbeLoader(dataset).load(dir));
}

/** Every user turn of every probe, as reference texts named SET:ID (and a contextual item's bare behaviour). */
export function probeReferences(set: string, probes: readonly Probe[]): ReferenceText[] {
  const out: ReferenceText[] = [];
  for (const p of probes) {
    out.push({ id: `${set}:${p.id}`, text: p.prompt });
    // A contextual item (HarmBench's) asks its behaviour after a long context: the bare behaviour is a text of its own.
    const behavior = p.meta?.behavior;
    if (typeof behavior === "string" && behavior.trim() && behavior !== p.prompt)
      out.push({ id: `${set}:${p.id}#behavior`, text: behavior });
    p.history?.forEach((m, i) => {
      if (m.role === "user") out.push({ id: `${set}:${p.id}#${i}`, text: m.content });
    });
  }
  return out;
}

/**
 * What a config's benchmarks.suites name for decontamination: named suites and groups, their folder overrides, and
 * suite files with their roles (the cycle and `breakfix curate` both read them here).
 */
export function contaminationSourcesOf(
  suites: readonly { name: string; path?: string; file?: string; role?: string }[],
): Pick<ContaminationSources, "suites" | "suitePaths" | "suiteFiles"> {
  return {
    suites: suites.filter((s) => !s.file).map((s) => s.name),
    suitePaths: Object.fromEntries(suites.filter((s) => s.path).map((s) => [s.name, s.path as string])),
    suiteFiles: Object.fromEntries(
      suites
        .filter((s) => s.file)
        .map((s) => [s.name, { file: s.file as string, ...(s.role ? { role: s.role } : {}) }]),
    ),
  };
}

export async function buildContaminationIndex(
  src: ContaminationSources,
  cfg: HygieneConfig = DEFAULT_HYGIENE,
): Promise<ContaminationReport> {
  const refs: ReferenceText[] = [];
  const sets: Record<string, number> = {};
  const missing: string[] = [];
  // dataset -> every folder it is read from: two suites may read one dataset from two folders (a suite's own path
  // and the shared copy, e.g. harmbench with a path and multiturn), and both are measured.
  const datasets = new Map<string, Map<string, string>>(); // dataset -> resolved folder -> folder as named
  const addFolder = (d: string, dir: string) => {
    const folders = datasets.get(d) ?? new Map<string, string>();
    if (!folders.has(path.resolve(dir))) folders.set(path.resolve(dir), dir);
    datasets.set(d, folders);
  };
  const pluginSets = new Map<string, () => ReferenceText[]>(); // a plug-in suite's texts (e.g. the world's held-out split)
  for (const [name, { file, role }] of Object.entries(src.suiteFiles ?? {})) {
    if (!existsSync(file)) missing.push(`${name} (${file})`);
    else {
      const r = probeReferences(`file:${name}`, loadSuiteFileProbes(file, role));
      sets[`file:${name}`] = r.length;
      refs.push(...r);
    }
  }
  for (const name of src.suites) {
    for (const spec of resolveSuiteNames(name)) {
      if (spec.references && !pluginSets.has(spec.references.set))
        pluginSets.set(spec.references.set, spec.references.texts);
      if (spec.dataset) {
        const override = src.suitePaths?.[name] ?? src.suitePaths?.[spec.name];
        addFolder(spec.dataset, override ?? path.join(src.datasetsDir, folderOf(spec.dataset)));
      }
    }
  }
  for (const d of src.datasets ?? []) if (!datasets.has(d)) addFolder(d, path.join(src.datasetsDir, folderOf(d)));
  for (const [set, texts] of [...pluginSets].sort(([a], [b]) => a.localeCompare(b))) {
    const r = texts();
    sets[set] = r.length;
    refs.push(...r);
  }
  for (const [d, folders] of [...datasets].sort(([a], [b]) => a.localeCompare(b))) {
    // A text both folders hold is indexed once: a copy would count twice toward the boilerplate rule.
    const seen = new Set<string>();
    for (const [, dir] of [...folders].sort(([a], [b]) => a.localeCompare(b))) {
      if (!existsSync(dir)) {
        missing.push(`${d} (${dir})`);
        continue;
      }
      const r = (await datasetReferences(d, dir)).filter((x) => !seen.has(x.text));
      for (const x of r) seen.add(x.text);
      sets[folders.size > 1 ? `${d} (${dir})` : d] = r.length;
      refs.push(...r);
    }
  }
  return { index: new ContaminationIndex(refs, cfg), sets, missing };
}
