/**
 * eval_loss is the training objective's own loss for every preference loss (sigmoid DPO, IPO, DPO + SFT term): on
 * the training rows themselves, with a step too small to move the weights, it equals the step's training loss.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { initWeights } from "../nn/llama.ts";
import { mapWord, PAD, pair, SIGMA_1, SIGMA_2, taskModel, words } from "./testing.ts";
import { DEFAULT_TRAIN, train } from "./trainer.ts";

describe("eval_loss of preference training", () => {
  const cfg = taskModel();
  // words of different lengths, so IPO's per-token averages and the SFT term's length division matter
  const ws = [...words(8, 3), ...words(8, 5)];
  const rows = ws.map((x) => pair(x, mapWord(x, SIGMA_1), mapWord(x, SIGMA_2)));

  for (const loss of ["sigmoid", "sft_dpo", "ipo"] as const) {
    it(`${loss}: equals the training loss on the same rows and weights`, async () => {
      const res = await train(
        cfg,
        initWeights(cfg, 1),
        { train: rows, eval: rows },
        {
          ...DEFAULT_TRAIN,
          objective: { kind: "dpo", loss, beta: 0.1, sftAlpha: 1 },
          lora: undefined,
          lr: 1e-12,
          batchSize: rows.length,
          epochs: 2,
          evalEvery: 1,
        },
        mkdtempSync(join(tmpdir(), "bf-eval-loss-")),
        PAD,
      );
      const m = res.metrics[0];
      expect(m.eval_loss).toBeDefined();
      expect(Math.abs((m.eval_loss as number) - m.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(m.loss)));
    });
  }
});
