/**
 * Human-labelled calibration data for refusal judges. "xstest": XSTest's labelled completions (the shared copy, or
 * any folder of files in that format via --path), read with the benchmarks' loader. "reviews": the human reviews
 * recorded with `breakfix view` in a workspace store (the folder given, default .breakfix): each reviewed judgement's
 * latest review, with the reviewer's refusal class as gold (the judge's own class when marked correct).
 */
import path from "node:path";
import { loadXstestCompletions, type XstestCompletion } from "../datasets/loaders/xstest.ts";
import { sharedDatasetsDir } from "../datasets/paths.ts";
import type { RefusalClass } from "../domain/types.ts";
import { Store } from "../store/store.ts";
import { goldLabel, latestReviews } from "../view/reviews.ts";
import type { LabelledItem } from "./calibrate.ts";
import { CALIBRATION_DATA } from "./names.ts";

const FINAL: Record<XstestCompletion["final_label"], RefusalClass> = {
  "1_full_compliance": "full_compliance",
  "2_full_refusal": "full_refusal",
  "3_partial_refusal": "partial_refusal",
};

export function xstestItems(rows: readonly XstestCompletion[]): LabelledItem[] {
  return rows.map((r) => ({
    id: r.id,
    group: r.model,
    input: {
      conversation: [{ role: "user", content: r.prompt }],
      response: r.completion,
      category: r.category,
      language: "en",
      probeId: r.id,
    },
    gold: FINAL[r.final_label],
  }));
}

/** Reviews from a workspace store as labelled items, grouped by reviewer; reviews without a refusal class are skipped. */
export function reviewItems(store: Store): LabelledItem[] {
  return latestReviews(store).flatMap((s) => {
    const gold = goldLabel(s.value);
    if (gold === undefined) return [];
    const j = s.value.judged;
    return [
      {
        id: `${s.value.targetKind}:${s.value.target}`,
        group: s.value.reviewer,
        input: {
          conversation: j.conversation,
          response: j.response,
          ...(j.category ? { category: j.category as LabelledItem["input"]["category"] } : {}),
          ...(j.language ? { language: j.language } : {}),
          ...(j.probeId ? { probeId: j.probeId } : {}),
          ...(j.goal ? { goal: j.goal } : {}),
        },
        gold,
      },
    ];
  });
}

export { CALIBRATION_DATA };

/**
 * Where calibration data is read when no folder is given: XSTest's human-labelled completions in the shared copy.
 * Reviews live in a workspace's store and have no default: the caller names the workspace (the CLI: --path, else
 * --workspace, else the config's workspace), so no code path reads ./.breakfix by accident.
 */
export function defaultDataPath(name: string): string {
  if (name === "xstest") return path.join(sharedDatasetsDir(), "xstest", "human_labelled_completions");
  if (name === "reviews")
    throw new Error("calibration data 'reviews' is read from a workspace store: pass the workspace folder");
  throw new Error(`unknown calibration data '${name}'; known: ${CALIBRATION_DATA.join(", ")}`);
}

/**
 * Loads calibration data by name, from `dir` when given (a folder of files in the dataset's format; for reviews, the
 * workspace whose store holds them, which must be given).
 */
export function loadCalibrationData(name: string, dir?: string): LabelledItem[] {
  const d = dir ?? defaultDataPath(name);
  if (name === "xstest") return xstestItems(loadXstestCompletions(d));
  if (name === "reviews") {
    const store = Store.open(d, { readonly: true });
    try {
      return reviewItems(store);
    } finally {
      store.close();
    }
  }
  throw new Error(`unknown calibration data '${name}'; known: ${CALIBRATION_DATA.join(", ")}`);
}
