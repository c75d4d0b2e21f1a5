/**
 * Campaign planning: seeds x techniques x languages, with deterministic ids. The attack id is the content hash of
 * (probe, chain, seed, target); the record id adds the judge. A plan is a pure function of its inputs, so a re-run of
 * the same command plans the same ids and the store tells which are done.
 */
import { contentHash } from "../../domain/hash.ts";
import type { Probe, TechniqueStep } from "../../domain/types.ts";
import { type SuccessCriterion, successKey } from "../outcome.ts";
import { type Capabilities, missingCapability, type Persona, techniquesForSeed } from "../personas.ts";
import type { TechniqueSpec } from "../techniques.ts";
import type { PlannedAttack } from "./types.ts";

export interface PlanInput {
  seeds: readonly Probe[];
  persona: Persona;
  languages: readonly string[];
  target: string;
  seed: number;
  capabilities: Capabilities;
  /** Cap on planned attacks (the CLI's --budget); the plan keeps a seeded, category-balanced prefix. */
  maxAttacks?: number;
}

export interface Plan {
  attacks: PlannedAttack[];
  skipped: { techniqueId: string; language: string; reason: string; count: number }[];
}

/** The parts of a probe that define the attack (not its source metadata). */
export function probeKey(p: Probe): unknown {
  return { id: p.id, prompt: p.prompt, history: p.history ?? [], category: p.category, language: p.language };
}

/** Whether a chain draws its GCG suffix from the suffix library (a gcg_suffix step without a suffix of its own). */
export function drawsGcgSuffix(chain: readonly TechniqueStep[]): boolean {
  return chain.some((s) => s.kind === "converter" && s.name === "gcg_suffix" && s.params?.suffix === undefined);
}

/**
 * The attack id. `gcgLibrary` (the key of the suffix library the campaign draws from, see gcg/library.ts) counts only
 * for a chain that draws from it: which suffix is sent depends on the library, so another library is another attack;
 * every other attack keeps its id.
 */
export function attackId(
  probe: Probe,
  chain: readonly TechniqueStep[],
  seed: number,
  target: string,
  gcgLibrary?: string,
): string {
  const library = gcgLibrary !== undefined && drawsGcgSuffix(chain) ? { gcgLibrary } : {};
  return contentHash({ probe: probeKey(probe), chain, seed, target, ...library });
}

/**
 * The record id: the attack and its judge, plus the target's context window when one is enforced (what was sent
 * depends on it: shortened many-shot, attacks not sent), the success criterion when it is not the default (the
 * success flag, decodings and multi-turn stops depend on it), and for a multi-turn attack what steers its loop from
 * outside the plan (MultiTurnKey). Without any of them the id is the original one.
 */
export function recordId(
  attackIdValue: string,
  judgeId: string,
  window?: ContextWindowKey,
  success?: SuccessCriterion,
  multiTurn?: MultiTurnKey,
): string {
  const criterion = successKey(success);
  return contentHash({
    attack: attackIdValue,
    judge: judgeId,
    ...(window ? { window: { limit: window.limit, reserve: window.reserve } } : {}),
    ...(criterion ? { success: criterion } : {}),
    ...(multiTurn ? { multiTurn } : {}),
  });
}

/**
 * What of a multi-turn attack's run goes into its record id (a single-turn attack has none): its budget (turns kept,
 * calls, tokens, backtracks: a raised maxTurns reused the records of the old budget on resume), the escalation script
 * a scripted attack follows (its text: a scripts file may redefine a name), and the attacker and evaluator models
 * that write and rate its turns (model strategies only).
 */
export interface MultiTurnKey {
  budget: { maxTurns: number; maxCalls: number; maxTokens: number; maxBacktracks: number };
  script?: unknown;
  attacker?: string;
  evaluator?: string;
}

/** What of a context window goes into record and campaign ids. */
export interface ContextWindowKey {
  limit: number;
  reserve: number;
}

function withLanguage(t: TechniqueSpec, probeLanguage: string, language: string, caps: Capabilities): TechniqueStep[] {
  if (probeLanguage === language) return t.steps;
  const via = caps.translatorModel?.(probeLanguage, language);
  return [{ kind: "converter", name: "translation", params: { to: language, ...(via ? { via } : {}) } }, ...t.steps];
}

export function planCampaign(input: PlanInput): Plan {
  const { persona, capabilities } = input;
  if (input.languages.length === 0) throw new Error("campaign: at least one language is needed");
  const skipped = new Map<string, { techniqueId: string; language: string; reason: string; count: number }>();
  const skip = (techniqueId: string, language: string, reason: string) => {
    const k = `${techniqueId}\u0000${language}\u0000${reason}`;
    const s = skipped.get(k) ?? { techniqueId, language, reason, count: 0 };
    s.count++;
    skipped.set(k, s);
  };
  const seen = new Set<string>();
  const perProbe: PlannedAttack[][] = [];
  for (const probe of input.seeds) {
    const row: PlannedAttack[] = [];
    for (const language of input.languages) {
      const usable = persona.techniques.filter((t) => {
        const steps = withLanguage(t, probe.language, language, capabilities);
        const missing = missingCapability({ ...t, steps }, capabilities, probe.language);
        if (missing) skip(t.id, language, `needs ${missing}`);
        return !missing;
      });
      for (const t of techniquesForSeed(persona, usable, `${probe.id}|${language}`, input.seed)) {
        const steps = withLanguage(t, probe.language, language, capabilities);
        const id = attackId(probe, steps, input.seed, input.target, capabilities.gcgLibrary);
        if (seen.has(id)) continue; // the same probe listed twice
        seen.add(id);
        row.push({
          id,
          probe,
          persona: persona.id,
          techniqueId: t.id,
          family: t.family,
          steps,
          language,
          seed: input.seed,
          target: input.target,
        });
      }
    }
    perProbe.push(row);
  }
  // Interleave probes round-robin so a budget cut keeps every seed (and so every category) represented.
  const interleaved = (rows: readonly PlannedAttack[][]): PlannedAttack[] => {
    const out: PlannedAttack[] = [];
    for (let i = 0; rows.some((r) => i < r.length); i++) for (const r of rows) if (i < r.length) out.push(r[i]);
    return out;
  };
  let attacks = interleaved(perProbe);
  // Under a budget smaller than the plan, the probes themselves are first taken round-robin over category x language
  // strata: seeds usually come sorted by category, and a prefix of them would be all S1 (issue 23: --budget 40 drew
  // only S1). Without a cut the plan keeps its order.
  if (input.maxAttacks !== undefined && input.maxAttacks < attacks.length) {
    const strata = new Map<string, PlannedAttack[][]>();
    for (const r of perProbe) {
      if (r.length === 0) continue;
      const k = `${r[0].probe.category}\u0000${r[0].probe.language}`;
      const list = strata.get(k);
      if (list) list.push(r);
      else strata.set(k, [r]);
    }
    const groups = [...strata.values()];
    const ordered: PlannedAttack[][] = [];
    for (let i = 0; groups.some((g) => i < g.length); i++) for (const g of groups) if (i < g.length) ordered.push(g[i]);
    attacks = interleaved(ordered);
  }
  // A budget, when given, is a positive integer; without one the plan is whatever the persona allows, possibly
  // nothing (every technique skipped, e.g. a language nothing can translate into: the skips say why).
  if (input.maxAttacks !== undefined && (!Number.isInteger(input.maxAttacks) || input.maxAttacks < 1))
    throw new Error(`campaign: budget must be a positive integer, got ${input.maxAttacks}`);
  const max = input.maxAttacks ?? attacks.length;
  return { attacks: attacks.slice(0, max), skipped: [...skipped.values()] };
}
