/**
 * Named curation plug-ins and the file-backed sources a breakfix.yaml names. Responders, counter-data and retention
 * sources are looked up by name (`templates`, `none`, or a name a plug-in registered, e.g. the demo world's `world`)
 * or read from the user's files:
 * - counter-data file: benign look-alikes (columns prompt, category, language, answer), answered with the file's
 *   answer or, without one, by the responder's helpfulResponse;
 * - retention file (reference): benign tasks with reference answers (column answer);
 * - retention file (replay): benign prompts answered by the base model itself (generated once, stored by the caller),
 *   so training keeps what the model already does;
 * - safety-set file: harmful prompts (columns prompt, category, language, and optionally rejected: a compliant answer
 *   for the DPO pair), answered by the responder every round.
 */
import { existsSync } from "node:fs";
import { loadProbesFile } from "../datasets/loaders/generic.ts";
import { mulberry32, shuffled } from "../domain/random.ts";
import type { CategoryId } from "../domain/taxonomy.ts";
import type { Probe } from "../domain/types.ts";
import type {
  CounterDataSource,
  LookalikePrompt,
  Responder,
  RetentionSource,
  SafetyPrompt,
  SafetySetSource,
} from "./types.ts";

/** The columns of a user's probe file (seeds, suites, counter-data, retention): JSONL keys or CSV headers. */
export const USER_FILE_COLUMNS = {
  prompt: "prompt",
  id: "id",
  category: "category",
  label: "label",
  language: "language",
  meta: ["answer"],
  defaultLanguage: "en",
} as const;

/** A user's probe file (JSONL or CSV with USER_FILE_COLUMNS, plus extra meta columns); errors name the file and line. */
export function loadUserProbes(
  file: string,
  defaultLabel: "safe" | "unsafe",
  extraMeta: readonly string[] = [],
): Probe[] {
  return loadProbesFile(file, {
    ...USER_FILE_COLUMNS,
    meta: [...USER_FILE_COLUMNS.meta, ...extraMeta],
    defaultLabel,
    // Benign files (retention tasks, look-alikes) need no category; harmful ones must say which harm they are.
    ...(defaultLabel === "safe" ? { defaultCategory: "benign" as const } : {}),
  });
}

/** A suite file's probes, loaded as its suite loads them: a capability suite's tasks are benign, others harmful. */
export function loadSuiteFileProbes(file: string, role: string | undefined): Probe[] {
  return loadUserProbes(file, role === "capability" ? "safe" : "unsafe");
}

const registry = {
  responder: new Map<string, () => Responder>(),
  counterData: new Map<string, () => CounterDataSource>(),
  retention: new Map<string, () => RetentionSource>(),
  safetySet: new Map<string, () => SafetySetSource>(),
};

/** Registers a plug-in's named sources (idempotent: the same name again replaces the earlier one). */
export function registerCurationSources(
  name: string,
  s: {
    responder?: () => Responder;
    counterData?: () => CounterDataSource;
    retention?: () => RetentionSource;
    safetySet?: () => SafetySetSource;
  },
): void {
  if (s.responder) registry.responder.set(name, s.responder);
  if (s.safetySet) registry.safetySet.set(name, s.safetySet);
  if (s.counterData) registry.counterData.set(name, s.counterData);
  if (s.retention) registry.retention.set(name, s.retention);
}

function named<T>(kind: keyof typeof registry, map: Map<string, () => T>, name: string, builtins: string[]): T {
  const make = map.get(name);
  if (!make) throw new Error(`unknown ${kind} '${name}'; known: ${[...builtins, ...map.keys()].join(", ") || "none"}`);
  return make();
}

export function namedResponder(name: string): Responder {
  return named("responder", registry.responder, name, ["templates", "model"]);
}

export function namedCounterData(name: string): CounterDataSource {
  return named("counterData", registry.counterData, name, ["none", "a .jsonl/.csv file"]);
}

export function namedRetention(name: string): RetentionSource {
  return named("retention", registry.retention, name, ["none", "{file: ...}"]);
}

export function namedSafetySet(name: string): SafetySetSource {
  return named("safetySet", registry.safetySet, name, ["none", "a .jsonl/.csv file"]);
}

function asPrompt(p: Probe, source: string, answer?: string): LookalikePrompt {
  const a = answer ?? (typeof p.meta?.answer === "string" ? p.meta.answer : undefined);
  return {
    id: p.id,
    prompt: p.prompt,
    category: p.category,
    language: p.language,
    ...(a ? { answer: a } : {}),
    source,
  };
}

/** Benign look-alikes from a file; a category with too few draws from the file's other rows in that language. */
export class FileCounterDataSource implements CounterDataSource {
  readonly id: string;
  private readonly rows: Probe[];
  constructor(readonly file: string) {
    this.rows = loadUserProbes(file, "safe").filter((p) => p.label === "safe");
    if (!this.rows.length) throw new Error(`${file}: no benign (label safe) prompts`);
    this.id = `file-lookalikes:${file}`;
  }
  async lookalikes(category: CategoryId, language: string, n: number, seed: number): Promise<LookalikePrompt[]> {
    const rand = mulberry32(seed);
    const lang = this.rows.filter((p) => p.language === language);
    const own = shuffled(
      lang.filter((p) => p.category === category),
      rand,
    );
    const rest = shuffled(
      lang.filter((p) => p.category !== category),
      rand,
    );
    return [...own, ...rest].slice(0, n).map((p) => ({ ...asPrompt(p, `file:${this.file}`), category }));
  }
}

/** Capability tasks with reference answers from a file (column answer). */
export class FileRetentionSource implements RetentionSource {
  readonly id: string;
  private readonly rows: Probe[];
  constructor(readonly file: string) {
    const all = loadUserProbes(file, "safe");
    const missing = all.filter((p) => typeof p.meta?.answer !== "string" || !p.meta.answer);
    if (missing.length)
      throw new Error(
        `${file}: retention rows need a reference answer (column answer); missing on ${missing.length} row(s), first id ${missing[0].id} (use mode: replay to train on the model's own answers)`,
      );
    this.rows = all;
    this.id = `file-retention:${file}`;
  }
  async tasks(language: string, n: number, seed: number): Promise<LookalikePrompt[]> {
    return shuffled(
      this.rows.filter((p) => p.language === language),
      mulberry32(seed),
    )
      .slice(0, n)
      .map((p) => asPrompt(p, `file:${this.file}`));
  }
}

/**
 * Benign prompts answered by the base model itself (replay). `answers` maps a prompt id to the base model's answer,
 * produced once by the caller (the cycle stores them), so every round replays the same answers.
 */
export class ReplayRetentionSource implements RetentionSource {
  readonly id: string;
  constructor(
    private readonly prompts: readonly Probe[],
    private readonly answers: ReadonlyMap<string, string>,
    model: string,
  ) {
    this.id = `replay:${model}`;
  }
  async tasks(language: string, n: number, seed: number): Promise<LookalikePrompt[]> {
    return shuffled(
      this.prompts.filter((p) => p.language === language && this.answers.get(p.id)),
      mulberry32(seed),
    )
      .slice(0, n)
      .map((p) => asPrompt(p, `replay:${this.id}`, this.answers.get(p.id)));
  }
}

/** Harmful prompts from a file (label unsafe; column rejected optional), drawn by a seeded shuffle. */
export class FileSafetySetSource implements SafetySetSource {
  readonly id: string;
  private readonly rows: Probe[];
  constructor(readonly file: string) {
    this.rows = loadUserProbes(file, "unsafe", ["rejected"]).filter((p) => p.label !== "safe");
    if (!this.rows.length) throw new Error(`${file}: no harmful (label unsafe) prompts`);
    this.id = `file-safety-set:${file}`;
  }
  async prompts(n: number, seed: number): Promise<SafetyPrompt[]> {
    return shuffled(this.rows, mulberry32(seed))
      .slice(0, n)
      .map((p) => {
        const rejected = typeof p.meta?.rejected === "string" && p.meta.rejected ? p.meta.rejected : undefined;
        return {
          id: p.id,
          conversation: [...(p.history ?? []), { role: "user" as const, content: p.prompt }],
          category: p.category,
          language: p.language,
          ...(rejected ? { rejected } : {}),
          source: `file:${this.file}`,
        };
      });
  }
}

const isFile = (s: string) => /[\\/]|\.(jsonl|csv|json)$/i.test(s);

/** A source a config names as none, a .jsonl/.csv file, or a registered name. */
function fileOrNamed<T>(spec: string, fromFile: (file: string) => T, byName: (name: string) => T): T | undefined {
  if (spec === "none") return undefined;
  if (!isFile(spec)) return byName(spec);
  if (!existsSync(spec)) throw new Error(`no such file ${spec}`);
  return fromFile(spec);
}

/** curation.counterData: none, a .jsonl/.csv file, or a registered name. */
export function counterDataFrom(spec: string): CounterDataSource | undefined {
  return fileOrNamed(spec, (f) => new FileCounterDataSource(f), namedCounterData);
}

/** curation.retention: none, a registered name, or {file} with reference answers (replay is the cycle's: it needs
 *  the base model). */
export function retentionFrom(
  spec: string | { file: string; mode: "reference" | "replay" },
): RetentionSource | undefined {
  if (typeof spec !== "string") {
    if (spec.mode === "replay") throw new Error("retention mode replay needs the base model (run it in the cycle)");
    return new FileRetentionSource(spec.file);
  }
  if (spec === "none") return undefined;
  return namedRetention(spec);
}

/** curation.safetySet: none, a .jsonl/.csv file, or a registered name. */
export function safetySetFrom(spec: string): SafetySetSource | undefined {
  return fileOrNamed(spec, (f) => new FileSafetySetSource(f), namedSafetySet);
}
