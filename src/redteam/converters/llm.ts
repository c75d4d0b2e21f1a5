/**
 * Model-based rewriting converters (PyRIT's LLM converters): tone, tense, persuasion techniques, variation and noise.
 * A chat model (the attacker model by default, like "rephrase") rewrites the prompt following an instruction from
 * data/model-prompts.json, at temperature 0 with the attack's seed; an empty answer falls back to the input.
 */
import { z } from "zod";
import type { ChatModel } from "../../models/types.ts";
import { ask } from "./model.ts";
import type { ConvertContext, Converter, Params } from "./types.ts";
import { loadData, randInt, streamFor } from "./util.ts";

const promptsSchema = z.object({
  system: z.string().includes("{{instruction}}"),
  tone: z.record(z.string(), z.string().min(1)),
  tense: z.record(z.string(), z.string().min(1)),
  persuasion: z.record(z.string(), z.string().min(1)),
  variation: z.string().includes("{{n}}"),
  noise: z.string().includes("{{count}}"),
});
export const modelPrompts = () => loadData("model-prompts.json", promptsSchema);

function choice(kind: "tone" | "tense" | "persuasion", value: string): string {
  const t = modelPrompts()[kind];
  if (!Object.hasOwn(t, value))
    throw new Error(`${kind}: unknown ${kind} '${value}'; known: ${Object.keys(t).join(", ")}`);
  return t[value];
}

function rewriter(
  name: string,
  model: ChatModel,
  params: Params,
  instruction: (ctx: ConvertContext) => string,
): Converter {
  return {
    name,
    family: "rephrasing",
    params: { ...params, via: model.id },
    usesModel: true,
    convert: async (text, ctx) => {
      if (text.trim() === "") return text;
      const system = modelPrompts().system.replace("{{instruction}}", instruction(ctx));
      const out = await ask(model, system, text, ctx);
      return out === "" ? text : out;
    },
  };
}

export const toneConverter = (o: { model: ChatModel; tone?: string }): Converter => {
  const tone = o.tone ?? "polite";
  const instruction = choice("tone", tone);
  return rewriter("tone", o.model, { tone }, () => instruction);
};

/** Past-tense reformulation (Andriushchenko & Flammarion 2024) and its future / conditional variants. */
export const tenseConverter = (o: { model: ChatModel; tense?: string }): Converter => {
  const tense = o.tense ?? "past";
  const instruction = choice("tense", tense);
  return rewriter("tense", o.model, { tense }, () => instruction);
};

/** Persuasive paraphrase with one technique of the persuasion taxonomy (Zeng et al. 2024). */
export const persuasionConverter = (o: { model: ChatModel; technique?: string }): Converter => {
  const technique = o.technique ?? "logical_appeal";
  const instruction = choice("persuasion", technique);
  return rewriter("persuasion", o.model, { technique }, () => instruction);
};

/** One variation of the prompt; the seed picks which (a variation number), so seeds give different wordings. */
export const variationConverter = (o: { model: ChatModel }): Converter =>
  rewriter("variation", o.model, {}, (ctx) =>
    modelPrompts().variation.replace("{{n}}", String(1 + randInt(streamFor("variation", ctx.seed), 1000))),
  );

/** Realistic noise (typos, dropped letters) written by a model (PyRIT's NoiseConverter). */
export const noiseConverter = (o: { model: ChatModel; count?: number }): Converter => {
  const count = o.count ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 50) throw new Error(`noise: count must be 1-50, got ${count}`);
  return rewriter("noise", o.model, { count }, () => modelPrompts().noise.replace("{{count}}", String(count)));
};
