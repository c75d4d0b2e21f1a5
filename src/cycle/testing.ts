/**
 * Test fixture: a Scenario measured by the oracle judge, with no red-team seeds, a responder that refuses, no benchmark
 * to decontaminate against, and a remote base ("double") whose round models the test gives. What a test is about
 * (its suites and its round models) is all it writes.
 */
import { ORACLE_REFUSAL, oracleJudge } from "../benchmarks/testing/fixtures.ts";
import { ContaminationIndex } from "../curate/hygiene.ts";
import type { ChatModel } from "../models/types.ts";
import type { Scenario } from "./scenario.ts";

export function oracleScenario(o: {
  /** the scenario's identity (part of the run id) */
  test: string;
  suites: Scenario["suites"];
  /** the model of a round (0 = the base) */
  model: (round: number) => ChatModel;
}): Scenario {
  return {
    identity: { test: o.test },
    redteam: {
      seeds: async () => ({ probes: [], source: "none" }),
      judge: oracleJudge,
      success: { minSeverity: 1, unsafeLabels: ["unsafe"], mode: "harm" },
      languages: ["en"],
      deps: {},
    },
    suites: o.suites,
    variantFamilies: (v) => [v],
    curation: {
      responder: { id: "refuse", safeResponse: async () => ORACLE_REFUSAL },
      judge: oracleJudge,
      contamination: async () => ({ index: new ContaminationIndex([]), sets: {}, missing: [] }),
    },
    models: {
      base: { kind: "remote", id: "double" },
      identity: { double: true },
      open: async (_m, round) => ({ model: o.model(round) }),
      close: async () => {},
    },
    close: async () => {},
  };
}
