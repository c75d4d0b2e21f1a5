/**
 * Read queries of the view over the workspace store. The attack list reads the trigger-maintained index of schema
 * version 3 (`view_attacks`, one row per red-team attack record, every filter column indexed together with the row
 * id, and the FTS5 table `view_attacks_fts`), so a page is one indexed, paged query whatever the store's size.
 */
import { redactUrl } from "../models/secrets.ts";
import type { AttackRecord, CampaignManifest } from "../redteam/campaign/types.ts";
import type { RunRecord, Store, TrainingRunRecord } from "../store/store.ts";

type SqlValue = string | number | null;

/** The attack list's filters; every one is a URL query parameter of the same name (see `filterFromQuery`). */
export interface AttackFilter {
  category?: string;
  technique?: string;
  family?: string;
  persona?: string;
  language?: string;
  round?: number;
  /** The judge's label. */
  label?: string;
  /** Judge severity at least this. */
  severity?: number;
  /** "success" | "refused" | "resisted" | "unjudged" | "not_sent". */
  outcome?: string;
  campaign?: string;
  /** Only records that are findings (identified, deduplicated successes). */
  finding?: boolean;
  /** The latest human review: "correct", "wrong" or "none". */
  review?: string;
  /** Full-text search over the prompt, the conversation, the response and the rationale. */
  q?: string;
}

export const FILTER_KEYS = [
  "category",
  "technique",
  "family",
  "persona",
  "language",
  "round",
  "label",
  "severity",
  "outcome",
  "campaign",
  "finding",
  "review",
  "q",
] as const;

export const OUTCOMES = ["success", "refused", "resisted", "unjudged", "not_sent"] as const;

/** A query parameter as an integer; anything else (absent, empty, "abc", "1.5") is no filter. */
export const int = (v: string | undefined): number | undefined => {
  if (v === undefined || v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
};
const str = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v);

export function filterFromQuery(q: (key: string) => string | undefined): AttackFilter {
  return {
    category: str(q("category")),
    technique: str(q("technique")),
    family: str(q("family")),
    persona: str(q("persona")),
    language: str(q("language")),
    round: int(q("round")),
    label: str(q("label")),
    severity: int(q("severity")),
    outcome: str(q("outcome")),
    campaign: str(q("campaign")),
    finding: q("finding") === "1" || q("finding") === "true",
    review: str(q("review")),
    q: str(q("q")?.trim()),
  };
}

export function filterToQuery(f: AttackFilter): Record<string, string | number | undefined> {
  return {
    category: f.category,
    technique: f.technique,
    family: f.family,
    persona: f.persona,
    language: f.language,
    round: f.round,
    label: f.label,
    severity: f.severity,
    outcome: f.outcome,
    campaign: f.campaign,
    finding: f.finding ? 1 : undefined,
    review: f.review,
    q: f.q,
  };
}

/** A search string as an FTS5 query: every word a quoted term (so no FTS syntax from the user), all required. */
export function ftsQuery(q: string): string {
  const words = q.match(/[\p{L}\p{N}_]+/gu) ?? [];
  return words.map((w) => `"${w}"`).join(" ");
}

const LATEST_REVIEW = "(SELECT r.verdict FROM reviews r WHERE r.target = a.record_id ORDER BY r.seq DESC LIMIT 1)";
// `+a.record_id` drops the column's TEXT affinity so that the comparison can use the findings_record_id expression index
const IS_FINDING = "EXISTS (SELECT 1 FROM findings f WHERE json_extract(f.payload, '$.recordId') = +a.record_id)";

function where(f: AttackFilter): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  const eq = (col: string, v: string | number | undefined) => {
    if (v === undefined) return;
    parts.push(`a.${col} = ?`);
    params.push(v);
  };
  eq("category", f.category);
  eq("technique", f.technique);
  eq("family", f.family);
  eq("persona", f.persona);
  eq("language", f.language);
  eq("round", f.round);
  eq("judge_label", f.label);
  eq("outcome", f.outcome);
  if (f.severity !== undefined) {
    parts.push("a.severity >= ?");
    params.push(f.severity);
  }
  if (f.campaign !== undefined) {
    parts.push("a.record_id IN (SELECT record_id FROM view_campaign_records WHERE campaign_id = ?)");
    params.push(f.campaign);
  }
  if (f.finding) parts.push(IS_FINDING);
  if (f.review === "none") parts.push(`${LATEST_REVIEW} IS NULL`);
  else if (f.review !== undefined) {
    parts.push(`${LATEST_REVIEW} = ?`);
    params.push(f.review);
  }
  if (f.q !== undefined) {
    const fts = ftsQuery(f.q);
    if (fts) {
      parts.push("a.id IN (SELECT rowid FROM view_attacks_fts WHERE view_attacks_fts MATCH ?)");
      params.push(fts);
    } else parts.push("0");
  }
  return { sql: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
}

export interface AttackRow {
  id: number;
  recordId: string;
  createdAt: string;
  campaignId: string | null;
  round: number | null;
  category: string | null;
  technique: string | null;
  family: string | null;
  persona: string | null;
  language: string | null;
  target: string | null;
  judgeId: string | null;
  judgeLabel: string | null;
  severity: number | null;
  outcome: string;
  finding: boolean;
  /** The latest review's verdict, if any. */
  review: string | null;
  /** The last message sent and the response, cut to 200 characters each. */
  prompt: string;
  response: string;
}

export const ATTACK_COLUMNS = [
  "recordId",
  "createdAt",
  "campaignId",
  "round",
  "category",
  "technique",
  "family",
  "persona",
  "language",
  "target",
  "judgeId",
  "judgeLabel",
  "severity",
  "outcome",
  "finding",
  "review",
  "prompt",
  "response",
] as const;

interface RawAttackRow {
  id: number;
  record_id: string;
  created_at: string;
  campaign_id: string | null;
  round: number | null;
  category: string | null;
  technique: string | null;
  family: string | null;
  persona: string | null;
  language: string | null;
  target: string | null;
  judge_id: string | null;
  judge_label: string | null;
  severity: number | null;
  outcome: string;
  finding: number;
  review: string | null;
  prompt: string | null;
  response: string | null;
}

function decodeAttack(r: RawAttackRow): AttackRow {
  return {
    id: r.id,
    recordId: r.record_id,
    createdAt: r.created_at,
    campaignId: r.campaign_id,
    round: r.round,
    category: r.category,
    technique: r.technique,
    family: r.family,
    persona: r.persona,
    language: r.language,
    target: r.target === null ? null : redactUrl(r.target),
    judgeId: r.judge_id === null ? null : redactUrl(r.judge_id),
    judgeLabel: r.judge_label,
    severity: r.severity,
    outcome: r.outcome,
    finding: r.finding === 1,
    review: r.review,
    prompt: r.prompt ?? "",
    response: r.response ?? "",
  };
}

/**
 * The page's rows are chosen on view_attacks alone (indexed filter, ORDER BY id, LIMIT/OFFSET); only those rows are
 * then joined to their stored records (CROSS JOIN keeps that order: otherwise SQLite may scan every record first).
 */
const SELECT_ATTACKS = (
  filter: string,
  cut: number,
  extra = "",
) => `SELECT a.*, ${IS_FINDING} AS finding, ${LATEST_REVIEW} AS review,${extra}
  substr((SELECT json_extract(value, '$.content') FROM json_each(r.payload, '$.attack.conversation') ORDER BY key DESC LIMIT 1), 1, ${cut}) AS prompt,
  substr(json_extract(r.payload, '$.response.content'), 1, ${cut}) AS response
FROM (SELECT a.* FROM view_attacks a ${filter} ORDER BY a.id DESC LIMIT ? OFFSET ?) a
CROSS JOIN artifacts r ON r.kind = 'redteam.record' AND r.hash = a.record_id ORDER BY a.id DESC`;

/**
 * One page of attack records, newest first, and the number of records the filter matches. A running cycle keeps
 * adding records at the top, so pages are counted over the records up to `upto` (an index row id: the newest record
 * when the list was first shown, returned as `upto` for the pager to pass on); `newer` counts the matching records
 * written since. The count and the page are read in one transaction (one snapshot of the store).
 */
export function listAttacks(
  store: Store,
  f: AttackFilter,
  page: { limit: number; offset: number; upto?: number },
): { rows: AttackRow[]; total: number; upto: number; newer: number } {
  const read = store.db.transaction(() => {
    const w = where(f);
    const max = (store.db.prepare("SELECT IFNULL(MAX(id), 0) AS n FROM view_attacks").get() as { n: number }).n;
    const upto = page.upto !== undefined && page.upto < max ? page.upto : max;
    const and = (cond: string) => (w.sql ? `${w.sql} AND ${cond}` : `WHERE ${cond}`);
    const count = (cond: string) =>
      (
        store.db.prepare(`SELECT COUNT(*) AS n FROM view_attacks a ${and(cond)}`).get(...w.params, upto) as {
          n: number;
        }
      ).n;
    const rows = store.db
      .prepare(SELECT_ATTACKS(and("a.id <= ?"), 200))
      .all(...w.params, upto, page.limit, page.offset) as RawAttackRow[];
    return { rows: rows.map(decodeAttack), total: count("a.id <= ?"), upto, newer: upto < max ? count("a.id > ?") : 0 };
  });
  return read.deferred();
}

/** Every matching attack record (for export), newest first, with its full stored record. */
export function* iterateAttacks(store: Store, f: AttackFilter): IterableIterator<AttackRow & { record: AttackRecord }> {
  const w = where(f);
  const stmt = store.db.prepare(SELECT_ATTACKS(w.sql, 1e9, " r.payload AS payload,"));
  for (const r of stmt.iterate(...w.params, -1, 0) as IterableIterator<RawAttackRow & { payload: string }>) {
    yield { ...decodeAttack(r), record: JSON.parse(r.payload) as AttackRecord };
  }
}

const FACET_COLUMNS = {
  category: "category",
  technique: "technique",
  family: "family",
  persona: "persona",
  language: "language",
  round: "round",
  label: "judge_label",
} as const;
export type Facet = keyof typeof FACET_COLUMNS;

const facetCache = new WeakMap<Store, { stamp: number; values: Record<Facet, string[]> }>();

/** The distinct values of each filter column (for the filter menus), cached until a record is added. */
export function facets(store: Store): Record<Facet, string[]> {
  const stamp = (store.db.prepare("SELECT IFNULL(MAX(id), 0) AS n FROM view_attacks").get() as { n: number }).n;
  const hit = facetCache.get(store);
  if (hit && hit.stamp === stamp) return hit.values;
  const values = {} as Record<Facet, string[]>;
  for (const [k, col] of Object.entries(FACET_COLUMNS) as [Facet, string][]) {
    values[k] = (
      store.db
        .prepare(`SELECT DISTINCT ${col} AS v FROM view_attacks WHERE ${col} IS NOT NULL ORDER BY ${col}`)
        .all() as { v: string | number }[]
    ).map((r) => String(r.v));
  }
  facetCache.set(store, { stamp, values });
  return values;
}

/** A token that changes whenever the store gains a record (the live pages poll it). */
export function storeStamp(store: Store): string {
  const max = (table: string, col: string) =>
    (store.db.prepare(`SELECT IFNULL(MAX(${col}), 0) AS n FROM ${table}`).get() as { n: number }).n;
  return [
    max("artifacts", "rowid"),
    max("states", "seq"),
    max("runs", "seq"),
    max("rounds", "seq"),
    max("findings", "seq"),
    max("training_runs", "seq"),
    max("reviews", "seq"),
  ].join("-");
}

export interface HeatCell {
  category: string;
  family: string;
  language: string;
  attempts: number;
  successes: number;
}

/** Attack success per category x technique family x language (records that were sent and judged). */
export function heatmap(store: Store, f: { round?: number; campaign?: string }): HeatCell[] {
  const w = where({ round: f.round, campaign: f.campaign });
  const extra = "a.outcome IN ('success', 'refused', 'resisted')";
  return store.db
    .prepare(
      `SELECT a.category AS category, a.family AS family, a.language AS language, COUNT(*) AS attempts,
        SUM(a.outcome = 'success') AS successes FROM view_attacks a ${w.sql ? `${w.sql} AND ${extra}` : `WHERE ${extra}`}
        GROUP BY a.category, a.family, a.language ORDER BY 1, 2, 3`,
    )
    .all(...w.params) as HeatCell[];
}

export interface RunRow {
  kind: string;
  id: string;
  label: string;
  createdAt: string;
  state: string;
  progress: string;
  href: string | null;
}

/** Cycles and other stage runs (runs table), campaigns, bench runs and training runs, newest first per kind. */
export function listRuns(store: Store): RunRow[] {
  const out: RunRow[] = [];
  const runs = store.db.prepare("SELECT hash, kind, created_at, payload FROM runs ORDER BY seq DESC").all() as {
    hash: string;
    kind: string;
    created_at: string;
    payload: string;
  }[];
  for (const r of runs) {
    const rec = JSON.parse(r.payload) as RunRecord;
    const rounds = store.rounds.count({ run_id: r.hash });
    const steps = (
      store.db.prepare("SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'cycle.step' AND run_id = ?").get(r.hash) as {
        n: number;
      }
    ).n;
    out.push({
      kind: r.kind,
      id: r.hash,
      label: `${r.kind} ${rec.configHash ? `config ${rec.configHash.slice(0, 8)}` : ""}`.trim(),
      createdAt: rec.startedAt ?? r.created_at,
      state: store.runState(r.hash) ?? "?",
      progress: `${rounds} round${rounds === 1 ? "" : "s"} recorded, ${steps} step${steps === 1 ? "" : "s"} done`,
      href: r.kind === "cycle" ? `/cycle/${r.hash}` : null,
    });
  }
  const campaigns = store.db
    .prepare(
      `SELECT hash, created_at, json_extract(payload, '$.persona') AS persona, json_extract(payload, '$.target') AS target,
        json_extract(payload, '$.round') AS round, json_array_length(payload, '$.recordIds') AS planned,
        (SELECT COUNT(*) FROM view_campaign_records c JOIN view_attacks a ON a.record_id = c.record_id WHERE c.campaign_id = artifacts.hash) AS done,
        (SELECT COUNT(*) FROM view_campaign_records c JOIN view_attacks a ON a.record_id = c.record_id WHERE c.campaign_id = artifacts.hash AND a.outcome = 'success') AS successes
      FROM artifacts WHERE kind = 'redteam.campaign' ORDER BY rowid DESC`,
    )
    .all() as {
    hash: string;
    created_at: string;
    persona: string;
    target: string;
    round: number;
    planned: number;
    done: number;
    successes: number;
  }[];
  for (const c of campaigns) {
    out.push({
      kind: "campaign",
      id: c.hash,
      label: `round ${c.round}, ${c.persona} vs ${redactUrl(c.target)}`,
      createdAt: c.created_at,
      state: c.done >= c.planned ? "done" : "running",
      progress: `${c.done}/${c.planned} attacks, ${c.successes} successes`,
      href: `/attacks?campaign=${c.hash}`,
    });
  }
  for (const b of benchRuns(store)) {
    out.push({
      kind: "bench",
      id: b.runId,
      label: `${b.suite} on ${b.target}`,
      createdAt: b.createdAt,
      state: b.finished ? "done" : "running",
      progress: `${b.records} records${b.headline ? `, ${b.headline}` : ""}`,
      href: `/bench/${encodeURIComponent(b.runId)}`,
    });
  }
  for (const t of store.db
    .prepare("SELECT hash, run_id, round, created_at, payload FROM training_runs ORDER BY seq DESC")
    .all() as {
    hash: string;
    run_id: string | null;
    round: number | null;
    created_at: string;
    payload: string;
  }[]) {
    const rec = JSON.parse(t.payload) as TrainingRunRecord;
    out.push({
      kind: `training (${rec.kind})`,
      id: t.hash,
      label: redactUrl(
        `${rec.baseModel ?? "?"} -> ${rec.resultModel ?? "?"}${t.round !== null ? ` (round ${t.round})` : ""}`,
      ),
      createdAt: t.created_at,
      state: rec.resultModel ? "done" : "?",
      progress: "",
      href: `/training#t-${t.hash}`,
    });
  }
  return out;
}

export interface BenchRunRow {
  runId: string;
  suite: string;
  target: string;
  judge: string;
  records: number;
  createdAt: string;
  finished: boolean;
  headline: string | null;
}

/** Bench runs: every run id with records in the store, with its latest summary when it finished. */
export function benchRuns(store: Store): BenchRunRow[] {
  const rows = store.db
    .prepare(
      `SELECT run_id, COUNT(*) AS n, MIN(created_at) AS created_at,
        (SELECT payload FROM artifacts s WHERE s.kind = 'bench.summary' AND s.run_id = b.run_id ORDER BY s.rowid DESC LIMIT 1) AS summary,
        (SELECT payload FROM artifacts x WHERE x.kind = 'bench.record' AND x.run_id = b.run_id LIMIT 1) AS first
      FROM artifacts b WHERE kind = 'bench.record' AND run_id IS NOT NULL GROUP BY run_id ORDER BY MIN(rowid) DESC`,
    )
    .all() as { run_id: string; n: number; created_at: string; summary: string | null; first: string }[];
  return rows.map((r) => {
    const first = JSON.parse(r.first) as { suite: string; target: string; judge: string };
    const summary = r.summary
      ? (JSON.parse(r.summary) as { metrics: { name: string; value: number; headline?: boolean }[] })
      : undefined;
    const head = summary?.metrics.find((m) => m.headline) ?? summary?.metrics[0];
    return {
      runId: r.run_id,
      suite: first.suite,
      target: redactUrl(first.target),
      judge: redactUrl(first.judge),
      records: r.n,
      createdAt: r.created_at,
      finished: summary !== undefined,
      headline: head ? `${head.name} ${(head.value * 100).toFixed(1)}%` : null,
    };
  });
}

export function campaignManifest(store: Store, id: string): CampaignManifest | undefined {
  return store.artifacts.get<CampaignManifest>("redteam.campaign", { hash: id });
}
