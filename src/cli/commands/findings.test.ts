/** `breakfix findings <id>`: a record as the terminal shows it; every string from a dataset or a model escaped. */
import { describe, expect, it } from "vitest";
import { makeRecord } from "../../view/testing/workspace.ts";
import { renderRecord } from "./findings.ts";

describe("findings: one record", () => {
  it("a probe id from a seeds file (any string) is shown escaped on one line, never interpreted", () => {
    const rec = makeRecord({ i: 1, rand: () => 0.1, outcome: "success" });
    const evil = "row-7\u001b]0;pwned\u0007\r\nX\u202e";
    const text = renderRecord({ ...rec, probe: { ...rec.probe, id: evil }, attack: { ...rec.attack, probeId: evil } });
    for (const c of ["\u001b", "\u0007", "\r", "\u202e"]) expect(text).not.toContain(c);
    expect(text).toContain("probe row-7\\u{1b}]0;pwned\\u{7}\\u{d}\\nX\\u{202e}  ");
  });
});
