/**
 * Adversary personas, as in the Phi-3 safety report's red teaming: a *low-skilled* adversary (direct asks, light
 * rewording, copy-pasted jailbreaks) and an *intermediate* one (chains of converters and framings, multi-turn
 * escalation). A persona is a named bundle of techniques plus knobs and budgets; the knobs come from the config's
 * `redteam.personas` entries (attacksPerSeed, maxChain, maxTurns, families) and filter the bundle.
 */

import { deriveSeed, Rng } from "../domain/random.ts";
import type { TechniqueStep } from "../domain/types.ts";
import { converterUsesModel } from "./converters/registry.ts";
import type { FramingRegistry } from "./framings/load.ts";
import { type AttackBudget, DEFAULT_BUDGET } from "./multiturn/budget.ts";
import { type TechniqueSpec, technique, techniqueFamilies, validateSteps } from "./techniques.ts";

export interface PersonaKnobs {
  /** Attacks generated per seed probe (techniques drawn per seed, seeded). */
  attacksPerSeed: number;
  /** Longest chain of converters + framings (translation into the attack language not counted). */
  maxChain: number;
  /** Most target turns in a multi-turn attack; 1 = single-turn only. */
  maxTurns: number;
  /** Technique families allowed; empty = all. */
  families: readonly string[];
}

export interface Persona extends PersonaKnobs {
  id: string;
  description: string;
  techniques: TechniqueSpec[];
  /** Budget of each multi-turn attack (maxTurns comes from the knobs). */
  budget: AttackBudget;
}

const conv = (name: string, params?: TechniqueStep["params"]): TechniqueStep =>
  params ? { kind: "converter", name, params } : { kind: "converter", name };
const frame = (name: string, params?: TechniqueStep["params"]): TechniqueStep =>
  params ? { kind: "framing", name, params } : { kind: "framing", name };
const multi = (name: string): TechniqueStep => ({ kind: "multiturn", name });

/** Step lists of the built-in personas (ids derive from the steps). */
export const LOW_SKILLED_STEPS: readonly TechniqueStep[][] = [
  [],
  [conv("reword")],
  [conv("rephrase", { style: "light" })],
  [frame("roleplay_unbound")],
  [frame("refusal_suppression")],
  [frame("prefix_injection")],
  [frame("system_override")],
  [frame("hypothetical")],
];

export const INTERMEDIATE_STEPS: readonly TechniqueStep[][] = [
  [conv("rot13"), frame("hypothetical")],
  [conv("base64"), frame("refusal_suppression")],
  [conv("leetspeak"), frame("fiction")],
  [conv("payload_split"), frame("prefix_injection")],
  [conv("homoglyph"), conv("char_swap"), frame("roleplay_expert")],
  [conv("zero_width"), frame("system_override")],
  [conv("reverse"), frame("roleplay_unbound")],
  [conv("rephrase", { style: "academic" }), frame("fiction"), frame("prefix_injection")],
  [frame("many_shot")],
  [frame("roleplay_unbound"), frame("refusal_suppression")],
  [multi("scripted")],
  [multi("crescendo")],
  [multi("pair")],
  [multi("tap")],
  [multi("flirt")],
];

/**
 * The white-box expert: adversarial suffixes found by GCG (redteam/gcg). Against a local HF folder the CLI runs GCG
 * on the seeds first; against any other target (llama.cpp, HTTP) it replays the suffixes stored in the workspace.
 */
export const EXPERT_STEPS: readonly TechniqueStep[][] = [
  [],
  [conv("gcg_suffix")],
  [conv("gcg_suffix"), frame("prefix_injection")],
];

export const BUILTIN_PERSONAS = {
  low_skilled: {
    description: "Low-skilled adversary: direct asks, light rewording, copy-pasted jailbreak framings; single turn.",
    steps: LOW_SKILLED_STEPS,
    knobs: { attacksPerSeed: 4, maxChain: 1, maxTurns: 1, families: [] },
  },
  intermediate: {
    description: "Intermediate adversary: chains of converters and framings, many-shot, multi-turn escalation.",
    steps: INTERMEDIATE_STEPS,
    knobs: { attacksPerSeed: 6, maxChain: 3, maxTurns: 6, families: [] },
  },
  expert: {
    description: "White-box expert: GCG adversarial suffixes optimised on a local model, replayed against any target.",
    steps: EXPERT_STEPS,
    knobs: { attacksPerSeed: 3, maxChain: 2, maxTurns: 1, families: [] },
  },
} as const satisfies Record<string, { description: string; steps: readonly TechniqueStep[][]; knobs: PersonaKnobs }>;

export type BuiltinPersonaId = keyof typeof BUILTIN_PERSONAS;

function chainLength(steps: readonly TechniqueStep[]): number {
  return steps.filter((s) => s.kind !== "multiturn" && !(s.kind === "converter" && s.name === "translation")).length;
}

/**
 * Builds a persona: a built-in id (low_skilled, intermediate) or any other id over the union of both catalogues,
 * filtered by the knobs. Throws when the filters leave no technique.
 */
export function makePersona(
  id: string,
  framings: FramingRegistry,
  knobs: Partial<PersonaKnobs> = {},
  budget: Partial<AttackBudget> = {},
): Persona {
  const builtin = (BUILTIN_PERSONAS as Record<string, (typeof BUILTIN_PERSONAS)[BuiltinPersonaId]>)[id];
  const k: PersonaKnobs = { ...(builtin?.knobs ?? BUILTIN_PERSONAS.intermediate.knobs), ...knobs };
  const catalogue = builtin ? builtin.steps : [...LOW_SKILLED_STEPS, ...INTERMEDIATE_STEPS];
  const techniques = catalogue
    .filter((steps) => chainLength(steps) <= k.maxChain)
    .filter((steps) => k.maxTurns > 1 || !steps.some((s) => s.kind === "multiturn"))
    .filter(
      (steps) => k.families.length === 0 || techniqueFamilies(steps, framings).every((f) => k.families.includes(f)),
    )
    .map((steps) => {
      validateSteps(steps, framings, `persona '${id}'`);
      return technique([...steps], framings);
    });
  if (techniques.length === 0)
    throw new Error(`persona '${id}': no technique is left after the maxChain/maxTurns/families filters`);
  return {
    id,
    description: builtin?.description ?? `Custom persona '${id}' over all built-in techniques.`,
    ...k,
    techniques,
    budget: { ...DEFAULT_BUDGET, ...budget, maxTurns: k.maxTurns },
  };
}

export interface Capabilities {
  /** An attacker model is configured (Crescendo, PAIR, TAP, FLIRT, model-based converters). */
  attacker: boolean;
  /** Whether text can be translated from one language into another (attacker model: any pair; a lexicon: a few). */
  translator: boolean | ((from: string, to: string) => boolean);
  /**
   * The model that translates a pair, when one does (an offline translator: undefined). Planned into the translation
   * step (`via`), so an attack translated by another model is another attack, never an old record replayed.
   */
  translatorModel?: (from: string, to: string) => string | undefined;
  /** GCG suffixes are available (a white-box run on a local folder, or suffixes stored in the workspace). */
  gcg?: boolean;
  /** The key of that suffix library (gcg/library.ts gcgLibraryKey): part of the ids of attacks that draw from it. */
  gcgLibrary?: string;
}

/** Why a technique cannot run with these capabilities, or undefined when it can. */
export function missingCapability(t: TechniqueSpec, caps: Capabilities, fromLanguage = "en"): string | undefined {
  const canTranslate = (to: string) =>
    typeof caps.translator === "function" ? caps.translator(fromLanguage, to) : caps.translator;
  for (const s of t.steps) {
    if (s.kind === "multiturn" && s.name !== "scripted" && !caps.attacker) return "an attacker model";
    if (s.kind === "converter" && s.name !== "translation" && converterUsesModel(s.name) && !caps.attacker)
      return "an attacker model";
    if (s.kind === "converter" && s.name === "gcg_suffix" && s.params?.suffix === undefined && !caps.gcg)
      return "GCG suffixes (a local model folder as target, or suffixes stored in the workspace)";
    if (s.kind === "converter" && s.name === "translation" && !canTranslate(String(s.params?.to))) {
      return `a translator from ${fromLanguage} into ${s.params?.to}`;
    }
  }
  return undefined;
}

/**
 * The techniques a persona uses on one seed probe: the direct ask first when the persona has it (every campaign then
 * measures the baseline), then a seeded draw of the rest, attacksPerSeed in all.
 */
export function techniquesForSeed(
  persona: Persona,
  available: readonly TechniqueSpec[],
  probeId: string,
  seed: number,
): TechniqueSpec[] {
  const direct = available.filter((t) => t.steps.length === 0);
  const rest = new Rng(deriveSeed(seed, "techniques", persona.id, probeId)).shuffle(
    available.filter((t) => t.steps.length > 0),
  );
  return [...direct, ...rest].slice(0, persona.attacksPerSeed);
}
