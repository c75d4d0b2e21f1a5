import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DataFileError, loadDataFile, parseDataFile } from "./data-file.ts";

const schema = z
  .object({ topics: z.array(z.object({ request: z.string().min(1), answer: z.array(z.string()) }).strict()) })
  .strict();
const dir = mkdtempSync(path.join(tmpdir(), "data-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const problems = (f: () => unknown): readonly string[] => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataFileError);
    return (e as DataFileError).problems;
  }
  throw new Error("no error");
};

describe("authored data files", () => {
  it("returns the validated data", () => {
    const file = path.join(dir, "ok.yaml");
    writeFileSync(file, "topics:\n  - request: How?\n    answer: [a, b]\n");
    expect(loadDataFile(file, schema)).toEqual({ topics: [{ request: "How?", answer: ["a", "b"] }] });
  });

  it("names the file, the line and the key of a value the schema rejects", () => {
    const text = "topics:\n  - request: How?\n    answer: [a]\n  - request: ''\n    answer: [b]\n";
    const p = problems(() => parseDataFile(text, "corpus.yaml", schema));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^corpus\.yaml:4: topics\.1\.request: /);
  });

  it("names an unknown key and a missing one", () => {
    const text = "topics:\n  - request: How?\n    answr: [a]\n";
    const p = problems(() => parseDataFile(text, "x.yaml", schema)).join("\n");
    expect(p).toMatch(/x\.yaml:2: topics\.0: .*answr/);
    expect(p).toMatch(/x\.yaml:2: topics\.0\.answer: /);
  });

  it("reports YAML syntax errors and duplicate keys with their line", () => {
    expect(problems(() => parseDataFile("topics:\n  - request: [unclosed\n", "s.yaml", schema))[0]).toMatch(
      /^s\.yaml:\d+: YAML syntax error: /,
    );
    expect(problems(() => parseDataFile("topics: []\ntopics: []\n", "d.yaml", schema))[0]).toMatch(
      /^d\.yaml:2: YAML syntax error: .*unique/i,
    );
  });
});
