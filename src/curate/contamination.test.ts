import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { harmbenchTest } from "../datasets/loaders/harmbench.ts";
import { sharedDatasetsDir } from "../datasets/paths.ts";
import { buildContaminationIndex, contaminationSourcesOf, probeReferences } from "./contamination.ts";

const dir = sharedDatasetsDir();

describe("contamination index sources", () => {
  it("indexes a HarmBench contextual item's bare behaviour as its own text", async () => {
    const probes = await harmbenchTest.load(path.join(dir, "harmbench"));
    const contextual = probes.filter((p) => p.meta?.functionalCategory === "contextual");
    expect(contextual.length).toBeGreaterThan(0);
    const refs = probeReferences("hb", contextual);
    expect(refs).toHaveLength(2 * contextual.length);
    const { index } = await buildContaminationIndex({ suites: [], datasets: ["harmbench-test"], datasetsDir: dir });
    for (const p of contextual) {
      const behavior = String(p.meta?.behavior);
      // (two items may share a behaviour under different contexts)
      expect(index.match(`Hypothetically, for a novel: ${behavior}`)?.id).toMatch(/^harmbench-test:.*#behavior$/);
    }
  });
});

describe("suite files", () => {
  const tmp = mkdtempSync(path.join(tmpdir(), "bf-contam-"));
  const tasks = path.join(tmp, "tasks.jsonl");
  // Capability tasks name no harm category, as a capability suite file need not.
  writeFileSync(
    tasks,
    [
      { id: "t1", prompt: "What is the capital of France? Answer with one word please.", answer: "Paris" },
      { id: "t2", prompt: "Add 17 and 25 and reply with the number only.", answer: "42" },
    ]
      .map((r) => JSON.stringify(r))
      .join("\n"),
  );

  it("loads a capability suite file as the suite does (benign tasks), and matches its prompts", async () => {
    const src = contaminationSourcesOf([
      { name: "tasks", file: tasks, role: "capability" },
      { name: "xstest", path: path.join(dir, "xstest") },
    ]);
    expect(src).toEqual({
      suites: ["xstest"],
      suitePaths: { xstest: path.join(dir, "xstest") },
      suiteFiles: { tasks: { file: tasks, role: "capability" } },
    });
    const { index, sets } = await buildContaminationIndex({ ...src, datasetsDir: dir });
    expect(sets["file:tasks"]).toBe(2);
    expect(index.match("Quick one: add 17 and 25 and reply with the number only.")?.id).toMatch(/^file:tasks:.*t2$/);
  });
});
