/**
 * The shared conformance suite every dataset loader runs (see types.ts for the contract). Against the reviewed copy
 * of the data it checks the exact row count and the exact counts by category, label and language; unique, stable
 * ids; valid probes (domain schema, source, license); that the taxonomy label map covers the file exactly; that the
 * declared files exist; and that a corrupted copy is rejected whole with file + line, and a missing file named.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { fileSha256 } from "../domain/file-hash.ts";
import { probeSchema } from "../domain/schemas.ts";
import { CATEGORY_IDS, DATASET_LABEL_MAP } from "../domain/taxonomy.ts";
import type { Probe } from "../domain/types.ts";
import { type DatasetSummary, summarize } from "./summary.ts";
import { DatasetError, type DatasetLoader } from "./types.ts";

export interface LoaderExpectations {
  /** Folder with the reviewed copy of the dataset. */
  dir: string;
  total: number;
  by_category: Record<string, number>;
  by_label: Record<string, number>;
  by_language: Record<string, number>;
  /**
   * The DATASET_LABEL_MAP entry this loader uses, and a row's labels: the first must be in the map; the others
   * (more specific overrides, further tags) may be. Every key of the map must occur in the file.
   */
  labelMap?: { dataset: string; labelsOf: (row: never) => string[] };
  /** The rows are Probes (validated against the domain schema). */
  probes?: boolean;
}

function sorted(o: Record<string, number>): [string, number][] {
  return Object.entries(o).sort((a, b) => a[0].localeCompare(b[0]));
}

/** Writes a copy of `dir` in which `file` has one malformed record appended; returns [copyDir, badLine]. */
function corruptCopy(dir: string, file: string): { copy: string; line: number } {
  const copy = mkdtempSync(path.join(tmpdir(), "bf-corrupt-"));
  cpSync(dir, copy, { recursive: true });
  const target = path.join(copy, file);
  const buf = readFileSync(target);
  if (file.endsWith(".gz")) {
    const text = gunzipSync(buf).toString("utf8").replace(/\n*$/, "\n");
    const line = text.split("\n").length;
    writeFileSync(target, gzipSync(Buffer.from(`${text}{"chosen": "broken\n`)));
    return { copy, line };
  }
  const text = buf.toString("utf8");
  if (file.endsWith(".json")) {
    const cut = text.lastIndexOf("]");
    writeFileSync(target, `${text.slice(0, cut)}],\n  oops\n}`);
    return { copy, line: text.slice(0, cut).split("\n").length + 1 };
  }
  const firstEol = text.search(/\r?\n/);
  const eol = text[firstEol] === "\r" ? "\r\n" : "\n";
  const body = text.endsWith(eol) ? text : text + eol;
  const line = body.split(/\r\n|\n/).length;
  writeFileSync(target, `${body}"an unclosed quote,${eol}`);
  return { copy, line };
}

export function loaderConformance<T>(loader: DatasetLoader<T>, exp: LoaderExpectations): void {
  describe(`dataset loader conformance: ${loader.info.name}`, () => {
    let rows: T[] = [];
    let summary: DatasetSummary;

    it("loads the reviewed copy with the exact row count and counts by category, label and language", async () => {
      rows = await loader.load(exp.dir);
      summary = summarize(loader, rows);
      expect(summary.total).toBe(exp.total);
      expect(loader.info.rows).toBe(exp.total);
      expect(sorted(summary.by_category)).toEqual(sorted(exp.by_category));
      expect(sorted(summary.by_label)).toEqual(sorted(exp.by_label));
      expect(sorted(summary.by_language)).toEqual(sorted(exp.by_language));
    });

    it("has unique, stable ids and deterministic output", async () => {
      const again = await loader.load(exp.dir);
      expect(again).toEqual(rows);
      const ids = rows.map((r) => loader.idOf(r));
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id.length).toBeGreaterThan(0);
    });

    it("maps every row onto the taxonomy", () => {
      const allowed = new Set<string>([...CATEGORY_IDS, "unlabelled"]);
      for (const r of rows) expect(allowed.has(loader.facets(r).category)).toBe(true);
      if (exp.probes) {
        for (const r of rows as unknown as Probe[]) {
          expect(probeSchema.safeParse(r).success).toBe(true);
          expect(r.source).toBe(loader.info.name);
          expect(r.license).toBe(loader.info.license);
          expect(r.id.startsWith(`${loader.info.name}:`)).toBe(true);
          expect(r.prompt.trim().length).toBeGreaterThan(0);
        }
      }
    });

    if (exp.labelMap) {
      const lm = exp.labelMap;
      it(`the ${lm.dataset} label map covers the file exactly (no missing, no unused labels)`, () => {
        const map = DATASET_LABEL_MAP[lm.dataset];
        const keys = Object.keys(map);
        const used = new Set<string>();
        for (const r of rows) {
          const labels = lm.labelsOf(r as never).map((l) => l.trim().toLowerCase());
          for (const l of labels) used.add(l);
          // Every row's label is mapped (the first label is the one that must exist; others are optional overrides).
          expect(keys).toContain(labels[0]);
        }
        for (const k of keys) expect([...used]).toContain(k);
      });
    }

    it("declares its files at their place in the folder, with a public https URL and a matching pinned sha256", () => {
      expect(loader.info.files.length).toBeGreaterThan(0);
      for (const f of loader.info.files) {
        const file = path.join(exp.dir, ...f.name.split("/"));
        expect(existsSync(file)).toBe(true);
        expect(f.url).toMatch(/^https:\/\//);
        if (f.sha256) expect(fileSha256(file)).toBe(f.sha256);
      }
    });

    it("rejects a corrupted file whole, naming the file and the line", async () => {
      const file = loader.info.files[0].name;
      const { copy, line } = corruptCopy(exp.dir, file);
      try {
        const err = await loader.load(copy).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(DatasetError);
        const msg = (err as DatasetError).message;
        expect(msg).toContain(`${path.basename(file)}:${line}: `);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });

    it("names a missing file", async () => {
      const empty = mkdtempSync(path.join(tmpdir(), "bf-empty-"));
      const err = await loader.load(empty).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/file not found|no such file|no xstest/);
    });
  });
}
