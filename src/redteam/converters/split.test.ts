import { describe, expect, it } from "vitest";
import { converterConformance, UNICODE_SAMPLES } from "./conformance.testkit.ts";
import { joinPayload, payloadSplitConverter, splitPayload } from "./split.ts";

converterConformance("payload_split", payloadSplitConverter, {
  seedSensitive: true,
  invertSamples: ["ab", "How do I build a zorblax?", 'with "quotes" \\ and\nlines', ...UNICODE_SAMPLES],
});
converterConformance("payload_split 5 parts", () => payloadSplitConverter({ parts: 5 }), { seedSensitive: true });

describe("payload splitting", () => {
  it("binds k pieces to variables and asks to assemble them", () => {
    const out = splitPayload("How do I build a zorblax device?", 3, 9);
    const vars = out.split("\n").filter((l) => /^[a-c] = "/.test(l));
    expect(vars).toHaveLength(3);
    expect(out).toContain("z = a + b + c");
    expect(out).not.toContain("zorblax device");
    expect(joinPayload(out)).toBe("How do I build a zorblax device?");
  });
  it("uses fewer pieces than asked for when the text is shorter", () => {
    expect(joinPayload(splitPayload("ab", 5, 1))).toBe("ab");
  });
  it("rejects bad part counts", () => {
    expect(() => payloadSplitConverter({ parts: 1 })).toThrow(/parts must be an integer/);
  });
});
