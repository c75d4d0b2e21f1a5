/** The data a round report is rendered from. The cycle fills it from the store; `breakfix report RUN` rebuilds it. */
import type { MeasuredSplit, RoundMetrics } from "../domain/round-metrics.ts";
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

/**
 * One round in the report: its measurement (domain/round-metrics.ts) plus what the report adds. The figures at the top
 * level are the TEST split's (the report's headline, pooled over slices); `dev` holds the dev split's, which is what
 * the gates and the release candidate were decided on.
 */
export interface RoundSummary extends RoundMetrics {
  round: number;
  /** The dev split's figures: what every decision (gates, stopping, release candidate) read. */
  dev: RoundMetrics;
  /** Each split's figures per slice (in-distribution, out-of-distribution, rephrased, ...); absent = no slices. */
  slices?: Record<MeasuredSplit, Record<string, RoundMetrics>>;
  /** Red-team attack success rate per technique family in this round's campaign. */
  asrByTechnique: Record<string, Metric>;
  regressions: Regression[];
  /** The release gates, evaluated on the dev split. */
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
  /** Confidence level of every interval (config benchmarks.confidence); 0.95 when absent. */
  confidence?: number;
  rounds: RoundSummary[];
  examples: ExampleConversation[];
  notes?: string[];
}
