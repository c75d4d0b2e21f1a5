/**
 * Table export, through csv-stringify. CSV per RFC 4180: fields separated by commas, records by CRLF, a field quoted
 * when it holds a comma, a double quote, CR or LF (quotes doubled inside). A string field that a spreadsheet would read
 * as a formula (leading =, +, -, @, tab or CR) is prefixed with a single quote (`escape_formulas`), since exported
 * model output is untrusted; numbers are written as they are. A field holding a semicolon is quoted too: spreadsheets
 * in locales whose list separator is ";" split an unquoted field there, and the cell after the split
 * ("ok;=HYPERLINK(...)") would be read as a formula. JSONL: one JSON value per line.
 */
import { type Options, stringify } from "csv-stringify/sync";

export type Cell = string | number | boolean | null | undefined;

const OPTIONS: Options = {
  escape_formulas: true,
  // a lone CR or LF (csv-stringify quotes only its record delimiter, CRLF) and ";" (see above)
  quoted_match: /[;\r\n]/,
  record_delimiter: "windows",
  cast: { boolean: (v) => String(v) },
};

export function csvField(value: Cell): string {
  return stringify([[value]], { ...OPTIONS, eof: false });
}

export function toCsv(columns: readonly string[], rows: Iterable<Record<string, Cell>>): string {
  const records: Cell[][] = [[...columns]];
  for (const r of rows) records.push(columns.map((c) => r[c]));
  return stringify(records, OPTIONS);
}

export function toJsonl(rows: Iterable<unknown>): string {
  let out = "";
  for (const r of rows) out += `${JSON.stringify(r)}\n`;
  return out;
}
