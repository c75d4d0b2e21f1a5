/**
 * The names the judges stage offers, in a module of their own (it imports nothing) so the CLI lists them in its help
 * without loading the judges: the built-in judges, in the order the registry lists them (it has one entry per name),
 * and the human-labelled data sets `judge calibrate` reads (data.ts).
 */

/** The built-in judges; the registry (registry.ts) builds its entries from exactly these names, in this order. */
export const BUILTIN_JUDGES = [
  "refusal-patterns",
  "refusal-learned",
  "gcg-substring",
  "harm-severity",
  "strongreject",
  "harmbench",
  "xstest-grader",
  "llama-guard-3",
  "guard-prompted",
] as const;
export type BuiltinJudge = (typeof BUILTIN_JUDGES)[number];

/** Built-in judge names (plug-ins add theirs with the registry's registerJudge). */
export const JUDGE_NAMES: readonly string[] = BUILTIN_JUDGES;

/** The labelled data `judge calibrate --data` names. */
export const CALIBRATION_DATA = ["xstest", "reviews"] as const;
