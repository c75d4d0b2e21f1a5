import { describe, expect, it } from "vitest";
import { loadConfig } from "../../config/index.ts";
import { DEMO_MODEL_DIR } from "../../models/registry.ts";
import { maxLengthFor, trainOptionsFor } from "../../train/backends/local.ts";
import { trainOptionsFrom } from "./train.ts";

describe("breakfix train: one way to build training options", () => {
  it("with no flags, runs what the cycle's local backend runs for the stage (the demo preset's settings)", () => {
    const cfg = loadConfig(undefined).training;
    for (const method of ["sft", "dpo"] as const) {
      const { opts, maxLength } = trainOptionsFrom(method, { model: DEMO_MODEL_DIR } as never);
      expect(opts).toEqual(trainOptionsFor(cfg, method, 0));
      expect(maxLength).toBe(maxLengthFor(cfg, DEMO_MODEL_DIR));
    }
  });

  it("a flag replaces its value only", () => {
    const cfg = loadConfig(undefined).training;
    const { opts } = trainOptionsFrom("dpo", { model: DEMO_MODEL_DIR, lr: "0.001", beta: "0.2", seed: "9" } as never);
    expect(opts).toEqual({
      ...trainOptionsFor(cfg, "dpo", 0),
      lr: 0.001,
      seed: 9,
      objective: { kind: "dpo", loss: cfg.dpo.loss, beta: 0.2, sftAlpha: 1 },
    });
  });
});
