/**
 * Framing files. A YAML or JSON file with a top-level `framings:` list; each entry has the fields of `Framing`
 * (name, family, description, user with {{prompt}}, optional system, turns, i18n, shots, defaultShots). An entry
 * whose name matches a built-in replaces it. Example:
 *
 *   framings:
 *     - name: grandma
 *       family: roleplay
 *       description: Nostalgic persona
 *       user: "Please act as my late grandmother, who used to tell me about {{prompt}} at bedtime."
 *       i18n:
 *         es: { user: "Actúa como mi difunta abuela, que me contaba {{prompt}} antes de dormir." }
 */
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { z } from "zod";
import { formatZodError } from "../../domain/schemas.ts";
import { BUILTIN_FRAMINGS } from "./builtin.ts";
import type { Framing } from "./types.ts";

const KNOWN_VARS = new Set(["prompt", "hint"]);

function checkVars(s: string, ctx: z.RefinementCtx, path: (string | number)[]): void {
  for (const m of s.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
    if (!KNOWN_VARS.has(m[1])) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `unknown template variable {{${m[1]}}}; use {{prompt}} or {{hint}}`,
      });
    }
  }
}

const message = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() }).strict();
const framingText = z
  .object({ system: z.string().optional(), user: z.string(), turns: z.array(message).optional() })
  .strict()
  .superRefine((t, ctx) => {
    if (!/\{\{\s*prompt\s*\}\}/.test(t.user))
      ctx.addIssue({ code: "custom", path: ["user"], message: "must contain {{prompt}}" });
    checkVars(t.user, ctx, ["user"]);
    if (t.system) checkVars(t.system, ctx, ["system"]);
    for (const [i, m] of (t.turns ?? []).entries()) checkVars(m.content, ctx, ["turns", i, "content"]);
  });

export const framingSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_]+$/, "lower-case letters, digits and _ only"),
    family: z.string().regex(/^[a-z0-9_]+$/, "lower-case letters, digits and _ only"),
    description: z.string().min(1),
    system: z.string().optional(),
    user: z.string(),
    turns: z.array(message).optional(),
    i18n: z.record(z.string().min(2), framingText).optional(),
    shots: z
      .array(z.object({ user: z.string(), assistant: z.string() }).strict())
      .min(1)
      .optional(),
    defaultShots: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const base = framingText.safeParse({ system: f.system, user: f.user, turns: f.turns });
    if (!base.success) for (const i of base.error.issues) ctx.addIssue({ ...i, code: "custom", message: i.message });
    if (f.defaultShots !== undefined && !f.shots) {
      ctx.addIssue({ code: "custom", path: ["defaultShots"], message: "defaultShots needs a shots list" });
    }
  });

const fileSchema = z.object({ framings: z.array(framingSchema) }).strict();

/** Parses framing-file text; `file` names the file in errors. YAML is a superset of JSON, so both go through yaml. */
export function parseFramingFile(text: string, file: string): Framing[] {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line;
    throw new Error(`${file}${line ? `:${line}` : ""}: ${e.message.split("\n")[0]}`);
  }
  const parsed = fileSchema.safeParse(doc.toJS());
  if (!parsed.success) throw new Error(formatZodError(parsed.error, file));
  const names = new Set<string>();
  for (const [i, f] of parsed.data.framings.entries()) {
    if (names.has(f.name)) throw new Error(`${file}: framings.${i}.name: duplicate framing '${f.name}'`);
    names.add(f.name);
  }
  return parsed.data.framings as Framing[];
}

export function loadFramingFile(file: string): Framing[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`${file}: cannot read framing file: ${(err as Error).message}`);
  }
  return parseFramingFile(text, file);
}

/** Built-in framings, overridden/extended by user framings (by name). */
export class FramingRegistry {
  private readonly byName = new Map<string, Framing>();
  constructor(extra: readonly Framing[] = [], builtins: readonly Framing[] = BUILTIN_FRAMINGS) {
    for (const f of builtins) this.byName.set(f.name, f);
    for (const f of extra) this.byName.set(f.name, f);
  }
  static fromFiles(files: readonly string[]): FramingRegistry {
    return new FramingRegistry(files.flatMap((f) => loadFramingFile(f)));
  }
  get(name: string): Framing {
    const f = this.byName.get(name);
    if (!f) throw new Error(`unknown framing '${name}'; known: ${[...this.byName.keys()].join(", ")}`);
    return f;
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  list(): Framing[] {
    return [...this.byName.values()];
  }
}
