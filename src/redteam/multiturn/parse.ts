/**
 * Robust parsing of attacker-model output. Attackers are asked for JSON, but chat models wrap it in prose, code
 * fences, or send plain text. We try, in order: the whole text as JSON; each fenced block; each balanced {...} span
 * (string-aware scan); then a plain-text fallback for one field. Values are validated with zod and returned as data:
 * nothing here (or anywhere in redteam/) evaluates model output.
 */
import type { z } from "zod";

export type ParseSource = "json" | "fenced" | "embedded" | "fallback";

export interface Parsed<T> {
  value: T;
  source: ParseSource;
}

/** Every balanced top-level {...} substring, scanning with awareness of JSON strings and escapes. */
export function balancedObjects(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inStr = false;
  let esc = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inStr) {
      if (esc) esc = false;
      else if (ch === "\\") esc = true;
      else if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"' && depth > 0) inStr = true;
    else if (ch === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === "}" && depth > 0) {
      depth--;
      if (depth === 0) out.push(text.slice(start, i + 1));
    }
  }
  return out;
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Keys compared case-insensitively and with spaces/dashes as underscores ("Next Question" -> next_question). */
function normaliseKeys(v: unknown): unknown {
  if (!v || typeof v !== "object" || Array.isArray(v)) return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [
      k
        .trim()
        .toLowerCase()
        .replace(/[\s-]+/g, "_"),
      x,
    ]),
  );
}

/**
 * Parses attacker output into `schema`. `fallbackField` names the string field the whole (cleaned) text fills when
 * no JSON validates; omit it to fail instead. Throws an Error listing what was tried when nothing works.
 */
export function parseAttackerOutput<T>(raw: string, schema: z.ZodType<T>, fallbackField?: string): Parsed<T> {
  const attempts: { source: ParseSource; text: string }[] = [{ source: "json", text: raw.trim() }];
  for (const m of raw.matchAll(/```(?:json|JSON)?\s*\n?([\s\S]*?)```/g))
    attempts.push({ source: "fenced", text: m[1].trim() });
  for (const o of balancedObjects(raw)) attempts.push({ source: "embedded", text: o });
  const problems: string[] = [];
  for (const a of attempts) {
    const v = tryJson(a.text);
    if (v === undefined) continue;
    const r = schema.safeParse(normaliseKeys(v));
    if (r.success) return { value: r.data, source: a.source };
    problems.push(`${a.source}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  if (fallbackField) {
    const text = fallbackText(raw);
    if (text) {
      const r = schema.safeParse({ [fallbackField]: text });
      if (r.success) return { value: r.data, source: "fallback" };
      problems.push(`fallback: ${r.error.issues.map((i) => i.message).join("; ")}`);
    }
  }
  throw new Error(`attacker output did not parse (${problems.join(" | ") || "no JSON found, no usable text"})`);
}

/**
 * A line-leading field label as attackers write them when they ignore the JSON format ("Prompt:", "**Rationale:**"):
 * group 1 a label of the message to the target, group 2 a label of the attacker's own notes (the fields its JSON
 * would hold besides the message: PAIR's improvement, Crescendo's rationale).
 */
const FIELD_LABEL =
  /^[ \t]*(?:[*_#]+[ \t]*)?(?:((?:next[ \t]+)?(?:question|prompt|message|attack|user))|(improvement|rationale|reasoning))[ \t]*[*_]*[ \t]*:[ \t]*[*_]*[ \t]*/gim;

/**
 * The text an attacker meant as its message when it ignored the JSON format: labels, fences and quotes removed. When
 * the text labels its own notes (improvement, rationale), only the labelled message is kept, up to the next label;
 * notes without a message give nothing: the notes are the attacker's, never sent to the target.
 */
export function fallbackText(raw: string): string {
  let t = raw
    .trim()
    .replace(/^```[\w-]*\n?|```$/g, "")
    .trim();
  // Leftover JSON that failed validation is not a usable message.
  if (/^[{[]/.test(t)) return "";
  const labels = [...t.matchAll(FIELD_LABEL)];
  if (labels.some((m) => m[2] !== undefined)) {
    const i = labels.findIndex((m) => m[1] !== undefined);
    if (i < 0) return "";
    const start = (labels[i].index ?? 0) + labels[i][0].length;
    t = t.slice(start, labels[i + 1]?.index ?? t.length).trim();
  } else t = t.replace(/^(?:next\s+)?(?:question|prompt|message|attack|user)\s*:\s*/i, "");
  const q = /^"([\s\S]*)"$/.exec(t);
  return (q ? q[1] : t).trim();
}
