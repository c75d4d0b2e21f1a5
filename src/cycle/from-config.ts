/**
 * breakfix.yaml -> a Scenario. Every name in the config is resolved here, before the first model call, and a bad one
 * stops with an error naming its key (`ScenarioConfigError`): unknown judges, an LLM judge with no judge model, seeds
 * or suites that cannot be found, a responder that needs a model, an HTTP target with no way to deploy round models,
 * languages with no translator, unreachable endpoints. Names that plug-ins registered (the demo world registers
 * `world` for seeds, judge, responder, counter-data and retention, and the `demo` suites) resolve like built-in ones;
 * this file never imports a plug-in.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileSuite } from "../benchmarks/file-suite.ts";
import { resolveSuiteNames, type SuiteSpec } from "../benchmarks/registry.ts";
import type { Suite } from "../benchmarks/types.ts";
import type { Config, ModelConfig } from "../config/schema.ts";
import { buildContaminationIndex, contaminationSourcesOf } from "../curate/contamination.ts";
import { ChatResponder, TemplateResponder } from "../curate/responders.ts";
import { hygieneFrom } from "../curate/run.ts";
import {
  counterDataFrom,
  loadUserProbes,
  namedResponder,
  ReplayRetentionSource,
  retentionFrom,
  safetySetFrom,
} from "../curate/sources.ts";
import type { Responder, RetentionSource } from "../curate/types.ts";
import { defaultDatasetsDir } from "../datasets/paths.ts";
import { folderOf } from "../datasets/registry.ts";
import type { Probe } from "../domain/types.ts";
import { createJudge, isRefusalOnly, type JudgeConfig, needsModel, parseJudgeExpression } from "../judges/registry.ts";
import type { Judge } from "../judges/types.ts";
import { isHubSpec, resolveModelSpec } from "../models/hub.ts";
import { createChatModel, DEMO_MODEL_DIR } from "../models/registry.ts";
import { redactUrl } from "../models/secrets.ts";
import type { ChatModel } from "../models/types.ts";
import { campaignTranslator } from "../redteam/converters/model.ts";
import { FramingRegistry } from "../redteam/framings/load.ts";
import { DEFAULT_SUCCESS } from "../redteam/outcome.ts";
import { loadSeeds, stratifiedLimit } from "../redteam/seeds.ts";
import { converterFamily } from "../redteam/techniques.ts";
import type { Store } from "../store/store.ts";
import type { ModelRef } from "../train/backends/types.ts";
import { fillDeployCommand, pingModel, type RoundModel, refFingerprint, roundModelsFor } from "./deploy.ts";
import type { MeasuredSuite, Scenario, SuiteRole } from "./scenario.ts";

/** A config key that cannot be used as written; the message starts with the key. */
export class ScenarioConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = "ScenarioConfigError";
  }
}

export interface ScenarioBuildOptions {
  store: Store;
  workspace: string;
  /** Folder of dataset folders (default: the config's data cache when it exists, else the shared copy). */
  datasetsDir?: string;
  /** Override of the trainable base model (the CLI's --model). */
  baseModel?: string;
  /** Check that HTTP endpoints answer before the first step (default true). */
  preflight?: boolean;
  log: (l: string) => void;
}

/** The trainable base folder: --model, training.model, or a builtin target's own folder. */
export function baseModelDir(cfg: Config, override?: string): string {
  const key = override ? "--model" : cfg.training.model ? "training.model" : "target.model";
  let dir = override ?? cfg.training.model;
  if (!dir) {
    if (cfg.target.provider !== "builtin")
      throw new ScenarioConfigError(
        "training.model",
        `a ${cfg.target.provider} target's weights cannot be read; name the Hugging Face folder of the same model to train (training.model)`,
      );
    dir = cfg.target.model;
  }
  if (dir === "demo") dir = DEMO_MODEL_DIR;
  if (isHubSpec(dir)) return dir; // hf:ORG/NAME[@REV]: downloaded (or found in the HF cache) by resolveModelSpec
  if (!existsSync(path.join(dir, "config.json")))
    throw new ScenarioConfigError(
      key,
      dir === DEMO_MODEL_DIR
        ? `the demo model organism is not built (${dir}); build it with \`breakfix world build\``
        : `${dir} is not a Hugging Face model folder (no config.json)`,
    );
  return path.resolve(dir);
}

/** Builds the scenario of a config; see the file comment. Opened models are closed by scenario.close(). */
export async function scenarioFromConfig(cfg: Config, o: ScenarioBuildOptions): Promise<Scenario> {
  const opened: ChatModel[] = [];
  const datasetsDir = o.datasetsDir ?? defaultDatasetsDir(cfg.dataCache);
  try {
    const remote = cfg.training.backend === "openai";
    const base = await baseModelOf(cfg, o);

    const { parsed, needJudgeModel } = parseJudges(cfg);

    // Seeds (loaded once to check them and their languages), suites, curation sources.
    const allSeeds = await loadSeeds(cfg.redteam.seeds, { datasetsDir }).catch((e: Error) => {
      throw new ScenarioConfigError("redteam.seeds", e.message);
    });
    const seedLanguages = new Set(allSeeds.probes.map((p) => p.language));
    const specs = cfg.benchmarks.suites.map((s, i) => suiteEntries(cfg, datasetsDir, s, i));
    const { responderKind, counterData, safetySet, retentionCfg, fixedRetention } = curationSources(cfg);

    // Models: judge, attacker, responder (each only when used), and the target's round models.
    const model = async (key: string, m: ModelConfig): Promise<ChatModel> => {
      const c = await createChatModel({ ...m }).catch((e: Error) => {
        throw new ScenarioConfigError(key, e.message);
      });
      opened.push(c);
      if (o.preflight !== false && m.provider !== "builtin" && m.provider !== "llamacpp") await ping(key, c, m);
      return c;
    };
    const judgeModel = needJudgeModel && cfg.judge ? await model("judge", cfg.judge) : undefined;
    const attacker = cfg.attacker ? await model("attacker", cfg.attacker) : undefined;
    const responderModel =
      responderKind === "model" && cfg.responder ? await model("responder", cfg.responder) : undefined;
    const judgeOf = (expr: string, unsafeAt?: number): Judge =>
      createJudge(parsed.get(expr) ?? expr, { model: judgeModel, unsafeAt });
    const translator = campaignTranslator(allSeeds.set?.translator, attacker, [...seedLanguages]);
    checkSeedLanguages(cfg, seedLanguages, translator);
    checkServing(cfg, remote);
    const models = tryKey("deploy", () =>
      roundModelsFor({ config: cfg, base, store: o.store, workDir: o.workspace, log: o.log }),
    );
    if (o.preflight !== false) await preflightTarget(cfg);

    const defaultJudge = judgeOf(cfg.judges.default);
    const suites: MeasuredSuite[] = specs.flatMap((entries, i) =>
      entries.map((e) => ({
        role: e.role,
        limit: cfg.benchmarks.suites[i].limit,
        suite: e.build(judgeOf(cfg.benchmarks.suites[i].judge ?? cfg.judges.default)),
      })),
    );
    const responder: Responder =
      responderKind === "templates"
        ? new TemplateResponder()
        : responderModel
          ? new ChatResponder(responderModel)
          : namedResponder(responderKind);
    const retention: RetentionSource | undefined =
      fixedRetention ??
      (typeof retentionCfg === "string"
        ? undefined
        : await replayRetention(retentionCfg.file, base, o, models.open.bind(models), cfg.target.maxTokens));
    const jailbreakSpecs = specs.flat().flatMap((e) => (e.spec ? [e.spec] : []));
    const redteamJudgeExpr = cfg.redteam.judge ?? cfg.judges.default;
    // A refusal-only judge says "refused or not": attack success is "not refused" (the GCG convention).
    const refusalOnly = isRefusalOnly(parsed.get(redteamJudgeExpr) ?? redteamJudgeExpr);
    return {
      identity: {
        seeds: cfg.redteam.seeds,
        languages: cfg.redteam.languages,
        judges: { default: cfg.judges.default, redteam: redteamJudgeExpr, curation: cfg.curation.judge ?? null },
        suites: suites.map(({ suite, role, limit }) => ({
          name: suite.name,
          version: suite.version,
          judge: suite.judgeId,
          role,
          limit: limit ?? null,
        })),
        responder: responder.id,
        counterData: counterData?.id ?? null,
        // only when set, so the run ids of configs without one stay what they were
        ...(safetySet ? { safetySet: { id: safetySet.id, rows: cfg.curation.safetySetRows } } : {}),
        retention: retention?.id ?? null,
        attacker: attacker?.id ?? null,
      },
      redteam: {
        seeds: async (perCategory) => {
          const cats = new Set(allSeeds.probes.map((p) => p.category)).size;
          return { probes: stratifiedLimit(allSeeds.probes, perCategory * Math.max(1, cats)), source: allSeeds.source };
        },
        // The finding threshold: a severity judge's "unsafe" and a max(...) ensemble's reading agree with it.
        judge: judgeOf(redteamJudgeExpr, cfg.redteam.findingSeverity),
        success: {
          minSeverity: cfg.redteam.findingSeverity,
          unsafeLabels: DEFAULT_SUCCESS.unsafeLabels,
          mode: refusalOnly ? "non_refusal" : "harm",
        },
        languages: cfg.redteam.languages,
        deps: { ...(translator ? { translator } : {}), ...(attacker ? { rephraser: attacker } : {}) },
        ...(attacker ? { attacker } : {}),
      },
      suites,
      variantFamilies: (v) => variantFamiliesOf(jailbreakSpecs, v),
      curation: {
        responder,
        judge: cfg.curation.judge ? judgeOf(cfg.curation.judge) : defaultJudge,
        ...(counterData ? { counterData } : {}),
        ...(retention ? { retention } : {}),
        ...(safetySet ? { safetySet } : {}),
        contamination: () => contaminationIndex(cfg, datasetsDir),
      },
      models,
      async close() {
        await models.close();
        await Promise.all(opened.map((m) => m.close?.()));
      },
    };
  } catch (e) {
    await Promise.all(opened.map((m) => m.close?.()));
    throw e;
  }
}

/** The base: local weights to train, or (hosted fine-tuning) the provider's model id; training settings checked. */
async function baseModelOf(cfg: Config, o: ScenarioBuildOptions): Promise<ModelRef> {
  const remote = cfg.training.backend === "openai";
  if (remote && !cfg.training.openai)
    throw new ScenarioConfigError(
      "training.openai",
      "training.backend openai needs training.openai.model (the base model to fine-tune)",
    );
  if (cfg.training.backend === "command" && !cfg.training.command)
    throw new ScenarioConfigError(
      "training.command",
      "training.backend command needs training.command.run (see src/train/backends/command.ts)",
    );
  return remote && cfg.training.openai
    ? { kind: "remote", id: cfg.training.openai.model }
    : { kind: "folder", dir: await resolveModelSpec(baseModelDir(cfg, o.baseModel)) };
}

/**
 * Judges: every expression of the config parsed and every name looked up first, with the key that names it; which
 * key first needs a judge model (an error when the config has no `judge:` section).
 */
function parseJudges(cfg: Config): { parsed: Map<string, JudgeConfig>; needJudgeModel?: string } {
  const exprs: [string, string][] = [["judges.default", cfg.judges.default]];
  if (cfg.redteam.judge) exprs.push(["redteam.judge", cfg.redteam.judge]);
  if (cfg.curation.judge) exprs.push(["curation.judge", cfg.curation.judge]);
  cfg.benchmarks.suites.forEach((s, i) => {
    if (s.judge) exprs.push([`benchmarks.suites.${i}.judge`, s.judge]);
  });
  const parsed = new Map<string, JudgeConfig>();
  let needJudgeModel: string | undefined;
  for (const [key, expr] of exprs) {
    const c = tryKey(key, () => (/[(]/.test(expr) ? parseJudgeExpression(expr) : expr));
    if (tryKey(key, () => needsModel(c))) needJudgeModel ??= key;
    parsed.set(expr, c);
  }
  if (needJudgeModel && !cfg.judge)
    throw new ScenarioConfigError(
      needJudgeModel,
      "names an LLM judge, which needs a judge model: add a `judge:` section (provider, model, baseUrl, ...)",
    );
  return { parsed, needJudgeModel };
}

/** The curation sources a config names (responder, counter-data, retention), each looked up or checked by its key. */
function curationSources(cfg: Config) {
  const responderKind = cfg.curation.responder;
  if (!cfg.curation.preferencePairs && cfg.training.dpo.enabled)
    throw new ScenarioConfigError(
      "curation.preferencePairs",
      "false curates no DPO pairs, so training.dpo would have nothing to train on: set training.dpo.enabled false too",
    );
  if (responderKind === "model" && !cfg.responder)
    throw new ScenarioConfigError("curation.responder", "model needs a `responder:` model section");
  if (responderKind !== "model" && responderKind !== "templates")
    tryKey("curation.responder", () => namedResponder(responderKind));
  const counterData = tryKey("curation.counterData", () => counterDataFrom(cfg.curation.counterData));
  const safetySet = tryKey("curation.safetySet", () => safetySetFrom(cfg.curation.safetySet));
  const retentionCfg = cfg.curation.retention;
  if (typeof retentionCfg !== "string" && !existsSync(retentionCfg.file))
    throw new ScenarioConfigError("curation.retention.file", `no such file ${retentionCfg.file}`);
  // A replay of the base model's own answers needs the round models: it is built with them.
  const fixedRetention =
    typeof retentionCfg === "string" || retentionCfg.mode === "reference"
      ? tryKey("curation.retention", () => retentionFrom(retentionCfg))
      : undefined;
  return { responderKind, counterData, safetySet, retentionCfg, fixedRetention };
}

/**
 * Every language the red team attacks in must be a language of the seeds or one the translator reaches from one of
 * them: none without a translator; a seed set's lexicon translator only its own pairs (`canTranslate`, the demo
 * world's en -> es); a model translator (the attacker) any language, the seed set's own serving the pairs it covers
 * (campaignTranslator).
 */
function checkSeedLanguages(
  cfg: Config,
  seedLanguages: ReadonlySet<string>,
  translator?: { id?: string; canTranslate?: (from: string, to: string) => boolean },
): void {
  const reachable = (l: string) =>
    seedLanguages.has(l) ||
    (translator !== undefined &&
      (translator.canTranslate === undefined || [...seedLanguages].some((s) => translator.canTranslate?.(s, l))));
  const untranslatable = cfg.redteam.languages.filter((l) => !reachable(l));
  if (untranslatable.length) {
    const missing = untranslatable.join(", ");
    const seedsIn = [...seedLanguages].join(", ");
    const own = `the seed set's own translator${translator?.id ? ` (${translator.id})` : ""}`;
    throw new ScenarioConfigError(
      "redteam.languages",
      translator
        ? `the seeds have no ${missing} prompts and nothing can translate them: ${own} does not reach ${missing}; ` +
            `add an \`attacker:\` model (it translates the pairs the seed set's own does not), or attack in ${seedsIn} or a language it reaches`
        : `the seeds have no ${missing} prompts and nothing can translate them: add an \`attacker:\` model (it translates), or attack only in ${seedsIn}`,
    );
  }
}

/** The red-team families a jailbreak variant touches: the measured suites' own lookup first, then the generic one. */
function variantFamiliesOf(specs: readonly SuiteSpec[], variant: string): string[] {
  for (const spec of specs) {
    const f = spec.variantFamilies?.(variant);
    if (f) return f;
  }
  return genericVariantFamilies(variant);
}

/** How the round models are served: target provider, deploy kind and training backend must fit together. */
function checkServing(cfg: Config, remote: boolean): void {
  const local = cfg.target.provider === "builtin" || cfg.target.provider === "llamacpp";
  if (remote && (local || cfg.deploy.kind !== "none"))
    throw new ScenarioConfigError(
      local ? "target.provider" : "deploy.kind",
      "training.backend openai: the fine-tuned models are served by the API: the target must be openai-compatible (its baseUrl) with deploy.kind none",
    );
  if (!local && !remote && cfg.deploy.kind === "none")
    throw new ScenarioConfigError(
      "deploy.kind",
      `a ${cfg.target.provider} target answers with whatever its server loaded: set deploy.kind to serve (breakfix serve runs each round's model), command (your script deploys it), vllm or ollama`,
    );
  if ((cfg.deploy.kind === "vllm" || cfg.deploy.kind === "ollama") && cfg.training.method !== "lora")
    throw new ScenarioConfigError(
      "deploy.kind",
      `${cfg.deploy.kind} deploys load LoRA adapters: set training.method lora`,
    );
  if (cfg.deploy.kind === "ollama" && !cfg.deploy.ollama)
    throw new ScenarioConfigError(
      "deploy.ollama",
      "deploy.kind ollama needs deploy.ollama.baseModel (the Ollama model the adapters apply to)",
    );
  if (local && cfg.deploy.kind !== "none")
    throw new ScenarioConfigError(
      "deploy.kind",
      `target.provider ${cfg.target.provider} loads each round's model itself; use deploy.kind none (or an HTTP target)`,
    );
  if (cfg.deploy.kind === "command" && !cfg.deploy.command)
    throw new ScenarioConfigError(
      "deploy.command",
      "deploy.kind command needs a command (placeholders {model_dir} {gguf} {round} {base_url} {model} {port} {host})",
    );
  if (cfg.deploy.command) tryKey("deploy.command", () => fillDeployCommand(cfg.deploy.command ?? "", {}));
}

/** An HTTP target must answer now unless a deploy step can bring it up (serve, command: see deploy.ts). */
async function preflightTarget(cfg: Config): Promise<void> {
  if (cfg.deploy.kind !== "none" || cfg.target.provider === "builtin" || cfg.target.provider === "llamacpp") return;
  const t = await createChatModel({ ...cfg.target });
  try {
    await ping("target", t, cfg.target);
  } finally {
    await t.close?.();
  }
}

/** The n-gram index of every benchmark the config reports, which curation decontaminates against. */
function contaminationIndex(cfg: Config, datasetsDir: string) {
  return buildContaminationIndex(
    { ...contaminationSourcesOf(cfg.benchmarks.suites), datasetsDir },
    hygieneFrom(cfg.curation),
  );
}

/** The suites one benchmarks.suites entry stands for (a group gives several). */
function suiteEntries(
  cfg: Config,
  datasetsDir: string,
  s: Config["benchmarks"]["suites"][number],
  i: number,
): { role: SuiteRole; spec?: SuiteSpec; build: (judge: Judge) => Suite }[] {
  const key = `benchmarks.suites.${i}`;
  if (s.file) return [fileSuite({ ...s, file: s.file }, key, (k, m) => new ScenarioConfigError(k, m))];
  const resolved = tryKey(`${key}.name`, () => resolveSuiteNames(s.name));
  return resolved.map((spec) => {
    const dir = s.path ?? (spec.dataset ? path.join(datasetsDir, folderOf(spec.dataset)) : undefined);
    if (dir && !existsSync(dir))
      throw new ScenarioConfigError(
        s.path ? `${key}.path` : `${key}.name`,
        `suite ${spec.name} reads ${dir}, which does not exist (run \`breakfix data pull ${spec.dataset ?? ""}\` or set the suite's path)`,
      );
    return {
      role: s.role ?? spec.role,
      spec,
      build: (judge: Judge) =>
        spec.build({
          judge,
          datasetsDir,
          ...(s.path ? { datasetPath: s.path } : {}),
          systemPrompt: cfg.target.systemPrompt,
        }),
    };
  });
}

function tryKey<T>(key: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ScenarioConfigError) throw e;
    throw new ScenarioConfigError(key, (e as Error).message);
  }
}

const RETENTION_REPLAY_KIND = "cycle.retention-replay";

/**
 * Retention by replay: the base model's own answers to the file's benign prompts, generated once (greedy) and stored
 * in the workspace keyed by the base weights and the prompt, so every round and every resumed run reuses them.
 */
async function replayRetention(
  file: string,
  base: ModelRef,
  o: ScenarioBuildOptions,
  open: (m: RoundModel, round: number) => Promise<{ model: ChatModel }>,
  maxTokens: number,
): Promise<RetentionSource> {
  const prompts = tryKey("curation.retention.file", () => loadUserProbes(file, "safe"));
  const fp = refFingerprint(base);
  const answers = new Map<string, string>();
  const todo: Probe[] = [];
  for (const p of prompts) {
    const hit = o.store.artifacts.get<{ answer: string }>(RETENTION_REPLAY_KIND, { fp, prompt: p.prompt });
    if (hit) answers.set(p.id, hit.answer);
    else todo.push(p);
  }
  if (todo.length) {
    o.log(`retention: the base model answers ${todo.length} benign prompts once (replayed in every round)`);
    const { model } = await open({ ref: base, adapters: [] }, 0);
    try {
      for (const p of todo) {
        const r = await model.chat({ messages: [{ role: "user", content: p.prompt }], temperature: 0, maxTokens });
        answers.set(p.id, r.content.trim());
        o.store.artifacts.put(RETENTION_REPLAY_KIND, { fp, prompt: p.prompt }, { answer: r.content.trim() });
      }
    } finally {
      await model.close?.();
    }
  }
  return new ReplayRetentionSource(prompts, answers, fp.slice(0, 16));
}

async function ping(key: string, m: ChatModel, c: ModelConfig): Promise<void> {
  try {
    await pingModel(m);
  } catch (e) {
    throw new ScenarioConfigError(
      `${key}.baseUrl`,
      `${c.baseUrl ? redactUrl(c.baseUrl) : c.provider} (model ${c.model}) does not answer: ${(e as Error).message}`,
    );
  }
}

const framings = new FramingRegistry();

/**
 * The red-team families of a suite variant named after converters and framings ("rt:a+b" chains allowed). `known`
 * names the family of a technique of the suite's own (a plug-in's framings) that the red team does not register.
 */
export function genericVariantFamilies(variant: string, known?: (name: string) => string | undefined): string[] {
  const parts = variant.startsWith("rt:") ? variant.slice(3).split("+") : [variant];
  const out = new Set<string>();
  for (const p of parts) {
    const name = p.replace(/\(.*\)$/, "");
    try {
      out.add(converterFamily(name));
      continue;
    } catch {
      // not a converter
    }
    try {
      out.add(framings.get(name).family);
      continue;
    } catch {
      // not a red-team framing
    }
    out.add(known?.(name) ?? name);
  }
  return [...out];
}
