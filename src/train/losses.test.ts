/**
 * The implicit rewards logged for preference training (rewards/chosen, rewards/rejected, rewards/accuracies, and
 * eval_rewards/accuracies) are those of the quantity the loss compares, as TRL logs them: for IPO the per-token
 * averages of the log-probs, for sigmoid DPO and DPO + SFT term their sums.
 */
import { describe, expect, it } from "vitest";
import { dpoScalars, preferencePairLoss, preferenceRewards } from "./losses.ts";

describe("preference rewards", () => {
  // chosen: 10 tokens, policy -10 vs reference -11 (+0.1 a token, +1.0 in all);
  // rejected: 1 token, policy -2 vs reference -2.5 (+0.5 a token and in all)
  const s = { pc: -10, pr: -2, rc: -11, rr: -2.5, chosenTokens: 10, rejectedTokens: 1 };
  const beta = 0.1;

  it("IPO: beta x the per-token average log-ratios, so accuracy agrees with the sign of IPO's margin", () => {
    const r = preferenceRewards("ipo", s, beta);
    expect(r.chosen).toBeCloseTo(beta * 0.1, 12);
    expect(r.rejected).toBeCloseTo(beta * 0.5, 12);
    // IPO's margin h = 0.1 - 0.5 < 0: the pair is not yet ranked right; the sums (1.0 > 0.5) said it was
    expect(r.accurate).toBe(false);
    expect(dpoScalars(s.pc, s.pr, s.rc, s.rr, beta).accurate).toBe(true);
    // and IPO's loss is (h - 1/(2 beta))^2 of that same margin
    expect(preferencePairLoss("ipo", s, beta)).toBeCloseTo((r.chosen / beta - r.rejected / beta - 5) ** 2, 9);
  });

  it("sigmoid DPO and DPO + SFT term: beta x the summed log-ratios (TRL's)", () => {
    for (const kind of ["sigmoid", "sft_dpo"] as const) {
      const r = preferenceRewards(kind, s, beta);
      expect(r.chosen).toBeCloseTo(beta * 1.0, 12);
      expect(r.rejected).toBeCloseTo(beta * 0.5, 12);
      expect(r.accurate).toBe(true);
    }
  });
});
