/**
 * The domain model shared by every stage. Types here are plain data (JSON-serialisable) so they can be stored,
 * exported and diffed; zod schemas in schemas.ts validate them wherever they cross an edge (files, HTTP, the store).
 */
import type { CategoryId } from "./taxonomy.ts";

/** Harm severity on the Phi-3 report's 0-7 scale (0 = no harm, 7 = most severe). */
export type Severity = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
export const MAX_SEVERITY = 7;

export type Role = "system" | "user" | "assistant";
export interface Message {
  role: Role;
  content: string;
}
/** A conversation is an ordered list of messages (multi-turn). */
export type Conversation = Message[];

/** XSTest-style label of a probe: is complying with it acceptable? */
export type ProbeLabel = "safe" | "unsafe";

export interface Probe {
  /** Stable id within its source, e.g. "xstest:17". */
  id: string;
  /** The prompt; for a multi-turn probe, the opening user message. */
  prompt: string;
  /** Earlier turns for multi-turn probes (the prompt is appended as the last user message). */
  history?: Conversation;
  category: CategoryId;
  /** The dataset's own label (e.g. "contrast_homonyms"), kept for audit. */
  sourceLabel?: string;
  label: ProbeLabel;
  /** BCP-47-ish language code: "en", "es", "zh", ... */
  language: string;
  source: string;
  license: string;
  meta?: Record<string, string | number | boolean>;
}

/** One step of an attack's technique chain (a converter or a framing). */
export interface TechniqueStep {
  kind: "converter" | "framing" | "multiturn";
  name: string;
  params?: Record<string, string | number | boolean>;
}

export type PersonaId = "low_skilled" | "intermediate" | (string & {});

export interface Attack {
  id: string;
  probeId: string;
  persona: PersonaId;
  chain: TechniqueStep[];
  /** The technique family used for grouping (e.g. "encoding", "roleplay", "escalation"). */
  family: string;
  language: string;
  /** The conversation sent to the target (last message is the attack prompt). */
  conversation: Conversation;
  /** The seed probe's own (unconverted) request, for judges and responders. */
  goal?: string;
  seed: number;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** One category the deployment's content filter flagged, e.g. Azure's { name: "violence", severity: "medium" }. */
export interface FilterCategory {
  /** The provider's category name (hate, sexual, violence, self_harm, jailbreak, profanity, ...): provider text. */
  name: string;
  /** Its severity when the provider gives one (Azure: safe, low, medium, high); absent for detected/not detected. */
  severity?: string;
}

/**
 * What the deployment's content filter said when it blocked an answer (finishReason "content_filter"): the categories
 * it filtered on (Azure OpenAI's content_filter_result(s) entries with filtered: true). Absent when the provider names
 * none (Anthropic's refusal stop reason, an Azure reply without the detail).
 */
export interface ContentFilter {
  categories: FilterCategory[];
}

export interface Response {
  id: string;
  model: string;
  conversation: Conversation;
  content: string;
  /** "content_filter": the deployment's content filter blocked it (see models/types.ts FinishReason). */
  finishReason: "stop" | "length" | "content_filter" | "error";
  /** The categories the deployment's content filter filtered on, when it blocked the answer and said why. */
  filter?: ContentFilter;
  usage?: Usage;
  latencyMs?: number;
}

/** XSTest's three refusal classes. */
export type RefusalClass = "full_compliance" | "full_refusal" | "partial_refusal";

/** One category's rating inside a multi-category judgement (harm-severity judge). */
export interface CategoryAssessment {
  category: CategoryId;
  severity: Severity;
  rationale: string;
}

export interface Judgement {
  judgeId: string;
  /** "unjudged" when the judge's output could not be parsed after retries: never counted as safe or unsafe. */
  status: "ok" | "unjudged";
  /** Free-form label from the judge's vocabulary, e.g. "unsafe", "full_refusal", "helpful". */
  label: string;
  severity?: Severity;
  category?: CategoryId;
  refusal?: RefusalClass;
  score?: number;
  rationale?: string;
  /** Per-category ratings, for judges that rate several categories (additive, optional). */
  assessments?: CategoryAssessment[];
  /** A judge's named sub-scores, e.g. StrongREJECT's refused/convincing/specific (additive, optional). */
  scores?: Record<string, number>;
  /** How many model calls the judgement took (retries included), for LLM judges. */
  attempts?: number;
}

export interface Finding {
  id: string;
  round: number;
  attack: Attack;
  response: Response;
  judgement: Judgement;
  category: CategoryId;
  severity: Severity;
}

export interface Vulnerability {
  id: string;
  category: CategoryId;
  family: string;
  language: string;
  findings: string[];
  attempts: number;
  successes: number;
  successRate: number;
  meanSeverity: number;
  /** Distinct seed probes broken: how widely the weakness reaches. */
  reach: number;
  score: number;
}

export interface Provenance {
  round: number;
  findingId?: string;
  /** The seed ask the row came from (a finding's goal), whatever its wrapping: the train/validation split and
   *  near-duplicate merging go by it (curate/pipeline.ts splitGroup). Absent for rows without one (retention...). */
  goal?: string;
  technique?: string;
  source: string;
  category?: CategoryId;
  language?: string;
}

/** TRL's conversational SFT row. */
export interface SftExample {
  messages: Conversation;
  provenance?: Provenance;
}

/** TRL's conversational preference row. */
export interface PreferencePair {
  prompt: Conversation;
  chosen: Conversation;
  rejected: Conversation;
  provenance?: Provenance;
}

export interface Interval {
  low: number;
  high: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
  method: "wilson" | "bootstrap";
}

export interface Metric {
  name: string;
  value: number;
  /** Numerator and denominator of a rate, when the metric is one. */
  successes?: number;
  n?: number;
  interval?: Interval;
}

export interface RoundRecord {
  index: number;
  startModel: string;
  resultModel?: string;
  status: "running" | "done" | "failed";
  startedAt: string;
  finishedAt?: string;
}
