import { describe, expect, it } from "vitest";
import { chainConverter } from "./chain.ts";
import { converterConformance } from "./conformance.testkit.ts";
import { base64Converter, reverseConverter, rot13, rot13Converter } from "./encoding.ts";
import { leetspeakConverter } from "./obfuscation.ts";
import { createConverter } from "./registry.ts";
import { zeroWidthConverter } from "./smuggling.ts";
import { payloadSplitConverter } from "./split.ts";

converterConformance("chain rot13+base64", () => chainConverter([rot13Converter(), base64Converter()]));
converterConformance(
  "chain payload_split+zero_width+reverse",
  () => chainConverter([payloadSplitConverter(), zeroWidthConverter(), reverseConverter()]),
  { seedSensitive: true },
);

describe("chains", () => {
  it("apply left to right and invert right to left", async () => {
    const chain = chainConverter([rot13Converter(), base64Converter()]);
    const out = await chain.convert("attack", { seed: 0 });
    expect(out).toBe(Buffer.from(rot13("attack")).toString("base64"));
    expect(chain.invert!(out)).toBe("attack");
    expect(chain.name).toBe("rot13+base64");
    expect(chain.hint).toMatch(/base64/);
  });
  it("have no inverse when a step has none", () => {
    expect(chainConverter([leetspeakConverter(), base64Converter()]).invert).toBeUndefined();
  });
  it("reject an empty chain", () => {
    expect(() => chainConverter([])).toThrow(/at least one/);
  });
});

describe("registry", () => {
  it("builds every offline converter by name and validates params", async () => {
    expect(await createConverter({ name: "rot13" }).convert("abc", { seed: 0 })).toBe("nop");
    expect(createConverter({ name: "leetspeak", params: { rate: 0.3 } }).params).toEqual({ rate: 0.3 });
    expect(() => createConverter({ name: "leetspeak", params: { rate: 3 } })).toThrow(
      /converter 'leetspeak': bad params: rate/,
    );
    expect(() => createConverter({ name: "rot13", params: { foo: 1 } })).toThrow(/bad params/);
    expect(() => createConverter({ name: "nope" })).toThrow(/unknown converter 'nope'; known: base64/);
    expect(() => createConverter({ name: "translation", params: { to: "es" } })).toThrow(/needs a translator/);
    expect(() => createConverter({ name: "rephrase" })).toThrow(/needs a chat model/);
  });
});
