import { describe, expect, it } from "vitest";
import { converterConformance } from "./conformance.testkit.ts";
import { fromTags, toTags, unicodeTagsConverter, zeroWidthConverter } from "./smuggling.ts";

converterConformance("zero_width", zeroWidthConverter, {
  seedSensitive: true,
  invertSamples: ["abc", "¿Cómo? 🧪 漢字", "a\nb"],
});
converterConformance("zero_width fixed", () => zeroWidthConverter({ mode: "fixed" }));
converterConformance("unicode_tags", unicodeTagsConverter);
converterConformance("unicode_tags with cover", () => unicodeTagsConverter({ cover: "What a nice day." }));

describe("smuggling", () => {
  it("zero_width keeps the visible characters", async () => {
    const out = await zeroWidthConverter().convert("bomb", { seed: 1 });
    expect(out.replace(/[\u200b-\u200d\u2060]/g, "")).toBe("bomb");
    expect(out).not.toContain("bomb");
    expect(Array.from(out)).toHaveLength(7);
  });
  it("unicode tags are invisible tag code points for ASCII and round-trip", () => {
    const t = toTags("Hi!");
    expect(Array.from(t).map((c) => c.codePointAt(0)!.toString(16))).toEqual(["e0048", "e0069", "e0021"]);
    expect(fromTags(t)).toBe("Hi!");
    expect(toTags("ñ")).toBe("ñ");
  });
  it("the cover text stays visible in front", async () => {
    const out = await unicodeTagsConverter({ cover: "Nice weather." }).convert("secret", { seed: 0 });
    expect(out.startsWith("Nice weather.")).toBe(true);
    expect(out).not.toContain("secret");
  });
});
