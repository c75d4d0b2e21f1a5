/**
 * Trainers against the real engine: SFT learns a held-out mapping from scratch; DPO moves a model that is indifferent
 * between two behaviours to the chosen one, on held-out prompts, and logs TRL's reward metrics.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generate } from "../nn/generate.ts";
import { initWeights, type Weights } from "../nn/llama.ts";
import { mergeLora } from "./lora.ts";
import { ObjectiveRunner, padBatch } from "./objective.ts";
import { example, mapWord, NL, PAD, pair, promptIds, SIGMA_1, SIGMA_2, taskModel, words } from "./testing.ts";
import { DEFAULT_TRAIN, train } from "./trainer.ts";

const cfg = taskModel();
const tmp = () => mkdtempSync(join(tmpdir(), "bf-train-"));

function greedyAnswers(weights: Weights, ws: string[]): string[] {
  const gens = generate(cfg, weights, ws.map(promptIds), { maxTokens: 6, stopTokens: [NL] });
  return gens.map((g) => g.tokens.map((t) => String.fromCharCode(t - 16 + 97)).join(""));
}

const accuracy = (got: string[], ws: string[], sigma: string) =>
  got.filter((a, i) => a === mapWord(ws[i], sigma)).length / ws.length;

describe("SFT trainer", () => {
  it("learns a held-out mapping it could not do before (greedy accuracy >= 95%) in under 2 minutes", async () => {
    const all = words(1300, 5);
    const trainW = all.slice(0, 1200);
    const heldOut = all.slice(1200);
    const weights = initWeights(cfg, 1);
    const before = accuracy(greedyAnswers(weights, heldOut), heldOut, SIGMA_1);
    const t0 = performance.now();
    const res = await train(
      cfg,
      weights,
      {
        train: trainW.map((w) => example(w, mapWord(w, SIGMA_1))),
        eval: heldOut.slice(0, 32).map((w) => example(w, mapWord(w, SIGMA_1))),
      },
      {
        ...DEFAULT_TRAIN,
        objective: { kind: "sft" },
        lora: undefined,
        lr: 3e-3,
        batchSize: 32,
        epochs: 3,
        maxSteps: 90,
        warmupRatio: 0.05,
      },
      tmp(),
      PAD,
    );
    const seconds = (performance.now() - t0) / 1000;
    const after = accuracy(greedyAnswers(res.weights, heldOut), heldOut, SIGMA_1);
    console.log(
      `SFT: held-out greedy accuracy ${before} -> ${after} in ${seconds.toFixed(1)} s, ${res.steps} steps, eval loss ${res.final.eval_loss}`,
    );
    expect(before).toBeLessThan(0.05);
    expect(after).toBeGreaterThanOrEqual(0.95);
    expect(seconds).toBeLessThan(120);
    expect(res.metrics[0].loss).toBeGreaterThan(res.metrics.at(-1)!.loss);
  });
});

describe("DPO trainer", () => {
  it("raises held-out preference accuracy from ~50% to >= 90% and switches greedy outputs to the chosen behaviour", async () => {
    const all = words(1100, 9);
    const trainW = all.slice(0, 1000);
    const heldOut = all.slice(1000);
    // A base torn between two mappings: SFT on both, half and half (with this seed its greedy answers lean to
    // SIGMA_2, so DPO is asked for the behaviour the base does NOT already favour: SIGMA_1).
    const base = initWeights(cfg, 2);
    const mixed = trainW.map((w, i) => example(w, mapWord(w, i % 2 ? SIGMA_1 : SIGMA_2)));
    await train(
      cfg,
      base,
      { train: mixed, eval: [] },
      {
        ...DEFAULT_TRAIN,
        objective: { kind: "sft" },
        lora: undefined,
        lr: 3e-3,
        batchSize: 32,
        epochs: 3,
        maxSteps: 90,
      },
      tmp(),
      PAD,
    );

    const runner = new ObjectiveRunner(cfg, { kind: "sft" }, () => true);
    const prefShare = async (weights: Weights) => {
      const pairs = heldOut.map((w) => pair(w, mapWord(w, SIGMA_1), mapWord(w, SIGMA_2)));
      const batch = padBatch([...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)], 16, PAD);
      const lp = await runner.sequenceLogps(weights, batch);
      return pairs.filter((_, k) => lp[k] > lp[pairs.length + k]).length / pairs.length;
    };
    const prefBefore = await prefShare(base);
    const greedyBefore = accuracy(greedyAnswers(base, heldOut), heldOut, SIGMA_1);

    const pairs = trainW.map((w) => pair(w, mapWord(w, SIGMA_1), mapWord(w, SIGMA_2)));
    const evalPairs = heldOut.slice(0, 32).map((w) => pair(w, mapWord(w, SIGMA_1), mapWord(w, SIGMA_2)));
    // A short, gentle run: sigmoid DPO keeps widening the margin by lowering both log-probs (likelihood displacement),
    // so many more steps at this learning rate would push the chosen answer down too.
    const lora = {
      r: 8,
      alpha: 16,
      dropout: 0,
      targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    };
    const res = await train(
      cfg,
      base,
      { train: pairs, eval: evalPairs },
      {
        ...DEFAULT_TRAIN,
        objective: { kind: "dpo", loss: "sigmoid", beta: 0.1, sftAlpha: 0 },
        lora,
        lr: 5e-4,
        batchSize: 16,
        epochs: 1,
        maxSteps: 12,
        evalEvery: 6,
      },
      tmp(),
      PAD,
    );
    const tuned = mergeLora(base, res.adapter!, cfg, lora);
    const prefAfter = await prefShare(tuned);
    const greedyAfter = accuracy(greedyAnswers(tuned, heldOut), heldOut, SIGMA_1);
    console.log(
      `DPO: held-out preference accuracy ${prefBefore} -> ${prefAfter}; greedy chosen behaviour ${greedyBefore} -> ${greedyAfter}; ` +
        `reward accuracy per step ${res.metrics.map((m) => m["rewards/accuracies"]?.toFixed(2)).join(" ")}`,
    );
    expect(prefBefore).toBeGreaterThan(0.25);
    expect(prefBefore).toBeLessThan(0.75);
    expect(prefAfter).toBeGreaterThanOrEqual(0.9);
    expect(greedyAfter).toBeGreaterThanOrEqual(0.9);
    expect(greedyAfter).toBeGreaterThan(greedyBefore + 0.3);
    for (const m of res.metrics) {
      for (const k of ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"] as const)
        expect(Number.isFinite(m[k])).toBe(true);
    }
    expect(res.metrics.at(-1)!["rewards/margins"]).toBeGreaterThan(0);
    expect(res.final["eval_rewards/accuracies"]).toBeGreaterThanOrEqual(0.9);
  });
});

describe("trainer on a large data set", () => {
  it("plans a run of 200,000 examples (the longest-example check once overflowed the call stack)", async () => {
    // One real example repeated: the plan, the epoch's batch order and one step, on 200k rows.
    const ex = example("abcde", mapWord("abcde", SIGMA_1));
    const rows = Array.from({ length: 200_000 }, () => ex);
    const res = await train(
      cfg,
      initWeights(cfg, 3),
      { train: rows, eval: [ex] },
      { ...DEFAULT_TRAIN, objective: { kind: "sft" }, lora: undefined, batchSize: 32, epochs: 1, maxSteps: 1 },
      tmp(),
      PAD,
    );
    expect(res.steps).toBe(1);
    expect(Number.isFinite(res.metrics[0].loss)).toBe(true);
  });
});
