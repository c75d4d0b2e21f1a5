/**
 * XSTest (Röttger et al. 2024): 250 safe look-alike prompts and 200 unsafe contrast prompts, and the human-labelled
 * model completions in human_labelled_completions/ (used to calibrate refusal graders).
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { CategoryId } from "../../domain/taxonomy.ts";
import { readCsv } from "../read.ts";
import { remoteFile } from "../sources.ts";
import { DatasetError, type DatasetInfo, type DatasetLoader, ProblemCollector } from "../types.ts";
import { fileIn, makeProbe, mapLabel, probeLoader, probesFromCsv, required } from "./common.ts";

export const xstestInfo: DatasetInfo = {
  name: "xstest",
  title: "XSTest prompts",
  description: "Over-refusal test: 250 safe prompts that look unsafe, 200 unsafe contrast prompts (18 types x 25).",
  kind: "probes",
  license: "CC-BY-4.0",
  homepage: "https://github.com/paul-rottger/exaggerated-safety",
  rows: 450,
  files: [remoteFile("xstest", "xstest_prompts.csv")],
};

function labelOf(raw: string): "safe" | "unsafe" {
  const l = raw.trim().toLowerCase();
  if (l !== "safe" && l !== "unsafe") throw new Error(`label '${raw}' is not safe or unsafe`);
  return l;
}

export const xstest = probeLoader(xstestInfo, (dir) =>
  probesFromCsv(fileIn(dir, "xstest_prompts.csv"), ["id", "prompt", "type", "label"], (row) => {
    const type = required(row, "type").trim();
    const label = labelOf(required(row, "label"));
    const category = mapLabel("xstest", "type", type);
    if ((category === "benign") !== (label === "safe")) {
      throw new Error(`type '${type}' maps to ${category} but the label is '${label}'`);
    }
    const meta: Record<string, string> = { type };
    if (row.fields.focus) meta.focus = row.fields.focus;
    if (row.fields.note) meta.note = row.fields.note;
    return [
      makeProbe(xstestInfo, {
        id: required(row, "id").trim(),
        prompt: required(row, "prompt"),
        category,
        label,
        language: "en",
        sourceLabel: type,
        meta,
      }),
    ];
  }),
);

/** XSTest's three human labels for a completion. */
export const XSTEST_FINAL_LABELS = ["1_full_compliance", "2_full_refusal", "3_partial_refusal"] as const;
export type XstestFinalLabel = (typeof XSTEST_FINAL_LABELS)[number];

export interface XstestCompletion {
  /** "<model>:<row id>", unique across the folder. */
  id: string;
  /** Model that wrote the completion (from the file name xstest_v2_completions_<model>.csv). */
  model: string;
  file: string;
  line: number;
  prompt: string;
  type: string;
  /** Whether complying with the prompt is acceptable (contrast_ types are unsafe). */
  label: "safe" | "unsafe";
  category: CategoryId;
  completion: string;
  final_label: XstestFinalLabel;
}

const COMPLETION_MODELS = ["gpt4", "llama2new", "mistralinstruct"] as const;

export const xstestCompletionsInfo: DatasetInfo = {
  name: "xstest-completions",
  title: "XSTest human-labelled completions",
  description:
    "3 models x 450 XSTest completions, each labelled full compliance / full refusal / partial refusal by two annotators.",
  kind: "labelled-completions",
  license: "model providers' terms (Meta, Mistral, OpenAI); evaluate graders only, never train on them",
  homepage: "https://github.com/paul-rottger/exaggerated-safety",
  rows: 1350,
  files: COMPLETION_MODELS.map((m) =>
    remoteFile("xstest", `human_labelled_completions/xstest_v2_completions_${m}.csv`),
  ),
};

/** Parses one completions file; `model` defaults to the file-name suffix. */
export function readXstestCompletionsFile(file: string, model?: string): XstestCompletion[] {
  const m = model ?? /completions_([^/\\]+)\.csv$/i.exec(file)?.[1] ?? path.basename(file, ".csv");
  const rows = readCsv(file, ["id", "type", "prompt", "completion", "final_label"]);
  const pc = new ProblemCollector(file);
  const out: XstestCompletion[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const c = pc.check(row.line, (): XstestCompletion => {
      const type = required(row, "type").trim();
      const finalLabel = required(row, "final_label").trim();
      if (!(XSTEST_FINAL_LABELS as readonly string[]).includes(finalLabel)) {
        throw new Error(`final_label '${finalLabel}' is not one of ${XSTEST_FINAL_LABELS.join(", ")}`);
      }
      const category = mapLabel("xstest", "type", type);
      const id = `${m}:${required(row, "id").trim()}`;
      if (seen.has(id)) throw new Error(`duplicate id '${id}'`);
      seen.add(id);
      return {
        id,
        model: m,
        file: path.basename(file),
        line: row.line,
        prompt: required(row, "prompt"),
        type,
        label: category === "benign" ? "safe" : "unsafe",
        category,
        completion: row.fields.completion ?? "",
        final_label: finalLabel as XstestFinalLabel,
      };
    });
    if (c) out.push(c);
  }
  pc.throwIfAny();
  return out;
}

/**
 * Loads XSTest's labelled completions from a folder of xstest_v2_completions_<model>.csv files (every *.csv in it,
 * sorted), or from a single file. Accepts the dataset folder too (it then reads its human_labelled_completions/).
 */
export function loadXstestCompletions(dirOrFile: string): XstestCompletion[] {
  const st = statSync(dirOrFile, { throwIfNoEntry: false });
  if (!st) throw new DatasetError(dirOrFile, [{ line: 0, problem: "no such file or folder" }]);
  if (!st.isDirectory()) return readXstestCompletionsFile(dirOrFile);
  const sub = path.join(dirOrFile, "human_labelled_completions");
  const dir = statSync(sub, { throwIfNoEntry: false })?.isDirectory() ? sub : dirOrFile;
  const files = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith(".csv") && f.toLowerCase().includes("completions"))
    .sort();
  if (files.length === 0) throw new DatasetError(dir, [{ line: 0, problem: "no xstest_v2_completions_*.csv files" }]);
  return files.flatMap((f) => readXstestCompletionsFile(path.join(dir, f)));
}

export const xstestCompletions: DatasetLoader<XstestCompletion> = {
  info: xstestCompletionsInfo,
  load: async (dir) => loadXstestCompletions(dir),
  facets: (c) => ({ category: c.category, label: c.final_label, language: "en" }),
  idOf: (c) => c.id,
};
