/**
 * Identify: successful attacks become findings; findings are grouped into vulnerabilities by (category, technique
 * family, language); near-duplicate findings inside a group (word n-gram Jaccard of the attack prompt above a
 * threshold) are merged so one weakness is not counted as many; vulnerabilities are ranked by
 * severity x success rate x reach. Findings export as JSONL (one domain Finding per line) for the curation stage.
 */
import { writeFileSync } from "node:fs";
import { contentHash } from "../domain/hash.ts";
import type { CategoryId } from "../domain/taxonomy.ts";
import { isCategoryId } from "../domain/taxonomy.ts";
import type { Finding, Severity, Vulnerability } from "../domain/types.ts";
import type { AttackRecord } from "./campaign/types.ts";

export interface IdentifyOptions {
  round: number;
  /** Severity given to a success whose judge reported none (the success criterion's threshold). */
  defaultSeverity: Severity;
  /** Findings whose attack prompts have word n-gram Jaccard >= this are near-duplicates (default 0.8). */
  dedupThreshold?: number;
  /** n of the word n-grams (default 3). */
  ngram?: number;
}

export interface IdentifiedFinding extends Finding {
  /** The attack record this finding comes from (its full conversation and judgement). */
  recordId: string;
  vulnerabilityId: string;
  /** Ids of the findings merged into this one as near-duplicates. */
  duplicates: string[];
}

export interface Identified {
  findings: IdentifiedFinding[];
  vulnerabilities: Vulnerability[];
}

/** Word n-grams of the user turns (lower-cased, letters and digits only). */
export function wordNgrams(text: string, n: number): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const out = new Set<string>();
  if (words.length < n) {
    if (words.length) out.add(words.join(" "));
    return out;
  }
  for (let i = 0; i + n <= words.length; i++) out.add(words.slice(i, i + n).join(" "));
  return out;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

function userText(r: AttackRecord): string {
  return r.attack.conversation
    .filter((m) => m.role === "user")
    .map((m) => m.content)
    .join("\n");
}

export function vulnerabilityKey(category: string, family: string, language: string): string {
  return contentHash({ vulnerability: [category, family, language] });
}

function findingCategory(r: AttackRecord): CategoryId {
  const c = r.judgement.category;
  return c && isCategoryId(c) ? c : r.probe.category;
}

/** The finding a successful record makes (`duplicates` empty): the one place its id, category and severity are set. */
export function findingOf(
  r: AttackRecord,
  o: { round: number; defaultSeverity: Severity; vulnerabilityId: string },
): IdentifiedFinding {
  return {
    id: contentHash({ finding: r.id }),
    round: o.round,
    attack: r.attack,
    response: r.response,
    judgement: r.judgement,
    category: findingCategory(r),
    severity: (r.judgement.severity ?? o.defaultSeverity) as Severity,
    recordId: r.id,
    vulnerabilityId: o.vulnerabilityId,
    duplicates: [],
  };
}

export function identify(records: readonly AttackRecord[], opts: IdentifyOptions): Identified {
  const threshold = opts.dedupThreshold ?? 0.8;
  const n = opts.ngram ?? 3;
  // Attempts are grouped by the probe's category (what was attacked); a success is filed under the same group.
  const groups = new Map<string, AttackRecord[]>();
  for (const r of records) {
    const k = JSON.stringify([r.probe.category, r.attack.family, r.attack.language]);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const findings: IdentifiedFinding[] = [];
  const vulnerabilities: Vulnerability[] = [];
  for (const [k, rs] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [category, family, language] = JSON.parse(k) as [CategoryId, string, string];
    const judged = rs.filter((r) => r.judgement.status === "ok");
    const wins = judged.filter((r) => r.success).sort((a, b) => (a.id < b.id ? -1 : 1));
    if (wins.length === 0) continue;
    const vid = vulnerabilityKey(category, family, language);
    // Greedy near-duplicate clustering in a fixed order (record id), so the result does not depend on run order.
    const reps: { f: IdentifiedFinding; grams: Set<string> }[] = [];
    for (const r of wins) {
      const grams = wordNgrams(userText(r), n);
      const f = findingOf(r, { round: opts.round, defaultSeverity: opts.defaultSeverity, vulnerabilityId: vid });
      const twin = reps.find((x) => jaccard(x.grams, grams) >= threshold);
      if (twin) {
        twin.f.duplicates.push(f.id);
        continue;
      }
      reps.push({ grams, f });
    }
    const sev: number[] = wins.map((r) => r.judgement.severity ?? opts.defaultSeverity);
    const meanSeverity = sev.reduce((a, b) => a + b, 0) / sev.length;
    const successRate = wins.length / judged.length;
    const reach = new Set(wins.map((r) => r.probe.id)).size;
    vulnerabilities.push({
      id: vid,
      category,
      family,
      language,
      findings: reps.map((x) => x.f.id),
      attempts: judged.length,
      successes: wins.length,
      successRate,
      meanSeverity,
      reach,
      score: meanSeverity * successRate * reach,
    });
    findings.push(...reps.map((x) => x.f));
  }
  vulnerabilities.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  const rank = new Map(vulnerabilities.map((v, i) => [v.id, i]));
  findings.sort((a, b) => rank.get(a.vulnerabilityId)! - rank.get(b.vulnerabilityId)! || (a.id < b.id ? -1 : 1));
  return { findings, vulnerabilities };
}

/** One finding per line (a domain Finding plus recordId, vulnerabilityId and duplicates). */
export function findingsJsonl(findings: readonly IdentifiedFinding[]): string {
  return findings.map((f) => JSON.stringify(f)).join("\n") + (findings.length ? "\n" : "");
}

export function writeFindingsJsonl(file: string, findings: readonly IdentifiedFinding[]): void {
  writeFileSync(file, findingsJsonl(findings));
}
