/**
 * Two identical `breakfix train` runs on one --out at once (real child processes, issue 23): one trains, the other
 * waits for the folder's lock and then resumes from the final checkpoint, so no step is computed twice (metrics.jsonl
 * holds each step once) and the exported model equals a single run's. The test holds the folder's lock until both
 * runs wait for it (runTwoAtOnce's `hold`): a 12-step run takes about a second, and under load one run finished before
 * the other had started, so neither waited.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBreakfix, runTwoAtOnce } from "../cli/testing.ts";
import { readSafetensorsFile } from "../nn/safetensors.ts";
import { LOCK_FILE, lockOutputFolder } from "./identity.ts";
import { writeJsonl } from "./jsonl.ts";
import { makeTinyModelDir, mapWord, SIGMA_1, words } from "./testing.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "bf-train-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STEPS = 12;
const rows = words(40, 3).map((w) => ({
  messages: [
    { role: "user", content: `Map ${w}` },
    { role: "assistant", content: mapWord(w, SIGMA_1) },
  ],
}));
const model = join(dir, "model");
makeTinyModelDir(
  model,
  rows.flatMap((r) => r.messages.map((m) => m.content)),
);
const data = join(dir, "sft.jsonl");
writeJsonl(data, rows);
const args = (out: string) => [
  "train",
  "sft",
  "--model",
  model,
  "--data",
  data,
  "--out",
  out,
  "--full",
  "--lr",
  "3e-3",
  "--batch-size",
  "4",
  "--max-steps",
  String(STEPS),
  "--checkpoint-every",
  "4",
  "--eval-fraction",
  "0",
  "--no-progress",
  "--json",
];

const steps = (out: string) =>
  readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).step as number);

describe("train: two identical runs on one --out", () => {
  it("one trains, the other waits and resumes; each step once; the model equals a single run's", async () => {
    const out = join(dir, "shared");
    mkdirSync(out, { recursive: true });
    const { runs, seconds } = await runTwoAtOnce(args(out), { cwd: ROOT }, "another training run", {
      take: () => lockOutputFolder(out),
      waiters: 2,
    });
    // after the test's lock: one run trained from step 1, the other waited for its lock and resumed at the end
    const resumed = runs.filter((r) => r.stderr.includes("resuming from checkpoint"));
    expect(resumed).toHaveLength(1);
    expect(resumed[0].stderr).toContain(`resuming from checkpoint at step ${STEPS}`);
    expect(steps(out)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);

    const single = join(dir, "single");
    const one = await runBreakfix(args(single), { cwd: ROOT });
    expect(one.code, one.stderr).toBe(0);
    const a = readSafetensorsFile(join(single, "model", "model.safetensors")).tensors;
    const b = readSafetensorsFile(join(out, "model", "model.safetensors")).tensors;
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    let maxDiff = 0;
    for (const [n, t] of a) {
      const u = b.get(n)?.data ?? [];
      for (let i = 0; i < t.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(t.data[i] - (u[i] ?? Number.NaN)));
    }
    expect(maxDiff).toBe(0);
    console.log(
      `train lock: two concurrent identical runs of ${STEPS} steps computed ${steps(out).length} ` +
        `steps in ${seconds.toFixed(1)} s (both waited for the test's lock, then one trained and the other waited for it and resumed at step ${STEPS}); ` +
        `model identical to a single run's`,
    );
  }, 180_000);
});
