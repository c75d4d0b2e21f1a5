/**
 * `breakfix train` killed with SIGKILL mid-run and started again ends with the same weights as an uninterrupted run.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensorsFile } from "../nn/safetensors.ts";
import { writeJsonl } from "./jsonl.ts";
import { makeTinyModelDir, mapWord, SIGMA_1, words } from "./testing.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/breakfix.js");

function rows() {
  return words(40, 3).map((w) => ({
    messages: [
      { role: "user", content: `Map ${w}` },
      { role: "assistant", content: mapWord(w, SIGMA_1) },
    ],
  }));
}

describe("train resume after SIGKILL", () => {
  it("continues from the last checkpoint and ends with the same weights", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bf-resume-"));
    const model = join(dir, "model");
    const data = join(dir, "sft.jsonl");
    const rs = rows();
    makeTinyModelDir(
      model,
      rs.flatMap((r) => r.messages.map((m) => m.content)),
    );
    writeJsonl(data, rs);
    const args = (out: string) => [
      BIN,
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
      "14",
      "--checkpoint-every",
      "2",
      "--eval-fraction",
      "0",
      "--no-progress",
      "--json",
    ];

    const straight = spawnSync(process.execPath, args(join(dir, "straight")), { encoding: "utf8" });
    expect(straight.status, straight.stderr).toBe(0);

    // Kill the second run with SIGKILL once it has checkpointed at least twice, then run it again.
    const out = join(dir, "killed");
    const child = spawn(process.execPath, args(out), { stdio: "ignore" });
    const latest = join(out, "checkpoints", "latest");
    await new Promise<void>((done, fail) => {
      const timer = setInterval(() => {
        if (existsSync(latest) && Number(readFileSync(latest, "utf8")) >= 4) {
          clearInterval(timer);
          child.kill("SIGKILL");
          done();
        }
      }, 20);
      child.on("exit", () => {
        clearInterval(timer);
        fail(new Error("the run finished before it could be killed"));
      });
    });
    await new Promise((r) => child.once("exit", r));
    const killedAt = Number(readFileSync(latest, "utf8"));
    expect(killedAt).toBeLessThan(14);
    // a checkpoint the kill may have caught half-written (as it does when it lands mid-write) is cleaned up
    mkdirSync(join(out, "checkpoints", `step-${killedAt + 2}.tmp-${child.pid}`), { recursive: true });
    const resumed = spawnSync(process.execPath, args(out), { encoding: "utf8" });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming from checkpoint at step ${killedAt}`);

    const a = readSafetensorsFile(join(dir, "straight", "model", "model.safetensors")).tensors;
    const b = readSafetensorsFile(join(out, "model", "model.safetensors")).tensors;
    let maxDiff = 0;
    for (const [n, t] of a) {
      const u = b.get(n)!.data;
      for (let i = 0; i < t.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(t.data[i] - u[i]));
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    // One metrics line per step, no duplicates from the steps recomputed after the kill.
    const steps = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).step);
    expect(steps).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    const summary = JSON.parse(resumed.stdout.trim().split("\n").at(-1)!);
    expect(summary.steps).toBe(14);
    // only the latest checkpoint and the one before it are kept (7 were written by each run)
    for (const run of [join(dir, "straight"), out])
      expect(readdirSync(join(run, "checkpoints")).sort()).toEqual(["latest", "step-12", "step-14"]);
  });
});
