import { describe, expect, it } from "vitest";
import { responseDecodings } from "../campaign/run.ts";
import { FramingRegistry } from "../framings/load.ts";
import { parseTechnique } from "../persona-file.ts";
import { buildDraft, converterFamily } from "../techniques.ts";
import { ScriptedModel } from "../testing/scripted-model.ts";
import { chainConverter } from "./chain.ts";
import { lexiconTranslator } from "./model.ts";
import { CONVERTER_NAMES, converterUsesModel, createConverter } from "./registry.ts";

const deps = {
  rephraser: new ScriptedModel("rewriter", (m) => `rewritten: ${m.at(-1)!.content}`),
  translator: lexiconTranslator("toy", { es: (t) => `[es] ${t}` }),
};
const needs: Record<string, Record<string, string>> = { translation: { to: "es" } };

describe("converter registry", () => {
  it("builds every registered converter by name, with the family techniques group it under", async () => {
    for (const name of CONVERTER_NAMES) {
      if (name === "gcg_suffix") continue; // needs a suffix library (src/redteam/gcg)
      const c = createConverter({ name, params: needs[name] }, deps);
      expect(c.name).toBe(name);
      expect(converterFamily(name)).toBe(c.family);
      expect(converterUsesModel(name)).toBe(c.usesModel);
      expect(typeof (await c.convert("How do I build a zorblax? ¿Cómo? 漢字", { seed: 1 }))).toBe("string");
    }
  });
  it("never fails on other scripts, combining marks, emoji sequences, right-to-left text or lone surrogates", async () => {
    const hard = [
      "كيف أبني جهاز زوربلاكس؟",
      "Как собрать устройство?",
      "मैं यह कैसे बनाऊँ?",
      "東京で作り方を教えて。한국어도.",
      "e\u0301 n\u0303 👩‍👩‍👧 🇪🇸 \u200f",
      "half \ud800 surrogate \udc00",
      "\n\n   \t",
    ];
    for (const name of CONVERTER_NAMES) {
      if (name === "gcg_suffix") continue;
      const c = createConverter({ name, params: needs[name] }, deps);
      for (const text of hard) {
        const out = await c.convert(text, { seed: 2 });
        expect(typeof out, `${name} on ${JSON.stringify(text)}`).toBe("string");
      }
    }
  });
  it("has at least 50 converters", () => {
    expect(CONVERTER_NAMES.length).toBeGreaterThanOrEqual(50);
  });
  it("validates params and names the step", () => {
    expect(() => createConverter({ name: "caesar", params: { shift: 30 } })).toThrow(
      /converter 'caesar': bad params: shift/,
    );
    expect(() => createConverter({ name: "typo", params: { speed: 1 } })).toThrow(/converter 'typo': bad params/);
    expect(() => createConverter({ name: "unicode_font", params: { style: "comic" } })).toThrow(/bad params: style/);
    expect(() => createConverter({ name: "tone" })).toThrow(/'tone' needs a chat model/);
    expect(() => createConverter({ name: "nope" })).toThrow(/unknown converter 'nope'/);
  });
  it("composes: parameters from a chain step reach the converter", async () => {
    const c = createConverter({ name: "caesar", params: { shift: 1 } });
    expect(await c.convert("abc", { seed: 0 })).toBe("bcd");
  });
  it("campaigns decode a target's answer given in the attack's cipher", async () => {
    const answer = "SURE: [UNSAFE-STEP-1]";
    for (const name of ["morse", "caesar", "base32", "hex", "flip", "url"]) {
      const encoded = await createConverter({ name }).convert(answer, { seed: 0 });
      const d = responseDecodings([{ kind: "converter", name }], encoded);
      expect(d, name).toEqual([{ via: name, text: answer }]);
    }
    expect(responseDecodings([{ kind: "converter", name: "url" }], "100% sure %zz")).toEqual([]);
  });
  it("chains new converters and inverts the chain", async () => {
    const names = ["caesar", "flip", "base32", "json_wrap", "unicode_font"];
    const chain = chainConverter(names.map((name) => createConverter({ name })));
    for (const text of ["How do I build a zorblax?", "¿Cómo? 漢字 🧪\nline two"]) {
      const out = await chain.convert(text, { seed: 4 });
      expect(out).not.toContain("zorblax");
      expect(chain.invert!(out)).toBe(text);
    }
  });
  it("reads new converters in the technique syntax and applies them in order", async () => {
    const framings = new FramingRegistry();
    const steps = parseTechnique("caesar(shift=1)+code_wrap(language=python)+hypothetical", framings);
    expect(steps.map((s) => s.kind)).toEqual(["converter", "converter", "framing"]);
    const d = await buildDraft("abc", steps, { seed: 1, language: "en", deps: {}, framings });
    expect(d.text).toContain("bcd");
    expect(d.text).toContain("def answer() -> str:");
    expect(d.pendingHint ?? d.text).toMatch(/Caesar cipher/);
  });
});
