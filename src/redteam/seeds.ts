/**
 * Red-team seeds: the harmful requests a campaign attacks. A registered seed set (the demo world registers `world`:
 * its red-team split, never its training or held-out items); a dataset name = that benchmark's probes (from a
 * folder: the data cache or the shared copy); a .jsonl/.csv file = the user's own probes (columns prompt, id,
 * category, label, language). Only probes labelled unsafe are seeds.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { loadProbesFile } from "../datasets/loaders/generic.ts";
import { folderOf, getProbeLoader } from "../datasets/registry.ts";
import type { Probe } from "../domain/types.ts";
import type { Judge } from "../judges/types.ts";
import type { ConverterDeps } from "./converters/registry.ts";

/**
 * A named seed set a plug-in registers (the demo world registers `world`), with what goes with its seeds: an oracle
 * judge for its own answers and a translator for its languages.
 */
export interface NamedSeedSet {
  name: string;
  probes(opts: { worldSeed?: number }): Probe[];
  judge?(): Judge;
  translator?: ConverterDeps["translator"];
}

const SEED_SETS = new Map<string, NamedSeedSet>();

/** Registers a named seed set (idempotent: the same name again replaces it). */
export function registerSeedSet(s: NamedSeedSet): void {
  SEED_SETS.set(s.name, s);
}

export interface SeedSource {
  probes: Probe[];
  /** What was loaded (for the campaign manifest). */
  source: string;
  /** The named seed set, when the seeds come from one (its judge and translator go with it). */
  set?: NamedSeedSet;
}

export interface SeedOptions {
  /** Folder holding dataset folders (data cache or shared copy). */
  datasetsDir?: string;
  /** Use at most this many seeds (a seeded, category-stratified prefix: every category keeps seeds). */
  limit?: number;
  /** World generator seed. */
  worldSeed?: number;
}

/** Round-robin merge of lists: first of each, then second of each, ... */
function interleave<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const g = m.get(k);
    if (g) g.push(x);
    else m.set(k, [x]);
  }
  return [...m.values()];
}

/**
 * Keeps `limit` probes, round-robin over category x language strata (in first-seen order), so small runs still
 * cover each one. Within a stratum, probes of different kinds (`meta.family`, e.g. the world's direct harmful asks
 * and look-alikes' unsafe twins) alternate: a prefix of a stratum would otherwise hold only the kind listed first,
 * and a fix that never sees a twin learns to refuse by topic words, not by intent (it was: 80 world seeds, 0 twins).
 */
export function stratifiedLimit(probes: readonly Probe[], limit?: number): Probe[] {
  if (limit === undefined || limit >= probes.length) return [...probes];
  const strata = groupBy(probes, (p) => `${p.category}|${p.language}`).map((g) =>
    interleave(groupBy(g, (p) => String(p.meta?.family ?? ""))),
  );
  return interleave(strata).slice(0, limit);
}

export async function loadSeeds(spec: string, opts: SeedOptions = {}): Promise<SeedSource> {
  let probes: Probe[];
  const set = SEED_SETS.get(spec);
  if (set) {
    probes = set.probes({ worldSeed: opts.worldSeed });
  } else if (/\.(jsonl|csv|json)$/i.test(spec) || existsSync(spec)) {
    if (!existsSync(spec)) throw new Error(`seeds file '${spec}' does not exist`);
    probes = loadProbesFile(spec, {
      prompt: "prompt",
      id: "id",
      category: "category",
      label: "label",
      language: "language",
      defaultLabel: "unsafe",
      defaultLanguage: "en",
    });
  } else {
    const loader = getProbeLoader(spec);
    const dir = path.join(opts.datasetsDir ?? ".", folderOf(spec));
    if (!existsSync(dir))
      throw new Error(
        `dataset '${spec}': folder ${dir} does not exist (run \`breakfix data pull ${spec}\` or pass --datasets DIR)`,
      );
    probes = await loader.load(dir);
  }
  const unsafe = probes.filter((p) => p.label === "unsafe");
  if (unsafe.length === 0) throw new Error(`seeds '${spec}': no probe labelled unsafe`);
  return { probes: stratifiedLimit(unsafe, opts.limit), source: spec, ...(set ? { set } : {}) };
}
