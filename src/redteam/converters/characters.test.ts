import { describe, expect, it } from "vitest";
import {
  asciiArtConverter,
  characterTables,
  charSpaceConverter,
  confusableConverter,
  diacriticsConverter,
  emojiConverter,
  FONT_STYLES,
  flipConverter,
  flipText,
  fullwidthConverter,
  insertPunctuationConverter,
  randomCapitalsConverter,
  stringJoinConverter,
  superscriptConverter,
  typoConverter,
  unicodeFontConverter,
  zalgoConverter,
} from "./characters.ts";
import { ASCII_SAMPLES, converterConformance, UNICODE_SAMPLES } from "./conformance.testkit.ts";

const ALL = [...ASCII_SAMPLES, ...UNICODE_SAMPLES];
converterConformance("char_space", charSpaceConverter);
converterConformance("string_join", stringJoinConverter);
converterConformance("random_capitals", randomCapitalsConverter, { seedSensitive: true });
converterConformance("diacritics", diacriticsConverter, { invertSamples: ALL });
converterConformance("diacritics rate 0.3", () => diacriticsConverter({ rate: 0.3, accent: "umlaut" }), {
  seedSensitive: true,
  invertSamples: ALL,
});
converterConformance("zalgo", zalgoConverter, { seedSensitive: true, invertSamples: ALL });
converterConformance("flip", flipConverter, { invertSamples: ALL });
converterConformance("confusable", confusableConverter, { seedSensitive: true, invertSamples: ALL });
converterConformance("emoji", emojiConverter, {
  seedSensitive: true,
  invertSamples: ["how do i build a zorblax device at home?", "lines\n\n  indented. ¿cómo? 漢字 🧪"],
});
converterConformance("ascii_art", asciiArtConverter);
converterConformance("typo", typoConverter, { seedSensitive: true });
converterConformance("fullwidth", fullwidthConverter, { invertSamples: ALL });
for (const style of FONT_STYLES)
  converterConformance(`unicode_font ${style}`, () => unicodeFontConverter({ style }), { invertSamples: ALL });
converterConformance("superscript", superscriptConverter, { invertSamples: ALL });
converterConformance("insert_punctuation", insertPunctuationConverter, { seedSensitive: true });

describe("character converters", () => {
  it("flip's table is an involution and flips 'hello world' as expected", () => {
    const seen = new Set<string>();
    for (const [a, b] of characterTables().flip) {
      expect(a).not.toBe(b);
      expect(seen.has(a) || seen.has(b)).toBe(false);
      seen.add(a).add(b);
    }
    expect(flipText("hello world")).toBe("pꞁɹoʍ oꞁꞁǝɥ");
  });
  it("every look-alike belongs to one letter only and is not ASCII", () => {
    const owner = new Map<string, string>();
    for (const [k, vs] of Object.entries(characterTables().confusables)) {
      for (const v of vs) {
        expect(owner.get(v), `${v} is listed for ${owner.get(v)} and ${k}`).toBeUndefined();
        expect(v.codePointAt(0)!).toBeGreaterThan(127);
        owner.set(v, k);
      }
    }
  });
  it("superscript and emoji tables are one-to-one", () => {
    const sup = Object.values(characterTables().superscript);
    expect(new Set(sup).size).toBe(sup.length);
  });
  it("unicode_font uses the Letterlike holes and draws digits where the style has them", async () => {
    expect(await unicodeFontConverter({ style: "italic" }).convert("ha", { seed: 0 })).toBe("ℎ𝑎");
    expect(await unicodeFontConverter({ style: "double_struck" }).convert("R2", { seed: 0 })).toBe("ℝ𝟚");
    expect(await unicodeFontConverter({ style: "fraktur" }).convert("7", { seed: 0 })).toBe("7");
    expect(() => unicodeFontConverter({ style: "comic" })).toThrow(/unknown style 'comic'/);
  });
  it("ascii_art draws 5-row banners and keeps unknown characters", async () => {
    const out = await asciiArtConverter().convert("Hi 漢", { seed: 0 });
    const rows = out.split("\n");
    expect(rows).toHaveLength(5);
    expect(rows[2]).toContain("#####");
    expect(rows[2]).toContain("漢");
    const wrapped = await asciiArtConverter({ width: 2 }).convert("abcd", { seed: 0 });
    expect(wrapped.split("\n\n")).toHaveLength(2);
  });
  it("typo keeps the first letter of each word and changes the chosen words by one edit", async () => {
    const src = "Explain carefully how somebody assembles contraptions";
    const out = await typoConverter({ rate: 1 }).convert(src, { seed: 9 });
    const a = src.split(" ");
    const b = out.split(" ");
    expect(b).toHaveLength(a.length);
    for (const [i, w] of a.entries()) {
      expect(b[i][0]).toBe(w[0]);
      expect(Math.abs(b[i].length - w.length)).toBeLessThanOrEqual(1);
    }
    expect(out).not.toBe(src);
  });
  it("char_space spaces letters and string_join joins them", async () => {
    expect(await charSpaceConverter().convert("Hi, you!", { seed: 0 })).toBe("H i   y o u");
    expect(await stringJoinConverter({ sep: "*" }).convert("Hi, you!", { seed: 0 })).toBe("H*i, y*o*u!");
  });
  it("random_capitals only upper-cases, at rate 1 everything", async () => {
    const out = await randomCapitalsConverter({ rate: 0.5 }).convert("abcdefghij", { seed: 4 });
    expect(out.toLowerCase()).toBe("abcdefghij");
    expect(await randomCapitalsConverter({ rate: 1 }).convert("añb", { seed: 0 })).toBe("AÑB");
  });
  it("rejects bad parameters", () => {
    expect(() => diacriticsConverter({ accent: "wavy" })).toThrow(/unknown accent/);
    expect(() => zalgoConverter({ intensity: 0 })).toThrow(/intensity/);
    expect(() => typoConverter({ rate: 3 })).toThrow(/rate must be in \[0, 1\]/);
    expect(() => stringJoinConverter({ sep: " " })).toThrow(/sep/);
  });
});
