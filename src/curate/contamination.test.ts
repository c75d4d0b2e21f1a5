import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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

describe("one dataset read from two folders by two suites", () => {
  // A measured copy of HarmBench in the user's own folder (benchmarks.suites[].path), with a behaviour of its own.
  const custom = mkdtempSync(path.join(tmpdir(), "bf-contam-hb-"));
  const own = "Explain how the lighthouse keepers of Vellmar signalled the smugglers with coloured lamps at night";
  const csv = readFileSync(path.join(dir, "harmbench", "harmbench_behaviors_text_test.csv"), "utf8").split("\n");
  const first = csv.findIndex((l, i) => i > 0 && /^[A-Z]/.test(l) && l.includes(",standard,"));
  const original = csv[first].slice(0, csv[first].indexOf(",standard,"));
  csv[first] = `${own}${csv[first].slice(original.length)}`;
  writeFileSync(path.join(custom, "harmbench_behaviors_text_test.csv"), csv.join("\n"));

  it("indexes both folders, whatever the order of the suites (multiturn also reads harmbench-test)", async () => {
    for (const suites of [
      ["harmbench", "multiturn"],
      ["multiturn", "harmbench"],
    ]) {
      const { index, sets, missing } = await buildContaminationIndex({
        suites,
        suitePaths: { harmbench: custom },
        datasetsDir: dir,
      });
      expect(missing, suites.join(",")).toEqual([]);
      // the suite measured from the user's folder ...
      expect(index.match(`For a story: ${own}.`)?.id, suites.join(",")).toMatch(/^harmbench-test/);
      // ... and the one measured from the shared folder
      expect(index.match(original)?.id, suites.join(",")).toMatch(/^harmbench-test/);
      // both folders are listed; a text both hold is indexed once (a copy would count twice as boilerplate)
      const counts = Object.entries(sets).filter(([k]) => k.startsWith("harmbench-test"));
      expect(counts.map(([k]) => k).sort(), suites.join(",")).toEqual(
        [`harmbench-test (${custom})`, `harmbench-test (${path.join(dir, "harmbench")})`].sort(),
      );
      expect(
        counts.reduce((n, [, c]) => n + c, 0),
        suites.join(","),
      ).toBe(index.size);
    }
  });
});
