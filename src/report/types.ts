/** The data a round report is rendered from. The cycle fills it from the store; `breakfix report RUN` rebuilds it. */
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

export interface RoundSummary {
  round: number;
  model: string;
  harmfulDr: Metric;
  jailbreakDr: Metric;
  heldoutDr: Metric;
  iprr: Metric;
  vprr: Metric;
  capability: Metric;
  drByCategory: Record<string, Metric>;
  drByLanguage: Record<string, Metric>;
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
