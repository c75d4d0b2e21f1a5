import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import LongestFirstSequencer from "./vitest.sequencer.ts";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    exclude: ["**/*.parity.test.ts", "node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    globalSetup: ["vitest.tmpdir.ts"],
    sequence: { sequencer: LongestFirstSequencer },
    // Every core (vitest's default keeps one free: one worker on the 2-core CI machine). Most of the wall time is a
    // few long single-threaded files (the demo cycles, the builds), so a second worker took the unit run from 841 s
    // to about 570 s there. The timing assertions (bench under 3 minutes, view pages under 1 s) keep wide margins
    // under it; the lock tests hold the contended lock or their stub server's answers until the other run waits
    // (runTwoAtOnce's `hold`), so their overlap does not depend on the load.
    maxWorkers: availableParallelism(),
  },
});
