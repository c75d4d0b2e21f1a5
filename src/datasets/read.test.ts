import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseCsv, parseJson, readJsonl } from "./read.ts";
import { DatasetError } from "./types.ts";

function err(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DatasetError) return e;
    throw e;
  }
  throw new Error("expected a DatasetError");
}

describe("parseCsv", () => {
  it("handles a BOM, CRLF, quoted fields with embedded newlines and case-insensitive headers", () => {
    const text = '\uFEFFID,Prompt\r\n1,"line one\r\nline two"\r\n\r\n2,"say ""hi"""\r\n3,plain';
    const rows = parseCsv(text, "x.csv", ["id", "prompt"]);
    expect(rows).toEqual([
      { line: 2, fields: { id: "1", prompt: "line one\r\nline two" } },
      { line: 5, fields: { id: "2", prompt: 'say "hi"' } },
      { line: 6, fields: { id: "3", prompt: "plain" } },
    ]);
  });

  it("a row with too many fields: file, line and problem", () => {
    const e = err(() => parseCsv('id,prompt\n1,"multi\nline"\n2,b,extra\n', "probes.csv"));
    expect(e.message).toBe("probes.csv:4: row has 3 fields but the header has 2");
  });

  it("an unclosed quote: file, line and problem", () => {
    const e = err(() => parseCsv('id,prompt\n1,ok\n2,"never closed\n3,x\n', "probes.csv"));
    expect(e.message).toBe("probes.csv:3: a quoted field is never closed (missing closing double quote)");
  });

  it("a stray quote after a closing quote", () => {
    const e = err(() => parseCsv('id,prompt\n1,"a"b\n', "probes.csv"));
    expect(e.message).toBe(
      "probes.csv:2: unexpected character after a closing quote (a quote inside a quoted field must be doubled)",
    );
  });

  it("an error after blank lines names the line of the bad row, not the line after the last good row", () => {
    // Blank lines were counted only when the next record parsed, so each error below said line 3.
    expect(err(() => parseCsv("id,prompt\n1,a\n\n\n2,b,c\n", "p.csv")).message).toBe(
      "p.csv:5: row has 3 fields but the header has 2",
    );
    expect(err(() => parseCsv('id,prompt\n1,a\n\n2,"never closed\n3,x\n', "p.csv")).message).toBe(
      "p.csv:4: a quoted field is never closed (missing closing double quote)",
    );
    expect(err(() => parseCsv('id,prompt\r\n1,a\r\n\r\n2,"b"x\r\n', "p.csv")).message).toMatch(
      /^p\.csv:4: unexpected character after a closing quote/,
    );
  });

  it("a missing column, a duplicate column, an empty file", () => {
    expect(err(() => parseCsv("id,text\n1,a\n", "p.csv", ["id", "prompt"])).message).toBe(
      "p.csv:1: missing column 'prompt' (header: id, text)",
    );
    expect(err(() => parseCsv("id,ID\n1,a\n", "p.csv")).message).toBe("p.csv:1: duplicate column 'id'");
    expect(err(() => parseCsv("", "p.csv")).message).toBe("p.csv:1: empty file (no header row)");
  });
});

describe("JSON and JSONL", () => {
  it("a JSON syntax error names the line", () => {
    const e = err(() => parseJson('{\n  "a": [1, 2],\n  "b": oops\n}', "q.json"));
    expect(e.message).toMatch(/^q\.json:3: invalid JSON: /);
  });

  it("gzip JSONL: a bad line is named; blank lines are skipped", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-jsonl-"));
    const f = path.join(dir, "x.jsonl.gz");
    writeFileSync(f, gzipSync('{"a":1}\n\n{"a":2}\n{"a":\n'));
    const e = err(() => readJsonl(f));
    expect(e.message).toMatch(/x\.jsonl\.gz:4: invalid JSON: /);
    writeFileSync(f, gzipSync('{"a":1}\n\n{"a":2}\n'));
    expect(readJsonl(f)).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 3, value: { a: 2 } },
    ]);
    writeFileSync(f, "not gzip");
    expect(err(() => readJsonl(f)).message).toMatch(/x\.jsonl\.gz: not a valid gzip file/);
  });
});
