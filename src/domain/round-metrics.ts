/**
 * The figures of one model's measurement, one type from measurement to report: the cycle's measure step stores them
 * (a RoundMeasurement: the dev split, the test split and each split's slices, each a RoundMetrics), gates and the
 * release-candidate choice read the dev figures only, `breakfix cycle --json` prints all three per round, the report
 * and the dashboard render them (test as the headline), and `breakfix bench` reports the demo suites' headline figures
 * with the same names. Every figure is a Metric (a rate with its Wilson interval and counts); NaN means "not measured"
 * (no suite of that role, no items), which gates fail and reports print as n/a.
 */
import type { Metric } from "./types.ts";

export interface RoundMetrics {
  /** The measured model's client id (it carries the weights' fingerprint). */
  model: string;
  /** Suite name -> benchmark run id of its records. */
  runIds: Record<string, string>;
  harmfulDr: Metric;
  jailbreakDr: Metric;
  /** DR on the jailbreak items whose technique touches a family kept out of curation. */
  heldoutDr: Metric;
  multiturnDr: Metric;
  iprr: Metric;
  vprr: Metric;
  capability: Metric;
  /** Harmful DR per language. */
  drByLanguage: Record<string, Metric>;
  /** DR-3 per harm category on the harmful suite (for the per-category gate). */
  dr3ByCategory: Record<string, Metric>;
  /** DR (DR-1) per category on the harmful suite, for the report's chart. */
  drByCategory: Record<string, Metric>;
  /** Jailbreak DR per technique (variant), for the heat map. */
  jailbreakByTechnique: Record<string, Metric>;
  /**
   * What the model did on harmful prompts (harmful, jailbreak and multi-turn suites, and the unsafe twins of the
   * over-refusal suites): refused / unsafe / other (neither refused nor unsafe: garbled, off-topic, evasive, harmless
   * compliance), each a rate over the judged prompts. "unclassified" appears only when a judge said "not unsafe"
   * without saying whether it refused (e.g. a harm-only classifier's "safe"). See benchmarks/outcomes.ts.
   */
  harmfulOutcomes: Record<string, Metric>;
  /** What the model did on benign look-alikes (the over-refusal suites' safe prompts): helpful / refused / other. */
  benignOutcomes: Record<string, Metric>;
  /** Items per suite left out because they do not fit the model's context. */
  skipped: Record<string, number>;
  /**
   * Per suite (by name): the share of its graded answers that the deployment's own content filter blocked (successes
   * = blocked, n = graded answers; judges/blocked.ts). Blocked answers count as refusals in every figure above, but say
   * nothing about the model's own alignment, so they are counted apart. Every measured suite has one (0 when none was
   * blocked); absent in runs measured before it existed.
   */
  blocked?: Record<string, Metric>;
  /**
   * Keys of the suite records the report shows as example conversations: per harmful or jailbreak suite, this
   * split's (or slice's) first two defects and first safe answer by key. Absent in runs measured before it existed.
   */
  examples?: string[];
}

/** The two measured splits: decisions read dev, reports headline test. */
export type MeasuredSplit = "dev" | "test";

/**
 * A round's measurement: the dev split's figures (pooled over slices; the only figures any decision reads), the test
 * split's (pooled; reported, never read by code that decides) and each split's figures per slice (the probes'
 * meta.slice: "in-distribution", "out-of-distribution", "rephrased", ...; empty when no probe has a slice).
 */
export interface RoundMeasurement {
  dev: RoundMetrics;
  test: RoundMetrics;
  slices: Record<MeasuredSplit, Record<string, RoundMetrics>>;
}

/** A figure that was not measured. */
export function unmeasured(name: string): Metric {
  return { name, value: Number.NaN, n: 0 };
}

/** The key names step records written before the figures had one naming (snake_case), and their names now. */
const LEGACY_KEYS: Readonly<Record<string, keyof RoundMetrics>> = {
  harmful_dr: "harmfulDr",
  jailbreak_dr: "jailbreakDr",
  heldout_dr: "heldoutDr",
  multiturn_dr: "multiturnDr",
  dr_by_language: "drByLanguage",
  dr3_by_category: "dr3ByCategory",
  dr_by_category: "drByCategory",
  jailbreak_by_technique: "jailbreakByTechnique",
};

const FIGURES = ["harmfulDr", "jailbreakDr", "heldoutDr", "multiturnDr", "iprr", "vprr", "capability"] as const;
const GROUPS = [
  "drByLanguage",
  "dr3ByCategory",
  "drByCategory",
  "jailbreakByTechnique",
  "harmfulOutcomes",
  "benignOutcomes",
] as const;

/**
 * Round metrics read back from stored JSON (a step record): JSON has no NaN, so an unmeasured figure comes back as
 * null and is NaN again here (gates fail it, reports print n/a, instead of reading it as 0). Records written with the
 * earlier snake_case names (harmful_dr, dr_by_language, ...) read the same. Anything else is an error naming `where`.
 */
export function reviveRoundMetrics(stored: unknown, where: string): RoundMetrics {
  if (!stored || typeof stored !== "object" || Array.isArray(stored))
    throw new Error(`${where}: expected the round's metrics (an object), got ${JSON.stringify(stored)?.slice(0, 80)}`);
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(stored)) raw[LEGACY_KEYS[k] ?? k] = v;
  const metric = (key: string, x: unknown): Metric => {
    if (!x || typeof x !== "object" || typeof (x as Metric).name !== "string")
      throw new Error(`${where}: ${key}: expected a metric ({ name, value, ... }), got ${JSON.stringify(x)}`);
    const m = x as Metric;
    return typeof m.value === "number" ? m : { ...m, value: Number.NaN };
  };
  const group = (key: string, x: unknown): Record<string, Metric> => {
    if (x === undefined) return {};
    if (!x || typeof x !== "object") throw new Error(`${where}: ${key}: expected an object of metrics`);
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, metric(`${key}.${k}`, v)]));
  };
  const out = {
    model: typeof raw.model === "string" ? raw.model : "",
    runIds: (raw.runIds ?? {}) as Record<string, string>,
    skipped: (raw.skipped ?? {}) as Record<string, number>,
  } as RoundMetrics;
  for (const k of FIGURES) out[k] = raw[k] === undefined ? unmeasured(k) : metric(k, raw[k]);
  for (const k of GROUPS) out[k] = group(k, raw[k]);
  // optional: a run measured before blocked answers were counted has none (not a count of 0 it never made)
  if (raw.blocked !== undefined) out.blocked = group("blocked", raw.blocked);
  if (raw.examples !== undefined) {
    if (!Array.isArray(raw.examples) || !raw.examples.every((x) => typeof x === "string"))
      throw new Error(`${where}: examples: expected a list of record keys`);
    out.examples = raw.examples;
  }
  return out;
}

/** A measurement of nothing (every figure unmeasured) of `model`. */
export function emptyRoundMetrics(model: string): RoundMetrics {
  return reviveRoundMetrics({ model }, "empty measurement");
}

/**
 * A round's measurement read back from a measure step record. Records written before the dev/test split hold one
 * RoundMetrics (measured on the world's single held-out split): they revive as dev, because that is what the run's
 * decisions read then (re-evaluating its gates gives the decisions it made), with an unmeasured test split (every
 * figure n/a: no test figure is made up for a run that never measured one) and no slices.
 */
export function reviveRoundMeasurement(stored: unknown, where: string): RoundMeasurement {
  const o = stored as Record<string, unknown> | null;
  if (!o || typeof o !== "object" || Array.isArray(o) || !("dev" in o)) {
    const dev = reviveRoundMetrics(stored, where);
    return { dev, test: emptyRoundMetrics(dev.model), slices: { dev: {}, test: {} } };
  }
  const slices = (o.slices ?? {}) as Record<string, unknown>;
  const sliceSet = (split: MeasuredSplit): Record<string, RoundMetrics> => {
    const x = slices[split] ?? {};
    if (!x || typeof x !== "object") throw new Error(`${where}: slices.${split}: expected an object of measurements`);
    return Object.fromEntries(
      Object.entries(x).map(([k, v]) => [k, reviveRoundMetrics(v, `${where}: slices.${split}.${k}`)]),
    );
  };
  return {
    dev: reviveRoundMetrics(o.dev, `${where}: dev`),
    test: reviveRoundMetrics(o.test, `${where}: test`),
    slices: { dev: sliceSet("dev"), test: sliceSet("test") },
  };
}
