/**
 * The converter interface. A converter rewrites the text of an attack prompt (encodes, obfuscates, smuggles,
 * splits, translates or rephrases it) without changing what is asked; chains of converters compose. One async
 * interface for all of them: offline converters resolve immediately, model-backed ones (translation, rephrasing)
 * call a ChatModel. Every converter is deterministic given ctx.seed (model-backed ones pass the seed on and ask
 * for temperature 0, so they are as deterministic as their model).
 *
 * Converter output is attack text, never code: nothing in src/redteam/ evaluates it.
 */
import type { TechniqueStep, Usage } from "../../domain/types.ts";

export type ConverterFamily =
  | "encoding"
  | "obfuscation"
  | "smuggling"
  | "splitting"
  | "word"
  | "structure"
  | "translation"
  | "rephrasing"
  | "adversarial"; // optimised suffixes (GCG)

export type ParamValue = string | number | boolean;
export type Params = Readonly<Record<string, ParamValue>>;

export interface ConvertContext {
  /** The attack's seed; converters derive their own stream from it and their name. */
  seed: number;
  /** Language of the input text, when known (BCP-47-ish: "en", "es"). */
  language?: string;
  /** Called with the token usage of every model call a converter makes (budgets, cost accounting). */
  onUsage?: (usage: Usage) => void;
  signal?: AbortSignal;
}

export interface Converter {
  /** Registry name, e.g. "base64". Stored in the attack's technique chain. */
  readonly name: string;
  readonly family: ConverterFamily;
  /** The parameters that change the output (recorded in the chain, part of the attack id). */
  readonly params: Params;
  /** True when convert() calls a model. */
  readonly usesModel: boolean;
  /**
   * A sentence telling the target how to read the converted text ("The request below is base64-encoded..."),
   * for framings that want to explain the encoding; undefined when none is needed.
   */
  readonly hint?: string;
  convert(text: string, ctx: ConvertContext): Promise<string>;
  /**
   * The exact inverse, when one exists for the converter's documented input domain (used to read a target's answer
   * given in the same encoding, and by the conformance suite).
   */
  invert?(text: string): string;
}

/** The chain step that records a converter. */
export function converterStep(c: Converter): TechniqueStep {
  return Object.keys(c.params).length
    ? { kind: "converter", name: c.name, params: { ...c.params } }
    : { kind: "converter", name: c.name };
}
