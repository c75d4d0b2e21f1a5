/**
 * The SFT term of sft_dpo is TRL's (v1.9.0, loss_type ["sigmoid", "sft"], what the trl backend configures): one
 * cross-entropy pooled over every chosen completion token of the batch, -sum(pc) / sum(chosen tokens), not RPO's
 * per-sequence mean -mean(pc / chosen tokens). A hand example where the two differ: chosen completions of 1 and 3
 * tokens with summed log-probs -2 and -3: pooled (2 + 3) / 4 = 1.25, per-sequence (2 / 1 + 3 / 3) / 2 = 1.5.
 */
import { describe, expect, it } from "vitest";
import { appendGradients } from "../nn/autodiff.ts";
import { RefExecutor } from "../nn/executor-ref.ts";
import { GraphBuilder } from "../nn/tensor.ts";
import { dpoScalars, dpoSftLoss, preferenceSetLoss } from "./losses.ts";

const pairs = [
  { pc: -2, pr: -4, rc: -2.5, rr: -3, chosenTokens: 1, rejectedTokens: 2 },
  { pc: -3, pr: -6, rc: -3.5, rr: -5, chosenTokens: 3, rejectedTokens: 4 },
];
const beta = 0.1;
const alpha = 0.5;
const pooled = (2 + 3) / (1 + 3); // TRL: F.cross_entropy over the pooled chosen tokens
const perSequence = (2 / 1 + 3 / 3) / 2; // RPO's per-sequence mean, what the engine computed before
const dpoMean = pairs.reduce((a, s) => a + dpoScalars(s.pc, s.pr, s.rc, s.rr, beta).loss, 0) / pairs.length;

describe("sft_dpo's SFT term is TRL's pooled-token cross-entropy", () => {
  it("the hand example tells the two forms apart", () => {
    expect(pooled).toBe(1.25);
    expect(perSequence).toBe(1.5);
  });

  it("the training graph's loss and its gradient in pc are TRL's", async () => {
    const b = new GraphBuilder();
    const pc = b.param("pc", [2]); // [P]
    const [pr, rc, rr, n] = ["pr", "rc", "rr", "n"].map((k) => b.input(k, [2])); // [P] each
    const { loss } = dpoSftLoss(pc, pr, rc, rr, beta, alpha, n);
    const [g] = appendGradients(b.graph, loss.id, [pc.id]);
    const feed = (k: "pc" | "pr" | "rc" | "rr" | "chosenTokens") => ({
      shape: [2],
      data: Float32Array.from(pairs.map((s) => s[k])),
    });
    const [l, gpc] = await new RefExecutor()
      .compile(b.graph, [loss.id, g])
      .run({ pc: feed("pc"), pr: feed("pr"), rc: feed("rc"), rr: feed("rr"), n: feed("chosenTokens") });
    expect(l.data[0]).toBeCloseTo(dpoMean + alpha * pooled, 6);
    // d/d pc_i of alpha * -sum(pc) / sum(n) is -alpha / 4 for both pairs, whatever their lengths
    pairs.forEach((s, i) => {
      const m = dpoScalars(s.pc, s.pr, s.rc, s.rr, beta).margin;
      const dDpo = -(beta / (1 + Math.exp(m))) / pairs.length;
      expect(gpc.data[i]).toBeCloseTo(dDpo - alpha / 4, 6);
    });
  });

  it("evaluation's loss over a set is the same quantity (pooled over the set's chosen tokens)", () => {
    expect(preferenceSetLoss("sft_dpo", pairs, beta, alpha)).toBeCloseTo(dpoMean + alpha * pooled, 12);
    expect(preferenceSetLoss("sigmoid", pairs, beta, alpha)).toBeCloseTo(dpoMean, 12);
  });
});
