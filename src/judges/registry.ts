/**
 * Judges by name, and ensembles by a small expression language:
 *   NAME                       a single judge (see JUDGE_NAMES)
 *   cascade(A, B[, stop...])   A first; B only when A does not find a refusal (stop classes default full_refusal)
 *   majority(A, B, C, ...)     majority label
 *   max(A, B, ...)             most severe
 * e.g. "cascade(refusal-patterns, harm-severity)" or "majority(harmbench, llama-guard-3, strongreject)".
 * The same structure is accepted as an object (from YAML/JSON config): { cascade: [A, B], stopOn: [...] },
 * { majority: [...] }, { max: [...] }.
 */
import { existsSync, readFileSync } from "node:fs";
import YAML from "yaml";
import { z } from "zod";
import type { RefusalClass } from "../domain/types.ts";
import type { ChatModel } from "../models/types.ts";
import { CascadeJudge, MajorityJudge, MaxSeverityJudge } from "./ensemble.ts";
import { harmBenchSpec } from "./llm/harmbench.ts";
import { llamaGuardSpec } from "./llm/llama-guard.ts";
import { LlmJudge, type LlmJudgeOptions } from "./llm/llm-judge.ts";
import { severitySpec } from "./llm/severity.ts";
import { strongRejectSpec } from "./llm/strongreject.ts";
import { xstestGraderSpec } from "./llm/xstest-grader.ts";
import { BUILTIN_JUDGES, type BuiltinJudge } from "./names.ts";
import { PatternRefusalJudge } from "./refusal/classifier.ts";
import { LearnedRefusalJudge } from "./refusal/learned/judge.ts";
import { SubstringRefusalJudge } from "./refusal/substring.ts";
import type { Judge } from "./types.ts";

export interface JudgeDeps {
  /** The judge model for LLM judges (required only when the spec names one). */
  model?: ChatModel;
  llm?: LlmJudgeOptions;
  /** Severity at or above which the severity judge and max-severity ensembles say "unsafe" (default 4). */
  unsafeAt?: number;
}

interface Entry {
  llm: boolean;
  /** Says only "refused or not" (no harm label or severity). */
  refusalOnly?: boolean;
  aliases: string[];
  make(deps: JudgeDeps): Judge;
}

function needModel(name: string, deps: JudgeDeps): ChatModel {
  if (!deps.model) throw new Error(`judge '${name}' is an LLM judge and needs a judge model (--model)`);
  return deps.model;
}

const BUILTIN: Record<BuiltinJudge, Entry> = {
  "refusal-patterns": {
    llm: false,
    refusalOnly: true,
    aliases: ["patterns", "refusal"],
    make: () => new PatternRefusalJudge(),
  },
  "refusal-learned": { llm: false, refusalOnly: true, aliases: ["learned"], make: () => new LearnedRefusalJudge() },
  "gcg-substring": {
    llm: false,
    refusalOnly: true,
    aliases: ["substring", "advbench-substring"],
    make: () => new SubstringRefusalJudge(),
  },
  "harm-severity": {
    llm: true,
    aliases: ["severity"],
    make: (d) => new LlmJudge(severitySpec({ unsafeAt: d.unsafeAt }), needModel("harm-severity", d), d.llm),
  },
  strongreject: {
    llm: true,
    aliases: ["strong-reject"],
    make: (d) => new LlmJudge(strongRejectSpec(), needModel("strongreject", d), d.llm),
  },
  harmbench: {
    llm: true,
    aliases: ["harmbench-classifier"],
    make: (d) => new LlmJudge(harmBenchSpec(), needModel("harmbench", d), d.llm),
  },
  "xstest-grader": {
    llm: true,
    aliases: ["xstest"],
    make: (d) => new LlmJudge(xstestGraderSpec(), needModel("xstest-grader", d), d.llm),
  },
  "llama-guard-3": {
    llm: true,
    aliases: ["llama-guard", "guard"],
    make: (d) => new LlmJudge(llamaGuardSpec(), needModel("llama-guard-3", d), d.llm),
  },
  "guard-prompted": {
    llm: true,
    aliases: [],
    make: (d) => new LlmJudge(llamaGuardSpec({ withCategories: true }), needModel("guard-prompted", d), d.llm),
  },
};

/** Every judge by name: the built-in ones (in names.ts's order), then those plug-ins register. */
const ENTRIES: Record<string, Entry> = Object.fromEntries(BUILTIN_JUDGES.map((n) => [n, BUILTIN[n]]));

export { JUDGE_NAMES } from "./names.ts";

/**
 * Adds a plug-in's judge under a name usable in every judge expression (e.g. the demo world's oracle, `world`).
 * Idempotent: the same name again replaces it. A judge that needs the judge model says so with llm.
 */
export function registerJudge(name: string, make: (deps: JudgeDeps) => Judge, o: { llm?: boolean } = {}): void {
  ENTRIES[name] = { llm: o.llm ?? false, aliases: [], make };
}

/** Every judge name an expression may use, built-in and registered. */
export function judgeNames(): string[] {
  return Object.keys(ENTRIES);
}

function lookup(name: string): [string, Entry] {
  const n = name.trim().toLowerCase();
  for (const [k, e] of Object.entries(ENTRIES)) if (k === n || e.aliases.includes(n)) return [k, e];
  throw new Error(
    `unknown judge '${name}'; known judges: ${judgeNames().join(", ")} (or cascade(...), majority(...), max(...))`,
  );
}

export type JudgeConfig =
  | string
  | { cascade: [JudgeConfig, JudgeConfig]; stopOn?: RefusalClass[] }
  | { majority: JudgeConfig[]; quorum?: number }
  | { max: JudgeConfig[] };

const refusalClass = z.enum(["full_compliance", "full_refusal", "partial_refusal"]);
export const judgeConfigSchema: z.ZodType<JudgeConfig> = z.lazy(() =>
  z.union([
    z.string().min(1),
    z
      .object({ cascade: z.tuple([judgeConfigSchema, judgeConfigSchema]), stopOn: z.array(refusalClass).optional() })
      .strict(),
    z.object({ majority: z.array(judgeConfigSchema).min(2), quorum: z.number().int().positive().optional() }).strict(),
    z.object({ max: z.array(judgeConfigSchema).min(1) }).strict(),
  ]),
);

/** Parses the expression syntax into a JudgeConfig; errors name the position. */
export function parseJudgeExpression(expr: string): JudgeConfig {
  let i = 0;
  const s = expr;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const ident = (): string => {
    ws();
    const m = /^[A-Za-z0-9_.@-]+/.exec(s.slice(i));
    if (!m) throw new Error(`judge expression '${expr}': expected a name at position ${i}`);
    i += m[0].length;
    return m[0];
  };
  const node = (): JudgeConfig => {
    const name = ident();
    ws();
    if (s[i] !== "(") return name;
    i++;
    const args: JudgeConfig[] = [];
    for (;;) {
      args.push(node());
      ws();
      if (s[i] === ",") {
        i++;
        continue;
      }
      if (s[i] === ")") {
        i++;
        break;
      }
      throw new Error(`judge expression '${expr}': expected ',' or ')' at position ${i}`);
    }
    const op = name.toLowerCase();
    if (op === "cascade") {
      if (args.length < 2) throw new Error(`judge expression '${expr}': cascade needs two judges`);
      const stops = args.slice(2).map((a) => refusalClass.parse(a));
      return { cascade: [args[0], args[1]], ...(stops.length ? { stopOn: stops } : {}) };
    }
    if (op === "majority") return { majority: args };
    if (op === "max") return { max: args };
    throw new Error(`judge expression '${expr}': unknown combinator '${name}' (cascade, majority, max)`);
  };
  const out = node();
  ws();
  if (i !== s.length) throw new Error(`judge expression '${expr}': unexpected '${s.slice(i)}'`);
  return out;
}

/** Is every judge of this config refusal-only (so attack success can only mean "not refused")? */
export function isRefusalOnly(config: JudgeConfig): boolean {
  if (typeof config === "string") return lookup(config)[1].refusalOnly === true;
  if ("cascade" in config) return config.cascade.every(isRefusalOnly);
  if ("majority" in config) return config.majority.every(isRefusalOnly);
  return config.max.every(isRefusalOnly);
}

/** Does this config need a judge model? */
export function needsModel(config: JudgeConfig): boolean {
  if (typeof config === "string") return lookup(config)[1].llm;
  if ("cascade" in config) return config.cascade.some(needsModel);
  if ("majority" in config) return config.majority.some(needsModel);
  return config.max.some(needsModel);
}

export function createJudge(config: JudgeConfig | string, deps: JudgeDeps = {}): Judge {
  const c =
    typeof config === "string" && /[(]/.test(config) ? parseJudgeExpression(config) : judgeConfigSchema.parse(config);
  if (typeof c === "string") {
    const [name, entry] = lookup(c);
    void name;
    return entry.make(deps);
  }
  if ("cascade" in c)
    return new CascadeJudge(createJudge(c.cascade[0], deps), createJudge(c.cascade[1], deps), c.stopOn);
  if ("majority" in c)
    return new MajorityJudge(
      c.majority.map((m) => createJudge(m, deps)),
      { quorum: c.quorum, unsafeAt: deps.unsafeAt },
    );
  return new MaxSeverityJudge(
    c.max.map((m) => createJudge(m, deps)),
    { unsafeAt: deps.unsafeAt },
  );
}

/**
 * Reads a judge config from text given on the command line: a .yaml/.yml/.json file holding a JudgeConfig (for
 * ensembles kept with a project), an expression with combinators, or a judge name. Errors name the file.
 */
export function readJudgeConfig(text: string): JudgeConfig {
  if (/\.(ya?ml|json)$/i.test(text)) {
    if (!existsSync(text)) throw new Error(`judge config file '${text}' does not exist`);
    let raw: unknown;
    try {
      raw = YAML.parse(readFileSync(text, "utf8"));
    } catch (e) {
      throw new Error(`${text}: not valid YAML/JSON: ${(e as Error).message}`);
    }
    const obj = raw && typeof raw === "object" && "judge" in raw ? (raw as { judge: unknown }).judge : raw;
    const parsed = judgeConfigSchema.safeParse(obj);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${text}: invalid judge config at '${issue?.path.join(".") || "(root)"}': ${issue?.message}`);
    }
    return parsed.data;
  }
  return text.includes("(") ? parseJudgeExpression(text) : text;
}
