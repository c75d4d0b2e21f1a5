/**
 * Table export. CSV per RFC 4180: fields separated by commas, records by CRLF, a field quoted when it holds a comma,
 * a double quote, CR or LF (quotes doubled inside). A field that a spreadsheet would read as a formula (leading =, +,
 * -, @, tab or CR) is prefixed with a single quote, since exported model output is untrusted. A field holding a
 * semicolon is quoted too: spreadsheets in locales whose list separator is ";" split an unquoted field there, and the
 * cell after the split ("ok;=HYPERLINK(...)") would be read as a formula. JSONL: one JSON value per line.
 */
export type Cell = string | number | boolean | null | undefined;

const FORMULA = /^[=+\-@\t\r]/;

export function csvField(value: Cell): string {
  if (value === null || value === undefined) return "";
  let s = typeof value === "string" ? value : String(value);
  if (typeof value === "string" && FORMULA.test(s)) s = `'${s}`;
  return /[",;\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(columns: readonly string[], rows: Iterable<Record<string, Cell>>): string {
  const lines = [columns.map(csvField).join(",")];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

export function toJsonl(rows: Iterable<unknown>): string {
  let out = "";
  for (const r of rows) out += `${JSON.stringify(r)}\n`;
  return out;
}
