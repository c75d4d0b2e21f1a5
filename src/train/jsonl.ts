/**
 * JSONL in and out for the trainers' conversational formats (TRL's):
 *   SFT:        {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}
 *   preference: {"prompt": [...messages], "chosen": [...messages], "rejected": [...messages]}
 * A bad row fails the whole file with the file, the line and the key path; nothing is half-loaded.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { z } from "zod";
import { formatZodError, preferencePairSchema, sftExampleSchema } from "../domain/schemas.ts";
import type { PreferencePair, SftExample } from "../domain/types.ts";

export class DataFileError extends Error {}

function parseJsonl<T>(file: string, text: string, schema: z.ZodType<T>, check?: (row: T) => string | undefined): T[] {
  const rows: T[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new DataFileError(`${file}:${i + 1}: invalid JSON (${(err as Error).message})`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new DataFileError(formatZodError(parsed.error, `${file}:${i + 1}`));
    const problem = check?.(parsed.data);
    if (problem) throw new DataFileError(`${file}:${i + 1}: ${problem}`);
    rows.push(parsed.data);
  }
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
  return parseJsonl(file, text, sftExampleSchema, checkSft) as SftExample[];
}

export function parsePreferenceJsonl(text: string, file = "<dpo>"): PreferencePair[] {
  return parseJsonl(file, text, preferencePairSchema, checkPreference) as PreferencePair[];
}

export function readSftJsonl(file: string): SftExample[] {
  return parseSftJsonl(readFileSync(file, "utf8"), file);
}

export function readPreferenceJsonl(file: string): PreferencePair[] {
  return parsePreferenceJsonl(readFileSync(file, "utf8"), file);
}

/** Writes rows as JSONL atomically (temp file + rename), so a killed writer never leaves half a file. */
export function writeJsonl(file: string, rows: readonly unknown[]): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : ""));
  renameSync(tmp, file);
}
