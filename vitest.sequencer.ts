/**
 * vitest sequencer: the unit run's longest files start first, so that the two workers finish together. vitest already
 * starts the longest files first when it has the timings of an earlier run (node_modules/.vite), but a clean clone (CI)
 * has none and vitest then starts the largest files first, which put the quick demo cycle (a 5 KB file, ~460 s of an
 * ~870 s run on 2 cores) in the middle of the run, where it finished last. LONGEST lists the files measured at a
 * minute or more (2026-12-06, the unit run on 2 cores), longest first; it only orders the run, so a stale entry costs
 * time, never a result.
 */
import path from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

const LONGEST = [
  "src/world/cycle.improves.e2e.test.ts",
  "src/cycle/cycle.http.e2e.test.ts",
  "src/world/cycle.e2e.test.ts",
  "src/world/build.test.ts",
  "src/world/model.acceptance.test.ts",
  // the parity project's long file (37-51 s alone), which ran after the unit run until session 24: started with the
  // long ones, not among the last, where it would run on alone
  "src/nn/parity.parity.test.ts",
];

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST.indexOf(path.relative(f.project.config.root, f.moduleId).split(path.sep).join("/"));
      return i < 0 ? LONGEST.length : i;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b)); // stable: the rest keep vitest's order
  }
}
