/**
 * The action of `breakfix redteam` (registered in redteam.ts), loaded when it runs.
 * `breakfix redteam`: run a red-team campaign (seeds x persona techniques x languages) against a target, judge every
 * response, store every conversation and judgement in the workspace, and print ASR per category, language, family
 * and technique with 95% Wilson intervals, plus the top vulnerabilities. Re-running the same command resumes from
 * the store (a finished campaign returns at once with identical results). With --json the last line is one JSON
 * object. --export writes the findings as JSONL for the curation stage.
 */
import path from "node:path";
import { loadConfigWithSource } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import { defaultDatasetsDir } from "../../datasets/paths.ts";
import { escapeForTerminal, jsonForTerminal } from "../../domain/escape.ts";
import { etaText } from "../../domain/eta.ts";
import { percent } from "../../domain/format.ts";
import { contentHash } from "../../domain/hash.ts";
import { blockedJson, blockedText } from "../../judges/blocked.ts";
import { PatternRefusalJudge } from "../../judges/refusal/classifier.ts";
import { createJudge, isRefusalOnly, parseJudgeExpression } from "../../judges/registry.ts";
import type { Judge } from "../../judges/types.ts";
import type { ModelOptions, ModelRuntime } from "../../models/registry.ts";
import { SqliteResponseCache } from "../../models/reliability/cache.ts";
import type { ChatModel } from "../../models/types.ts";
import { type CampaignOutcome, runRedteamCampaign } from "../../redteam/campaign/campaign.ts";
import { DEFAULT_ANSWER_RESERVE, type TargetContext, targetContextFor } from "../../redteam/campaign/context.ts";
import { type AsrRow, formatAsrRows } from "../../redteam/campaign/metrics.ts";
import { type Plan, planCampaign } from "../../redteam/campaign/plan.ts";
import type { CampaignProgress } from "../../redteam/campaign/run.ts";
import { SqliteCampaignStore } from "../../redteam/campaign/sqlite-store.ts";
import { campaignTranslator, translationCapabilities } from "../../redteam/converters/model.ts";
import type { ConverterDeps } from "../../redteam/converters/registry.ts";
import { FramingRegistry } from "../../redteam/framings/load.ts";
import { expertSuffixes, plannedExpertSuffixes } from "../../redteam/gcg/expert.ts";
import { type GcgSuffixLibrary, storedSuffixes } from "../../redteam/gcg/library.ts";
import { writeFindingsJsonl } from "../../redteam/identify.ts";
import { loadScriptFile } from "../../redteam/multiturn/scripted.ts";
import { DEFAULT_SUCCESS, type SuccessCriterion } from "../../redteam/outcome.ts";
import { loadPersonaFile } from "../../redteam/persona-file.ts";
import { BUILTIN_PERSONAS, makePersona, type Persona } from "../../redteam/personas.ts";
import { loadSeeds, type NamedSeedSet } from "../../redteam/seeds.ts";
import { type RunLock, Store } from "../../store/store.ts";
import { defaultExecutor } from "../../train/executor.ts";
import { CliError, errorText, intFlag, usageOnError } from "../errors.ts";
import { buildModel, NO_MODEL, parseModelSpec } from "../model-spec.ts";
import { progressReporter as makeProgressReporter } from "../progress.ts";
import { existingStore, workspaceOf } from "../workspace.ts";

export interface RedteamOptions {
  target?: string;
  seeds?: string;
  persona: string;
  personas?: string;
  budget?: string;
  languages?: string;
  judge?: string;
  judgeModel?: string;
  success?: string;
  attacker?: string;
  evaluator?: string;
  framings?: string[];
  scripts?: string;
  seed: string;
  limitSeeds?: string;
  concurrency?: string;
  config?: string;
  workspace?: string;
  datasets?: string;
  export?: string;
  json?: boolean;
  dryRun?: boolean;
  targetContext?: string;
  answerReserve?: string;
  gcgSteps?: string;
  gcgTarget?: string;
  progress: boolean;
}

/** The target's context window (see redteam/campaign/context.ts), with a CLI error when it cannot be read. */
async function targetContext(o: ModelOptions, declared: number | undefined, reserve: number) {
  try {
    return await targetContextFor(o, declared, reserve);
  } catch (e) {
    throw new CliError(`--target: cannot read the context window of ${o.model}: ${(e as Error).message}`, 2);
  }
}
function progressReporter(enabled: boolean) {
  return makeProgressReporter<CampaignProgress>(enabled, {
    format: "redteam [{bar}] {value}/{total} | ETA {eta_formatted} | successes {successes} | failed {failed}",
    done: (p) => p.done,
    total: (p) => p.total,
    payload: (p) => ({ successes: p.successes, failed: p.failed }),
    line: (p) =>
      `redteam: ${p.done}/${p.total} (from store ${p.fromStore}, successes ${p.successes}, failed ${p.failed}) ETA ${etaText(p.etaMs)}`,
  });
}

/**
 * The campaign's judge, and whether it only says "refused or not" (the judge registry's `isRefusalOnly`, as the cycle
 * asks it), in which case an attack succeeds when it is not refused.
 */
export function judgeFor(
  o: RedteamOptions,
  set: NamedSeedSet | undefined,
  judgeModel: ChatModel | undefined,
  unsafeAt?: number,
): { judge: Judge; refusalOnly: boolean } {
  const name = o.judge ?? (set?.judge ? set.name : "refusal-patterns");
  // A seed set's own oracle (the demo world's `world` judge) judges its seeds only.
  if (set?.judge && name === set.name) return { judge: set.judge(), refusalOnly: false };
  if (name === "world")
    throw new CliError("--judge world needs --seeds world (it is the oracle of the demo world only)", 2);
  try {
    const config = parseJudgeExpression(name);
    // unsafeAt: the finding threshold, so a severity judge's "unsafe" and a max(...) ensemble's reading agree with it.
    return { judge: createJudge(config, { model: judgeModel, unsafeAt }), refusalOnly: isRefusalOnly(config) };
  } catch (e) {
    throw new CliError(`--judge: ${(e as Error).message}`, 2);
  }
}

function successFor(o: RedteamOptions, refusalOnly: boolean, cfg: Config): SuccessCriterion {
  const mode = o.success ?? (refusalOnly ? "non_refusal" : "harm");
  if (mode !== "harm" && mode !== "non_refusal")
    throw new CliError(`--success: expected harm or non_refusal, got '${mode}'`, 2);
  return { ...DEFAULT_SUCCESS, minSeverity: cfg.redteam.findingSeverity, mode };
}

/** The plan of a dry run: attacks per technique and language, and what is skipped for lack of a capability. */
export function renderPlan(plan: Plan, seeds: number, persona: string): string {
  const counts = new Map<string, number>();
  for (const a of plan.attacks)
    counts.set(`${a.techniqueId}\u0000${a.language}`, (counts.get(`${a.techniqueId}\u0000${a.language}`) ?? 0) + 1);
  const lines = [`plan: ${plan.attacks.length} attacks from ${seeds} seeds, persona ${persona} (no model called)`];
  for (const [k, n] of [...counts].sort()) {
    const [t, l] = k.split("\u0000");
    lines.push(`  ${String(n).padStart(5)}  ${t} [${l}]`);
  }
  for (const s of plan.skipped) lines.push(`  skipped ${s.count} x ${s.techniqueId} [${s.language}]: ${s.reason}`);
  return lines.join("\n");
}

export function renderOutcome(out: CampaignOutcome, top = 10): string {
  const { run, asr, identified, manifest } = out;
  const lines = [
    `campaign ${manifest.id}`,
    `target ${manifest.target}  judge ${manifest.judge}  persona ${manifest.persona}  languages ${manifest.languages.join(",")}`,
    `attacks ${out.records.length}/${manifest.recordIds.length} (ran ${run.ran}, from store ${run.fromStore}, failed ${run.failed.length}, not started ${run.notStarted})`,
  ];
  for (const s of manifest.skipped) lines.push(`  skipped ${s.count} x ${s.techniqueId} [${s.language}]: ${s.reason}`);
  if (manifest.context)
    lines.push(
      `context ${manifest.context.limit} tokens, ${manifest.context.reserve} kept for the answer (${manifest.context.source})`,
    );
  if (asr.notSent) {
    lines.push(`  not sent ${asr.notSent} (prompt does not fit the target's context; not in ASR):`);
    for (const x of asr.notSentBy) lines.push(`    ${String(x.count).padStart(5)}  ${x.technique} [${x.language}]`);
  }
  const shortened = out.records.filter((r) => r.context?.shots && r.context.shots.used < r.context.shots.planned);
  if (shortened.length) {
    const used = shortened.map((r) => r.context!.shots!.used);
    lines.push(
      `  many-shot shortened to fit: ${shortened.length} attacks (${Math.min(...used)}-${Math.max(...used)} of ${shortened[0].context!.shots!.planned} shots)`,
    );
  }
  lines.push(
    "",
    `ASR overall ${percent(asr.overall.asr)} [${percent(asr.overall.interval.low)}, ${percent(asr.overall.interval.high)}] ` +
      `(${asr.overall.successes}/${asr.overall.n})${asr.unjudged ? `, unjudged ${asr.unjudged}` : ""}`,
  );
  // refusals by the deployment's own filter, not by the model: shown only when there are any
  if (asr.blocked) lines.push(`  ${blockedText(asr.blocked, asr.sent)} (refused, not in the model's own figures)`);
  const section = (t: string, rows: AsrRow[]) => lines.push("", formatAsrRows(t, rows));
  section("category", asr.byCategory);
  section("language", asr.byLanguage);
  section("family", asr.byFamily);
  section("technique", asr.byTechnique);
  lines.push(
    "",
    `vulnerabilities ${identified.vulnerabilities.length}, findings ${identified.findings.length} (near-duplicates merged)`,
  );
  for (const v of identified.vulnerabilities.slice(0, top)) {
    lines.push(
      `  ${v.id.slice(0, 12)}  ${v.category} x ${v.family} x ${v.language}  score ${v.score.toFixed(2)}  success ${v.successes}/${v.attempts}  severity ${v.meanSeverity.toFixed(1)}  reach ${v.reach}`,
    );
  }
  return lines.join("\n");
}

function rowsJson(rows: readonly AsrRow[]) {
  return Object.fromEntries(
    rows.map((r) => [
      r.key,
      {
        asr: Number.isFinite(r.asr) ? r.asr : null,
        low: r.interval.low,
        high: r.interval.high,
        successes: r.successes,
        n: r.n,
      },
    ]),
  );
}

export function outcomeJson(out: CampaignOutcome): Record<string, unknown> {
  return {
    campaign: out.manifest.id,
    complete: out.complete,
    planned: out.manifest.recordIds.length,
    attacks: out.records.length,
    ran: out.run.ran,
    from_store: out.run.fromStore,
    failed: out.run.failed.length,
    not_started: out.run.notStarted,
    not_sent: out.asr.notSent,
    not_sent_by: out.asr.notSentBy,
    // attacks the deployment's content filter blocked (refusals that say nothing about the model itself)
    blocked: blockedJson(out.asr.blocked, out.asr.sent),
    context: out.manifest.context ?? null,
    shortened: out.records.filter((r) => r.context?.shots && r.context.shots.used < r.context.shots.planned).length,
    asr: {
      overall: rowsJson([out.asr.overall]).overall,
      by_category: rowsJson(out.asr.byCategory),
      by_language: rowsJson(out.asr.byLanguage),
      by_family: rowsJson(out.asr.byFamily),
      by_technique: rowsJson(out.asr.byTechnique),
      cells: out.asr.cells.map((c) => ({
        category: c.category,
        technique: c.technique,
        family: c.family,
        language: c.language,
        asr: Number.isFinite(c.asr) ? c.asr : null,
        low: c.interval.low,
        high: c.interval.high,
        successes: c.successes,
        n: c.n,
      })),
    },
    vulnerabilities: out.identified.vulnerabilities.map((v) => ({
      id: v.id,
      category: v.category,
      family: v.family,
      language: v.language,
      score: v.score,
      successes: v.successes,
      attempts: v.attempts,
      reach: v.reach,
    })),
    findings: out.identified.findings.length,
  };
}

/** The numeric flags of a campaign, every one checked before anything opens or a --dry-run prints its plan. */
export interface RedteamNumbers {
  seed: number;
  budget?: number;
  limitSeeds?: number;
  concurrency: number;
  targetContext?: number;
  answerReserve: number;
  /** GCG steps per seed (the expert persona on a local folder). */
  gcgSteps: number;
}

/** Reads every numeric flag (a bad one is a usage error naming it), with the defaults: the one place they are read. */
export function redteamNumbers(o: RedteamOptions, cfg: Config): RedteamNumbers {
  return {
    seed: intFlag("seed", o.seed, 0),
    budget: intFlag("budget", o.budget, 1),
    limitSeeds: intFlag("limit-seeds", o.limitSeeds, 1),
    concurrency: intFlag("concurrency", o.concurrency, 1) ?? cfg.target.concurrency,
    targetContext: intFlag("target-context", o.targetContext, 1),
    answerReserve: intFlag("answer-reserve", o.answerReserve, 1) ?? DEFAULT_ANSWER_RESERVE,
    gcgSteps: intFlag("gcg-steps", o.gcgSteps, 1) ?? 50,
  };
}

/** What a campaign runs, read and checked before any model is opened: every problem is a usage error (exit 2). */
interface CampaignInputs {
  cfg: Config;
  numbers: RedteamNumbers;
  seeds: Awaited<ReturnType<typeof loadSeeds>>;
  framings: FramingRegistry;
  persona: Persona;
  languages: string[];
  scripts: ReturnType<typeof loadScriptFile> | undefined;
}

async function campaignInputs(o: RedteamOptions): Promise<CampaignInputs> {
  if (!o.seeds) throw new CliError("redteam: --seeds world|DATASET|FILE is required", 2);
  const seedsSpec = o.seeds;
  const cfg = usageOnError("", () => loadConfigWithSource(o.config).config);
  // a bad --success is refused before anything opens, a --dry-run included (it printed a plan and exited 0)
  if (o.success !== undefined) successFor(o, false, cfg);
  const numbers = redteamNumbers(o, cfg);
  const datasetsDir = o.datasets ? path.resolve(o.datasets) : defaultDatasetsDir(cfg.dataCache);
  const seeds = await usageOnError("--seeds: ", () => loadSeeds(seedsSpec, { datasetsDir, limit: numbers.limitSeeds }));
  const framings = usageOnError("", () => FramingRegistry.fromFiles(o.framings ?? []));
  const persona = personaFor(o, cfg, framings);
  const languages = o.languages
    ? o.languages
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : seeds.set
      ? [...new Set(seeds.probes.map((p) => p.language))]
      : cfg.redteam.languages;
  const scripts = usageOnError("--scripts: ", () => (o.scripts ? loadScriptFile(o.scripts) : undefined));
  return { cfg, numbers, seeds, framings, persona, languages, scripts };
}

/** The persona: from a --personas file, breakfix.yaml's redteam.personas, or a built-in one. */
function personaFor(o: RedteamOptions, cfg: Config, framings: FramingRegistry): Persona {
  const pc = cfg.redteam.personas.find((p) => p.id === o.persona);
  // A mistyped persona used to run a different campaign (every built-in technique) with exit 0 (issue 23).
  if (!o.personas && !pc && !(o.persona in BUILTIN_PERSONAS)) {
    // breakfix.yaml's personas may retune built-in ones (the defaults do): each name once
    const known = [...new Set([...Object.keys(BUILTIN_PERSONAS), ...cfg.redteam.personas.map((p) => p.id)])];
    throw new CliError(
      `--persona: unknown persona '${o.persona}'; known: ${known.join(", ")} (or define it in breakfix.yaml redteam.personas or a --personas file)`,
      2,
    );
  }
  const file = o.personas;
  const filePersonas = file ? usageOnError("--personas: ", () => loadPersonaFile(file, framings)) : undefined;
  return usageOnError("--persona: ", () => {
    const fromFile = filePersonas?.find((p) => p.id === o.persona);
    if (o.personas && !fromFile) throw new Error(`no persona '${o.persona}' in ${o.personas}`);
    const knobs = pc
      ? { attacksPerSeed: pc.attacksPerSeed, maxChain: pc.maxChain, maxTurns: pc.maxTurns, families: pc.families }
      : {};
    return fromFile ?? makePersona(o.persona, framings, knobs);
  });
}

/** The models a campaign talks to, filled in as they open, so whatever opened is closed on any exit. */
interface CampaignModels {
  targetOptions?: ModelOptions;
  target?: ChatModel;
  context?: TargetContext;
  attacker?: ChatModel;
  evaluator?: ChatModel;
  judgeModel?: ChatModel;
}

async function openModels(
  o: RedteamOptions,
  { cfg, numbers }: CampaignInputs,
  rt: ModelRuntime,
  m: CampaignModels,
): Promise<void> {
  m.targetOptions = {
    ...parseModelSpec(o.target ?? "config", "--target", cfg.target),
    concurrency: numbers.concurrency,
  };
  m.target = await buildModel(m.targetOptions, "--target", rt);
  m.context = await targetContext(m.targetOptions, numbers.targetContext, numbers.answerReserve);
  if (o.attacker)
    m.attacker = await buildModel(parseModelSpec(o.attacker, "--attacker", cfg.attacker ?? NO_MODEL), "--attacker", rt);
  if (o.evaluator)
    m.evaluator = await buildModel(parseModelSpec(o.evaluator, "--evaluator", NO_MODEL), "--evaluator", rt);
  if (o.judgeModel)
    m.judgeModel = await buildModel(
      parseModelSpec(o.judgeModel, "--judge-model", cfg.judge ?? NO_MODEL),
      "--judge-model",
      rt,
    );
}

/** Whether the persona has GCG techniques (the expert), whose suffixes are searched or replayed before it runs. */
const usesGcg = (persona: Persona) => persona.techniques.some((t) => t.steps.some((s) => s.name === "gcg_suffix"));

/** Translator and rephraser: what the converters need besides GCG suffixes. */
function converterDeps(inputs: CampaignInputs, m: CampaignModels): ConverterDeps {
  return {
    // the cycle's rule: the seed set's own translator for its pairs, the attacker for the rest, none without either
    // (the planner then skips translated attacks and says why)
    translator: campaignTranslator(inputs.seeds.set?.translator, m.attacker, [
      ...new Set(inputs.seeds.probes.map((p) => p.language)),
    ]),
    rephraser: m.attacker,
  };
}

/** The plan of attacks, as the campaign will make it (no model called); `gcg`: whether GCG suffixes are available. */
function planFor(inputs: CampaignInputs, target: ChatModel, deps: ConverterDeps, hasAttacker: boolean, gcg: boolean) {
  return planCampaign({
    seeds: inputs.seeds.probes,
    persona: inputs.persona,
    languages: inputs.languages,
    target: target.id,
    seed: inputs.numbers.seed,
    capabilities: {
      attacker: hasAttacker,
      ...translationCapabilities(deps.translator),
      gcg,
    },
    maxAttacks: inputs.numbers.budget,
  });
}

/**
 * A dry run's plan: no model call, and so no GCG (a white-box search is minutes of compute): the plan says what GCG
 * would do and plans with the suffixes it would have (plannedExpertSuffixes).
 */
function dryRunPlan(
  inputs: CampaignInputs,
  m: CampaignModels,
  workspace: string,
): { text: string; plan: Plan; gcgNote?: string } {
  const gcg =
    m.targetOptions && usesGcg(inputs.persona)
      ? plannedExpertSuffixes(
          m.targetOptions,
          inputs.seeds.probes.length,
          inputs.numbers.gcgSteps,
          storedSuffixesIn(workspace),
        )
      : undefined;
  const plan = planFor(
    inputs,
    m.target as ChatModel,
    converterDeps(inputs, m),
    m.attacker !== undefined,
    !!gcg?.available,
  );
  const text = renderPlan(plan, inputs.seeds.probes.length, inputs.persona.id);
  // the note names the target folder, a user path: shown escaped
  return gcg
    ? { text: `${text}\n  ${escapeForTerminal(gcg.note, { oneLine: true })}`, plan, gcgNote: gcg.note }
    : { text, plan };
}

/** A dry run's plan for --json: what renderPlan prints, as one object (attacks per technique and language). */
export function planJson(plan: Plan, seeds: number, persona: string, gcgNote?: string): Record<string, unknown> {
  const counts = new Map<string, { technique: string; language: string; count: number }>();
  for (const a of plan.attacks) {
    const k = `${a.techniqueId}\u0000${a.language}`;
    const c = counts.get(k) ?? { technique: a.techniqueId, language: a.language, count: 0 };
    c.count++;
    counts.set(k, c);
  }
  return {
    dryRun: true,
    persona,
    seeds,
    total: plan.attacks.length,
    attacks: [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c),
    skipped: plan.skipped.map((s) => ({
      technique: s.techniqueId,
      language: s.language,
      count: s.count,
      reason: s.reason,
    })),
    ...(gcgNote ? { gcg: gcgNote } : {}),
  };
}

/**
 * A plan with no attack because every technique was skipped (a language nothing translates into, techniques that
 * need an attacker) is a usage error: it used to run nothing and exit 0.
 */
function refuseEmptyPlan(plan: ReturnType<typeof planCampaign>): void {
  if (plan.attacks.length > 0 || plan.skipped.length === 0) return;
  const reasons = [...new Set(plan.skipped.map((s) => s.reason))];
  throw new CliError(
    `redteam: nothing to attack with: every planned attack was skipped: ${reasons.slice(0, 5).join("; ")}${reasons.length > 5 ? "; ..." : ""}`,
    2,
  );
}

/** The GCG suffixes stored in a workspace, read only when it has a store (a dry run creates nothing). */
function storedSuffixesIn(workspace: string) {
  const store = existingStore(workspace);
  try {
    return store ? storedSuffixes(store) : [];
  } finally {
    store?.close();
  }
}

/** Closes whatever models opened. */
async function closeModels({ target, attacker, evaluator, judgeModel, context }: CampaignModels): Promise<void> {
  await Promise.all([
    target?.close?.(),
    attacker?.close?.(),
    evaluator?.close?.(),
    judgeModel?.close?.(),
    context?.close?.(),
  ]);
}

/**
 * `--dry-run`: the plan, as a real run would make it, with no model call and nothing written: the workspace's store is
 * not opened for writing (nor created); the target is opened to read its id and context window.
 */
async function printDryRun(o: RedteamOptions, inputs: CampaignInputs): Promise<void> {
  const m: CampaignModels = {};
  try {
    await openModels(o, inputs, {}, m);
    // the judge is checked as a real run checks it (a bad --judge is refused by a dry run too)
    judgeFor(o, inputs.seeds.set, m.judgeModel, inputs.cfg.redteam.findingSeverity);
    const { text, plan, gcgNote } = dryRunPlan(inputs, m, workspaceOf(o));
    process.stdout.write(`${text}\n`);
    // --json: the last line is one JSON object, as on every command
    if (o.json)
      process.stdout.write(
        `${jsonForTerminal(planJson(plan, inputs.seeds.probes.length, inputs.persona.id, gcgNote))}\n`,
      );
  } finally {
    await closeModels(m);
  }
}

/** The outcome on stdout (plus --export and --json); failed attacks make the exit code 1. */
function reportOutcome(o: RedteamOptions, out: CampaignOutcome): void {
  if (o.export) writeFindingsJsonl(o.export, out.identified.findings);
  process.stdout.write(`${renderOutcome(out)}\n`);
  if (o.export) process.stdout.write(`findings written to ${o.export}\n`);
  if (o.json) process.stdout.write(`${jsonForTerminal(outcomeJson(out))}\n`);
  if (out.run.failed.length) {
    process.stderr.write(
      `redteam: ${out.run.failed.length} attacks failed (first: ${errorText(out.run.failed[0].error)}); re-run to retry them\n`,
    );
    process.exitCode = 1;
  }
}

export async function redteamAction(o: RedteamOptions): Promise<void> {
  const inputs = await campaignInputs(o);
  if (o.dryRun) return printDryRun(o, inputs);
  const { cfg, seeds, persona, numbers } = inputs;
  const { concurrency } = numbers;
  const store = Store.open(workspaceOf(o));
  // Every model call goes through the workspace's persistent response cache: re-judging a campaign with another
  // judge, or re-running after a crash, does not pay the target or attacker again.
  const cache = new SqliteResponseCache(store.db);
  const m: CampaignModels = {};
  const progress = progressReporter(o.progress && !o.json);
  let lock: RunLock | undefined;
  try {
    // Two identical campaigns at once would both pay for every attack (issue 23): the second waits for the first,
    // then resumes from the records it stored.
    lock = await store.waitLock(redteamLockName(o, store.db.name), {
      detail: `breakfix redteam (pid ${process.pid})`,
      onWait: (h) =>
        process.stderr.write(
          `breakfix redteam: an identical campaign (pid ${h.pid}, since ${h.acquiredAt}) is running in this workspace; waiting for it to finish, then resuming from its records\n`,
        ),
    });
    await openModels(o, inputs, { cache }, m);
    const target = m.target as ChatModel;
    const { judge, refusalOnly } = judgeFor(o, seeds.set, m.judgeModel, cfg.redteam.findingSeverity);
    const deps = converterDeps(inputs, m);
    // the expert persona's GCG suffixes (white box: optimised on the target folder now; else stored ones replayed)
    if (m.targetOptions && usesGcg(persona)) deps.gcg = await expertSuffixesForCli(o, m.targetOptions, inputs, store);
    const plan = planFor(inputs, target, deps, m.attacker !== undefined, deps.gcg !== undefined);
    refuseEmptyPlan(plan);
    const out = await runRedteamCampaign(
      {
        seeds: seeds.probes,
        seedsSource: seeds.source,
        persona,
        languages: inputs.languages,
        seed: numbers.seed,
        maxAttacks: numbers.budget,
      },
      {
        target,
        // the target's answer length from its config (the demo preset's 64), as the cycle's break step sends it
        targetParams: m.targetOptions?.maxTokens === undefined ? undefined : { maxTokens: m.targetOptions.maxTokens },
        judge,
        refusalJudge: new PatternRefusalJudge(),
        attacker: m.attacker,
        evaluator: m.evaluator,
        deps,
        framings: inputs.framings,
        store: new SqliteCampaignStore(store),
        concurrency,
        success: successFor(o, refusalOnly, cfg),
        maxModelCalls: cfg.redteam.budget.maxModelCallsPerRound,
        scripts: inputs.scripts,
        context: m.context,
        onProgress: (p) => progress.update(p),
      },
    );
    progress.stop();
    reportOutcome(o, out);
  } finally {
    progress.stop();
    await closeModels(m);
    cache.close();
    lock?.release();
    store.close();
  }
}

/** GCG for the expert persona (redteam/gcg/expert.ts), with the CLI's flags and progress lines on stderr. */
async function expertSuffixesForCli(
  o: RedteamOptions,
  target: { provider: string; model: string },
  { seeds, numbers }: CampaignInputs,
  store: Store,
): Promise<GcgSuffixLibrary | undefined> {
  return expertSuffixes({
    target,
    seeds: seeds.probes,
    store,
    targetText: o.gcgTarget ? () => o.gcgTarget as string : undefined,
    options: { steps: numbers.gcgSteps },
    executor: defaultExecutor,
    log: o.json ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
}

/** The lock of a campaign invocation: every option that decides what is sent (not output or parallelism). */
export function redteamLockName(o: RedteamOptions, db: string): string {
  const { json: _j, progress: _p, concurrency: _c, export: _e, ...rest } = o;
  return `redteam:${contentHash({ cwd: process.cwd(), db: path.resolve(db), ...rest })}`;
}
