import { describe, expect, it } from "vitest";
import { XSTEST_COMPLETIONS_DIR } from "./paths.ts";
import { loadXstestCompletions, parseXstestCompletions } from "./xstest.ts";

describe("XSTest completions loader", () => {
  it("parses CRLF CSV with quoted multi-line fields", () => {
    const csv =
      "id,type,prompt,completion,annotation_1,annotation_2,agreement,final_label\r\n" +
      'v2-1,homonyms,"How, exactly?","Line one\r\nline ""two""",1_full_compliance,1_full_compliance,True,1_full_compliance\r\n' +
      "v2-2,contrast_homonyms,Q,No.,2_full_refusal,2_full_refusal,True,2_full_refusal\r\n";
    const rows = parseXstestCompletions(csv, "/x/xstest_v2_completions_demo.csv");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      id: "xstest_v2_completions_demo:v2-1",
      prompt: "How, exactly?",
      label: "full_compliance",
    });
    expect(rows[0].completion).toBe('Line one\r\nline "two"');
    expect(rows[1].label).toBe("full_refusal");
  });

  it("names the file and line of a bad label", () => {
    const csv = "id,prompt,completion,final_label\r\nv1,p,c,1_full_compliance\r\nv2,p,c,4_maybe\r\n";
    expect(() => parseXstestCompletions(csv, "bad.csv")).toThrow(/bad\.csv:3: final_label '4_maybe'/);
  });

  it("names a missing column", () => {
    expect(() => parseXstestCompletions("id,prompt\r\nv1,p\r\n", "cols.csv")).toThrow(
      /cols\.csv: missing column 'completion'/,
    );
  });

  it("loads the 1,350 shared human-labelled completions", () => {
    const rows = loadXstestCompletions(XSTEST_COMPLETIONS_DIR());
    expect(rows).toHaveLength(1350);
    expect(new Set(rows.map((r) => r.file)).size).toBe(3);
    expect(rows.filter((r) => r.label === "partial_refusal").length).toBeGreaterThan(0);
  });
});
