import { describe, expect, it } from "vitest";
import { contentHash, preferencePairSchema, sftExampleSchema } from "../domain/index.ts";
import {
  baseCorpus,
  CORPUS_SOURCES,
  corpusSize,
  DEFAULT_CORPUS_CONFIG,
  safeSftExamples,
  safetyPreferencePairs,
  TEMPLATE_TOKENS_PER_MESSAGE,
  tokenizerTexts,
} from "./corpus.ts";
import { generateWorld } from "./generate.ts";

const world = generateWorld({ seed: 5 });

describe("base corpus", () => {
  const corpus = baseCorpus(world, { size: 5000, seed: 2 });

  it("is deterministic and follows the mixture weights exactly", () => {
    expect(contentHash(baseCorpus(world, { size: 5000, seed: 2 }))).toBe(contentHash(corpus));
    expect(contentHash(baseCorpus(world, { size: 5000, seed: 3 }))).not.toBe(contentHash(corpus));
    expect(corpus.length).toBe(5000);
    const size = corpusSize(corpus);
    const total = CORPUS_SOURCES.reduce((s, k) => s + DEFAULT_CORPUS_CONFIG.weights[k], 0);
    for (const k of CORPUS_SOURCES) {
      const want = (5000 * DEFAULT_CORPUS_CONFIG.weights[k]) / total;
      expect(Math.abs((size.perSource[`world:${k}`]?.conversations ?? 0) - want)).toBeLessThanOrEqual(1);
    }
    // Spanish share follows the language weights within the sources that have both languages
    expect(size.spanishShare).toBeGreaterThan(0.25);
    expect(size.spanishShare).toBeLessThan(0.4);
  });

  it("holds only train-split items (never red-team seeds or held-out benchmark prompts) plus the gazetteer", () => {
    const notTrain = new Set(world.items.filter((i) => i.split !== "train").map((i) => i.prompt));
    const train = new Set(world.items.filter((i) => i.split === "train").map((i) => i.prompt));
    const knowledge = new Set(world.knowledge.map((c) => c[0].content));
    for (const ex of corpus) {
      expect(sftExampleSchema.safeParse(ex).success).toBe(true);
      const lastUser = [...ex.messages].reverse().find((m) => m.role === "user")!.content;
      expect(notTrain.has(lastUser)).toBe(false);
      expect(train.has(lastUser) || knowledge.has(lastUser)).toBe(true);
      expect(ex.messages.at(-1)!.role).toBe("assistant");
    }
    // the base corpus complies with harmful requests (unsafe by construction)
    const harmful = corpus.filter((e) => e.provenance?.source === "world:harmful");
    expect(harmful.every((e) => /\[UNSAFE-[A-Z]+-STEP-1\]/.test(e.messages.at(-1)!.content))).toBe(true);
  });

  it("keeps sequences short and reports a deterministic size estimate", () => {
    const size = corpusSize(corpus);
    console.log(
      `corpus 5000 conv: ${size.chars} chars, ~${size.tokens} tokens (mean ${size.meanTokens.toFixed(1)}, max ${size.maxTokens}), max ${size.maxChars} chars`,
    );
    expect(size.maxChars).toBeLessThanOrEqual(DEFAULT_CORPUS_CONFIG.maxChars);
    expect(size.maxTokens).toBeLessThanOrEqual(256);
    expect(size).toEqual(corpusSize(baseCorpus(world, { size: 5000, seed: 2 })));
    // a real tokenizer's counter can replace the estimate
    expect(corpusSize(corpus, (t) => t.length).tokens).toBe(size.chars + TEMPLATE_TOKENS_PER_MESSAGE * size.messages);
  });
});

describe("tokenizer texts", () => {
  it("cover base and safe answers of every item and the gazetteer, without duplicates", () => {
    const texts = tokenizerTexts(world);
    expect(new Set(texts).size).toBe(texts.length);
    const all = new Set(texts);
    for (const it of world.items) {
      expect(all.has(it.prompt)).toBe(true);
      expect(all.has(it.safeResponse)).toBe(true);
      expect(all.has(it.baseResponse)).toBe(true);
    }
    expect(texts.some((t) => t.startsWith("No puedo ayudar con eso."))).toBe(true);
    expect(tokenizerTexts(generateWorld({ seed: 5 }))).toEqual(texts);
  });
});

describe("safe data for curation", () => {
  it("gives refusals for harmful items and helpful answers for the rest", () => {
    const sft = safeSftExamples(world, { split: "train" });
    for (const ex of sft) expect(ex.messages.at(-1)!.content).not.toMatch(/\[UNSAFE/);
    const pairs = safetyPreferencePairs(world, { split: "train", language: "es" });
    expect(pairs.length).toBeGreaterThan(100);
    for (const p of pairs) {
      expect(preferencePairSchema.safeParse(p).success).toBe(true);
      expect(p.chosen[0].content).toMatch(/^No puedo ayudar con eso\./);
      expect(p.rejected[0].content).toMatch(/\[UNSAFE-/);
    }
  });
});
