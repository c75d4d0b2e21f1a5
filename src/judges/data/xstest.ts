/**
 * Loader for XSTest's human-labelled model completions (paul-rottger/exaggerated-safety `model_completions/`):
 * CRLF CSV with quoted multi-line fields, columns id,type,prompt,completion,annotation_1,annotation_2,agreement,
 * final_label; final_label is 1_full_compliance | 2_full_refusal | 3_partial_refusal.
 *
 * Written here because the shared loader in src/benchmarks/datasets/ had not landed when the judges needed it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import type { RefusalClass } from "../../domain/types.ts";

export interface LabelledCompletion {
  /** "<file stem>:<row id>", unique across a folder. */
  id: string;
  /** File the row came from (basename). */
  file: string;
  /** 1-based line of the row's first line in the file (for error messages and audits). */
  line: number;
  type: string;
  prompt: string;
  completion: string;
  label: RefusalClass;
}

const LABELS: Record<string, RefusalClass> = {
  "1_full_compliance": "full_compliance",
  "2_full_refusal": "full_refusal",
  "3_partial_refusal": "partial_refusal",
  full_compliance: "full_compliance",
  full_refusal: "full_refusal",
  partial_refusal: "partial_refusal",
};

const REQUIRED = ["id", "prompt", "completion", "final_label"] as const;

/** Parses one completions CSV (text); `file` names it in errors. */
export function parseXstestCompletions(text: string, file: string): LabelledCompletion[] {
  const rows = parse(text, {
    columns: true,
    bom: true,
    skip_empty_lines: true,
    relax_column_count: false,
    info: true,
  }) as { record: Record<string, string>; info: { lines: number } }[];
  const stem = path.basename(file).replace(/\.csv$/i, "");
  const out: LabelledCompletion[] = [];
  if (rows.length > 0) {
    for (const col of REQUIRED) {
      if (!(col in rows[0].record))
        throw new Error(`${file}: missing column '${col}' (columns: ${Object.keys(rows[0].record).join(", ")})`);
    }
  }
  for (const { record, info } of rows) {
    const raw = (record.final_label ?? "").trim();
    const label = LABELS[raw];
    if (!label) {
      throw new Error(
        `${file}:${info.lines}: final_label '${raw}' is not one of ${Object.keys(LABELS).slice(0, 3).join(", ")}`,
      );
    }
    out.push({
      id: `${stem}:${record.id}`,
      file: path.basename(file),
      line: info.lines,
      type: record.type ?? "",
      prompt: record.prompt,
      completion: record.completion ?? "",
      label,
    });
  }
  return out;
}

/** Loads every *.csv in a folder (sorted by name), or one file when `dirOrFile` is a file. */
export function loadXstestCompletions(dirOrFile: string): LabelledCompletion[] {
  const st = statSync(dirOrFile, { throwIfNoEntry: false });
  if (!st) throw new Error(`XSTest completions: '${dirOrFile}' does not exist`);
  const files = st.isDirectory()
    ? readdirSync(dirOrFile)
        .filter((f) => f.toLowerCase().endsWith(".csv"))
        .sort()
        .map((f) => path.join(dirOrFile, f))
    : [dirOrFile];
  if (files.length === 0) throw new Error(`XSTest completions: no .csv files in '${dirOrFile}'`);
  return files.flatMap((f) => parseXstestCompletions(readFileSync(f, "utf8"), f));
}
