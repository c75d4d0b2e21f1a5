/**
 * printable: text from a data file (DatasetError problems quoting a cell, `data show` keys) shown on a terminal,
 * never interpreted or hidden.
 */
import { describe, expect, it } from "vitest";
import { isInvisible } from "../domain/escape.ts";
import { formatSummary } from "./summary.ts";
import { printable } from "./types.ts";

const RLO = "\u202e";
const ZWSP = "\u200b";
const TAG_A = "\u{e0041}";
const CSI = "\u009b";
/** Whether text holds a character a terminal would act on or a reader would not see. */
const hidden = (text: string) => Array.from(text).some((ch) => isInvisible(ch.codePointAt(0) ?? 0));

describe("printable", () => {
  it("shows bidi overrides, zero-width, tag and C1 characters as escapes, like controls", () => {
    expect(printable(`S1${RLO}gnp.exe`)).toBe("S1\\u202egnp.exe");
    expect(printable(`a${ZWSP}b${TAG_A}`)).toBe("a\\u200bb\\u{e0041}");
    expect(printable(`x${CSI}31m\u001b[2J\n`)).toBe("x\\u009b31m\\u001b[2J\\u000a");
    expect(printable("Ünïcødé text, 中文")).toBe("Ünïcødé text, 中文");
  });

  it("formatSummary shows a category smuggling bidi or tag characters visibly", () => {
    const out = formatSummary({
      name: "custom",
      total: 1,
      by_label: { unsafe: 1 },
      by_category: { [`S2${RLO}${TAG_A}`]: 1 },
      by_language: { en: 1 },
    });
    expect(hidden(out)).toBe(false);
    expect(out).toContain("S2\\u202e\\u{e0041}");
  });
});
