/** Applying a framing to an attack draft: fill the template, add system prompt / fake turns / many-shot examples. */

import { deriveSeed, Rng } from "../../domain/random.ts";
import type { Conversation } from "../../domain/types.ts";
import type { AttackDraft, Framing, FramingText } from "./types.ts";

/** Fills {{prompt}} and {{hint}}; an empty hint also removes the blank lines around it. */
export function fillTemplate(template: string, vars: { prompt: string; hint?: string }): string {
  let s = template;
  if (!vars.hint)
    s = s.replace(/(\n\n)?\{\{\s*hint\s*\}\}(\n\n)?/g, (_m, a?: string, b?: string) => (a && b ? "\n\n" : ""));
  // A function replacement, so "$&"-style sequences in the attack text are inserted literally.
  return s.replace(/\{\{\s*(prompt|hint)\s*\}\}/g, (_m, k: "prompt" | "hint") =>
    k === "prompt" ? vars.prompt : (vars.hint ?? ""),
  );
}

function textFor(f: Framing, language: string): FramingText {
  return f.i18n?.[language] ?? f;
}

export interface FramingOptions {
  seed: number;
  /** Many-shot: how many fake exchanges (default: the framing's defaultShots, else all of the pool). */
  shots?: number;
}

export function applyFraming(f: Framing, draft: AttackDraft, opts: FramingOptions): AttackDraft {
  const t = textFor(f, draft.language);
  const usesHint = /\{\{\s*hint\s*\}\}/.test(t.user) || (t.system ? /\{\{\s*hint\s*\}\}/.test(t.system) : false);
  const vars = { prompt: draft.text, hint: usesHint ? draft.pendingHint : undefined };
  const prefix: Conversation = [...draft.prefix];
  if (t.system) {
    const sys = fillTemplate(t.system, vars);
    // A framing's system prompt replaces an earlier one (there is one system message, first).
    if (prefix[0]?.role === "system") prefix[0] = { role: "system", content: sys };
    else prefix.unshift({ role: "system", content: sys });
  }
  for (const m of t.turns ?? []) prefix.push({ role: m.role, content: fillTemplate(m.content, vars) });
  if (f.shots?.length) {
    const n = opts.shots ?? f.defaultShots ?? f.shots.length;
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`framing '${f.name}': shots must be a positive integer, got ${n}`);
    const rng = new Rng(deriveSeed(opts.seed, "many_shot", f.name));
    // Cycle through seeded shuffles of the pool, so n may exceed the pool size without back-to-back repeats.
    const picked = [];
    while (picked.length < n) picked.push(...rng.shuffle(f.shots));
    for (const s of picked.slice(0, n)) {
      prefix.push({ role: "user", content: s.user }, { role: "assistant", content: s.assistant });
    }
  }
  return {
    prefix,
    text: fillTemplate(t.user, vars),
    pendingHint: usesHint ? undefined : draft.pendingHint,
    language: draft.language,
  };
}
