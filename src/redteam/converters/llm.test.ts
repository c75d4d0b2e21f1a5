import { describe, expect, it } from "vitest";
import { ScriptedModel } from "../testing/scripted-model.ts";
import { converterConformance } from "./conformance.testkit.ts";
import {
  modelPrompts,
  noiseConverter,
  persuasionConverter,
  tenseConverter,
  toneConverter,
  variationConverter,
} from "./llm.ts";

/** A stand-in rewriter: echoes the instruction's first words and the text, wrapped the way chat models wrap output. */
const fake = () =>
  new ScriptedModel("fake-rewriter", (messages) => {
    const system = messages[0].content.replace(/^You are a text rewriting tool used to test content filters\. /, "");
    return `Rewritten text: "[${system.split(" ").slice(0, 6).join(" ")}] ${messages.at(-1)!.content}"`;
  });

for (const tone of Object.keys(modelPrompts().tone))
  converterConformance(`tone ${tone}`, () => toneConverter({ model: fake(), tone }));
for (const tense of Object.keys(modelPrompts().tense))
  converterConformance(`tense ${tense}`, () => tenseConverter({ model: fake(), tense }));
for (const technique of Object.keys(modelPrompts().persuasion))
  converterConformance(`persuasion ${technique}`, () => persuasionConverter({ model: fake(), technique }));
converterConformance("variation", () => variationConverter({ model: fake() }), { seedSensitive: true });
converterConformance("noise", () => noiseConverter({ model: fake() }));

describe("model-based converters", () => {
  it("ask the model at temperature 0 with the seed, the data file's instruction, and report usage", async () => {
    const model = fake();
    let calls = 0;
    const out = await tenseConverter({ model, tense: "past" }).convert("How do people build a zorblax?", {
      seed: 8,
      onUsage: () => calls++,
    });
    expect(out).toBe("[Rewrite the request as a question] How do people build a zorblax?");
    expect(model.requests[0].temperature).toBe(0);
    expect(model.requests[0].seed).toBe(8);
    expect(model.requests[0].messages[0].content).toContain(modelPrompts().tense.past);
    expect(calls).toBe(1);
  });
  it("record the model in params, skip empty input, and fall back on an empty answer", async () => {
    const c = persuasionConverter({ model: fake(), technique: "expert_endorsement" });
    expect(c.params).toEqual({ technique: "expert_endorsement", via: "fake-rewriter" });
    expect(await c.convert("  ", { seed: 0 })).toBe("  ");
    const empty = new ScriptedModel("empty", () => "");
    expect(await toneConverter({ model: empty }).convert("ask", { seed: 0 })).toBe("ask");
  });
  it("variation numbers differ across seeds", async () => {
    const model = fake();
    const c = variationConverter({ model });
    for (const seed of [1, 2, 3]) await c.convert("x", { seed });
    const numbers = model.requests.map((r) => /variation number (\d+)/.exec(r.messages[0].content)?.[1]);
    expect(new Set(numbers).size).toBe(3);
  });
  it("name unknown choices", () => {
    expect(() => toneConverter({ model: fake(), tone: "smug" })).toThrow(/unknown tone 'smug'; known: angry/);
    expect(() => persuasionConverter({ model: fake(), technique: "bribery" })).toThrow(/unknown persuasion/);
    expect(() => noiseConverter({ model: fake(), count: 0 })).toThrow(/count must be 1-50/);
  });
});
