/**
 * One red-team campaign end to end: plan (seeds x persona techniques x languages), record the manifest, run what
 * the store does not have yet, identify vulnerabilities, store the findings. Re-running the same campaign computes
 * the same campaign id and attack ids, finds every record in the store, and returns identical results without a
 * model call.
 */
import { contentHash } from "../../domain/hash.ts";
import type { Probe } from "../../domain/types.ts";
import { translationCapabilities } from "../converters/model.ts";
import { gcgLibraryKey } from "../gcg/library.ts";
import { type Identified, identify } from "../identify.ts";
import { DEFAULT_SUCCESS, type SuccessCriterion, successKey } from "../outcome.ts";
import type { Persona } from "../personas.ts";
import { type AsrReport, asrReport } from "./metrics.ts";
import { drawsGcgSuffix, planCampaign, probeKey } from "./plan.ts";
import { type CampaignEnv, type CampaignRunResult, recordIdOf, runCampaign } from "./run.ts";
import type { AttackRecord, CampaignManifest, CampaignStore } from "./types.ts";

export interface CampaignSpec {
  seeds: readonly Probe[];
  /** Where the seeds came from (a dataset name or file), recorded in the manifest. */
  seedsSource: string;
  persona: Persona;
  languages: readonly string[];
  seed: number;
  /** Cap on planned attacks. */
  maxAttacks?: number;
  round?: number;
}

/** What a campaign runs with: the run's environment, less what the plan decides (budgets, the escalation script). */
export type CampaignDeps = Omit<CampaignEnv, "budget" | "scriptName">;

export interface CampaignOutcome {
  manifest: CampaignManifest;
  run: CampaignRunResult;
  records: AttackRecord[];
  asr: AsrReport;
  identified: Identified;
  /** True when every planned attack was already in the store. */
  complete: boolean;
}

export function campaignId(
  spec: CampaignSpec,
  target: string,
  judge: string,
  window?: { limit: number; reserve: number },
  success?: SuccessCriterion,
  gcgLibrary?: string,
): string {
  // The criterion only when it is not the default (see successKey): default campaigns keep their ids.
  const criterion = successKey(success);
  // The GCG suffix library only for a persona that draws from it (see attackId): other campaigns keep their ids.
  const library =
    gcgLibrary !== undefined && spec.persona.techniques.some((t) => drawsGcgSuffix(t.steps)) ? { gcgLibrary } : {};
  return contentHash({
    ...library,
    ...(window ? { window: { limit: window.limit, reserve: window.reserve } } : {}),
    ...(criterion ? { success: criterion } : {}),
    target,
    judge,
    persona: {
      id: spec.persona.id,
      techniques: spec.persona.techniques.map((t) => t.id),
      attacksPerSeed: spec.persona.attacksPerSeed,
      budget: spec.persona.budget,
    },
    languages: spec.languages,
    seed: spec.seed,
    seeds: spec.seeds.map(probeKey),
    maxAttacks: spec.maxAttacks ?? null,
  });
}

export async function runRedteamCampaign(spec: CampaignSpec, d: CampaignDeps): Promise<CampaignOutcome> {
  const gcgLibrary = d.deps.gcg ? gcgLibraryKey(d.deps.gcg) : undefined;
  const plan = planCampaign({
    seeds: spec.seeds,
    persona: spec.persona,
    languages: spec.languages,
    target: d.target.id,
    seed: spec.seed,
    capabilities: {
      attacker: d.attacker !== undefined,
      ...translationCapabilities(d.deps.translator),
      gcg: d.deps.gcg !== undefined,
      gcgLibrary,
    },
    maxAttacks: spec.maxAttacks,
  });
  const id = campaignId(spec, d.target.id, d.judge.id, d.context, d.success, gcgLibrary);
  const manifest: CampaignManifest = d.store.getCampaign(id) ?? {
    id,
    createdAt: new Date().toISOString(),
    target: d.target.id,
    judge: d.judge.id,
    persona: spec.persona.id,
    languages: [...spec.languages],
    seed: spec.seed,
    seedsSource: spec.seedsSource,
    round: spec.round ?? 0,
    minSeverity: (d.success ?? DEFAULT_SUCCESS).minSeverity,
    recordIds: plan.attacks.map((a) => recordIdOf(a, { ...d, budget: spec.persona.budget })),
    skipped: plan.skipped,
    ...(d.context ? { context: { limit: d.context.limit, reserve: d.context.reserve, source: d.context.source } } : {}),
  };
  d.store.putCampaign(manifest);
  const run = await runCampaign(plan.attacks, {
    target: d.target,
    judge: d.judge,
    refusalJudge: d.refusalJudge,
    attacker: d.attacker,
    evaluator: d.evaluator,
    deps: d.deps,
    framings: d.framings,
    store: d.store,
    concurrency: d.concurrency,
    budget: spec.persona.budget,
    success: d.success,
    maxModelCalls: d.maxModelCalls,
    scripts: d.scripts,
    targetParams: d.targetParams,
    targetSystemPrompt: d.targetSystemPrompt,
    context: d.context,
    onProgress: d.onProgress,
    signal: d.signal,
  });
  const complete = run.records.length === plan.attacks.length;
  const identified = identify(run.records, {
    round: spec.round ?? 0,
    defaultSeverity: Math.min(7, (d.success ?? DEFAULT_SUCCESS).minSeverity) as 3,
  });
  if (complete) d.store.putFindings(id, identified.findings, identified.vulnerabilities);
  return { manifest, run, records: run.records, asr: asrReport(run.records), identified, complete };
}

/** The records and findings of a stored campaign (for `breakfix findings`), recomputed from the store. */
export function loadCampaignResults(
  store: CampaignStore,
  id: string,
): { manifest: CampaignManifest; records: AttackRecord[]; asr: AsrReport; identified: Identified; missing: number } {
  const manifest = store.getCampaign(id);
  if (!manifest) throw new Error(`no campaign '${id}' in the store`);
  const records = manifest.recordIds.map((r) => store.getRecord(r)).filter((r): r is AttackRecord => r !== undefined);
  return {
    manifest,
    records,
    asr: asrReport(records),
    identified: identify(records, { round: manifest.round, defaultSeverity: Math.min(7, manifest.minSeverity) as 3 }),
    missing: manifest.recordIds.length - records.length,
  };
}
