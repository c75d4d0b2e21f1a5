/**
 * Techniques: an ordered list of steps (converters and framings; or one multi-turn strategy, optionally preceded by
 * converters applied to every attacker turn). This file builds single-turn attack conversations from a seed prompt
 * and names techniques and their families for grouping.
 */

import { deriveSeed } from "../domain/random.ts";
import type { Conversation, TechniqueStep } from "../domain/types.ts";
import {
  type ConverterDeps,
  checkConverterStep,
  createConverter,
  extraConverterFamily,
} from "./converters/registry.ts";
import type { ConvertContext } from "./converters/types.ts";
import { applyFraming } from "./framings/apply.ts";
import type { FramingRegistry } from "./framings/load.ts";
import type { AttackDraft } from "./framings/types.ts";
import { checkMultiTurnParams } from "./multiturn/params.ts";

export const MULTITURN_STRATEGIES = ["crescendo", "pair", "scripted", "tap", "flirt"] as const;
export type MultiTurnStrategy = (typeof MULTITURN_STRATEGIES)[number];

export interface TechniqueSpec {
  /** Stable, readable id (e.g. "rot13+roleplay_unbound"); derived from the steps when not given. */
  id: string;
  family: string;
  steps: TechniqueStep[];
}

export function stepLabel(s: TechniqueStep): string {
  const p =
    s.params && Object.keys(s.params).length
      ? `(${Object.entries(s.params)
          .map(([k, v]) => `${k}=${v}`)
          .join(",")})`
      : "";
  return `${s.name}${p}`;
}

/** Checks the shape: multi-turn at most once and last; names known. Throws naming the technique. */
export function validateSteps(steps: readonly TechniqueStep[], framings: FramingRegistry, where: string): void {
  steps.forEach((s, i) => {
    if (s.kind === "multiturn") {
      if (i !== steps.length - 1) throw new Error(`${where}: a multi-turn step must be the last step`);
      if (!(MULTITURN_STRATEGIES as readonly string[]).includes(s.name)) {
        throw new Error(`${where}: unknown multi-turn strategy '${s.name}'; known: ${MULTITURN_STRATEGIES.join(", ")}`);
      }
      checkMultiTurnParams(s.name, s.params, where);
      if (steps.some((o) => o.kind === "framing"))
        throw new Error(`${where}: framings cannot precede a multi-turn step`);
    } else if (s.kind === "framing") {
      const f = framings.get(s.name); // throws the "unknown framing" message
      // A framing reads one parameter, shots, and only when it has a shots pool (many-shot); anything else was ignored.
      for (const [k, v] of Object.entries(s.params ?? {})) {
        if (k !== "shots" || !f.shots?.length)
          throw new Error(
            `${where}: framing '${s.name}' has no parameter '${k}' (${f.shots?.length ? "it takes shots" : "it takes none"})`,
          );
        if (typeof v !== "number" || !Number.isInteger(v) || v < 1)
          throw new Error(`${where}: framing '${s.name}': shots must be a positive integer, got ${v}`);
      }
    } else if (s.kind === "converter") {
      try {
        checkConverterStep(s);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
    }
  });
}

/**
 * The technique family used to group findings: the multi-turn strategy; else the family of the first obfuscating
 * converter (the specific bypass: encoding, obfuscation, smuggling, splitting, rephrasing); else the last framing's
 * family; else "direct". Translation is not a family (language is its own grouping dimension).
 */
export function techniqueFamily(steps: readonly TechniqueStep[], framings: FramingRegistry): string {
  const mt = steps.find((s) => s.kind === "multiturn");
  if (mt) return mt.name === "scripted" ? "scripted_escalation" : mt.name;
  const conv = steps.find((s) => s.kind === "converter" && s.name !== "translation");
  if (conv) return converterFamily(conv.name);
  const fr = [...steps].reverse().find((s) => s.kind === "framing");
  if (fr) return framings.get(fr.name).family;
  return "direct";
}

/** Every family a chain touches (for held-out-family filters: a chain using any held-out family is held out). */
export function techniqueFamilies(steps: readonly TechniqueStep[], framings: FramingRegistry): string[] {
  const out = new Set<string>();
  for (const s of steps) {
    if (s.kind === "multiturn") out.add(s.name === "scripted" ? "scripted_escalation" : s.name);
    else if (s.kind === "framing") out.add(framings.get(s.name).family);
    else if (s.name !== "translation") out.add(converterFamily(s.name));
  }
  return out.size ? [...out] : ["direct"];
}

const CONVERTER_FAMILY: Record<string, string> = {
  base64: "encoding",
  rot13: "encoding",
  reverse: "encoding",
  leetspeak: "obfuscation",
  char_swap: "obfuscation",
  homoglyph: "obfuscation",
  zero_width: "smuggling",
  unicode_tags: "smuggling",
  payload_split: "splitting",
  rephrase: "rephrasing",
  reword: "rephrasing",
  translation: "translation",
  gcg_suffix: "adversarial",
};
export function converterFamily(name: string): string {
  const f = CONVERTER_FAMILY[name] ?? extraConverterFamily(name);
  if (!f) throw new Error(`unknown converter '${name}'`);
  return f;
}

export function technique(steps: TechniqueStep[], framings: FramingRegistry, id?: string): TechniqueSpec {
  return {
    id: id ?? (steps.length ? steps.map(stepLabel).join("+") : "direct"),
    family: techniqueFamily(steps, framings),
    steps,
  };
}

export interface BuildContext {
  seed: number;
  /** Language of the input text. */
  language: string;
  deps: ConverterDeps;
  framings: FramingRegistry;
  onUsage?: ConvertContext["onUsage"];
  signal?: AbortSignal;
}

/**
 * Applies converter and framing steps to a text, step by step. Step i gets a seed derived from (seed, i). A converter
 * hint not placed by a framing is put in front of the final text. Translation updates the draft's language, so
 * later framings use their variant for it.
 */
export async function buildDraft(
  text: string,
  steps: readonly TechniqueStep[],
  ctx: BuildContext,
): Promise<AttackDraft> {
  let draft: AttackDraft = { prefix: [], text, language: ctx.language };
  for (const [i, step] of steps.entries()) {
    const seed = deriveSeed(ctx.seed, "step", i, step.name);
    if (step.kind === "converter") {
      const c = createConverter(step, ctx.deps);
      const out = await c.convert(draft.text, {
        seed,
        language: draft.language,
        onUsage: ctx.onUsage,
        signal: ctx.signal,
      });
      draft = {
        ...draft,
        text: out,
        pendingHint: c.hint ?? draft.pendingHint,
        language: step.name === "translation" ? String(c.params.to) : draft.language,
      };
    } else if (step.kind === "framing") {
      const shots = step.params?.shots;
      draft = applyFraming(ctx.framings.get(step.name), draft, {
        seed,
        shots: typeof shots === "number" ? shots : undefined,
      });
    } else {
      throw new Error(`buildDraft: multi-turn step '${step.name}' cannot be applied to a single text`);
    }
  }
  return draft;
}

export function draftConversation(d: AttackDraft): Conversation {
  const text = d.pendingHint ? `${d.pendingHint}\n\n${d.text}` : d.text;
  return [...d.prefix, { role: "user", content: text }];
}

/** Builds the single-turn attack conversation for a prompt (earlier probe history, if any, goes first). */
export async function buildAttackConversation(
  prompt: string,
  steps: readonly TechniqueStep[],
  ctx: BuildContext,
  history: Conversation = [],
): Promise<Conversation> {
  const conv = draftConversation(await buildDraft(prompt, steps, ctx));
  const sys = conv[0]?.role === "system" ? [conv[0]] : [];
  const rest = sys.length ? conv.slice(1) : conv;
  const hist = sys.length ? history.filter((m) => m.role !== "system") : history;
  return [...sys, ...hist, ...rest];
}
