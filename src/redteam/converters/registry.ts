/**
 * Builds converters from technique steps ({ name, params }), as stored in attack chains, persona files and configs.
 * Parameters are validated; a bad one names the step. Model-backed converters need their model in `deps`.
 */
import { z } from "zod";
import type { ChatModel } from "../../models/types.ts";
import { gcgSuffixConverter } from "../gcg/converter.ts";
import type { GcgSuffixLibrary } from "../gcg/library.ts";
import {
  asciiArtConverter,
  charSpaceConverter,
  confusableConverter,
  diacriticsConverter,
  emojiConverter,
  FONT_STYLES,
  flipConverter,
  fullwidthConverter,
  insertPunctuationConverter,
  randomCapitalsConverter,
  stringJoinConverter,
  superscriptConverter,
  typoConverter,
  unicodeFontConverter,
  zalgoConverter,
} from "./characters.ts";
import {
  atbashConverter,
  base32Converter,
  binaryConverter,
  caesarConverter,
  charCodesConverter,
  hexConverter,
  morseConverter,
  rot47Converter,
  urlConverter,
  vigenereConverter,
} from "./cipher.ts";
import { base64Converter, reverseConverter, rot13Converter } from "./encoding.ts";
import { noiseConverter, persuasionConverter, tenseConverter, toneConverter, variationConverter } from "./llm.ts";
import {
  type CampaignTranslator,
  type RephraseStyle,
  rephraseConverter,
  rewordConverter,
  translationConverter,
} from "./model.ts";
import { charSwapConverter, homoglyphConverter, leetspeakConverter } from "./obfuscation.ts";
import { unicodeTagsConverter, zeroWidthConverter } from "./smuggling.ts";
import { payloadSplitConverter } from "./split.ts";
import {
  codeWrapConverter,
  jsonWrapConverter,
  manyShotInlineConverter,
  markdownWrapConverter,
  prefixTemplateConverter,
  repeatTokenConverter,
  suffixTemplateConverter,
} from "./structure.ts";
import type { Converter, ConverterFamily, Params } from "./types.ts";
import {
  reverseWordsConverter,
  synonymSwapConverter,
  wordDeletionConverter,
  wordInsertionConverter,
  wordOrderConverter,
} from "./words.ts";

export interface ConverterDeps {
  /** Used by "translation". */
  translator?: CampaignTranslator;
  /** Used by "rephrase". */
  rephraser?: ChatModel;
  /** Used by "gcg_suffix" without a suffix param: suffixes found by GCG (white-box run or stored in the workspace). */
  gcg?: GcgSuffixLibrary;
}

const rate = z.object({ rate: z.number().min(0).max(1).optional() }).strict();
const none = z.object({}).strict();

/**
 * The converters added for issue #21 (ciphers, characters, words, structure, model-based), each with its param
 * schema, family and factory. Model-based ones use deps.rephraser (the attacker model), as "rephrase" does.
 */
type Made = (p: Record<string, unknown>, deps: ConverterDeps) => Converter;
interface ExtraEntry {
  family: ConverterFamily;
  usesModel: boolean;
  schema: z.ZodType;
  make: Made;
}
const extra = (family: ConverterFamily, schema: z.ZodType, make: Made, usesModel = false): ExtraEntry => ({
  family,
  usesModel,
  schema,
  make,
});
const needModel = (name: string, deps: ConverterDeps): ChatModel => {
  if (!deps.rephraser) throw new Error(`converter '${name}' needs a chat model (the attacker model)`);
  return deps.rephraser;
};
const str = <T extends string>(v: unknown) => v as T | undefined;
const num = (v: unknown) => v as number | undefined;
const word = z.string().regex(/^[a-z_]+$/);
const via = { via: z.string().optional() };

const EXTRA_CONVERTERS = {
  caesar: extra("encoding", z.object({ shift: z.number().int().min(1).max(25).optional() }).strict(), (p) =>
    caesarConverter({ shift: num(p.shift) }),
  ),
  atbash: extra("encoding", none, () => atbashConverter()),
  rot47: extra("encoding", none, () => rot47Converter()),
  vigenere: extra(
    "encoding",
    z
      .object({
        key: z
          .string()
          .regex(/^[A-Za-z]+$/)
          .optional(),
      })
      .strict(),
    (p) => vigenereConverter({ key: str(p.key) }),
  ),
  morse: extra("encoding", none, () => morseConverter()),
  binary: extra("encoding", none, () => binaryConverter()),
  hex: extra("encoding", none, () => hexConverter()),
  url: extra("encoding", none, () => urlConverter()),
  base32: extra("encoding", none, () => base32Converter()),
  char_codes: extra("encoding", none, () => charCodesConverter()),
  char_space: extra("obfuscation", none, () => charSpaceConverter()),
  string_join: extra("obfuscation", z.object({ sep: z.string().min(1).max(8).optional() }).strict(), (p) =>
    stringJoinConverter({ sep: str(p.sep) }),
  ),
  random_capitals: extra("obfuscation", rate, (p) => randomCapitalsConverter({ rate: num(p.rate) })),
  diacritics: extra(
    "obfuscation",
    z.object({ accent: word.optional(), rate: z.number().min(0).max(1).optional() }).strict(),
    (p) => diacriticsConverter({ accent: str(p.accent), rate: num(p.rate) }),
  ),
  zalgo: extra("obfuscation", z.object({ intensity: z.number().int().min(1).max(20).optional() }).strict(), (p) =>
    zalgoConverter({ intensity: num(p.intensity) }),
  ),
  flip: extra("obfuscation", none, () => flipConverter()),
  confusable: extra("obfuscation", rate, (p) => confusableConverter({ rate: num(p.rate) })),
  emoji: extra("obfuscation", none, () => emojiConverter()),
  ascii_art: extra(
    "obfuscation",
    z.object({ fill: z.string().min(1).max(2).optional(), width: z.number().int().min(1).max(80).optional() }).strict(),
    (p) => asciiArtConverter({ fill: str(p.fill), width: num(p.width) }),
  ),
  typo: extra("obfuscation", rate, (p) => typoConverter({ rate: num(p.rate) })),
  fullwidth: extra("obfuscation", none, () => fullwidthConverter()),
  unicode_font: extra("obfuscation", z.object({ style: z.enum(FONT_STYLES).optional() }).strict(), (p) =>
    unicodeFontConverter({ style: str(p.style) }),
  ),
  superscript: extra("obfuscation", none, () => superscriptConverter()),
  insert_punctuation: extra("obfuscation", rate, (p) => insertPunctuationConverter({ rate: num(p.rate) })),
  synonym_swap: extra("word", rate, (p) => synonymSwapConverter({ rate: num(p.rate) })),
  word_insertion: extra("word", rate, (p) => wordInsertionConverter({ rate: num(p.rate) })),
  word_deletion: extra("word", rate, (p) => wordDeletionConverter({ rate: num(p.rate) })),
  word_order: extra("word", rate, (p) => wordOrderConverter({ rate: num(p.rate) })),
  reverse_words: extra("word", none, () => reverseWordsConverter()),
  prefix_template: extra(
    "structure",
    z.object({ template: word.optional(), text: z.string().min(1).optional() }).strict(),
    (p) => prefixTemplateConverter({ template: str(p.template), text: str(p.text) }),
  ),
  suffix_template: extra(
    "structure",
    z.object({ template: word.optional(), text: z.string().min(1).optional() }).strict(),
    (p) => suffixTemplateConverter({ template: str(p.template), text: str(p.text) }),
  ),
  code_wrap: extra("structure", z.object({ language: word.optional() }).strict(), (p) =>
    codeWrapConverter({ language: str(p.language) }),
  ),
  json_wrap: extra(
    "structure",
    z
      .object({
        key: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
          .optional(),
      })
      .strict(),
    (p) => jsonWrapConverter({ key: str(p.key) }),
  ),
  markdown_wrap: extra("structure", z.object({ style: word.optional() }).strict(), (p) =>
    markdownWrapConverter({ style: str(p.style) }),
  ),
  many_shot_inline: extra("structure", z.object({ shots: z.number().int().min(1).max(256).optional() }).strict(), (p) =>
    manyShotInlineConverter({ shots: num(p.shots) }),
  ),
  repeat_token: extra(
    "structure",
    z
      .object({
        token: z.string().min(1).max(40).optional(),
        times: z.number().int().min(1).max(1000).optional(),
        mode: z.enum(["prepend", "append"]).optional(),
      })
      .strict(),
    (p) => repeatTokenConverter({ token: str(p.token), times: num(p.times), mode: str(p.mode) }),
  ),
  tone: extra(
    "rephrasing",
    z.object({ tone: word.optional(), ...via }).strict(),
    (p, d) => toneConverter({ model: needModel("tone", d), tone: str(p.tone) }),
    true,
  ),
  tense: extra(
    "rephrasing",
    z.object({ tense: word.optional(), ...via }).strict(),
    (p, d) => tenseConverter({ model: needModel("tense", d), tense: str(p.tense) }),
    true,
  ),
  persuasion: extra(
    "rephrasing",
    z.object({ technique: word.optional(), ...via }).strict(),
    (p, d) => persuasionConverter({ model: needModel("persuasion", d), technique: str(p.technique) }),
    true,
  ),
  variation: extra(
    "rephrasing",
    z.object({ ...via }).strict(),
    (_p, d) => variationConverter({ model: needModel("variation", d) }),
    true,
  ),
  noise: extra(
    "rephrasing",
    z.object({ count: z.number().int().min(1).max(50).optional(), ...via }).strict(),
    (p, d) => noiseConverter({ model: needModel("noise", d), count: num(p.count) }),
    true,
  ),
} as const satisfies Record<string, ExtraEntry>;
type ExtraConverterName = keyof typeof EXTRA_CONVERTERS;

/** Family of an added converter by name (undefined for the original twelve, which techniques.ts lists). */
export function extraConverterFamily(name: string): ConverterFamily | undefined {
  return Object.hasOwn(EXTRA_CONVERTERS, name) ? EXTRA_CONVERTERS[name as ExtraConverterName].family : undefined;
}

/** Whether a converter calls a chat model (needs the attacker model). */
export function converterUsesModel(name: string): boolean {
  if (name === "rephrase" || name === "translation") return true;
  return Object.hasOwn(EXTRA_CONVERTERS, name) && EXTRA_CONVERTERS[name as ExtraConverterName].usesModel;
}

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
  ...Object.fromEntries(Object.entries(EXTRA_CONVERTERS).map(([k, v]) => [k, v.schema])),
} as const;

export type ConverterName = keyof typeof PARAM_SCHEMAS | ExtraConverterName;
export const CONVERTER_NAMES = Object.keys(PARAM_SCHEMAS) as ConverterName[];

function isExtra(name: ConverterName): name is ExtraConverterName {
  return Object.hasOwn(EXTRA_CONVERTERS, name);
}

export function isConverterName(name: string): name is ConverterName {
  return Object.hasOwn(PARAM_SCHEMAS, name);
}

/** A step's params, validated by its converter's schema; throws naming the converter and the bad keys. */
function parseParams(step: { name: string; params?: Params }): { name: ConverterName; p: Record<string, unknown> } {
  if (!isConverterName(step.name)) {
    throw new Error(`unknown converter '${step.name}'; known: ${CONVERTER_NAMES.join(", ")}`);
  }
  const schema = (PARAM_SCHEMAS as Record<string, z.ZodType>)[step.name];
  const parsed = schema.safeParse(step.params ?? {});
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join(".") || "(params)"}: ${i.message}`).join("; ");
    throw new Error(`converter '${step.name}': bad params: ${msg}`);
  }
  return { name: step.name, p: parsed.data as Record<string, unknown> };
}

/**
 * Checks a converter step where a technique is defined (persona files, built-in personas), before any attack runs:
 * its name and params against the converter's schema and, for a converter that needs no model or suffix library, its
 * own checks (templates, fill characters, keys), by building it once. Throws what createConverter would throw when
 * the attack runs.
 */
export function checkConverterStep(step: { name: string; params?: Params }): void {
  if (converterUsesModel(step.name) || (step.name === "gcg_suffix" && step.params?.suffix === undefined))
    parseParams(step);
  else createConverter(step);
}

export function createConverter(step: { name: string; params?: Params }, deps: ConverterDeps = {}): Converter {
  const { name, p } = parseParams(step);
  if (isExtra(name)) return EXTRA_CONVERTERS[name].make(p, deps);
  switch (name) {
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
