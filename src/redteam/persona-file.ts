/**
 * Persona files and the compact technique syntax. A technique is written as steps joined by "+", each a converter,
 * framing or multi-turn strategy name with optional params in parentheses: "rot13+hypothetical",
 * "leetspeak(rate=0.5)+fiction", "many_shot(shots=16)", "scripted(script=research_escalation)", or "direct" (the
 * plain ask). A persona file:
 *
 *   personas:
 *     - id: encoder
 *       description: Tries encodings under a role play
 *       attacksPerSeed: 4
 *       maxTurns: 4                       # optional (default 1, or the budget's maxTurns)
 *       budget: { maxCalls: 30, maxTokens: 20000, maxBacktracks: 3 }
 *       techniques: [direct, rot13+roleplay_unbound, "leetspeak(rate=0.5)+fiction", crescendo]
 */
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { z } from "zod";
import { formatZodError } from "../domain/schemas.ts";
import type { TechniqueStep } from "../domain/types.ts";
import { isConverterName } from "./converters/registry.ts";
import type { FramingRegistry } from "./framings/load.ts";
import { DEFAULT_BUDGET } from "./multiturn/budget.ts";
import type { Persona } from "./personas.ts";
import { MULTITURN_STRATEGIES, technique, validateSteps } from "./techniques.ts";

function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === sep && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim());
}

function paramValue(v: string): string | number | boolean {
  if (v === "true") return true;
  if (v === "false") return false;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

/** Parses the compact technique syntax into steps; throws naming the bad part. */
export function parseTechnique(text: string, framings: FramingRegistry): TechniqueStep[] {
  const t = text.trim();
  if (t === "direct") return [];
  const steps = splitTop(t, "+").map((part): TechniqueStep => {
    const m = /^([a-z0-9_]+)(?:\((.*)\))?$/.exec(part);
    if (!m) throw new Error(`technique '${text}': cannot read step '${part}' (expected name or name(key=value,...))`);
    const params: Record<string, string | number | boolean> = {};
    for (const kv of m[2] ? splitTop(m[2], ",").filter(Boolean) : []) {
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new Error(`technique '${text}': parameter '${kv}' is not key=value`);
      params[kv.slice(0, eq).trim()] = paramValue(kv.slice(eq + 1).trim());
    }
    const name = m[1];
    const kind: TechniqueStep["kind"] | undefined = isConverterName(name)
      ? "converter"
      : (MULTITURN_STRATEGIES as readonly string[]).includes(name)
        ? "multiturn"
        : framings.has(name)
          ? "framing"
          : undefined;
    if (!kind) throw new Error(`technique '${text}': '${name}' is not a converter, framing or multi-turn strategy`);
    return Object.keys(params).length ? { kind, name, params } : { kind, name };
  });
  validateSteps(steps, framings, `technique '${text}'`);
  return steps;
}

const personaEntry = z
  .object({
    id: z.string().regex(/^[a-z0-9_]+$/, "lower-case letters, digits and _ only"),
    description: z.string().min(1),
    techniques: z.array(z.string().min(1)).min(1),
    attacksPerSeed: z.number().int().positive(),
    maxTurns: z.number().int().positive().optional(),
    budget: z
      .object({
        maxCalls: z.number().int().positive().optional(),
        maxTokens: z.number().int().positive().optional(),
        maxBacktracks: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export function parsePersonaFile(text: string, file: string, framings: FramingRegistry): Persona[] {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new Error(`${file}${e.linePos ? `:${e.linePos[0].line}` : ""}: ${e.message.split("\n")[0]}`);
  }
  const r = z
    .object({ personas: z.array(personaEntry).min(1) })
    .strict()
    .safeParse(doc.toJS());
  if (!r.success) throw new Error(formatZodError(r.error, file));
  return r.data.personas.map((p, i) => {
    const techniques = p.techniques.map((t, j) => {
      try {
        return technique(parseTechnique(t, framings), framings, t.trim());
      } catch (e) {
        throw new Error(`${file}: personas.${i}.techniques.${j}: ${(e as Error).message}`);
      }
    });
    const maxTurns =
      p.maxTurns ?? (techniques.some((t) => t.steps.some((s) => s.kind === "multiturn")) ? DEFAULT_BUDGET.maxTurns : 1);
    return {
      id: p.id,
      description: p.description,
      techniques,
      attacksPerSeed: p.attacksPerSeed,
      maxChain: Math.max(0, ...techniques.map((t) => t.steps.length)),
      maxTurns,
      families: [],
      budget: { ...DEFAULT_BUDGET, ...p.budget, maxTurns },
    };
  });
}

export function loadPersonaFile(file: string, framings: FramingRegistry): Persona[] {
  return parsePersonaFile(readFileSync(file, "utf8"), file, framings);
}
