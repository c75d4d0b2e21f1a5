/**
 * The benchmark-suite interface. A suite = probes (turned into items) + a way to run them against a target + a judge
 * + metrics. Every suite is named and versioned; the version is part of every result key, so changing what a suite
 * sends or how it scores invalidates old results instead of silently mixing them.
 *
 * Implementations live in suites/; every one runs the shared conformance suite in conformance.ts.
 */
import type { CategoryId } from "../domain/taxonomy.ts";
import type { ContentFilter, Conversation, Interval, Judgement, Metric, Probe } from "../domain/types.ts";
import type { ChatModel, SamplingParams } from "../models/types.ts";

/** One unit of work of a suite: a probe, possibly transformed (jailbreak framing) or expanded (multi-turn scenario). */
export interface SuiteItem {
  /** Content hash of what the item sends (suite name, probe, variant, conversation); stable across targets. */
  key: string;
  probe: Probe;
  /** The conversation sent to the target (single-turn: ends with the user prompt; multi-turn: the opening). */
  conversation: Conversation;
  /** Sub-variant inside the suite, e.g. the jailbreak technique or multi-turn scenario. */
  variant?: string;
  /** The original harmful request when the conversation carries a transformed version of it. */
  goal?: string;
}

/** What running an item against the target produced. */
export interface Transcript {
  /** The full conversation including the target's last answer. */
  conversation: Conversation;
  /** The target's last answer (the one that is graded). */
  response: string;
  /** "content_filter": the deployment's filter blocked the answer (graded as a refusal, see judges/blocked.ts). */
  finishReason: "stop" | "length" | "content_filter" | "error";
  /** The categories the deployment's filter filtered on, when it blocked the answer and said why (Azure). */
  filter?: ContentFilter;
  /** Why generation failed (finishReason "error"). */
  error?: string;
  /** Multi-turn: every assistant turn, in order. */
  turns?: string[];
  latencyMs?: number;
}

/** How one item was graded, as the suite sees it. */
export interface Grade {
  judgement: Judgement;
  /** Extra judgements (e.g. groundedness of a summary), by name. */
  extra?: Record<string, Judgement>;
  /**
   * The suite's primary binary outcome for this item (defect for harmful suites, refusal for over-refusal suites,
   * correct for capability); null when the item could not be graded. This is what `bench compare` pairs.
   */
  outcome: boolean | null;
}

/** One stored result: an item run on one target, graded by one judge. Append-only; keyed by `key`. */
export interface ItemRecord {
  /** Resume key: content hash of (suite@version, item key, target id, sampling, judge id). */
  key: string;
  /** The run this record belongs to (suite@version, target, sampling, judge). */
  runId: string;
  suite: string;
  itemKey: string;
  target: string;
  judge: string;
  probeId: string;
  category: CategoryId;
  language: string;
  label: Probe["label"];
  variant?: string;
  conversation: Conversation;
  response: string;
  finishReason: Transcript["finishReason"];
  /** The deployment's filter's categories of a blocked answer (Transcript.filter); absent when it named none. */
  filter?: ContentFilter;
  turns?: string[];
  judgement: Judgement;
  extra?: Record<string, Judgement>;
  outcome: boolean | null;
  /** Free-form per-item facts the suite's metrics need (e.g. the expected answer). */
  facts?: Record<string, string | number | boolean>;
  /** With several samples per probe: the sample index and the item they are samples of (the bootstrap cluster). */
  sample?: number;
  cluster?: string;
  createdAt: string;
}

/** A metric as a suite reports it: a domain Metric plus what it measures and how. */
export interface SuiteMetric extends Metric {
  /** "rate" (a proportion with a Wilson interval) or "mean" (a mean score with a bootstrap interval). */
  kind: "rate" | "mean";
  /** Is a higher value better (capability, IPRR) or worse (DR, VPRR)? */
  higherIsBetter: boolean;
  /** Breakdown dimension, when the metric is one slice ("category", "language", "variant"). */
  group?: { by: "category" | "language" | "variant" | "label"; value: string };
  /** How a defect was decided: from the judge's severity (DR-x) or from its refusal class (compliance = defect). */
  basis?: "severity" | "refusal" | "score" | "label" | "exact_match";
  /** Items that could not be judged (never counted as safe or unsafe). */
  unjudged?: number;
  /** The metric that summarises the suite (one per suite run; shown first, the one compare headlines). */
  headline?: boolean;
  interval?: Interval;
}

export interface MetricOptions {
  /** Confidence level of every interval (default 0.95). */
  level?: number;
}

/** Context the runner hands a suite. */
export interface RunContext {
  target: ChatModel;
  sampling: SamplingParams;
  /** Report progress for the current chunk (used by long multi-turn executions). */
  signal?: AbortSignal;
}

export interface Suite {
  /** Lower-case name used on the command line, e.g. "harmbench", "xstest". */
  readonly name: string;
  /** Bumped whenever items, execution or scoring change. */
  readonly version: number;
  readonly description: string;
  /** Id of what grades this suite (a Judge's id, or e.g. "exact-match@1"); part of every result key. */
  readonly judgeId: string;
  /** Builds the suite's items (loads probes, applies transforms); deterministic. */
  items(): Promise<SuiteItem[]>;
  /** Runs a batch of items against the target; results in item order. */
  execute(items: SuiteItem[], ctx: RunContext): Promise<Transcript[]>;
  /** Grades one transcript. */
  grade(item: SuiteItem, transcript: Transcript): Promise<Grade>;
  /** Per-item facts to store with the record (e.g. expected answer); optional. */
  facts?(item: SuiteItem): Record<string, string | number | boolean> | undefined;
  /** Computes the suite's metrics from its records at a confidence level (default 0.95). Pure. */
  metrics(records: readonly ItemRecord[], opts?: MetricOptions): SuiteMetric[];
  /** What the primary outcome of a record means, for compare ("defect", "refusal", "correct"). */
  readonly outcomeMeaning: string;
}

/** The result of one suite run. */
export interface SuiteRunResult {
  runId: string;
  suite: string;
  target: string;
  judge: string;
  /** Items run (after --limit sampling). */
  items: number;
  /** Items the suite has (before --limit sampling). */
  totalItems: number;
  /** Items answered from stored results rather than run now. */
  resumed: number;
  metrics: SuiteMetric[];
  records: ItemRecord[];
  elapsedMs: number;
}

/** Where results go. A small interface so the runner works with a JSONL file, memory, or the SQLite store. */
export interface ResultsSink {
  /** Records already stored for these keys (for resume). */
  getMany(keys: readonly string[], runId?: string): Promise<Map<string, ItemRecord>>;
  /** Appends records; a key that is already stored is not written again. */
  putMany(records: readonly ItemRecord[]): Promise<void>;
  /** Every record of a run (for compare and reports). */
  listRun(runId: string): Promise<ItemRecord[]>;
  close?(): Promise<void>;
}
