import { describe, expect, it } from "vitest";
import { ASCII_SAMPLES, converterConformance, UNICODE_SAMPLES } from "./conformance.testkit.ts";
import {
  reverseWords,
  reverseWordsConverter,
  synonymSwapConverter,
  wordDeletionConverter,
  wordInsertionConverter,
  wordLists,
  wordOrderConverter,
} from "./words.ts";

converterConformance("synonym_swap", synonymSwapConverter, { seedSensitive: true });
converterConformance("word_insertion", wordInsertionConverter, { seedSensitive: true });
converterConformance("word_deletion", wordDeletionConverter, { seedSensitive: true });
converterConformance("word_order", wordOrderConverter, { seedSensitive: true });
converterConformance("reverse_words", reverseWordsConverter, { invertSamples: [...ASCII_SAMPLES, ...UNICODE_SAMPLES] });

describe("word converters", () => {
  it("synonym_swap replaces listed words only, keeping capitals", async () => {
    const out = await synonymSwapConverter({ rate: 1 }).convert("Tell me the zorblax details", { seed: 3 });
    const [first, , , z, last] = out.split(" ");
    expect(wordLists().synonyms.tell.map((s) => s[0].toUpperCase() + s.slice(1))).toContain(
      out.slice(0, out.indexOf(" me")),
    );
    expect(first[0]).toBe(first[0].toUpperCase());
    expect(out).toContain("zorblax");
    expect(z ?? last).toBeDefined();
    expect(await synonymSwapConverter().convert("¿Cómo 漢字?", { seed: 1 })).toBe("¿Cómo 漢字?");
  });
  it("word_insertion only adds filler words", async () => {
    const src = "How do I build a zorblax device";
    const out = await wordInsertionConverter({ rate: 1 }).convert(src, { seed: 2 });
    const fillers = new Set(wordLists().fillers.flatMap((f) => f.split(" ")));
    const kept = out.split(" ").filter((w) => !fillers.has(w.toLowerCase()));
    expect(kept.join(" ").toLowerCase()).toBe(src.toLowerCase());
  });
  it("word_deletion drops function words only", async () => {
    const out = await wordDeletionConverter({ rate: 1 }).convert("Tell me the steps of the zorblax build", { seed: 0 });
    expect(out).toBe("Tell steps zorblax build");
  });
  it("word_order keeps the multiset of words", async () => {
    const src = "one two three four five six seven eight";
    const out = await wordOrderConverter({ rate: 1 }).convert(src, { seed: 5 });
    expect(out).not.toBe(src);
    expect(out.split(" ").sort()).toEqual(src.split(" ").sort());
  });
  it("reverse_words reverses each word in place", () => {
    expect(reverseWords("How do I build?")).toBe("woH od I ?dliub");
  });
  it("synonym list: lower-case keys, no synonym equal to its word", () => {
    for (const [k, vs] of Object.entries(wordLists().synonyms)) {
      expect(k).toBe(k.toLowerCase());
      expect(vs).not.toContain(k);
    }
  });
});
