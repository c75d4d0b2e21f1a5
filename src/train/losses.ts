/**
 * Preference losses as small pure functions over graph values (Syms), so any executor can run them and autodiff
 * differentiates them. Inputs are per-sequence summed log-probabilities of the completion tokens:
 *   pc, pr: policy log p(chosen), log p(rejected)      [P]
 *   rc, rr: reference log p(chosen), log p(rejected)    [P]
 * Conventions follow TRL's DPOTrainer.
 */
import type { Sym } from "../nn/tensor.ts";

/**
 * log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite with a finite gradient (sigma(-x)) at every float32 x:
 * computed as logSoftmax([x, 0])[0] (Sym.logSigmoid), whose max-shifted form is exactly that, on every executor (the
 * reference's log-softmax and ONNX's LogSoftmax; its autodiff gradient g - softmax * sum(g) = g sigma(-x)).
 * x: any shape -> same shape. The naive -log(1 + exp(-x)) overflowed exp for x < -88.7 (loss Infinity, NaN gradients).
 */
export function logSigmoid(x: Sym): Sym {
  return x.logSigmoid();
}

export interface PreferenceLossOut {
  /** Scalar loss (mean over pairs). */
  loss: Sym;
  /** beta * (pc - rc), [P] (TRL: rewards/chosen). */
  chosenRewards: Sym;
  /** beta * (pr - rr), [P] (TRL: rewards/rejected). */
  rejectedRewards: Sym;
}

/** Sigmoid DPO (Rafailov et al. 2023): -log sigmoid(beta * ((pc - rc) - (pr - rr))). */
export function dpoLoss(pc: Sym, pr: Sym, rc: Sym, rr: Sym, beta: number): PreferenceLossOut {
  const chosenRewards = pc.sub(rc).mul(beta);
  const rejectedRewards = pr.sub(rr).mul(beta);
  const loss = logSigmoid(chosenRewards.sub(rejectedRewards)).mean().neg();
  return { loss, chosenRewards, rejectedRewards };
}

/**
 * IPO (Azar et al. 2023), the length-robust variant: ((pc - rc) - (pr - rr) - 1/(2 beta))^2, on log-probs averaged
 * per token (pass per-token means, as TRL does for IPO).
 */
export function ipoLoss(pc: Sym, pr: Sym, rc: Sym, rr: Sym, beta: number): PreferenceLossOut {
  const chosenRewards = pc.sub(rc).mul(beta);
  const rejectedRewards = pr.sub(rr).mul(beta);
  const h = pc
    .sub(rc)
    .sub(pr.sub(rr))
    .sub(1 / (2 * beta));
  return { loss: h.square().mean(), chosenRewards, rejectedRewards };
}

/**
 * DPO plus an SFT (negative log-likelihood) term on the chosen response, as in RPO (Pang et al. 2024):
 * loss = dpo + alpha * mean(-pc / |chosen tokens|). chosenTokens: [P] token counts of the chosen completions.
 */
export function dpoSftLoss(
  pc: Sym,
  pr: Sym,
  rc: Sym,
  rr: Sym,
  beta: number,
  alpha: number,
  chosenTokens: Sym,
): PreferenceLossOut {
  const d = dpoLoss(pc, pr, rc, rr, beta);
  const nll = pc.div(chosenTokens).mean().neg();
  return { ...d, loss: d.loss.add(nll.mul(alpha)) };
}

export type PreferenceLossKind = "sigmoid" | "ipo" | "sft_dpo";

/**
 * One pair's loss as the objective's graph computes it (float64, host side; the graph's loss is the mean over pairs):
 * what evaluation reports as eval_loss, so it is the training objective's own value. pc, pr, rc, rr are summed
 * log-probs; chosenTokens / rejectedTokens the completions' counted tokens (IPO averages per token, the SFT term of
 * sft_dpo divides by the chosen length).
 */
export function preferencePairLoss(
  kind: PreferenceLossKind,
  s: { pc: number; pr: number; rc: number; rr: number; chosenTokens: number; rejectedTokens: number },
  beta: number,
  sftAlpha: number,
): number {
  if (kind === "ipo") {
    const h = s.pc / s.chosenTokens - s.rc / s.chosenTokens - (s.pr / s.rejectedTokens - s.rr / s.rejectedTokens);
    return (h - 1 / (2 * beta)) ** 2;
  }
  const dpo = dpoScalars(s.pc, s.pr, s.rc, s.rr, beta).loss;
  return kind === "sft_dpo" ? dpo + sftAlpha * (-s.pc / s.chosenTokens) : dpo;
}

/**
 * One pair's implicit rewards as TRL logs them (rewards/chosen, rewards/rejected, rewards/accuracies): beta x the
 * policy-minus-reference log-probs the loss compares, i.e. their per-token averages for IPO (TRL averages the
 * log-probs for IPO before the rewards), their sums for sigmoid DPO and DPO + SFT term. For IPO the sums could call a
 * pair ranked right whose per-token margin, the one IPO trains, is still negative.
 */
export function preferenceRewards(
  kind: PreferenceLossKind,
  s: { pc: number; pr: number; rc: number; rr: number; chosenTokens: number; rejectedTokens: number },
  beta: number,
): { chosen: number; rejected: number; accurate: boolean } {
  const d =
    kind === "ipo"
      ? dpoScalars(s.pc / s.chosenTokens, s.pr / s.rejectedTokens, s.rc / s.chosenTokens, s.rr / s.rejectedTokens, beta)
      : dpoScalars(s.pc, s.pr, s.rc, s.rr, beta);
  return { chosen: d.chosen, rejected: d.rejected, accurate: d.accurate };
}

/** Host-side scalar DPO quantities for logging and for tests (float64). */
export function dpoScalars(pc: number, pr: number, rc: number, rr: number, beta: number) {
  const chosen = beta * (pc - rc);
  const rejected = beta * (pr - rr);
  const margin = chosen - rejected;
  return { chosen, rejected, margin, loss: Math.log1p(Math.exp(-margin)), accurate: margin > 0 };
}
