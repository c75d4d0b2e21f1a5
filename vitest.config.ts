import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import LongestFirstSequencer from "./vitest.sequencer.ts";
import { sharedTestFiles } from "./vitest.shared.ts";

const shared = sharedTestFiles(import.meta.dirname);

export default defineConfig({
  test: {
    pool: "forks",
    globalSetup: ["vitest.tmpdir.ts"],
    sequence: { sequencer: LongestFirstSequencer },
    // One worker more than the cores (vitest's default keeps one core free: one worker on the 2-core CI machine).
    // Most of the wall time is a few long files (the demo cycles, the builds), so a second worker took the unit run
    // from 841 s to about 570 s there; with two, the run still left 16% of the two cores idle (2026-12-06: 1,634 CPU
    // seconds in 970 s, 168%), the time tests spend waiting on servers, child processes, Chromium and timers, which
    // a third worker fills. The timing assertions (bench under 3 minutes, view pages under 1 s) keep wide margins
    // under it; the lock tests hold the contended lock or their stub server's answers until the other run waits
    // (runTwoAtOnce's `hold`), so their overlap does not depend on the load.
    maxWorkers: availableParallelism() + 1,
    // Training in tests on one ONNX Runtime thread (src/train/executor.ts): the run keeps both cores busy, and there
    // one thread costs 15% fewer CPU-seconds per step than two (measured on the demo organism), with byte-identical
    // weights (executor.threads.test.ts). Child processes the tests start inherit it.
    env: { BREAKFIX_TRAIN_THREADS: process.env.BREAKFIX_TRAIN_THREADS ?? "1" },
    // Three projects in one run, sharing its workers: the tests beside the code, as `unit` (a fresh worker per file)
    // and `unit-shared` (files that leave no state behind share their worker's module cache: vitest.shared.ts says
    // which and why), and `parity` (our engine against an independent PyTorch implementation, Debian's python3-torch,
    // not a runtime dependency). Parity ran as a second `vitest run`, ~40 s after the unit run's end; in one run its
    // files fill the cores the unit run leaves idle while its tests wait on servers and child processes.
    // `npm run test:unit` / `test:parity` run some of them (vitest --project).
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["src/**/*.test.ts"],
          exclude: ["**/*.parity.test.ts", "node_modules/**", ...shared],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: "unit-shared",
          include: shared,
          isolate: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: "parity",
          include: ["src/**/*.parity.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
