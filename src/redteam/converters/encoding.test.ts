import { describe, expect, it } from "vitest";
import { converterConformance, UNICODE_SAMPLES } from "./conformance.testkit.ts";
import { base64Converter, reverseConverter, reverseText, rot13, rot13Converter } from "./encoding.ts";

converterConformance("base64", base64Converter, { invertSamples: ["plain ascii", ...UNICODE_SAMPLES] });
converterConformance("rot13", rot13Converter, { invertSamples: ["abc XYZ", ...UNICODE_SAMPLES] });
converterConformance("reverse", reverseConverter, { invertSamples: ["abc", ...UNICODE_SAMPLES] });

describe("encodings", () => {
  it("base64 matches the standard encoding of UTF-8 bytes", async () => {
    expect(await base64Converter().convert("Hello, world", { seed: 0 })).toBe("SGVsbG8sIHdvcmxk");
    expect(await base64Converter().convert("ñ", { seed: 0 })).toBe("w7E=");
  });
  it("rot13 rotates ASCII letters only and is an involution", () => {
    expect(rot13("Hello, World! 123 ñ")).toBe("Uryyb, Jbeyq! 123 ñ");
    expect(rot13(rot13("The quick brown fox"))).toBe("The quick brown fox");
  });
  it("reverse keeps surrogate pairs whole", () => {
    expect(reverseText("ab🧪")).toBe("🧪ba");
  });
});
