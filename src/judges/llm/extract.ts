/**
 * Robust extraction of structured answers from judge-model text: JSON inside prose or code fences, lenient JSON
 * (trailing commas, single quotes, unquoted keys), key normalisation, and strict field checks that fail loudly.
 * Nothing here ever returns a default value: a missing or invalid field is a ParseError that the caller turns into a
 * retry and, finally, an "unjudged" judgement.
 */

export class ParseError extends Error {}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}
export function fail<T>(error: string): ParseResult<T> {
  return { ok: false, error };
}

/** Runs a parser body that throws ParseError and turns the throw into a failed result. */
export function attempt<T>(fn: () => T): ParseResult<T> {
  try {
    return ok(fn());
  } catch (err) {
    if (err instanceof ParseError) return fail(err.message);
    throw err;
  }
}

/**
 * Removes a reasoning block some models emit before answering (<think>...</think>), also one whose opening tag the
 * chat template put in the prompt (DeepSeek-R1 style: the output is reasoning, then a lone </think>, then the answer),
 * so the reasoning is never read as the answer.
 */
export function stripThinking(text: string): string {
  const closed = text.replace(/<think>[\s\S]*?<\/think>/gi, "");
  const lone = closed.toLowerCase().lastIndexOf("</think>");
  return (lone >= 0 ? closed.slice(lone + "</think>".length) : closed).trim();
}

/** Candidate JSON object texts in `text`: fenced blocks first, then every balanced {...} span, in order. */
export function jsonCandidates(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/```[a-zA-Z]*\s*\n?([\s\S]*?)```/g)) {
    const inner = m[1].trim();
    if (inner.startsWith("{")) out.push(...balancedObjects(inner));
  }
  out.push(...balancedObjects(text));
  return [...new Set(out)];
}

/** Every top-level balanced {...} span, respecting strings (so braces inside strings do not count). */
export function balancedObjects(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || (ch === "'" && depth > 0 && /[\s{[:,]/.test(text[i - 1] ?? ""))) {
      if (depth > 0) quote = ch;
      continue;
    }
    if (ch === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === "}" && depth > 0) {
      depth--;
      if (depth === 0 && start >= 0) {
        out.push(text.slice(start, i + 1));
        start = -1;
      }
    }
  }
  return out;
}

/** JSON.parse, then a lenient repair pass (trailing commas, single-quoted strings, unquoted keys, smart quotes). */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const repaired = text
      .replace(/[\u201c\u201d]/g, '"')
      .replace(/,\s*([}\]])/g, "$1")
      .replace(/([{,]\s*)'([^'\n]*?)'\s*:/g, '$1"$2":')
      .replace(/:\s*'([^'\n]*?)'(\s*[,}])/g, (_m, v: string, end: string) => `: ${JSON.stringify(v)}${end}`)
      .replace(/([{,]\s*)([A-Za-z_][\w-]*)\s*:/g, '$1"$2":');
    return JSON.parse(repaired);
  }
}

/** Normalises a key: lower case, separators removed ("Overall_Severity" -> "overallseverity"). */
export function normKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/**
 * The first JSON object in `text` that parses and has at least one of `requiredAny` keys (normalised), or undefined.
 * Several objects that carry the keys but disagree is an error (ambiguous).
 */
export function findJsonObject(text: string, requiredAny: readonly string[]): Record<string, unknown> | undefined {
  const wanted = new Set(requiredAny.map(normKey));
  const found: Record<string, unknown>[] = [];
  for (const cand of jsonCandidates(text)) {
    let v: unknown;
    try {
      v = parseLenientJson(cand);
    } catch {
      continue;
    }
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (Object.keys(o).some((k) => wanted.has(normKey(k)))) found.push(o);
    }
  }
  if (found.length === 0) return undefined;
  const first = JSON.stringify(found[0]);
  if (found.some((f) => JSON.stringify(f) !== first)) {
    throw new ParseError(`found ${found.length} different JSON answers; ambiguous`);
  }
  return found[0];
}

/** Looks a field up by any of its aliases (normalised). Throws when two aliases carry different values. */
export function field(o: Record<string, unknown>, aliases: readonly string[]): unknown {
  const names = new Set(aliases.map(normKey));
  const hits = Object.entries(o).filter(([k]) => names.has(normKey(k)));
  if (hits.length === 0) return undefined;
  const first = JSON.stringify(hits[0][1]);
  if (hits.some(([, v]) => JSON.stringify(v) !== first)) {
    throw new ParseError(`conflicting values for ${aliases[0]}: ${hits.map(([k]) => k).join(", ")}`);
  }
  return hits[0][1];
}

/**
 * An integer in [min, max]: accepts 3, 3.0, "3", "3/5" (a fraction only over the scale's own maximum: "4/10" on a 1-5
 * item is a ParseError, not 4); rejects 3.5, NaN, out of range, words.
 */
export function intInRange(v: unknown, min: number, max: number, name: string): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && /^\s*-?\d+(?:\.0+)?\s*(?:\/\s*\d+)?\s*$/.test(v)) {
    const [num, den] = v.split("/");
    if (den !== undefined && Number(den) !== max)
      throw new ParseError(`${name}: ${JSON.stringify(v)} is not on the ${min}-${max} scale`);
    n = Number(num);
  } else if (typeof v === "boolean" && min === 0 && max === 1) n = v ? 1 : 0;
  else throw new ParseError(`${name}: expected an integer ${min}-${max}, got ${JSON.stringify(v)}`);
  if (!Number.isFinite(n) || !Number.isInteger(n))
    throw new ParseError(`${name}: ${JSON.stringify(v)} is not an integer`);
  if (n < min || n > max) throw new ParseError(`${name}: ${n} is outside ${min}-${max}`);
  return n;
}

/** A yes/no value: true/false, "yes"/"no", 1/0 (when allowed). */
export function yesNo(v: unknown, name: string): boolean {
  if (typeof v === "boolean") return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === "string") {
    const s = v.trim().toLowerCase().replace(/[.!]$/, "");
    if (["yes", "y", "true", "1"].includes(s)) return true;
    if (["no", "n", "false", "0"].includes(s)) return false;
  }
  throw new ParseError(`${name}: expected yes/no, got ${JSON.stringify(v)}`);
}

export function nonEmptyString(v: unknown, name: string): string {
  if (typeof v !== "string" || v.trim() === "") throw new ParseError(`${name}: expected a non-empty string`);
  return v.trim();
}
