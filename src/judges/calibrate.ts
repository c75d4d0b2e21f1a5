/**
 * Calibration of a refusal-class judge against human labels (XSTest's labelled completions, or any folder in that
 * format): accuracy, binary accuracy (refusal of any kind vs compliance), per-class P/R/F1, macro-F1, Cohen's kappa and
 * the confusion matrix, overall, per source file, and for a development group vs the held-out rest.
 * An "unjudged" prediction is kept as its own confusion column and counts as wrong: a judge cannot improve its
 * figures by declining hard items. Judgements of LLM judges are cached in the store, so an interrupted run resumes.
 */
import pLimit from "p-limit";
import { contentHash } from "../domain/hash.ts";
import type { Judgement, RefusalClass } from "../domain/types.ts";
import type { Store } from "../store/store.ts";
import { type AgreementMetrics, agreement } from "./metrics.ts";
import type { Judge, JudgeInput } from "./types.ts";

export const REFUSAL_CLASSES: readonly RefusalClass[] = ["full_compliance", "full_refusal", "partial_refusal"];

export interface LabelledItem {
  id: string;
  /** Source group (e.g. the completions file's model), for per-group and dev/held-out figures. */
  group: string;
  input: JudgeInput;
  gold: RefusalClass;
}

export interface Figures {
  n: number;
  unjudged: number;
  accuracy: number;
  binary_accuracy: number;
  macro_f1: number;
  kappa: number;
  binary_kappa: number;
  per_class: { label: string; precision: number; recall: number; f1: number; support: number }[];
  labels: string[];
  confusion: number[][];
}

export interface CalibrationReport extends Figures {
  judge: string;
  data: string;
  groups: Record<string, Figures>;
  /** Present when a development group was named: its figures and the held-out rest's. */
  dev?: { groups: string[]; figures: Figures };
  held_out?: { groups: string[]; figures: Figures };
}

const binary = (l: string) => (l === "full_compliance" ? "compliance" : l === "unjudged" ? "unjudged" : "refusal");

export function figures(gold: readonly RefusalClass[], predicted: readonly string[]): Figures {
  const unjudged = predicted.filter((p) => p === "unjudged").length;
  const labels = unjudged > 0 ? [...REFUSAL_CLASSES, "unjudged"] : [...REFUSAL_CLASSES];
  const m: AgreementMetrics = agreement(gold, predicted, labels, REFUSAL_CLASSES);
  const binLabels = unjudged > 0 ? ["compliance", "refusal", "unjudged"] : ["compliance", "refusal"];
  const b = agreement(gold.map(binary), predicted.map(binary), binLabels, ["compliance", "refusal"]);
  return {
    n: m.n,
    unjudged,
    accuracy: m.accuracy,
    binary_accuracy: b.accuracy,
    macro_f1: m.macroF1,
    kappa: m.kappa,
    binary_kappa: b.kappa,
    per_class: m.perClass
      .filter((c) => c.label !== "unjudged")
      .map(({ label, precision, recall, f1, support }) => ({ label, precision, recall, f1, support })),
    labels: m.labels,
    confusion: m.confusion,
  };
}

/** The refusal class a judgement predicts, "unjudged", or an error when the judge does not speak in refusal classes. */
export function predictedClass(j: Judgement): string {
  if (j.status === "unjudged") return "unjudged";
  if (!j.refusal) {
    throw new Error(
      `judge '${j.judgeId}' gave no refusal class (label '${j.label}'): it cannot be calibrated on refusal-labelled data`,
    );
  }
  return j.refusal;
}

export interface CalibrateOptions {
  dataName: string;
  /** Groups whose items are the development set (matched by substring, e.g. "gpt4"). */
  devGroups?: string[];
  concurrency?: number;
  /** Cache judgements here (status ok only, so unjudged items are retried on the next run). */
  store?: Store;
  onProgress?: (done: number, total: number) => void;
}

export function judgementKey(judgeId: string, item: LabelledItem): { judge: string; item: string; input: string } {
  return { judge: judgeId, item: item.id, input: contentHash(item.input) };
}

export async function runJudge(
  judge: Judge,
  items: readonly LabelledItem[],
  opts: CalibrateOptions,
): Promise<Judgement[]> {
  const limit = pLimit(Math.max(1, opts.concurrency ?? 4));
  let done = 0;
  opts.onProgress?.(0, items.length);
  return Promise.all(
    items.map((item) =>
      limit(async () => {
        const key = judgementKey(judge.id, item);
        let j = opts.store?.judgements.get(key);
        if (!j) {
          try {
            j = await judge.judge(item.input);
          } catch (err) {
            // One item's failure must not discard the judgements already paid for (Promise.all would reject while
            // the other items are still being judged): it is recorded as unjudged, not stored, retried next run.
            j = {
              judgeId: judge.id,
              status: "unjudged",
              label: "unjudged",
              rationale: `judge error: ${err instanceof Error ? err.message : String(err)}`,
            };
          }
          if (opts.store && j.status === "ok") opts.store.judgements.put(key, j);
        }
        done++;
        opts.onProgress?.(done, items.length);
        return j;
      }),
    ),
  );
}

export function report(
  judgeId: string,
  items: readonly LabelledItem[],
  predicted: readonly string[],
  opts: CalibrateOptions,
): CalibrationReport {
  const gold = items.map((i) => i.gold);
  const sub = (keep: (i: LabelledItem) => boolean): Figures => {
    const idx = items.map((it, k) => (keep(it) ? k : -1)).filter((k) => k >= 0);
    return figures(
      idx.map((k) => gold[k]),
      idx.map((k) => predicted[k]),
    );
  };
  const groups: Record<string, Figures> = {};
  for (const g of [...new Set(items.map((i) => i.group))].sort()) groups[g] = sub((i) => i.group === g);
  const out: CalibrationReport = { judge: judgeId, data: opts.dataName, ...figures(gold, predicted), groups };
  const devPatterns = opts.devGroups ?? [];
  if (devPatterns.length > 0) {
    const isDev = (g: string) => isDevGroup(g, devPatterns);
    const devGroups = Object.keys(groups).filter(isDev);
    const heldGroups = Object.keys(groups).filter((g) => !isDev(g));
    if (devGroups.length === 0)
      throw new Error(`--dev ${devPatterns.join(",")} matches none of the groups ${Object.keys(groups).join(", ")}`);
    out.dev = { groups: devGroups, figures: sub((i) => isDev(i.group)) };
    if (heldGroups.length > 0) out.held_out = { groups: heldGroups, figures: sub((i) => !isDev(i.group)) };
  }
  return out;
}

/** Whether a source group is a development group: its name contains one of the --dev names (e.g. gpt4). */
export function isDevGroup(group: string, devGroups: readonly string[]): boolean {
  return devGroups.some((p) => group.includes(p));
}

export async function calibrate(
  judge: Judge,
  items: readonly LabelledItem[],
  opts: CalibrateOptions,
): Promise<CalibrationReport> {
  if (items.length === 0) throw new Error(`calibration data '${opts.dataName}' has no items`);
  const judgements = await runJudge(judge, items, opts);
  return report(judge.id, items, judgements.map(predictedClass), opts);
}
