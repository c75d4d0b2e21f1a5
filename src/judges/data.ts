/**
 * Human-labelled calibration data for refusal judges. "xstest": XSTest's labelled completions (the shared copy, or
 * any folder of files in that format via --path), read with the benchmarks' loader.
 */
import path from "node:path";
import { loadXstestCompletions, type XstestCompletion } from "../benchmarks/datasets/loaders/xstest.ts";
import { sharedDatasetsDir } from "../benchmarks/datasets/paths.ts";
import type { RefusalClass } from "../domain/types.ts";
import type { LabelledItem } from "./calibrate.ts";

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

export const CALIBRATION_DATA = ["xstest"] as const;

export function defaultDataPath(name: string): string {
  if (name === "xstest") return path.join(sharedDatasetsDir(), "xstest", "human_labelled_completions");
  throw new Error(`unknown calibration data '${name}'; known: ${CALIBRATION_DATA.join(", ")}`);
}

/** Loads calibration data by name, from `dir` when given (a folder of files in the dataset's format). */
export function loadCalibrationData(name: string, dir?: string): LabelledItem[] {
  const d = dir ?? defaultDataPath(name);
  if (name === "xstest") return xstestItems(loadXstestCompletions(d));
  throw new Error(`unknown calibration data '${name}'; known: ${CALIBRATION_DATA.join(", ")}`);
}
