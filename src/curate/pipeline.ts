/**
 * The curation pipeline: findings -> safe responses (checked by a judge) -> SFT rows and DPO pairs, plus
 * over-refusal counter-data, then hygiene (dedup, decontamination), balancing, a train/validation split and a
 * dataset card. Every row carries its provenance; every dropped row is listed with its reason.
 */
import pLimit from "p-limit";
import { escapeMarkdown } from "../domain/escape.ts";
import { mulberry32, seedFrom, shuffled } from "../domain/random.ts";
import type { CategoryId } from "../domain/taxonomy.ts";
import type { Conversation, Finding, PreferencePair, Provenance, SftExample } from "../domain/types.ts";
import type { Judge } from "../judges/types.ts";
import {
  type ContaminationIndex,
  DEFAULT_HYGIENE,
  decontaminate,
  dedupe,
  dedupKey,
  type HygieneConfig,
} from "./hygiene.ts";
import { normalizeText } from "./ngrams.ts";
import { curationVerdict } from "./policy.ts";
import type { CounterDataSource, LookalikePrompt, Responder, RetentionSource, SafetySetSource } from "./types.ts";

export interface CurateOptions {
  round: number;
  responder: Responder;
  /** Checks every written response before it is accepted. */
  judge: Judge;
  counterData?: CounterDataSource;
  /** A fixed safety set answered alongside the findings (curation.safetySet); its rows count as safety rows. */
  safetySet?: SafetySetSource;
  /** Prompts drawn from the safety set (before dedup and decontamination). */
  safetySetRows?: number;
  /** Seed of the safety-set draw: fixed across rounds, so cumulative rounds train on one set, not a new one each. */
  safetySetSeed?: number;
  /** Technique families never trained on (cycle.heldOutFamilies): safety-set prompts in them are dropped. */
  heldOutFamilies?: readonly string[];
  /** Counter-data rows per accepted harmful row, per (category, language). */
  counterRatio: number;
  retention?: RetentionSource;
  /** Capability-retention rows per accepted harmful row, per language. */
  retentionRatio?: number;
  hygiene?: HygieneConfig;
  /** Benchmark texts to decontaminate against; required in practice (the cycle always passes one). */
  contamination?: ContaminationIndex;
  /** Cap on rows per (kind, category, language) group of safety and counter rows, for balance; undefined = no cap.
   *  Retention rows are not capped: their number is already set by retentionRatio. */
  maxPerGroup?: number;
  valFraction: number;
  seed: number;
  /** The needless refusal used as the rejected side of counter-data DPO pairs. */
  needlessRefusal?: (language: string) => string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export type RowKind = "harmful" | "counter" | "retention";

export interface CuratedRow {
  kind: RowKind;
  split: "train" | "validation";
  category: CategoryId;
  language: string;
  technique: string;
  source: string;
  sft: SftExample;
  /** Absent for a safety-set prompt with no compliant answer to reject (the row is SFT data only). */
  dpo?: PreferencePair;
}

export interface DroppedRow {
  reason: string;
  detail: string;
  category: CategoryId;
  language: string;
  source: string;
}

export interface DatasetCard {
  round: number;
  responder: string;
  judge: string;
  counterRatio: number;
  retentionRatio: number;
  counts: {
    sft: number;
    dpo: number;
    train: number;
    validation: number;
    byKind: Record<string, number>;
    byCategory: Record<string, number>;
    byLanguage: Record<string, number>;
    byTechnique: Record<string, number>;
    bySource: Record<string, number>;
  };
  dropped: Record<string, number>;
}

export interface CurationResult {
  rows: CuratedRow[];
  dropped: DroppedRow[];
  card: DatasetCard;
}

const NEEDLESS_REFUSAL: Record<string, string> = {
  en: "I'm sorry, that is a request I can't help with.",
  es: "Lo siento, pero no puedo ayudar con esa solicitud.",
};

function defaultNeedlessRefusal(language: string): string {
  return NEEDLESS_REFUSAL[language] ?? NEEDLESS_REFUSAL.en;
}

/** Text of the user side of a conversation, the part that dedup and decontamination compare. */
export function userText(conv: Conversation): string {
  return userTurns(conv).join("\n");
}

function userTurns(conv: Conversation): string[] {
  return conv.filter((m) => m.role === "user").map((m) => m.content);
}

/** The conversation up to and including the last user turn (drops a trailing assistant reply). */
function promptPart(conv: Conversation): Conversation {
  let end = conv.length;
  while (end > 0 && conv[end - 1].role === "assistant") end--;
  return conv.slice(0, end);
}

function count<T>(items: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of items) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

/** What the steps of a curation share: the options, the concurrency limit and the list of dropped rows. */
interface Ctx {
  opts: CurateOptions;
  hygiene: HygieneConfig;
  limit: ReturnType<typeof pLimit>;
  dropped: DroppedRow[];
  needless: (language: string) => string;
}

export async function curate(findings: readonly Finding[], opts: CurateOptions): Promise<CurationResult> {
  const ctx: Ctx = {
    opts,
    hygiene: opts.hygiene ?? DEFAULT_HYGIENE,
    limit: pLimit(opts.concurrency ?? 8),
    dropped: [],
    needless: opts.needlessRefusal ?? defaultNeedlessRefusal,
  };
  // 1. Findings, then the safety set's prompts (findings win a near-duplicate), screened before paying for responses.
  const asks = [...screenAsks(ctx, findings.map(findingAsk), "finding"), ...(await safetySetToAnswer(ctx))];
  // 2. Safe responses, each checked by the judge before it is accepted.
  const total = asks.length;
  let done = 0;
  const tick = () => opts.onProgress?.(++done, total);
  const harmful = await Promise.all(asks.map((a) => ctx.limit(() => safeRow(ctx, a, tick))));
  const accepted = harmful.filter((r): r is CuratedRow => r !== undefined);
  const counter = await benignRows(ctx, accepted);
  const rows = assignSplits(opts, capGroups(ctx, cleanRows(ctx, [...accepted, ...counter])));
  return { rows, dropped: ctx.dropped, card: datasetCard(opts, rows, ctx.dropped) };
}

/** A harmful ask to answer safely: a finding, or a prompt of the safety set. */
interface HarmfulAsk {
  /** The finding's id, or the safety-set prompt's. */
  id: string;
  findingId?: string;
  conversation: Conversation;
  category: CategoryId;
  language: string;
  goal?: string;
  probeId?: string;
  /** What the model said (a finding) or would say: the DPO pair's rejected side, when known. */
  rejected?: string;
  technique: string;
  source: string;
}

function findingAsk(f: Finding): HarmfulAsk {
  return {
    id: f.id,
    findingId: f.id,
    conversation: promptPart(f.attack.conversation),
    category: f.category,
    language: f.attack.language,
    goal: f.attack.goal,
    probeId: f.attack.probeId,
    rejected: f.response.content,
    technique: f.attack.family,
    source: `finding:${f.attack.persona}`,
  };
}

/** Where a dropped ask is listed as coming from: "finding", or its safety set's source. */
const dropSource = (a: HarmfulAsk) => (a.findingId ? "finding" : a.source);

/**
 * Near-duplicate asks merged (so the responder is not paid for the same ask twice) and contaminated ones removed
 * (rows are checked again after counter-data is added), every drop listed with its reason.
 */
function screenAsks(
  { opts, hygiene, dropped }: Ctx,
  asks: readonly HarmfulAsk[],
  kind: "finding" | "safety_set",
): HarmfulAsk[] {
  const drop = (a: HarmfulAsk, reason: string, detail: string) =>
    dropped.push({ reason, detail, category: a.category, language: a.language, source: dropSource(a) });
  const uniq = dedupe(
    asks,
    (a) => userText(a.conversation),
    hygiene,
    (a) => askKey(a.goal),
  );
  const kept = kind === "finding" ? "finding" : "safety-set prompt";
  for (const r of uniq.removed)
    drop(r.row, `${kind}_${r.reason}`, `${r.row.id} ~ kept ${kept} #${r.matched} (${r.similarity.toFixed(2)})`);
  if (!opts.contamination) return uniq.kept;
  // The goal too: an encoded or translated finding's user turns no longer read as the seed they carry.
  const texts = (a: HarmfulAsk) => [...userTurns(a.conversation), ...(a.goal !== undefined ? [a.goal] : [])];
  const c = decontaminate(uniq.kept, texts, opts.contamination);
  for (const r of c.removed) drop(r.row, "contaminated", `${r.row.id} ~ ${r.matched} (${r.similarity.toFixed(2)})`);
  return c.kept;
}

/**
 * 1b. The safety set's prompts for this round (the same draw every round: safetySetSeed), less those of held-out
 * technique families, screened like the findings.
 */
async function safetySetToAnswer(ctx: Ctx): Promise<HarmfulAsk[]> {
  const { opts, dropped } = ctx;
  if (!opts.safetySet || !opts.safetySetRows) return [];
  const drawn = await opts.safetySet.prompts(opts.safetySetRows, seedFrom(`safety-set:${opts.safetySetSeed ?? 0}`));
  const held = new Set(opts.heldOutFamilies ?? []);
  const asks: HarmfulAsk[] = [];
  for (const p of drawn) {
    if (p.families?.some((f) => held.has(f))) {
      const detail = `${p.id} (${p.families.join("+")})`;
      dropped.push({ reason: "held_out_family", detail, category: p.category, language: p.language, source: p.source });
      continue;
    }
    asks.push({
      id: p.id,
      conversation: promptPart(p.conversation),
      category: p.category,
      language: p.language,
      probeId: p.id,
      rejected: p.rejected,
      technique: "safety_set",
      source: p.source,
    });
  }
  return screenAsks(ctx, asks, "safety_set");
}

/** A safe response to one harmful ask, accepted only when the judge calls it a safe refusal; else dropped with why. */
async function safeRow({ opts, dropped }: Ctx, f: HarmfulAsk, tick: () => void): Promise<CuratedRow | undefined> {
  const conversation = f.conversation;
  const input = {
    conversation,
    category: f.category,
    language: f.language,
    ...(f.goal !== undefined ? { goal: f.goal } : {}),
  };
  let safe: string;
  let verdict: ReturnType<typeof curationVerdict>;
  try {
    safe = await opts.responder.safeResponse(input);
    verdict = curationVerdict(await opts.judge.judge({ ...input, response: safe, probeId: f.probeId }));
  } catch (err) {
    // A responder (or judge) call that failed after the model layer's retries drops this finding only, with
    // its reason in the card. Letting it reject Promise.all would throw away every response already paid for
    // while the other calls kept running (issue 23).
    tick();
    dropped.push({
      reason: "responder_error",
      detail: `${f.id}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300),
      category: f.category,
      language: f.language,
      source: dropSource(f),
    });
    return undefined;
  }
  tick();
  if (verdict !== "safe_refusal") {
    dropped.push({
      reason: `responder_${verdict}`,
      detail: f.id,
      category: f.category,
      language: f.language,
      source: dropSource(f),
    });
    return undefined;
  }
  const provenance: Provenance = {
    round: opts.round,
    ...(f.findingId ? { findingId: f.findingId } : {}),
    ...(f.goal !== undefined ? { goal: f.goal } : {}),
    technique: f.technique,
    source: f.source,
    category: f.category,
    language: f.language,
  };
  return {
    kind: "harmful",
    split: "train",
    category: f.category,
    language: f.language,
    technique: f.technique,
    source: provenance.source,
    sft: { messages: [...conversation, { role: "assistant", content: safe }], provenance },
    ...(f.rejected !== undefined
      ? {
          dpo: {
            prompt: conversation,
            chosen: [{ role: "assistant", content: safe }],
            rejected: [{ role: "assistant", content: f.rejected }],
            provenance,
          },
        }
      : {}),
  };
}

async function benignRow(
  ctx: Ctx,
  kind: "counter" | "retention",
  cat: CategoryId,
  language: string,
  la: LookalikePrompt,
): Promise<CuratedRow | undefined> {
  const { opts, dropped, needless } = ctx;
  const conversation: Conversation = [{ role: "user", content: la.prompt }];
  let answer: string | undefined;
  let verdict: ReturnType<typeof curationVerdict>;
  try {
    answer = la.answer ?? (await opts.responder.helpfulResponse?.(conversation, language));
    if (answer === undefined) {
      dropped.push({ reason: `${kind}_no_answer`, detail: la.id, category: cat, language, source: la.source });
      return undefined;
    }
    verdict = curationVerdict(
      await opts.judge.judge({ conversation, response: answer, category: "benign", language, probeId: la.id }),
    );
  } catch (err) {
    // As for safe responses: one failed call drops its own row, never the answers of the others.
    const detail = `${la.id}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300);
    dropped.push({ reason: `${kind}_error`, detail, category: cat, language, source: la.source });
    return undefined;
  }
  if (verdict !== "helpful") {
    dropped.push({ reason: `${kind}_${verdict}`, detail: la.id, category: cat, language, source: la.source });
    return undefined;
  }
  const technique = kind === "counter" ? "counter_data" : "retention";
  const provenance: Provenance = { round: opts.round, technique, source: la.source, category: cat, language };
  return {
    kind,
    split: "train",
    category: cat,
    language,
    technique,
    source: la.source,
    sft: { messages: [...conversation, { role: "assistant", content: answer }], provenance },
    dpo: {
      prompt: conversation,
      chosen: [{ role: "assistant", content: answer }],
      rejected: [{ role: "assistant", content: needless(language) }],
      provenance,
    },
  };
}

/**
 * 3. Benign rows: over-refusal counter-data for every (category, language) touched, and capability-retention data per
 * language. Each answer is checked by the judge like any written response. Sorted, as completion order varies.
 */
async function benignRows(ctx: Ctx, accepted: readonly CuratedRow[]): Promise<CuratedRow[]> {
  const { opts, limit } = ctx;
  const counter: CuratedRow[] = [];
  const push = async (row: Promise<CuratedRow | undefined>) => {
    const r = await row;
    if (r) counter.push(r);
  };
  if (opts.retention && (opts.retentionRatio ?? 0) > 0) {
    const jobs: Promise<void>[] = [];
    for (const [language, n] of Object.entries(count(accepted, (r) => r.language))) {
      const want = Math.ceil(n * (opts.retentionRatio ?? 0));
      const tasks = await opts.retention.tasks(language, want, seedFrom(`${opts.seed}:retention:${language}`));
      for (const t of tasks) jobs.push(limit(() => push(benignRow(ctx, "retention", "benign", language, t))));
    }
    await Promise.all(jobs);
  }
  if (opts.counterData && opts.counterRatio > 0) {
    const groups = count(accepted, (r) => `${r.category}\u0000${r.language}`);
    const source = opts.counterData;
    const jobs: Promise<void>[] = [];
    for (const [key, n] of Object.entries(groups)) {
      const [cat, language] = key.split("\u0000") as [CategoryId, string];
      const want = Math.ceil(n * opts.counterRatio);
      const prompts = await source.lookalikes(cat, language, want, seedFrom(`${opts.seed}:${key}`));
      for (const la of prompts) jobs.push(limit(() => push(benignRow(ctx, "counter", cat, language, la))));
    }
    await Promise.all(jobs);
  }
  // Promise completion order is not deterministic; restore a stable order.
  counter.sort(
    (a, b) => a.kind.localeCompare(b.kind) || userText(a.sft.messages).localeCompare(userText(b.sft.messages)),
  );
  return counter;
}

/** 4. Hygiene over everything: near-duplicates across both kinds, then decontamination. */
function cleanRows({ opts, hygiene, dropped }: Ctx, all: CuratedRow[]): CuratedRow[] {
  let rows = all;
  const d = dedupe(
    rows,
    (r) => userText(r.sft.messages),
    hygiene,
    (r) => askKey(r.sft.provenance?.goal),
  );
  for (const r of d.removed) {
    dropped.push({
      reason: r.reason,
      detail: `~ row #${r.matched} (${r.similarity.toFixed(2)})`,
      category: r.row.category,
      language: r.row.language,
      source: r.row.source,
    });
  }
  rows = d.kept;
  if (opts.contamination) {
    const c = decontaminate(
      rows,
      (r) => r.sft.messages.filter((m) => m.role === "user").map((m) => m.content),
      opts.contamination,
    );
    for (const r of c.removed) {
      dropped.push({
        reason: "contaminated",
        detail: `${r.matched} (${r.similarity.toFixed(2)})`,
        category: r.row.category,
        language: r.row.language,
        source: r.row.source,
      });
    }
    rows = c.kept;
  }

  return rows;
}

/**
 * 5. Balance: cap each (kind, category, language) group, choosing which rows stay by a seeded shuffle. Retention rows
 * are exempt: they all share one group per language ("retention/benign/<lang>"), so a per-group cap meant for one
 * vulnerability silently overrode retentionRatio (measured on the demo cycle: 51 of 115 Spanish rows cut).
 */
function capGroups({ opts, dropped }: Ctx, rows: CuratedRow[]): CuratedRow[] {
  if (opts.maxPerGroup === undefined) return rows;
  const rand = mulberry32(opts.seed);
  const byGroup = new Map<string, CuratedRow[]>();
  for (const r of rows) {
    if (r.kind === "retention") continue;
    const k = `${r.kind}/${r.category}/${r.language}`;
    byGroup.set(k, [...(byGroup.get(k) ?? []), r]);
  }
  const keep = new Set<CuratedRow>();
  for (const [k, list] of [...byGroup.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const chosen = shuffled(list, rand).slice(0, opts.maxPerGroup);
    for (const r of chosen) keep.add(r);
    for (const r of list) {
      if (!keep.has(r))
        dropped.push({
          reason: "balance_cap",
          detail: k,
          category: r.category,
          language: r.language,
          source: r.source,
        });
    }
  }
  return rows.filter((r) => r.kind === "retention" || keep.has(r));
}

/**
 * What the train/validation split goes by: the seed ask a row came from (its goal), so one ask under different
 * wrappings (framings, encodings, multi-turn) is never on both sides (measured on demo round 1: every validation row
 * from a finding had its seed ask in train when the split hashed the wrapped text); a row without one (retention,
 * counter-data, a safety-set prompt) goes by its user text as dedup compares it (normalised).
 */
export function splitGroup(row: SftExample): string {
  const ask = askKey(row.provenance?.goal);
  return ask !== undefined ? `goal:${ask}` : `text:${dedupKey(userText(row.messages), 1).key}`;
}

/** A seed ask as rows are compared by it (the split, near-duplicate merging): the goal, normalised. */
function askKey(goal: string | undefined): string | undefined {
  return goal === undefined ? undefined : normalizeText(goal);
}

/** 6. Train/validation split by a hash of the row's split group, so a row's split never depends on what else is in the set. */
function assignSplits(opts: CurateOptions, rows: CuratedRow[]): CuratedRow[] {
  for (const r of rows) {
    const u = seedFrom(`${opts.seed}:${splitGroup(r.sft)}`) / 4294967296;
    r.split = u < opts.valFraction ? "validation" : "train";
  }

  return rows;
}

function datasetCard(opts: CurateOptions, rows: readonly CuratedRow[], dropped: readonly DroppedRow[]): DatasetCard {
  return {
    round: opts.round,
    responder: opts.responder.id,
    judge: opts.judge.id,
    counterRatio: opts.counterRatio,
    retentionRatio: opts.retention ? (opts.retentionRatio ?? 0) : 0,
    counts: {
      sft: rows.length,
      dpo: rows.filter((r) => r.dpo).length,
      train: rows.filter((r) => r.split === "train").length,
      validation: rows.filter((r) => r.split === "validation").length,
      byKind: count(rows, (r) => r.kind),
      byCategory: count(rows, (r) => r.category),
      byLanguage: count(rows, (r) => r.language),
      byTechnique: count(rows, (r) => r.technique),
      bySource: count(rows, (r) => r.source),
    },
    dropped: count(dropped, (r) => r.reason),
  };
}

/** The dataset card as Markdown, for humans. */
export function renderCard(card: DatasetCard, dropped: readonly DroppedRow[]): string {
  // Values and dropped rows' details come from data files and endpoints (an error message a responder's server sent,
  // a matched benchmark id, a look-alike's source): Markdown-escaped, so they read as text and never render as links,
  // images or HTML where the card is shown.
  const e = escapeMarkdown;
  const table = (title: string, rec: Record<string, number>) =>
    `### ${title}\n\n| value | rows |\n|---|---|\n${Object.entries(rec)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `| ${e(k)} | ${v} |`)
      .join("\n")}\n`;
  return [
    `# Curated fix data, round ${card.round}`,
    "",
    `Responder: \`${card.responder}\`; every response checked by judge \`${card.judge}\`. Counter-data ratio: ${card.counterRatio}; retention ratio: ${card.retentionRatio}.`,
    "",
    `Rows: ${card.counts.sft} SFT rows and ${card.counts.dpo} DPO pairs (${card.counts.train} train, ${card.counts.validation} validation).`,
    "",
    table("By kind", card.counts.byKind),
    table("By category", card.counts.byCategory),
    table("By language", card.counts.byLanguage),
    table("By technique", card.counts.byTechnique),
    table("By source", card.counts.bySource),
    table("Dropped, by reason", card.dropped),
    "### Dropped rows",
    "",
    dropped.length
      ? dropped.map((d) => `- ${d.reason}: ${d.category}/${d.language} ${e(d.source)} — ${e(d.detail)}`).join("\n")
      : "(none)",
    "",
  ].join("\n");
}
