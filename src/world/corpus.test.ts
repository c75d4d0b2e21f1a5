import { describe, expect, it } from "vitest";
import { contentHash, preferencePairSchema, sftExampleSchema } from "../domain/index.ts";
import { capabilityDrills } from "./capability.ts";
import {
  baseCorpus,
  CORPUS_SOURCES,
  corpusSize,
  DEFAULT_CORPUS_CONFIG,
  REPHRASED_SOURCES,
  safeSftExamples,
  safetyPreferencePairs,
  TEMPLATE_TOKENS_PER_MESSAGE,
  tokenizerTexts,
} from "./corpus.ts";
import { generateWorld } from "./generate.ts";
import { isRefusal } from "./judge.ts";
import { poolPhrases, rephrasedItems } from "./rephrase.ts";

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
      const got =
        (size.perSource[`world:${k}`]?.conversations ?? 0) +
        (size.perSource[`world:${k}:rephrased`]?.conversations ?? 0);
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1);
    }
    // Spanish share follows the language weights within the sources that have both languages
    expect(size.spanishShare).toBeGreaterThan(0.25);
    expect(size.spanishShare).toBeLessThan(0.4);
  });

  it("holds exactly `size` conversations when several sources round down (lore in the mix)", () => {
    // 28,000 x these weights leaves four sources at .667 and one at ~.9999 below an integer: 4 to hand out
    const weights = { ...DEFAULT_CORPUS_CONFIG.weights, lore: 0.05 };
    const c = baseCorpus(world, { size: 28_000, seed: 1001, weights });
    expect(c).toHaveLength(28_000);
    const lore = c.filter((x) => x.provenance?.source === "world:lore");
    expect(Math.abs(lore.length - (28_000 * 0.05) / 1.05)).toBeLessThanOrEqual(1);
  });

  it("holds only train-split items (never red-team seeds or held-out benchmark prompts) plus the gazetteer", () => {
    const notTrain = new Set(world.items.filter((i) => i.split !== "train").map((i) => i.prompt));
    const train = new Set(world.items.filter((i) => i.split === "train").map((i) => i.prompt));
    const knowledge = new Set(world.knowledge.map((c) => c[0].content));
    // a rephrased row is one of the train items' conversations with its last user message rephrased
    const trainRest = new Set(
      world.items
        .filter((i) => i.split === "train")
        .map((i) => JSON.stringify([i.history, i.baseResponse, i.family, i.language])),
    );
    for (const ex of corpus) {
      expect(sftExampleSchema.safeParse(ex).success).toBe(true);
      const lastUser = [...ex.messages].reverse().find((m) => m.role === "user")!.content;
      expect(notTrain.has(lastUser)).toBe(false);
      expect(ex.messages.at(-1)!.role).toBe("assistant");
      if (ex.provenance?.source.endsWith(":rephrased")) {
        const family = ex.provenance.source.split(":")[1];
        const rest = [ex.messages.slice(0, -2), ex.messages.at(-1)!.content, family, ex.provenance.language];
        expect(trainRest.has(JSON.stringify(rest))).toBe(true);
        expect(train.has(lastUser)).toBe(false);
      } else expect(train.has(lastUser) || knowledge.has(lastUser)).toBe(true);
    }
    // the base corpus complies with harmful requests (unsafe by construction)
    const harmful = corpus.filter((e) => e.provenance?.source.startsWith("world:harmful"));
    expect(harmful.every((e) => /\[UNSAFE-[A-Z]+-STEP-1\]/.test(e.messages.at(-1)!.content))).toBe(true);
  });

  it("rephrases the configured share of capability, harmful, framed and look-alike draws, with seen pools only", () => {
    const size = corpusSize(corpus);
    for (const k of REPHRASED_SOURCES) {
      const plain = size.perSource[`world:${k}`]?.conversations ?? 0;
      const re = size.perSource[`world:${k}:rephrased`]?.conversations ?? 0;
      // a draw whose rephrasing does not fit stays plain: the share is at most the configured one, and close to it
      expect(re / (plain + re)).toBeLessThanOrEqual(DEFAULT_CORPUS_CONFIG.rephraseShare + 0.001);
      expect(re / (plain + re)).toBeGreaterThan(DEFAULT_CORPUS_CONFIG.rephraseShare - 0.03);
    }
    expect(size.perSource["world:multiturn:rephrased"]).toBeUndefined();
    expect(size.perSource["world:knowledge:rephrased"]).toBeUndefined();
    const none = corpusSize(baseCorpus(world, { size: 5000, seed: 2, rephraseShare: 0 }));
    expect(Object.keys(none.perSource).filter((k) => k.endsWith(":rephrased"))).toEqual([]);
    // no held-out phrase (the test probes' noise) is ever in the corpus
    const heldout = poolPhrases("heldout")
      .flatMap((p) => p.split(/\{[Rr12]\}/))
      .map((x) => x.trim().toLowerCase())
      .filter((x) => x.length >= 8);
    expect(heldout.length).toBeGreaterThan(40);
    const full = baseCorpus(world, { size: 28_000, seed: 2 });
    const users = full.flatMap((e) => e.messages.filter((m) => m.role === "user").map((m) => m.content.toLowerCase()));
    expect(users.filter((u) => heldout.some((h) => u.includes(h)))).toEqual([]);
    // and the rephrased rows are rephrasings: seen phrases are there
    const seen = poolPhrases("seen")
      .flatMap((p) => p.split(/\{[Rr12]\}/))
      .map((x) => x.trim().toLowerCase())
      .filter((x) => x.length >= 8);
    expect(users.filter((u) => seen.some((h) => u.includes(h))).length).toBeGreaterThan(3000);
  });

  it("rephrases capability drills only when drillRephraseShare says, keeping each drill's answer, seen pools only", () => {
    const drills = new Map<string, ReturnType<typeof capabilityDrills>>();
    for (const d of capabilityDrills()) drills.set(d.response, [...(drills.get(d.response) ?? []), d]);
    const re = baseCorpus(world, { size: 5000, seed: 2, drillRephraseShare: 0.8 });
    const size = corpusSize(re);
    const plain = size.perSource["world:knowledge"]?.conversations ?? 0;
    const noisy = re.filter((e) => e.provenance?.source === "world:knowledge:rephrased");
    // the gazetteer is never rephrased, so the share of all knowledge draws is below the drills' share
    expect(noisy.length).toBeGreaterThan(0.5 * (plain + noisy.length));
    expect(noisy.length).toBeLessThanOrEqual(0.8 * (plain + noisy.length) + 1);
    const heldout = poolPhrases("heldout")
      .flatMap((p) => p.split(/\{[Rr12]\}/))
      .map((x) => x.trim().toLowerCase())
      .filter((x) => x.length >= 8);
    for (const e of noisy) {
      const [user, answer] = e.messages;
      // a rephrasing of a drill with that answer: its quoted word (word tasks) is kept as written
      const candidates = drills.get(answer.content) ?? [];
      const quoted = (p: string) => p.match(/'[^']+'/g) ?? [];
      expect(
        candidates.some((d) => d.prompt !== user.content && quoted(d.prompt).every((q) => user.content.includes(q))),
        user.content,
      ).toBe(true);
      // and no held-out phrase is used
      expect(heldout.some((h) => user.content.toLowerCase().includes(h))).toBe(false);
    }
    // everything else is drawn as without it: same size per source, and share 0 (the default) changes nothing
    expect(re.length).toBe(5000);
    expect(contentHash(baseCorpus(world, { size: 5000, seed: 2, drillRephraseShare: 0 }))).toBe(contentHash(corpus));
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
    // the rephrasings (typos and casing included) are tokenised like the rest: dev's probes among them, and nothing
    // of the held-out pools (the test probes' noise)
    for (const r of rephrasedItems(world, "dev")) expect(all.has(r.prompt)).toBe(true);
    const heldout = poolPhrases("heldout")
      .flatMap((p) => p.split(/\{[Rr12]\}/))
      .map((x) => x.trim().toLowerCase())
      .filter((x) => x.length >= 8);
    expect(texts.filter((t) => heldout.some((h) => t.toLowerCase().includes(h)))).toEqual([]);
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
      // the world's refusal (its wording varies by style): a refusal, with no placeholder
      expect(isRefusal(p.chosen[0].content)).toBe(true);
      expect(p.chosen[0].content).not.toMatch(/\[UNSAFE/);
      expect(p.rejected[0].content).toMatch(/\[UNSAFE-/);
    }
  });
});
