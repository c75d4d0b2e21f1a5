/**
 * `breakfix world build` trains its organisms (the target's stages and the attacker) with the legacy learning-rate
 * schedule (warmup from lr / W over round(0.03 N) steps), the one artifacts/demo-world/ was trained with, while the
 * engine's default became transformers' (warmup from 0 over ceil(ratio N) steps): without the flag a rebuild would
 * no longer make the committed organisms.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import type { RunOptions } from "../train/run.ts";

const seen: RunOptions[] = [];
vi.mock("../train/run.ts", () => ({
  runTraining: async (o: RunOptions) => {
    seen.push(o);
    throw new Error("stop: options captured");
  },
}));

describe("the world build's training schedule", () => {
  it("is the legacy one the committed organisms were trained with", async () => {
    const { trainOrganism, WORLD_PRESETS } = await import("./build.ts");
    const preset = { ...WORLD_PRESETS.quick, vocabSize: 300 };
    await expect(
      trainOrganism({
        outDir: mkdtempSync(join(tmpdir(), "bf-world-schedule-")),
        seed: 1,
        preset,
        tokenizerTexts: ["hello world", "a small corpus for the tokenizer"],
        modelMaxLength: 256,
        rows: [
          {
            messages: [
              { role: "user", content: "hi" },
              { role: "assistant", content: "hello" },
            ],
          },
        ],
        checkpointEvery: 0,
        ggufName: "test",
      }),
    ).rejects.toThrow("stop: options captured");
    expect(seen).toHaveLength(1);
    expect(seen[0].train.legacySchedule).toBe(true);
    expect(seen[0].train.warmupRatio).toBe(0.03);
  });
});
