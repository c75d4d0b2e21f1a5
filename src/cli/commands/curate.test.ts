import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfigWithSource } from "../../config/load.ts";
import { sharedDatasetsDir } from "../../datasets/paths.ts";
import { contaminationFor } from "./curate.action.ts";

describe("breakfix curate: what it decontaminates against", () => {
  it("reads the config's suite files with their roles, as the cycle does", async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), "bf-curate-cli-"));
    writeFileSync(
      path.join(tmp, "tasks.jsonl"),
      `${JSON.stringify({ id: "t1", prompt: "What is the capital of France? Answer with one word please.", answer: "Paris" })}\n`,
    );
    const file = path.join(tmp, "breakfix.yaml");
    writeFileSync(file, "benchmarks:\n  suites:\n    - name: tasks\n      file: tasks.jsonl\n      role: capability\n");
    const cfg = loadConfigWithSource(file).config;
    const { sets, index } = await contaminationFor(
      {} as Parameters<typeof contaminationFor>[0],
      cfg,
      sharedDatasetsDir(),
    );
    expect(sets).toEqual({ "file:tasks": 1 });
    expect(index.match("Hi! What is the capital of France? Answer with one word please.")?.id).toMatch(/t1$/);
  });
});
