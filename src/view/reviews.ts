/**
 * Human review of judgements. A reviewer marks a judgement of a stored red-team or bench record correct or wrong,
 * with a label (the right refusal class) and a note. Reviews are appended to the store's `reviews` table (schema
 * version 3, append-only, with time and reviewer name); a target's latest review is its current one. Each review keeps
 * a snapshot of what was judged, so `breakfix judge calibrate --data reviews` can measure any judge against them, and
 * `reviewedFindings` gives curation the findings less those a reviewer rejected.
 */
import type { ItemRecord } from "../benchmarks/types.ts";
import { canonicalJson, contentHash } from "../domain/hash.ts";
import type { Finding, RefusalClass, Severity } from "../domain/types.ts";
import type { AttackRecord, CampaignManifest } from "../redteam/campaign/types.ts";
import { findingOf, type IdentifiedFinding } from "../redteam/identify.ts";
import type { Review, ReviewTargetKind, Store, Stored } from "../store/store.ts";

export const REVIEW_LABELS: readonly RefusalClass[] = ["full_compliance", "full_refusal", "partial_refusal"];

/** A review as a reviewer gives it: the store adds the snapshot of what was judged; `at` defaults to now. */
export type ReviewInput = Omit<Review, "judged" | "at"> & { at?: string };

function snapshot(store: Store, kind: ReviewTargetKind, target: string): Review["judged"] | undefined {
  if (kind === "redteam.record") {
    const r = store.artifacts.get<AttackRecord>("redteam.record", { hash: target });
    if (!r) return undefined;
    return {
      judgeId: r.judgement.judgeId,
      label: r.judgement.label,
      ...(r.judgement.refusal ? { refusal: r.judgement.refusal } : {}),
      ...(r.judgement.severity !== undefined ? { severity: r.judgement.severity } : {}),
      conversation: r.attack.conversation,
      response: r.response.content,
      category: r.probe.category,
      language: r.attack.language,
      probeId: r.probe.id,
      ...(r.attack.goal ? { goal: r.attack.goal } : {}),
    };
  }
  const b = store.artifacts.get<ItemRecord>("bench.record", { hash: target });
  if (!b) return undefined;
  // the conversation up to the graded answer (the stored conversation ends with it when the suite appended it)
  const conv = b.conversation.at(-1)?.role === "assistant" ? b.conversation.slice(0, -1) : b.conversation;
  return {
    judgeId: b.judgement.judgeId,
    label: b.judgement.label,
    ...(b.judgement.refusal ? { refusal: b.judgement.refusal } : {}),
    ...(b.judgement.severity !== undefined ? { severity: b.judgement.severity } : {}),
    conversation: conv,
    response: b.response,
    category: b.category,
    language: b.language,
    probeId: b.probeId,
  };
}

/** Validates and appends a review; throws a message fit for the reviewer when the input is incomplete. */
export function addReview(store: Store, input: ReviewInput): Stored<Review> {
  const reviewer = input.reviewer.trim();
  if (!reviewer) throw new Error("a review needs the reviewer's name");
  if (reviewer.length > 100) throw new Error("the reviewer's name is longer than 100 characters");
  if (input.verdict !== "correct" && input.verdict !== "wrong") throw new Error("the verdict is 'correct' or 'wrong'");
  const label = input.label?.trim() || undefined;
  if (label !== undefined && !(REVIEW_LABELS as readonly string[]).includes(label))
    throw new Error(`the label is one of ${REVIEW_LABELS.join(", ")}`);
  if (input.verdict === "wrong" && label === undefined) throw new Error("a 'wrong' verdict needs the right label");
  const note = input.note?.trim() || undefined;
  if (note !== undefined && note.length > 5000) throw new Error("the note is longer than 5000 characters");
  const judged = snapshot(store, input.targetKind, input.target);
  if (!judged) throw new Error(`no ${input.targetKind} ${input.target} in the store`);
  // A resubmission (a double click, a form sent again) of the target's latest review, by the same reviewer with the
  // same verdict, label and note on the same judgement, is that review: stored once, not again under a new time.
  const latest = reviewsOf(store, input.target).at(-1);
  if (
    latest &&
    latest.value.targetKind === input.targetKind &&
    latest.value.reviewer === reviewer &&
    latest.value.verdict === input.verdict &&
    latest.value.label === label &&
    latest.value.note === note &&
    canonicalJson(latest.value.judged) === canonicalJson(judged)
  )
    return latest;
  const review: Review = {
    targetKind: input.targetKind,
    target: input.target,
    reviewer,
    verdict: input.verdict,
    ...(label !== undefined ? { label } : {}),
    ...(note !== undefined ? { note } : {}),
    at: input.at ?? new Date().toISOString(),
    judged,
  };
  const { hash } = store.reviews.put(review, review);
  const stored = store.reviews.getRecord({ hash });
  if (!stored) throw new Error("review was not stored");
  return stored;
}

/** Every review of a target, oldest first. */
export function reviewsOf(store: Store, target: string): Stored<Review>[] {
  return store.reviews.list({ target });
}

/** The latest review of every reviewed target. */
export function latestReviews(store: Store): Stored<Review>[] {
  if (!store.hasTable("reviews")) return [];
  const rows = store.db
    .prepare(
      "SELECT hash FROM reviews r WHERE seq = (SELECT MAX(seq) FROM reviews x WHERE x.target = r.target) ORDER BY seq",
    )
    .all() as { hash: string }[];
  return rows.flatMap((r) => {
    const s = store.reviews.getRecord({ hash: r.hash });
    return s ? [s] : [];
  });
}

/** The refusal class a review says is right: the reviewer's label, or the judge's own when it was marked correct. */
export function goldLabel(r: Review): RefusalClass | undefined {
  const l = r.verdict === "wrong" ? r.label : (r.label ?? r.judged.refusal);
  return l !== undefined && (REVIEW_LABELS as readonly string[]).includes(l) ? (l as RefusalClass) : undefined;
}

/**
 * Ids (Finding.id) of the findings whose attack record's latest review says the judgement was wrong: the attack did
 * not really succeed, so curation should leave them out.
 */
export function rejectedFindingIds(store: Store): Set<string> {
  const out = new Set<string>();
  if (!store.hasTable("reviews")) return out;
  const rows = store.db
    .prepare(
      `SELECT json_extract(f.payload, '$.id') AS id FROM findings f
       WHERE (SELECT r.verdict FROM reviews r WHERE r.target = json_extract(f.payload, '$.recordId')
              ORDER BY r.seq DESC LIMIT 1) = 'wrong'`,
    )
    .all() as { id: string }[];
  for (const r of rows) out.add(r.id);
  return out;
}

/** Ids of the red-team records whose latest review says the judgement was wrong. */
function rejectedRecordIds(store: Store): Set<string> {
  return new Set(
    latestReviews(store)
      .filter((r) => r.value.targetKind === "redteam.record" && r.value.verdict === "wrong")
      .map((r) => r.value.target),
  );
}

/**
 * The finding standing in for a rejected one: identify merged the near-duplicate successes of a cluster (attack
 * prompts alike; each has its own response and judgement) into the finding of its first record. The first merged
 * success whose own record is not rejected becomes the cluster's finding, as identify makes it (the campaign's
 * `minSeverity` as the default severity, the rejected finding's round and vulnerability), the rest its duplicates.
 */
function standIn(store: Store, f: IdentifiedFinding, rejected: ReadonlySet<string>): IdentifiedFinding | undefined {
  if (!f.duplicates?.length) return undefined;
  const campaigns = store.db
    .prepare(
      "SELECT DISTINCT run_id AS id FROM findings WHERE json_extract(payload, '$.recordId') = ? AND run_id IS NOT NULL",
    )
    .all(f.recordId) as { id: string }[];
  for (const { id } of campaigns) {
    const manifest = store.artifacts.get<CampaignManifest>("redteam.campaign", { hash: id });
    if (!manifest) continue;
    const recordOf = new Map(manifest.recordIds.map((rid) => [contentHash({ finding: rid }), rid]));
    for (const dup of f.duplicates) {
      const rid = recordOf.get(dup);
      if (rid === undefined || rejected.has(rid)) continue;
      const record = store.artifacts.get<AttackRecord>("redteam.record", { hash: rid });
      if (!record?.success) continue;
      const defaultSeverity = Math.min(7, manifest.minSeverity) as Severity;
      const out = findingOf(record, { round: f.round, defaultSeverity, vulnerabilityId: f.vulnerabilityId });
      out.duplicates = f.duplicates.filter((d) => d !== dup);
      return out;
    }
  }
  return undefined;
}

/**
 * The findings curation keeps: a finding whose attack record's latest review says "wrong" is left out, and the first
 * near-duplicate success merged into it whose own record is not rejected takes its place (standIn): a review of one
 * record never drops another record's success. `rejected` counts the findings left out. No rejection: the same list.
 */
export function reviewedFindings(
  store: Store,
  findings: readonly Finding[],
): { findings: Finding[]; rejected: number } {
  const rejectedRecords = rejectedRecordIds(store);
  if (rejectedRecords.size === 0) return { findings: [...findings], rejected: 0 };
  // a finding's id is its record's (identify's findingOf), so a finding without a recordId is matched by its id
  const rejectedIds = new Set([...rejectedRecords].map((rid) => contentHash({ finding: rid })));
  const out: Finding[] = [];
  let rejected = 0;
  for (const f of findings) {
    const recordId = (f as Partial<IdentifiedFinding>).recordId;
    if (!rejectedIds.has(f.id) && (recordId === undefined || !rejectedRecords.has(recordId))) {
      out.push(f);
      continue;
    }
    rejected++;
    const sub = recordId === undefined ? undefined : standIn(store, f as IdentifiedFinding, rejectedRecords);
    if (sub && !out.some((x) => x.id === sub.id) && !findings.some((x) => x.id === sub.id)) out.push(sub);
  }
  return { findings: out, rejected };
}
