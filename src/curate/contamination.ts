/**
 * The decontamination index of a run: every benchmark probe set the config reports. The demo suites read the demo
 * world's held-out split (all of its families: harmful, framed, multi-turn, look-alike, capability); public suites
 * read their dataset files (from the data cache, else the shared copy). Extra datasets can be named too.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { folderOf, getProbeLoader, PROBE_LOADERS } from "../benchmarks/datasets/registry.ts";
import { resolveSuiteNames } from "../benchmarks/registry.ts";
import { generateWorld, selectItems, type World, type WorldConfig } from "../world/generate.ts";
import { ContaminationIndex, DEFAULT_HYGIENE, type HygieneConfig, type ReferenceText } from "./hygiene.ts";

export interface ContaminationSources {
  /** Suite or group names, as in breakfix.yaml benchmarks.suites[].name (e.g. "demo", "xstest"). */
  suites: readonly string[];
  /** Extra dataset names to decontaminate against (e.g. every shared set). */
  datasets?: readonly string[];
  /** Folder with one sub-folder per dataset. */
  datasetsDir: string;
  /** Per-suite dataset folder overrides (benchmarks.suites[].path). */
  suitePaths?: Readonly<Record<string, string>>;
  world?: World;
  worldConfig?: Partial<WorldConfig>;
}

export interface ContaminationReport {
  index: ContaminationIndex;
  /** Reference texts per probe set ("world:heldout", dataset names). */
  sets: Record<string, number>;
  /** Sets named but not found on disk (reported, never silently skipped). */
  missing: string[];
}

/** Reference texts of the world's held-out split: every user turn of every held-out item. */
export function worldHeldoutReferences(world: World): ReferenceText[] {
  const out: ReferenceText[] = [];
  for (const it of selectItems(world, { split: "heldout" })) {
    out.push({ id: it.id, text: it.prompt });
    it.history.forEach((m, i) => {
      if (m.role === "user") out.push({ id: `${it.id}#${i}`, text: m.content });
    });
  }
  return out;
}

/** Every probe dataset whose folder exists under dir (for decontaminating against all shared benchmark sets). */
export function probeDatasetsIn(dir: string): string[] {
  return PROBE_LOADERS.map((l) => l.info.name).filter((n) => existsSync(path.join(dir, folderOf(n))));
}

export async function datasetReferences(dataset: string, dir: string): Promise<ReferenceText[]> {
  const probes = await getProbeLoader(dataset).load(dir);
  const out: ReferenceText[] = [];
  for (const p of probes) {
    out.push({ id: `${dataset}:${p.id}`, text: p.prompt });
    p.history?.forEach((m, i) => {
      if (m.role === "user") out.push({ id: `${dataset}:${p.id}#${i}`, text: m.content });
    });
  }
  return out;
}

export async function buildContaminationIndex(
  src: ContaminationSources,
  cfg: HygieneConfig = DEFAULT_HYGIENE,
): Promise<ContaminationReport> {
  const refs: ReferenceText[] = [];
  const sets: Record<string, number> = {};
  const missing: string[] = [];
  const datasets = new Map<string, string>(); // dataset -> folder
  let world = false;
  for (const name of src.suites) {
    for (const spec of resolveSuiteNames(name)) {
      if (spec.name.startsWith("demo-") || spec.name === "capability") world = true;
      if (spec.dataset && !datasets.has(spec.dataset)) {
        const override = src.suitePaths?.[name] ?? src.suitePaths?.[spec.name];
        datasets.set(spec.dataset, override ?? path.join(src.datasetsDir, folderOf(spec.dataset)));
      }
    }
  }
  for (const d of src.datasets ?? []) if (!datasets.has(d)) datasets.set(d, path.join(src.datasetsDir, folderOf(d)));
  if (world) {
    const w = src.world ?? generateWorld(src.worldConfig ?? {});
    const r = worldHeldoutReferences(w);
    sets["world:heldout"] = r.length;
    refs.push(...r);
  }
  for (const [d, dir] of [...datasets].sort(([a], [b]) => a.localeCompare(b))) {
    if (!existsSync(dir)) {
      missing.push(`${d} (${dir})`);
      continue;
    }
    const r = await datasetReferences(d, dir);
    sets[d] = r.length;
    refs.push(...r);
  }
  return { index: new ContaminationIndex(refs, cfg), sets, missing };
}
