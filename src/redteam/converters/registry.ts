/**
 * Builds converters from technique steps ({ name, params }), as stored in attack chains, persona files and configs.
 * Parameters are validated; a bad one names the step. Model-backed converters need their model in `deps`.
 */
import { z } from "zod";
import type { ChatModel } from "../../models/types.ts";
import { gcgSuffixConverter } from "../gcg/converter.ts";
import type { GcgSuffixLibrary } from "../gcg/library.ts";
import { base64Converter, reverseConverter, rot13Converter } from "./encoding.ts";
import {
  type RephraseStyle,
  rephraseConverter,
  rewordConverter,
  type Translator,
  translationConverter,
} from "./model.ts";
import { charSwapConverter, homoglyphConverter, leetspeakConverter } from "./obfuscation.ts";
import { unicodeTagsConverter, zeroWidthConverter } from "./smuggling.ts";
import { payloadSplitConverter } from "./split.ts";
import type { Converter, Params } from "./types.ts";

export interface ConverterDeps {
  /** Used by "translation". */
  translator?: Translator & { id: string };
  /** Used by "rephrase". */
  rephraser?: ChatModel;
  /** Used by "gcg_suffix" without a suffix param: suffixes found by GCG (white-box run or stored in the workspace). */
  gcg?: GcgSuffixLibrary;
}

const rate = z.object({ rate: z.number().min(0).max(1).optional() }).strict();
const none = z.object({}).strict();

const PARAM_SCHEMAS = {
  base64: none,
  rot13: none,
  reverse: none,
  leetspeak: rate,
  char_swap: rate,
  homoglyph: rate,
  zero_width: z.object({ mode: z.enum(["fixed", "random"]).optional() }).strict(),
  unicode_tags: z.object({ cover: z.string().optional() }).strict(),
  payload_split: z.object({ parts: z.number().int().min(2).max(25).optional() }).strict(),
  translation: z.object({ to: z.string().min(2), via: z.string().optional() }).strict(),
  rephrase: z
    .object({ style: z.enum(["light", "indirect", "academic", "casual"]).optional(), via: z.string().optional() })
    .strict(),
  reword: none,
  gcg_suffix: z.object({ suffix: z.string().min(1).optional() }).strict(),
} as const;

export type ConverterName = keyof typeof PARAM_SCHEMAS;
export const CONVERTER_NAMES = Object.keys(PARAM_SCHEMAS) as ConverterName[];

export function isConverterName(name: string): name is ConverterName {
  return Object.hasOwn(PARAM_SCHEMAS, name);
}

export function createConverter(step: { name: string; params?: Params }, deps: ConverterDeps = {}): Converter {
  if (!isConverterName(step.name)) {
    throw new Error(`unknown converter '${step.name}'; known: ${CONVERTER_NAMES.join(", ")}`);
  }
  const parsed = PARAM_SCHEMAS[step.name].safeParse(step.params ?? {});
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join(".") || "(params)"}: ${i.message}`).join("; ");
    throw new Error(`converter '${step.name}': bad params: ${msg}`);
  }
  const p = parsed.data as Record<string, unknown>;
  switch (step.name) {
    case "base64":
      return base64Converter();
    case "rot13":
      return rot13Converter();
    case "reverse":
      return reverseConverter();
    case "leetspeak":
      return leetspeakConverter({ rate: p.rate as number | undefined });
    case "char_swap":
      return charSwapConverter({ rate: p.rate as number | undefined });
    case "homoglyph":
      return homoglyphConverter({ rate: p.rate as number | undefined });
    case "zero_width":
      return zeroWidthConverter({ mode: p.mode as "fixed" | "random" | undefined });
    case "unicode_tags":
      return unicodeTagsConverter({ cover: p.cover as string | undefined });
    case "payload_split":
      return payloadSplitConverter({ parts: p.parts as number | undefined });
    case "translation":
      if (!deps.translator) throw new Error("converter 'translation' needs a translator (a chat model or a lexicon)");
      return translationConverter({ to: p.to as string, translator: deps.translator });
    case "rephrase":
      if (!deps.rephraser) throw new Error("converter 'rephrase' needs a chat model (the attacker model)");
      return rephraseConverter({ model: deps.rephraser, style: p.style as RephraseStyle | undefined });
    case "reword":
      return rewordConverter();
    case "gcg_suffix":
      return gcgSuffixConverter({ suffix: p.suffix as string | undefined, library: deps.gcg });
  }
}
