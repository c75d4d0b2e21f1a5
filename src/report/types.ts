/** The data a round report is rendered from. The cycle fills it from the store; `breakfix report RUN` rebuilds it. */
import type { RoundMetrics } from "../domain/round-metrics.ts";
import type { Conversation, Metric } from "../domain/types.ts";

export interface GateResult {
  name: string;
  passed: boolean;
  value: number;
  threshold: number;
  /** "<=" or ">=": how value must compare to threshold. */
  op: "<=" | ">=";
}

export interface Regression {
  attackId: string;
  technique: string;
  category: string;
  language: string;
  /** The round whose model had fixed it, and the round where it broke again. */
  fixedInRound: number;
  reappearedInRound: number;
}

/** One round in the report: its measurement (domain/round-metrics.ts) plus what the report adds. */
export interface RoundSummary extends RoundMetrics {
  round: number;
  /** Red-team attack success rate per technique family in this round's campaign. */
  asrByTechnique: Record<string, Metric>;
  regressions: Regression[];
  gates: GateResult[];
  releaseCandidate?: boolean;
}

export interface ExampleConversation {
  round: number;
  title: string;
  category: string;
  technique: string;
  language: string;
  conversation: Conversation;
  /** The model's response: untrusted text, always escaped when rendered. */
  response: string;
  label: string;
}

export interface RunReport {
  runId: string;
  createdAt: string;
  target: string;
  rounds: RoundSummary[];
  examples: ExampleConversation[];
  notes?: string[];
}
