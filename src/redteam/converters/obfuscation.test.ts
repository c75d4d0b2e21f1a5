import { describe, expect, it } from "vitest";
import { converterConformance } from "./conformance.testkit.ts";
import {
  charSwap,
  charSwapConverter,
  HOMOGLYPHS,
  homoglyphConverter,
  homoglyphs,
  leetspeak,
  leetspeakConverter,
  unHomoglyph,
} from "./obfuscation.ts";

converterConformance("leetspeak", leetspeakConverter);
converterConformance("leetspeak rate 0.5", () => leetspeakConverter({ rate: 0.5 }), { seedSensitive: true });
converterConformance("char_swap", charSwapConverter, { seedSensitive: true });
converterConformance("homoglyph", homoglyphConverter, { seedSensitive: true });
converterConformance("homoglyph rate 1", () => homoglyphConverter({ rate: 1 }));

describe("obfuscation", () => {
  it("leetspeak maps the classic letters", () => {
    expect(leetspeak("Bleeding edge toast")).toBe("8l33d1n9 3d93 70457");
    expect(leetspeak("xyz")).toBe("xyz");
  });
  it("leetspeak at rate 0 changes nothing", () => {
    expect(leetspeak("testing", 0, 5)).toBe("testing");
  });
  it("char_swap keeps first/last letters, the multiset of letters, and short words", () => {
    const src = "Explain carefully how somebody assembles contraptions in a big lab";
    const out = charSwap(src, 1, 42);
    const a = src.split(" ");
    const b = out.split(" ");
    expect(b).toHaveLength(a.length);
    for (const [i, w] of a.entries()) {
      if (w.length < 4) expect(b[i]).toBe(w);
      else {
        expect(b[i][0]).toBe(w[0]);
        expect(b[i].at(-1)).toBe(w.at(-1));
        expect([...b[i]].sort().join("")).toBe([...w].sort().join(""));
      }
    }
    expect(out).not.toBe(src);
  });
  it("homoglyphs look-alikes are non-Latin code points and map back", () => {
    for (const [latin, glyph] of Object.entries(HOMOGLYPHS)) {
      expect(glyph).not.toBe(latin);
      expect(glyph.codePointAt(0)!).toBeGreaterThan(0x36f);
    }
    const out = homoglyphs("Pocket cassette", 1, 0);
    expect(out).not.toMatch(/[aceops]/);
    expect(unHomoglyph(out)).toBe("Pocket cassette");
  });
  it("rejects a rate outside [0, 1]", () => {
    expect(() => leetspeakConverter({ rate: 2 })).toThrow(/rate must be in \[0, 1\]/);
  });
});
