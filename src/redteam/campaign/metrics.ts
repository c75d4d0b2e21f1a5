/**
 * Attack success rate (ASR) with Wilson 95% intervals, per category x technique x language and along each axis.
 * Unjudged attacks (the judge's output could not be parsed) are counted apart and never in n. Attacks not sent
 * because their prompt cannot fit the target's context (see context.ts) are neither attempts nor unjudged: they are
 * counted apart (`notSent`, per technique x language) and left out of every row. Attacks the deployment's own content
 * filter blocked are refusals (never successes) and are also counted apart (`blocked`): they say nothing about the
 * model's own alignment.
 */

import { percent } from "../../domain/format.ts";
import { wilson } from "../../domain/stats.ts";
import type { Interval } from "../../domain/types.ts";
import { blockedCount } from "../../judges/blocked.ts";
import type { AttackRecord } from "./types.ts";

export interface AsrCell {
  category: string;
  technique: string;
  family: string;
  language: string;
  successes: number;
  n: number;
  unjudged: number;
  asr: number;
  interval: Interval;
}

export interface AsrRow {
  key: string;
  successes: number;
  n: number;
  asr: number;
  interval: Interval;
}

export interface AsrReport {
  overall: AsrRow;
  cells: AsrCell[];
  byCategory: AsrRow[];
  byTechnique: AsrRow[];
  byFamily: AsrRow[];
  byLanguage: AsrRow[];
  unjudged: number;
  /** Attacks not sent (prompt does not fit the target's context): total, and per technique x language. */
  notSent: number;
  notSentBy: { technique: string; language: string; count: number }[];
  /** Attacks sent (every record but the not-sent ones). */
  sent: number;
  /** Sent attacks whose judged answer the deployment's content filter blocked (judges/blocked.ts blockedCount). */
  blocked: number;
}

function row(key: string, rs: readonly AttackRecord[], level: number): AsrRow {
  const judged = rs.filter((r) => r.judgement.status === "ok");
  const successes = judged.filter((r) => r.success).length;
  const n = judged.length;
  return { key, successes, n, asr: n ? successes / n : Number.NaN, interval: wilson(successes, n, level) };
}

function groupBy(rs: readonly AttackRecord[], key: (r: AttackRecord) => string): Map<string, AttackRecord[]> {
  const m = new Map<string, AttackRecord[]>();
  for (const r of rs) {
    const k = key(r);
    const g = m.get(k);
    if (g) g.push(r);
    else m.set(k, [r]);
  }
  return new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function asrReport(all: readonly AttackRecord[], level = 0.95): AsrReport {
  const records = all.filter((r) => !r.notSent);
  const notSentBy = [
    ...groupBy(
      all.filter((r) => r.notSent),
      (r) => JSON.stringify([r.techniqueId, r.attack.language]),
    ),
  ].map(([, rs]) => ({ technique: rs[0].techniqueId, language: rs[0].attack.language, count: rs.length }));
  const cells: AsrCell[] = [];
  for (const [, rs] of groupBy(records, (r) => JSON.stringify([r.probe.category, r.techniqueId, r.attack.language]))) {
    const first = rs[0];
    const base = row("", rs, level);
    cells.push({
      category: first.probe.category,
      technique: first.techniqueId,
      family: first.attack.family,
      language: first.attack.language,
      successes: base.successes,
      n: base.n,
      unjudged: rs.length - base.n,
      asr: base.asr,
      interval: base.interval,
    });
  }
  const axis = (f: (r: AttackRecord) => string) => [...groupBy(records, f)].map(([k, rs]) => row(k, rs, level));
  return {
    overall: row("overall", records, level),
    cells,
    byCategory: axis((r) => r.probe.category),
    byTechnique: axis((r) => r.techniqueId),
    byFamily: axis((r) => r.attack.family),
    byLanguage: axis((r) => r.attack.language),
    unjudged: records.filter((r) => r.judgement.status !== "ok").length,
    notSent: all.length - records.length,
    notSentBy,
    sent: records.length,
    blocked: blockedCount(records),
  };
}

/** A rate in the table's 6-character column ("  0.0%" .. "100.0%", "   n/a"). */
const cell = (x: number) => percent(x).padStart(6);

/** A plain-text table of an ASR axis. */
export function formatAsrRows(title: string, rows: readonly AsrRow[]): string {
  const w = Math.max(title.length, ...rows.map((r) => r.key.length));
  const lines = [`${title.padEnd(w)}  ASR     95% CI            successes/n`];
  for (const r of rows) {
    lines.push(
      `${r.key.padEnd(w)}  ${cell(r.asr)}  [${cell(r.interval.low)}, ${cell(r.interval.high)}]  ${r.successes}/${r.n}`,
    );
  }
  return lines.join("\n");
}
