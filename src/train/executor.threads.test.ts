/**
 * BREAKFIX_TRAIN_THREADS (executor.ts): the thread count changes what a step costs, never what it computes. The same
 * LoRA SFT run on the committed demo organism (its real shapes, the demo preset's targets, batches of several
 * lengths) through `breakfix train sft` with 1 and with 2 ONNX Runtime threads must write byte-identical adapters.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runBreakfix } from "../cli/testing.ts";
import { DEMO_MODEL_DIR } from "../models/registry.ts";
import { trainThreads } from "./executor.ts";
import { writeJsonl } from "./jsonl.ts";

describe("BREAKFIX_TRAIN_THREADS", () => {
  it("reads a whole number from 1 up, unset is the executor's default, anything else names the variable", () => {
    expect(trainThreads({})).toBeUndefined();
    expect(trainThreads({ BREAKFIX_TRAIN_THREADS: "" })).toBeUndefined();
    expect(trainThreads({ BREAKFIX_TRAIN_THREADS: "1" })).toBe(1);
    expect(trainThreads({ BREAKFIX_TRAIN_THREADS: "4" })).toBe(4);
    for (const bad of ["0", "-1", "1.5", "two", "1e9"])
      expect(() => trainThreads({ BREAKFIX_TRAIN_THREADS: bad }), bad).toThrow(/BREAKFIX_TRAIN_THREADS.*got/);
  });

  it("1 and 2 threads train the demo organism to byte-identical adapters", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-threads-"));
    const data = path.join(dir, "sft.jsonl");
    // 48 rows of 4 to 60 words: batches of 16 fall in several padded lengths (several compiled shapes)
    writeJsonl(
      data,
      Array.from({ length: 48 }, (_, i) => ({
        messages: [
          { role: "user", content: `Question ${i}: ${"tell me about the river town ".repeat(1 + (i % 12))}` },
          { role: "assistant", content: `Answer ${i}: ${"the river town keeps a mill ".repeat(1 + ((i * 5) % 9))}` },
        ],
      })),
    );
    const adapters: Buffer[] = [];
    for (const threads of ["1", "2"]) {
      const out = path.join(dir, `out-${threads}`);
      const run = await runBreakfix(
        [
          "train",
          "sft",
          "--model",
          DEMO_MODEL_DIR,
          "--data",
          data,
          "--out",
          out,
          "--lora",
          "--lora-r",
          "8",
          "--lora-alpha",
          "8",
          "--lora-dropout",
          "0.05",
          "--lora-targets",
          "gate_proj,up_proj,down_proj",
          "--lr",
          "0.002",
          "--batch-size",
          "16",
          "--epochs",
          "3",
          "--no-progress",
          "--json",
        ],
        { cwd: dir, env: { BREAKFIX_TRAIN_THREADS: threads } },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}")).toMatchObject({ steps: 9 });
      adapters.push(readFileSync(path.join(out, "adapter", "adapter_model.safetensors")));
    }
    expect(adapters[0].length).toBeGreaterThan(0);
    expect(adapters[1].equals(adapters[0])).toBe(true);
  }, 120_000);
});
