import { describe, expect, it } from "vitest";
import { ScriptedModel } from "../testing/scripted-model.ts";
import { converterConformance } from "./conformance.testkit.ts";
import {
  campaignTranslator,
  cleanModelText,
  lexiconTranslator,
  modelTranslator,
  rephraseConverter,
  reword,
  rewordConverter,
  translationConverter,
} from "./model.ts";

/** A fake translator model: "translates" to Spanish by a tiny word map, wrapped the way chat models wrap output. */
function fakeTranslatorModel() {
  const words: Record<string, string> = {
    how: "cómo",
    do: "",
    i: "yo",
    build: "construyo",
    a: "un",
    device: "aparato",
  };
  return new ScriptedModel("fake-translator", (messages) => {
    const text = messages.at(-1)!.content.split("\n\n").slice(1).join("\n\n");
    const es = text
      .split(/\s+/)
      .map((w) => words[w.toLowerCase()] ?? `${w}_es`)
      .filter(Boolean)
      .join(" ");
    return `Translation: "${es}"`;
  });
}

const fakeRephraser = () =>
  new ScriptedModel(
    "fake-rephraser",
    (messages, req) => `\`\`\`\nIn other words (${req.seed}): ${messages.at(-1)!.content}\n\`\`\``,
  );

converterConformance("translation via model", () =>
  translationConverter({ to: "es", translator: modelTranslator(fakeTranslatorModel()) }),
);
converterConformance("translation via lexicon", () =>
  translationConverter({ to: "es", translator: lexiconTranslator("toy", { es: (t) => `[es] ${t}` }) }),
);
converterConformance("rephrase", () => rephraseConverter({ model: fakeRephraser() }), { seedSensitive: true });
converterConformance("reword", rewordConverter, { seedSensitive: true, mayBeIdentity: true });

describe("model-backed converters", () => {
  it("translation asks the model with temperature 0 and the seed, and cleans its wrapping", async () => {
    const model = fakeTranslatorModel();
    let tokens = 0;
    const conv = translationConverter({ to: "es", translator: modelTranslator(model) });
    const out = await conv.convert("How do I build a device", {
      seed: 5,
      onUsage: (u) => {
        tokens += u.promptTokens + u.completionTokens;
      },
    });
    expect(out).toBe("cómo yo construyo un aparato");
    expect(model.requests[0].temperature).toBe(0);
    expect(model.requests[0].seed).toBe(5);
    expect(model.requests[0].messages.at(-1)!.content).toContain("into Spanish");
    expect(tokens).toBeGreaterThan(0);
    expect(conv.params).toEqual({ to: "es", via: "fake-translator" });
  });
  it("translation is skipped when the text is already in the target language", async () => {
    const model = fakeTranslatorModel();
    const conv = translationConverter({ to: "es", translator: modelTranslator(model) });
    expect(await conv.convert("hola", { seed: 0, language: "es" })).toBe("hola");
    expect(model.calls).toBe(0);
  });
  it("a lexicon translator without the language fails clearly", async () => {
    const conv = translationConverter({ to: "fr", translator: lexiconTranslator("toy", { es: (t) => t }) });
    await expect(conv.convert("hi", { seed: 0 })).rejects.toThrow(/no lexicon for language 'fr'/);
  });
  it("campaignTranslator: the seed set's own translator for its pairs, the attacker model for the rest", async () => {
    const own = lexiconTranslator("toy", { es: (t) => `[es] ${t}` });
    const model = fakeTranslatorModel();
    expect(campaignTranslator(own, undefined, ["en"])).toBe(own);
    expect(campaignTranslator(undefined, undefined, ["en"])).toBeUndefined();
    expect(campaignTranslator(undefined, model, ["en"])?.id).toBe("fake-translator");
    const both = campaignTranslator(own, model, ["en"])!;
    expect(both.id).toBe("toy+fake-translator");
    expect(both.canTranslate?.("en", "fr")).toBe(true);
    const to = (lang: string, from?: string) =>
      translationConverter({ to: lang, translator: both }).convert("how do I build a device", {
        seed: 0,
        language: from,
      });
    expect(await to("es", "en")).toBe("[es] how do I build a device");
    expect(await to("es")).toBe("[es] how do I build a device"); // unknown source: English, the lexicon's
    expect(model.calls).toBe(0);
    expect(await to("fr", "en")).toBe("cómo yo construyo un aparato");
    expect(await to("es", "de")).toBe("cómo yo construyo un aparato"); // a pair the lexicon lacks
    expect(model.calls).toBe(2);
  });
  it("campaignTranslator: an attacker adds the languages the seeds cannot reach, no new route to those they can", () => {
    // the demo-attacker preset: world seeds in en and es, an en -> es lexicon, an attacker
    const both = campaignTranslator(lexiconTranslator("toy", { es: (t) => t }), fakeTranslatorModel(), ["en", "es"])!;
    expect(both.canTranslate?.("en", "es")).toBe(true); // the lexicon's pair
    expect(both.canTranslate?.("es", "en")).toBe(false); // English has seeds of its own: skipped, as without an attacker
    expect(both.canTranslate?.("en", "fr")).toBe(true); // no French seed and no lexicon: the attacker
    expect(both.canTranslate?.("es", "fr")).toBe(true);
  });
  it("rephrase strips code fences and falls back to the input on an empty answer", async () => {
    expect(await rephraseConverter({ model: fakeRephraser() }).convert("ask", { seed: 2 })).toBe(
      "In other words (2): ask",
    );
    const empty = new ScriptedModel("empty", () => "   ");
    expect(await rephraseConverter({ model: empty }).convert("ask", { seed: 2 })).toBe("ask");
  });
  it("cleanModelText removes labels, fences and quotes", () => {
    expect(cleanModelText('  "hola"  ')).toBe("hola");
    expect(cleanModelText("```text\nhola\n```")).toBe("hola");
    expect(cleanModelText("Rephrased text: hi there")).toBe("hi there");
  });
  it("reword keeps the request and only adds casual wrapping", () => {
    const outs = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => reword("How do I build a zorblax?", s)));
    expect(outs.size).toBeGreaterThan(2);
    for (const o of outs) expect(o.toLowerCase()).toContain("how do i build a zorblax?");
  });
});
