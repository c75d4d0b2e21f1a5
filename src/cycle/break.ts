/**
 * The break step of a round: one red-team campaign per persona against the previous round's model, on the scenario's
 * seeds, judged by the scenario's red-team judge; findings and per-family ASR go in the step record.
 */
import type { Config } from "../config/schema.ts";
import { etaText } from "../domain/eta.ts";
import type { Finding } from "../domain/types.ts";
import { runRedteamCampaign } from "../redteam/campaign/campaign.ts";
import type { CampaignProgress } from "../redteam/campaign/run.ts";
import { SqliteCampaignStore } from "../redteam/campaign/sqlite-store.ts";
import { FramingRegistry } from "../redteam/framings/load.ts";
import { makePersona } from "../redteam/personas.ts";
import type { Store } from "../store/store.ts";
import type { OpenedModel } from "./deploy.ts";
import { throttled } from "./progress.ts";
import type { ScenarioRedteam } from "./scenario.ts";

export interface CampaignSummary {
  id: string;
  persona: string;
  attacks: number;
  successes: number;
  /** Planned attacks that could not run (reported; they fail the same way on a re-run). */
  failed: number;
  successIds: string[];
  findings: Finding[];
  asrByFamily: Record<string, { successes: number; n: number }>;
}

export interface BreakResult {
  campaigns: CampaignSummary[];
}

export interface BreakOptions {
  store: Store;
  redteam: ScenarioRedteam;
  config: Config;
  round: number;
  /** Campaign seed (the training seed and the round: each round attacks differently, reproducibly). */
  seed: number;
  personas: readonly string[];
  seedsPerCategory: number;
  maxAttacksPerPersona: number;
  maxTokens: number;
  log: (l: string) => void;
  /** The attack counts with an ETA (default: log). */
  progress?: (l: string) => void;
}

export async function breakStep(target: OpenedModel, o: BreakOptions): Promise<BreakResult> {
  const seeds = await o.redteam.seeds(o.seedsPerCategory);
  const framings = new FramingRegistry();
  const out: CampaignSummary[] = [];
  // redteam.budget.maxModelCallsPerRound is the round's, shared by its personas in turn: each campaign may spend what
  // the ones before it left (their stored records' calls, so a resumed round counts what it spent before the kill)
  let callsLeft = o.config.redteam.budget.maxModelCallsPerRound;
  for (const personaId of o.personas) {
    const pc = o.config.redteam.personas.find((p) => p.id === personaId);
    const persona = makePersona(
      personaId,
      framings,
      pc
        ? { attacksPerSeed: pc.attacksPerSeed, maxChain: pc.maxChain, maxTurns: pc.maxTurns, families: pc.families }
        : {},
    );
    const progress = throttled(5000);
    const res = await runRedteamCampaign(
      {
        seeds: seeds.probes,
        seedsSource: seeds.source,
        persona,
        languages: o.redteam.languages,
        seed: o.seed,
        maxAttacks: o.maxAttacksPerPersona,
        round: o.round,
      },
      {
        target: target.model,
        judge: o.redteam.judge,
        attacker: o.redteam.attacker,
        deps: o.redteam.deps,
        scripts: o.redteam.scripts,
        framings,
        store: new SqliteCampaignStore(o.store),
        concurrency: 16,
        success: { ...o.redteam.success },
        maxModelCalls: Math.max(0, callsLeft),
        targetParams: { temperature: 0, maxTokens: o.maxTokens },
        context: target.context,
        onProgress: (p: CampaignProgress) => {
          if (progress(p.done >= p.total))
            (o.progress ?? o.log)(
              `round ${o.round}: break (${personaId}) ${p.done}/${p.total} attacks, ${p.successes} successes, ETA ${etaText(p.etaMs)}`,
            );
        },
      },
    );
    // Attacks that cannot run (e.g. a prompt longer than the model's context) fail the same way on every re-run:
    // they are counted and reported, and the round goes on with the attacks that did run.
    if (!res.complete)
      o.log(
        `round ${o.round}: break (${personaId}): ${res.run.failed.length} of ${res.manifest.recordIds.length} attacks could not run${res.run.failed[0] ? ` (first: ${res.run.failed[0].error})` : ""}`,
      );
    callsLeft -= res.records.reduce((n, r) => n + (r.calls ?? 0), 0);
    if (res.run.notStarted > 0)
      o.log(
        `round ${o.round}: break (${personaId}): the round's model-call budget (redteam.budget.maxModelCallsPerRound) ran out; ${res.run.notStarted} attacks not started`,
      );
    const asrByFamily: Record<string, { successes: number; n: number }> = {};
    for (const rec of res.records) {
      const f = asrByFamily[rec.attack.family] ?? { successes: 0, n: 0 };
      asrByFamily[rec.attack.family] = f;
      f.n++;
      if (rec.success) f.successes++;
    }
    const summary: CampaignSummary = {
      id: res.manifest.id,
      persona: personaId,
      attacks: res.records.length,
      successes: res.records.filter((x) => x.success).length,
      failed: res.run.failed.length,
      successIds: res.records.filter((x) => x.success).map((x) => x.id),
      findings: res.identified.findings,
      asrByFamily,
    };
    out.push(summary);
    o.log(
      `round ${o.round}: break (${personaId}): ${summary.attacks} attacks, ${summary.successes} successes, ` +
        `${res.identified.findings.length} findings, ${res.identified.vulnerabilities.length} vulnerabilities`,
    );
  }
  return { campaigns: out };
}
