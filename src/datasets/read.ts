/**
 * File readers shared by the dataset loaders: RFC 4180 CSV (csv-parse: BOM, CRLF, quoted fields spanning lines),
 * JSON and (gzip) JSONL. Every problem is reported as `file:line: problem`; a reader returns all rows or throws,
 * never part of a file.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { CsvError, parse } from "csv-parse/sync";
import { DatasetError } from "./types.ts";

export interface CsvRow {
  /** 1-based line where the record starts. */
  line: number;
  /** Fields by lower-cased, trimmed header name. */
  fields: Record<string, string>;
}

/** Reads a file as UTF-8, with a clear error naming it when it is missing. */
export function readText(file: string): string {
  return readBuffer(file).toString("utf8");
}

export function readBuffer(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError(file, [
      { line: 0, problem: code === "ENOENT" ? "file not found" : `cannot read (${code ?? String(err)})` },
    ]);
  }
}

function countBreaks(s: string): number {
  return s.match(/\r\n|\r|\n/g)?.length ?? 0;
}

function csvProblem(err: CsvError): string {
  switch (err.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return "a quoted field is never closed (missing closing double quote)";
    case "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH":
    case "CSV_RECORD_INCONSISTENT_COLUMNS": {
      const m = /expect (\d+), got (\d+)/.exec(err.message);
      return m ? `row has ${m[2]} fields but the header has ${m[1]}` : err.message;
    }
    case "CSV_INVALID_CLOSING_QUOTE":
      return "unexpected character after a closing quote (a quote inside a quoted field must be doubled)";
    default:
      return err.message;
  }
}

/**
 * Parses CSV text. Header names are matched case-insensitively (they are lower-cased and trimmed), a BOM is dropped,
 * `required` columns must be present. `file` names the source in errors.
 */
export function parseCsv(text: string, file: string, required: readonly string[] = []): CsvRow[] {
  const records: { fields: string[]; line: number }[] = [];
  let nextLine = 1;
  let emptyBefore = 0;
  try {
    parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
      on_record: (record: string[], ctx) => {
        const empty = ctx.empty_lines - emptyBefore;
        emptyBefore = ctx.empty_lines;
        const line = nextLine + empty;
        records.push({ fields: record, line });
        nextLine = line + 1 + record.reduce((n, f) => n + countBreaks(f), 0);
        return null;
      },
    });
  } catch (err) {
    if (err instanceof CsvError) {
      // Blank lines skipped since the last good record sit before the bad one (on_record never counted them).
      const blank = (err as CsvError & { empty_lines?: number }).empty_lines;
      const line = nextLine + (typeof blank === "number" ? Math.max(0, blank - emptyBefore) : 0);
      throw new DatasetError(file, [{ line, problem: csvProblem(err) }]);
    }
    throw err;
  }
  if (records.length === 0) throw new DatasetError(file, [{ line: 1, problem: "empty file (no header row)" }]);
  const header = records[0].fields.map((h) =>
    h
      .replace(/^\uFEFF/, "")
      .trim()
      .toLowerCase(),
  );
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new DatasetError(file, [
      {
        line: 1,
        problem: `missing column${missing.length > 1 ? "s" : ""} ${missing.map((c) => `'${c}'`).join(", ")} (header: ${header.join(", ")})`,
      },
    ]);
  }
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new DatasetError(file, [{ line: 1, problem: `duplicate column '${dup}'` }]);
  return records.slice(1).map((r) => ({
    line: r.line,
    fields: Object.fromEntries(header.map((h, i) => [h, r.fields[i]])),
  }));
}

export function readCsv(file: string, required: readonly string[] = []): CsvRow[] {
  return parseCsv(readText(file), file, required);
}

/** 1-based line of a character offset. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Is `prefix` the start of some valid JSON document? (Monotone in the prefix length.) */
function viablePrefix(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (err) {
    return /Unexpected end of JSON input|Unterminated string|Expected .* after/.test((err as Error).message);
  }
}

/** Offset of a JSON syntax error: from the engine's message when it gives one, else by bisecting viable prefixes. */
function errorOffset(text: string, msg: string): number {
  const pos = /position (\d+)/.exec(msg);
  if (pos) return Number(pos[1]);
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (viablePrefix(text.slice(0, mid))) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Parses a JSON document; a syntax error names its line. */
export function parseJson(text: string, file: string): unknown {
  const body = text.replace(/^\uFEFF/, "");
  try {
    return JSON.parse(body);
  } catch (err) {
    const msg = (err as Error).message;
    const line = lineOf(body, errorOffset(body, msg));
    const short = msg.replace(/, (\.\.\.)?"[\s\S]*" is not valid JSON$/, "").replace(/ in JSON at position \d+.*$/, "");
    throw new DatasetError(file, [{ line, problem: `invalid JSON: ${short}` }]);
  }
}

export function readJson(file: string): unknown {
  return parseJson(readText(file), file);
}

export interface JsonlRow {
  line: number;
  value: unknown;
}

/** Parses JSON Lines (blank lines skipped); a bad line is reported with its number. */
export function parseJsonl(text: string, file: string): JsonlRow[] {
  const out: JsonlRow[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (!l) continue;
    try {
      out.push({ line: i + 1, value: JSON.parse(l) });
    } catch (err) {
      throw new DatasetError(file, [{ line: i + 1, problem: `invalid JSON: ${(err as Error).message}` }]);
    }
  }
  return out;
}

/** Reads JSONL, gunzipping when the name ends in .gz. */
export function readJsonl(file: string): JsonlRow[] {
  const buf = readBuffer(file);
  let text: string;
  if (file.endsWith(".gz")) {
    try {
      text = gunzipSync(buf).toString("utf8");
    } catch (err) {
      throw new DatasetError(file, [{ line: 0, problem: `not a valid gzip file (${(err as Error).message})` }]);
    }
  } else text = buf.toString("utf8");
  return parseJsonl(text, file);
}
