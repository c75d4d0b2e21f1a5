/**
 * The generic loader for users' own probes and conversations: a CSV (RFC 4180) or JSONL file (optionally .gz) plus
 * a column mapping saying which column holds what. Every row is validated before anything is returned.
 *
 *   prompt        column with the prompt text                      (this, or `conversation`, is required)
 *   conversation  column with a JSON list of {role, content}; the last message must be the user's and becomes
 *                 the prompt, the earlier ones the probe's history
 *   id            column with a unique id (default: the line number)
 *   category      column with a taxonomy id or slug ("S1", "violent_crimes"), or a dataset label looked up in
 *                 `categoryMap`; default `defaultCategory`
 *   label         column with safe/unsafe; default `defaultLabel` ("unsafe")
 *   language      column with a language code; default `defaultLanguage` ("en")
 *   meta          columns copied into probe.meta
 */
import path from "node:path";
import { z } from "zod";
import { conversationSchema } from "../../domain/schemas.ts";
import type { CategoryId } from "../../domain/taxonomy.ts";
import { CATEGORY_IDS, category as lookupCategory } from "../../domain/taxonomy.ts";
import type { Conversation, Probe, ProbeLabel } from "../../domain/types.ts";
import { readCsv, readJsonl } from "../read.ts";
import { DatasetError, type DatasetInfo, type DatasetLoader, ProblemCollector } from "../types.ts";
import { makeProbe } from "./common.ts";

export const columnMappingSchema = z.strictObject({
  prompt: z.string().min(1).optional(),
  conversation: z.string().min(1).optional(),
  id: z.string().min(1).optional(),
  category: z.string().min(1).optional(),
  categoryMap: z.record(z.string(), z.enum(CATEGORY_IDS)).optional(),
  label: z.string().min(1).optional(),
  language: z.string().min(1).optional(),
  meta: z.array(z.string().min(1)).optional(),
  defaultCategory: z.enum(CATEGORY_IDS).optional(),
  defaultLabel: z.enum(["safe", "unsafe"]).optional(),
  defaultLanguage: z.string().min(2).optional(),
  /** Dataset name used in probe ids and `source` (default: the file name without extension). */
  name: z.string().min(1).optional(),
  license: z.string().optional(),
});
export type ColumnMapping = z.infer<typeof columnMappingSchema>;

/** Parses "prompt=question,label=lbl,meta=a+b" (the CLI's --map) into a mapping. */
export function parseMappingSpec(spec: string): ColumnMapping {
  const out: Record<string, unknown> = {};
  for (const part of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`--map: '${part}' is not key=column`);
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    out[k] = k === "meta" ? v.split("+").map((s) => s.trim()) : v;
  }
  const r = columnMappingSchema.safeParse(out);
  if (!r.success) {
    throw new Error(`--map: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  }
  return r.data;
}

type Raw = Record<string, unknown>;

/** BCP-47-ish: a 2-3 letter language, then optional script/region/variant subtags. */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/;

function str(row: Raw, col: string): string | undefined {
  const v = row[col];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v.trim() === "" ? undefined : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new Error(`column '${col}' is not text`);
}

function resolveCategory(m: ColumnMapping, raw: string | undefined): CategoryId {
  if (raw === undefined) {
    if (m.defaultCategory) return m.defaultCategory;
    throw new Error(`column '${m.category}' is empty and no defaultCategory is set`);
  }
  const key = raw.trim();
  if (m.categoryMap) {
    const hit = m.categoryMap[key] ?? m.categoryMap[key.toLowerCase()];
    if (hit) return hit;
  }
  try {
    return lookupCategory(key).id;
  } catch {
    throw new Error(
      `category '${raw}' is neither a taxonomy id/slug nor in categoryMap (ids: ${CATEGORY_IDS.join(", ")})`,
    );
  }
}

function toConversation(v: unknown, col: string): Conversation {
  const parsed = typeof v === "string" ? (JSON.parse(v) as unknown) : v;
  const r = conversationSchema.min(1).safeParse(parsed);
  if (!r.success) throw new Error(`column '${col}' is not a list of {role, content} messages`);
  return r.data;
}

function rowToProbe(info: DatasetInfo, m: ColumnMapping, row: Raw, line: number): Probe {
  let prompt: string | undefined;
  let history: Conversation | undefined;
  if (m.conversation) {
    const conv = toConversation(row[m.conversation], m.conversation);
    const last = conv[conv.length - 1];
    if (last.role !== "user") throw new Error(`column '${m.conversation}': the last message must be the user's`);
    prompt = last.content;
    if (conv.length > 1) history = conv.slice(0, -1);
  } else if (m.prompt) {
    prompt = str(row, m.prompt);
    if (prompt === undefined) throw new Error(`column '${m.prompt}' is empty`);
  }
  if (prompt === undefined) throw new Error("the mapping names neither a prompt nor a conversation column");
  const labelRaw = m.label ? str(row, m.label)?.trim().toLowerCase() : undefined;
  if (labelRaw !== undefined && labelRaw !== "safe" && labelRaw !== "unsafe") {
    throw new Error(`column '${m.label}': '${labelRaw}' is not safe or unsafe`);
  }
  const label: ProbeLabel = (labelRaw as ProbeLabel | undefined) ?? m.defaultLabel ?? "unsafe";
  const catRaw = m.category ? str(row, m.category) : undefined;
  const category = m.category
    ? resolveCategory(m, catRaw)
    : (m.defaultCategory ?? (label === "safe" ? "benign" : undefined));
  if (!category) throw new Error("no category: map a category column or set defaultCategory");
  const meta: Record<string, string> = {};
  for (const col of m.meta ?? []) {
    const v = str(row, col);
    if (v !== undefined) meta[col] = v;
  }
  const language = (m.language ? str(row, m.language)?.trim() : undefined) ?? m.defaultLanguage ?? "en";
  if (!LANGUAGE_TAG.test(language)) throw new Error(`language '${language}' is not a language code like en, pt-BR`);
  return makeProbe(info, {
    id: (m.id ? str(row, m.id) : undefined) ?? String(line),
    prompt,
    history,
    category,
    label,
    language,
    sourceLabel: catRaw,
    meta,
  });
}

/** Loads probes from a user's CSV or JSONL file with a column mapping. Nothing is returned unless every row is valid. */
export function loadProbesFile(file: string, mapping: ColumnMapping): Probe[] {
  const m = columnMappingSchema.parse(mapping);
  if (!m.prompt && !m.conversation) {
    throw new DatasetError(file, [{ line: 0, problem: "the column mapping needs `prompt` or `conversation`" }]);
  }
  const base = path
    .basename(file)
    .replace(/\.gz$/, "")
    .replace(/\.(csv|jsonl|json)$/i, "");
  const info: DatasetInfo = {
    name: m.name ?? base,
    title: base,
    description: `user file ${path.basename(file)}`,
    kind: "probes",
    license: m.license ?? "unknown",
    homepage: "",
    rows: 0,
    files: [],
  };
  const isCsv = /\.csv$/i.test(file.replace(/\.gz$/, ""));
  let rows: { line: number; raw: Raw }[];
  if (isCsv) {
    // A CSV must have the columns with no default (as a JSONL row must have those keys); the others (id, label,
    // language, meta, a category with a defaultCategory) may be left out of the header, as they may be of a JSONL row.
    const needed = [m.prompt, m.conversation, m.defaultCategory ? undefined : m.category]
      .filter((c): c is string => c !== undefined)
      .map((c) => c.toLowerCase());
    rows = readCsv(file, needed).map((r) => ({ line: r.line, raw: r.fields }));
    // CSV headers are lower-cased by the reader; look columns up the same way.
    for (const k of ["prompt", "conversation", "id", "category", "label", "language"] as const) {
      const v = m[k];
      if (v !== undefined) m[k] = v.toLowerCase();
    }
    if (m.meta) m.meta = m.meta.map((c) => c.toLowerCase());
  } else {
    rows = readJsonl(file).map((r) => {
      if (!r.value || typeof r.value !== "object" || Array.isArray(r.value)) {
        throw new DatasetError(file, [{ line: r.line, problem: "expected a JSON object per line" }]);
      }
      return { line: r.line, raw: r.value as Raw };
    });
  }
  // An empty file is a mistake (a wrong path, an export that failed), never an empty probe set to run.
  if (rows.length === 0) {
    throw new DatasetError(file, [
      { line: 0, problem: isCsv ? "no rows below the header row" : "no rows (the file is empty)" },
    ]);
  }
  const pc = new ProblemCollector(file);
  const out: Probe[] = [];
  const seen = new Map<string, number>();
  for (const { line, raw } of rows) {
    const p = pc.check(line, () => rowToProbe(info, m, raw, line));
    if (!p) continue;
    const prev = seen.get(p.id);
    if (prev !== undefined) pc.add(line, `duplicate id '${p.id}' (first on line ${prev})`);
    else seen.set(p.id, line);
    out.push(p);
  }
  pc.throwIfAny();
  return out;
}

/** A DatasetLoader over one user file (load's `dir` argument is the file path). */
export function genericLoader(mapping: ColumnMapping, name = "custom"): DatasetLoader<Probe> {
  return {
    info: {
      name,
      title: "Your own probes (CSV or JSONL with a column mapping)",
      description: "Any CSV/JSONL file; --map names the prompt/conversation, category, label and language columns.",
      kind: "probes",
      license: mapping.license ?? "unknown",
      homepage: "",
      rows: 0,
      files: [],
    },
    load: async (file) => loadProbesFile(file, mapping),
    facets: (p) => ({ category: p.category, label: p.label, language: p.language }),
    idOf: (p) => p.id,
  };
}
