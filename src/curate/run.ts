/**
 * One curation pass as the CLI and the cycle run it: held-out technique families filtered out (they are only ever
 * measured), then the pipeline with the config's hygiene, balancing, counter-data ratio and split.
 */
import type { Config } from "../config/schema.ts";
import type { Finding } from "../domain/types.ts";
import type { Judge } from "../judges/types.ts";
import { FramingRegistry } from "../redteam/framings/load.ts";
import { techniqueFamilies } from "../redteam/techniques.ts";
import { type ContaminationIndex, DEFAULT_HYGIENE, type HygieneConfig } from "./hygiene.ts";
import { type CuratedRow, type CurationResult, curate, type DroppedRow } from "./pipeline.ts";
import type { CounterDataSource, Responder, RetentionSource, SafetySetSource } from "./types.ts";

export interface CurationRunOptions {
  round: number;
  responder: Responder;
  judge: Judge;
  counterData?: CounterDataSource;
  retention?: RetentionSource;
  safetySet?: SafetySetSource;
  /** Seed of the safety-set draw (the same in every round of a run; default 0). */
  safetySetSeed?: number;
  contamination: ContaminationIndex;
  curation: Config["curation"];
  /** Technique families kept out of the training data (cycle.heldOutFamilies). */
  heldOutFamilies: readonly string[];
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

export function hygieneFrom(c: Config["curation"]): HygieneConfig {
  return {
    ...DEFAULT_HYGIENE,
    dedupN: c.dedupNgram,
    dedupThreshold: c.dedupThreshold,
    decontamN: c.decontaminationNgram,
    decontamThreshold: c.decontaminationThreshold,
    decontamBoilerplate: c.decontaminationBoilerplate,
  };
}

/** Every family an attack's chain touches (a chain touching any held-out family is held out). */
export function findingFamilies(f: Finding, framings = new FramingRegistry()): string[] {
  try {
    return [...new Set([f.attack.family, ...techniqueFamilies(f.attack.chain, framings)])];
  } catch {
    return [f.attack.family];
  }
}

export function splitHeldOut(
  findings: readonly Finding[],
  heldOut: readonly string[],
): { kept: Finding[]; heldOut: Finding[] } {
  const held = new Set(heldOut);
  const framings = new FramingRegistry();
  const kept: Finding[] = [];
  const out: Finding[] = [];
  for (const f of findings) (findingFamilies(f, framings).some((x) => held.has(x)) ? out : kept).push(f);
  return { kept, heldOut: out };
}

export async function runCuration(findings: readonly Finding[], o: CurationRunOptions): Promise<CurationResult> {
  const { kept, heldOut } = splitHeldOut(findings, o.heldOutFamilies);
  const res = await curate(kept, {
    round: o.round,
    responder: o.responder,
    judge: o.judge,
    counterData: o.counterData,
    counterRatio: o.curation.counterDataRatio,
    retention: o.retention,
    retentionRatio: o.curation.retentionRatio,
    safetySet: o.safetySet,
    safetySetRows: o.curation.safetySetRows,
    safetySetSeed: o.safetySetSeed,
    heldOutFamilies: o.heldOutFamilies,
    hygiene: hygieneFrom(o.curation),
    contamination: o.contamination,
    maxPerGroup: o.curation.maxExamplesPerVulnerability,
    valFraction: o.curation.valFraction,
    seed: o.seed,
    onProgress: o.onProgress,
  });
  const held: DroppedRow[] = heldOut.map((f) => ({
    reason: "held_out_family",
    detail: `${f.id} (${f.attack.family})`,
    category: f.category,
    language: f.attack.language,
    source: "finding",
  }));
  const dropped = [...held, ...res.dropped];
  const counts: Record<string, number> = {};
  for (const d of dropped) counts[d.reason] = (counts[d.reason] ?? 0) + 1;
  // curation.preferencePairs false: SFT rows only (no DPO file lines, no dataset "dpo" rows).
  const rows: CuratedRow[] = o.curation.preferencePairs ? res.rows : res.rows.map(({ dpo: _dpo, ...row }) => row);
  const card = { ...res.card, counts: { ...res.card.counts, dpo: rows.filter((r) => r.dpo).length }, dropped: counts };
  return { rows, dropped, card };
}
