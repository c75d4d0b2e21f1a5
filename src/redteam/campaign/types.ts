/** Campaign records: what is planned, what one executed attack leaves behind, and where it is kept. */
import type { CategoryId } from "../../domain/taxonomy.ts";
import type { Attack, Finding, Judgement, Probe, Response, TechniqueStep, Vulnerability } from "../../domain/types.ts";
import type { StopReason } from "../multiturn/budget.ts";
import type { TurnRecord } from "../multiturn/types.ts";

export interface PlannedAttack {
  /** contentHash of (probe, chain, seed, target): the same attack gets the same id in every run. */
  id: string;
  probe: Probe;
  persona: string;
  techniqueId: string;
  family: string;
  /** The full chain, including a leading translation into `language` when the probe is in another language. */
  steps: TechniqueStep[];
  language: string;
  seed: number;
  target: string;
}

export interface ProbeRef {
  id: string;
  category: CategoryId;
  language: string;
  prompt: string;
  source: string;
}

/** One executed and judged attack. Keyed by `id` = contentHash(attack id, judge id). */
export interface AttackRecord {
  id: string;
  attack: Attack;
  probe: ProbeRef;
  techniqueId: string;
  target: string;
  response: Response;
  judgement: Judgement;
  success: boolean;
  refused: boolean;
  /** Set when the response was judged after decoding it with this converter's inverse (it answered encoded). */
  decodedVia?: string;
  multiTurn?: {
    strategy: string;
    stopReason: StopReason;
    backtracks: number;
    keptTurns: number;
    turns: TurnRecord[];
  };
  /** The prompt's size against the target's context (when one is known); many-shot: the shots that fit. */
  context?: { promptTokens: number; limit: number; shots?: { planned: number; used: number } };
  /**
   * Set when the attack was NOT sent: its prompt cannot fit the target's context (see context.ts). Such a record is
   * kept out of ASR (counted apart as "not sent") and is never a finding.
   */
  notSent?: { reason: "context"; promptTokens?: number; limit?: number; reserve?: number };
  /** Model calls and tokens the attack spent (attacker, target, model-backed converters; not the judge). */
  calls: number;
  tokens: number;
}

/** What a campaign is: enough to recompute its results from the store. */
export interface CampaignManifest {
  id: string;
  createdAt: string;
  target: string;
  judge: string;
  persona: string;
  languages: string[];
  seed: number;
  seedsSource: string;
  round: number;
  /** The success criterion's severity threshold (findings without a judge severity get it). */
  minSeverity: number;
  /** Record ids of every planned attack, in plan order. */
  recordIds: string[];
  /** Planned attacks left out for lack of a capability, with the reason. */
  skipped: { techniqueId: string; language: string; reason: string; count: number }[];
  /** The target's context window the campaign enforced (absent: none was known). */
  context?: { limit: number; reserve: number; source: string };
}

/**
 * Where a campaign keeps its records. Implementations: MemoryCampaignStore (tests, one-off runs) and
 * SqliteCampaignStore (the workspace store in src/store/). `put` is idempotent: the first write of a record id wins,
 * so a re-run after a crash never duplicates; each put is atomic.
 */
export interface CampaignStore {
  getRecord(id: string): AttackRecord | undefined;
  /** Returns false when a record with this id already existed (and was kept). */
  putRecord(record: AttackRecord): boolean;
  putCampaign(m: CampaignManifest): void;
  getCampaign(id: string): CampaignManifest | undefined;
  listCampaigns(): CampaignManifest[];
  /** Stores identified findings and vulnerabilities of a campaign (idempotent). */
  putFindings(campaignId: string, findings: readonly Finding[], vulnerabilities: readonly Vulnerability[]): void;
  countRecords(): number;
}
