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
 * DPO plus an SFT (negative log-likelihood) term on the chosen responses, as TRL computes it (v1.9.0,
 * trl/trainer/dpo_trainer.py, loss_type ["sigmoid", "sft"] with loss_weights [1, alpha], what the trl backend
 * configures for sft_dpo): loss = dpo + alpha * (-sum(pc) / sum(chosenTokens)), one cross-entropy pooled over every
 * chosen completion token of the batch. That is lines 1542-1549 (`elif loss_type == "sft":` ... `batch_loss =
 * F.cross_entropy(chosen_logits[chosen_mask.bool()], chosen_labels[chosen_mask.bool()])`, expanded to [P]) and line
 * 1578 (`loss += per_sequence_loss.mean() * loss_weight`): a token of a long chosen answer weighs as much as one of a
 * short answer. (RPO's paper form, mean(-pc / chosenTokens) per sequence, was what this computed before; TRL 1.x has
 * no rpo_alpha.) pc, pr, rc, rr: [P]; chosenTokens: [P] token counts of the chosen completions; loss: [].
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
  const nll = sftTerm(pc, chosenTokens);
  return { ...d, loss: d.loss.add(nll.mul(alpha)) };
}

/** TRL's "sft" loss: mean NLL over the pooled chosen tokens, -sum(pc) / sum(chosenTokens). [P], [P] -> []. */
export function sftTerm(pc: Sym, chosenTokens: Sym): Sym {
  return pc.sum().div(chosenTokens.sum()).neg();
}

export type PreferenceLossKind = "sigmoid" | "ipo" | "sft_dpo";

/** One pair's log-probs (summed over its completions) and completion lengths, host side. */
export interface PairLogps {
  pc: number;
  pr: number;
  rc: number;
  rr: number;
  chosenTokens: number;
  rejectedTokens: number;
}

/**
 * One pair's pairwise loss (float64, host side): sigmoid DPO, IPO, or the DPO part of sft_dpo (its SFT term is
 * pooled over a set's tokens, so it has no per-pair value: see preferenceSetLoss). pc, pr, rc, rr are summed
 * log-probs; IPO averages them per token.
 */
export function preferencePairLoss(kind: PreferenceLossKind, s: PairLogps, beta: number): number {
  if (kind === "ipo") {
    const h = s.pc / s.chosenTokens - s.rc / s.chosenTokens - (s.pr / s.rejectedTokens - s.rr / s.rejectedTokens);
    return (h - 1 / (2 * beta)) ** 2;
  }
  return dpoScalars(s.pc, s.pr, s.rc, s.rr, beta).loss;
}

/**
 * The objective's loss over a set of pairs as the graph computes it over a batch (float64, host side): the mean
 * pairwise loss, plus for sft_dpo alpha x the NLL pooled over the set's chosen tokens (dpoSftLoss, TRL's "sft" term).
 * What evaluation reports as eval_loss, summed in the set's order, so it does not depend on the batching.
 */
export function preferenceSetLoss(
  kind: PreferenceLossKind,
  pairs: readonly PairLogps[],
  beta: number,
  sftAlpha: number,
): number {
  let pairwise = 0;
  let nll = 0;
  let tokens = 0;
  for (const s of pairs) {
    pairwise += preferencePairLoss(kind, s, beta);
    nll -= s.pc;
    tokens += s.chosenTokens;
  }
  const mean = pairwise / pairs.length;
  return kind === "sft_dpo" ? mean + sftAlpha * (nll / tokens) : mean;
}

/**
 * One pair's implicit rewards as TRL logs them (rewards/chosen, rewards/rejected, rewards/accuracies): beta x the
 * policy-minus-reference log-probs the loss compares, i.e. their per-token averages for IPO (TRL averages the
 * log-probs for IPO before the rewards), their sums for sigmoid DPO and DPO + SFT term. For IPO the sums could call a
 * pair ranked right whose per-token margin, the one IPO trains, is still negative.
 */
export function preferenceRewards(
  kind: PreferenceLossKind,
  s: PairLogps,
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
  // -log sigma(margin) = softplus(-margin), in the form that stays finite where exp(-margin) overflows (margin < -709),
  // as logSigmoid does in the graph
  const loss = margin >= 0 ? Math.log1p(Math.exp(-margin)) : -margin + Math.log1p(Math.exp(margin));
  return { chosen, rejected, margin, loss, accurate: margin > 0 };
}
