/**
 * A scenario: everything the rounds of the cycle need that is not the loop itself. The cycle (cycle.ts) takes one
 * and never asks where it came from: `breakfix.yaml` builds one for any model (from-config.ts, with named plug-ins
 * such as the demo world's, registered by the caller), and the demo is the same config builder run on the demo
 * preset. This is the plug-in family's one interface file.
 */
import type { Suite } from "../benchmarks/types.ts";
import type { ContaminationReport } from "../curate/contamination.ts";
import type { CounterDataSource, Responder, RetentionSource, SafetySetSource } from "../curate/types.ts";
import type { Probe } from "../domain/types.ts";
import type { Judge } from "../judges/types.ts";
import type { ChatModel } from "../models/types.ts";
import type { ConverterDeps } from "../redteam/converters/registry.ts";
import type { EscalationScript } from "../redteam/multiturn/scripted.ts";
import type { SuccessCriterion } from "../redteam/outcome.ts";
import type { RoundModels } from "./deploy.ts";

/** What a measured suite contributes to a round's figures. */
export type SuiteRole = "harmful" | "jailbreak" | "multiturn" | "overrefusal" | "capability";

export interface MeasuredSuite {
  role: SuiteRole;
  suite: Suite;
  /** Seeded subset of items (budget); undefined = all. */
  limit?: number;
}

export interface ScenarioRedteam {
  /** Seed probes for a round's campaigns (harmful asks; never measured, never a held-out item). */
  seeds(perCategory: number): Promise<{ probes: Probe[]; source: string }>;
  /** Decides attack success (and replays in the regression suite). */
  judge: Judge;
  success: { minSeverity: number; unsafeLabels: readonly string[]; mode: NonNullable<SuccessCriterion["mode"]> };
  /** Attack languages. */
  languages: readonly string[];
  /** Converter dependencies: a translator for non-seed languages, a rephraser model. */
  deps: ConverterDeps;
  /** The attacker model for model-driven multi-turn attacks (Crescendo, PAIR, TAP, FLIRT); none = scripted only. */
  attacker?: ChatModel;
  scripts?: readonly EscalationScript[];
}

export interface ScenarioCuration {
  responder: Responder;
  /** Checks every written safe response. */
  judge: Judge;
  counterData?: CounterDataSource;
  retention?: RetentionSource;
  /** A fixed safety set answered with the findings each round (curation.safetySet). */
  safetySet?: SafetySetSource;
  /** The decontamination index: every measured suite's prompts (sets that could not be read are listed missing). */
  contamination(): Promise<ContaminationReport>;
}

export interface Scenario {
  /** Identity of everything the scenario feeds the rounds (seeds, suites, judges, sources): part of the run id. */
  readonly identity: Record<string, unknown>;
  redteam: ScenarioRedteam;
  /** The measurement suites (round 0 and after every round). */
  suites: readonly MeasuredSuite[];
  /** The red-team families a jailbreak variant touches (for DR on held-out technique families). */
  variantFamilies(variant: string): string[];
  curation: ScenarioCuration;
  /** The base model's weights and how a round's model is made to answer. */
  models: RoundModels;
  /** Releases models the scenario opened (judge, attacker, responder). */
  close(): Promise<void>;
}
