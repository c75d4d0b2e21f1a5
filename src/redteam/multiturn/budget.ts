/**
 * Budgets for an attack: turns (target exchanges kept in the conversation), calls (every model call: attacker,
 * target, model-backed converters) and tokens (prompt + completion of those calls). Judges are not charged: their
 * cost is the judge's own.
 */
import type { Usage } from "../../domain/types.ts";

export interface AttackBudget {
  maxTurns: number;
  maxCalls: number;
  maxTokens: number;
  /** Crescendo/scripted: refusals that may be rolled back; PAIR: refused attempts that restart from the best one. */
  maxBacktracks: number;
}

export const DEFAULT_BUDGET: AttackBudget = { maxTurns: 8, maxCalls: 40, maxTokens: 60_000, maxBacktracks: 5 };

export type StopReason =
  | "success"
  | "max_turns"
  | "max_calls"
  | "max_tokens"
  | "max_backtracks"
  | "attacker_failed"
  | "script_exhausted"
  /** The next turn cannot fit the target's context window (see campaign/context.ts). */
  | "context_full";

export class BudgetMeter {
  calls = 0;
  tokens = 0;
  constructor(readonly budget: AttackBudget) {}

  /** Why no further call may be made, or undefined when `calls` more are allowed. */
  blocked(calls = 1): StopReason | undefined {
    if (this.calls + calls > this.budget.maxCalls) return "max_calls";
    if (this.tokens >= this.budget.maxTokens) return "max_tokens";
    return undefined;
  }

  charge(usage: Usage | undefined): void {
    this.calls += 1;
    if (usage) this.tokens += usage.promptTokens + usage.completionTokens;
  }

  /** Usage of a model call made on the attack's behalf by something else (a converter): tokens only, plus a call. */
  readonly onUsage = (u: Usage): void => this.charge(u);
}

export function checkBudget(b: AttackBudget, where: string): AttackBudget {
  for (const k of ["maxTurns", "maxCalls", "maxTokens"] as const) {
    if (!Number.isInteger(b[k]) || b[k] < 1)
      throw new Error(`${where}: budget.${k} must be a positive integer, got ${b[k]}`);
  }
  if (!Number.isInteger(b.maxBacktracks) || b.maxBacktracks < 0) {
    throw new Error(`${where}: budget.maxBacktracks must be a non-negative integer, got ${b.maxBacktracks}`);
  }
  return b;
}
