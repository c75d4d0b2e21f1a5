/**
 * JSONL in and out for the trainers' conversational formats (TRL's):
 *   SFT:        {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}
 *   preference: {"prompt": [...messages], "chosen": [...messages], "rejected": [...messages]}
 * A bad row fails the whole file with the file, the line and the key path; nothing is half-loaded.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { z } from "zod";
import { DataFileError } from "../domain/data-file.ts";
import { formatZodError, preferencePairSchema, sftExampleSchema } from "../domain/schemas.ts";
import type { PreferencePair, SftExample } from "../domain/types.ts";

/** Rows that fail validation, each as `file:line: problem` (the one data-file error; listed as "bad rows"). */
export { DataFileError };

/** A row and the line of its file it was read from (1-based), for messages about the row found later. */
export interface LinedRow<T> {
  row: T;
  line: number;
}

/** How a JSONL data file is read (parseJsonl, readJsonlFile). */
export interface JsonlOptions<T> {
  /** A problem of a row the schema accepts, or undefined. */
  check?: (row: T) => string | undefined;
  /** Each row as the file holds it (keys the schema does not name kept); default: as the schema parses it. */
  asWritten?: boolean;
}

/**
 * Every bad row is reported (issue 23: only the first was), so one fix-and-rerun repairs a file: the one JSONL reader
 * of data files (training rows here, findings in curate/io.ts).
 */
function parseJsonl<T>(file: string, text: string, schema: z.ZodType<T>, o: JsonlOptions<T> = {}): LinedRow<T>[] {
  const rows: LinedRow<T>[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      problems.push(`${file}:${i + 1}: invalid JSON (${(err as Error).message})`);
      continue;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      problems.push(formatZodError(parsed.error, `${file}:${i + 1}`));
      continue;
    }
    const problem = o.check?.(parsed.data);
    if (problem) {
      problems.push(`${file}:${i + 1}: ${problem}`);
      continue;
    }
    rows.push({ row: o.asWritten ? (value as T) : parsed.data, line: i + 1 });
  }
  if (problems.length > 0) throw new DataFileError(file, problems, "bad rows");
  return rows;
}

function checkSft(row: SftExample): string | undefined {
  if (!row.messages.some((m) => m.role === "assistant")) return "messages: no assistant turn to learn from";
  return undefined;
}

function checkPreference(row: PreferencePair): string | undefined {
  if (row.prompt[row.prompt.length - 1].role === "assistant") return "prompt: must end with a user (or system) turn";
  for (const side of ["chosen", "rejected"] as const) {
    if (row[side].some((m) => m.role !== "assistant")) return `${side}: must hold assistant turns only`;
  }
  return undefined;
}

export function parseSftJsonl(text: string, file = "<sft>"): SftExample[] {
  return parseJsonl(file, text, sftExampleSchema, { check: checkSft }).map((r) => r.row as SftExample);
}

export function parsePreferenceJsonl(text: string, file = "<dpo>"): PreferencePair[] {
  return parseJsonl(file, text, preferencePairSchema, { check: checkPreference }).map((r) => r.row as PreferencePair);
}

/** Reads a data file; a missing or unreadable file is a DataFileError naming it (not a raw ENOENT). */
function readData(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder, not a file" : (err as Error).message;
    throw new DataFileError(file, [`${file}: ${why}`]);
  }
}

export function readSftJsonl(file: string): SftExample[] {
  return parseSftJsonl(readData(file), file);
}

export function readPreferenceJsonl(file: string): PreferencePair[] {
  return parsePreferenceJsonl(readData(file), file);
}

/** The rows of an SFT data file with their line numbers. */
export function readSftJsonlLines(file: string): LinedRow<SftExample>[] {
  return parseJsonl(file, readData(file), sftExampleSchema, { check: checkSft }) as LinedRow<SftExample>[];
}

/** The rows of a preference data file with their line numbers. */
export function readPreferenceJsonlLines(file: string): LinedRow<PreferencePair>[] {
  return parseJsonl(file, readData(file), preferencePairSchema, {
    check: checkPreference,
  }) as LinedRow<PreferencePair>[];
}

/**
 * The rows of a JSONL file that `schema` validates line by line, with their line numbers; every bad line is reported at
 * once (DataFileError), a missing file is named. See JsonlOptions.
 */
export function readJsonlFile<T>(file: string, schema: z.ZodType<T>, o: JsonlOptions<T> = {}): LinedRow<T>[] {
  return parseJsonl(file, readData(file), schema, o);
}

/** Writes rows as JSONL atomically (temp file + rename), so a killed writer never leaves half a file. */
export function writeJsonl(file: string, rows: readonly unknown[]): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : ""));
  renameSync(tmp, file);
}
