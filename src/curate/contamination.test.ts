import path from "node:path";
import { describe, expect, it } from "vitest";
import { harmbenchTest } from "../datasets/loaders/harmbench.ts";
import { sharedDatasetsDir } from "../datasets/paths.ts";
import { buildContaminationIndex, probeReferences } from "./contamination.ts";

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
