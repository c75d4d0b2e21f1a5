/**
 * The action of `breakfix cycle` (registered in cycle.ts), loaded when it runs.
 * `breakfix cycle`: rounds of measure -> break -> identify -> curate -> post-train, driven by breakfix.yaml (no file:
 * the demo preset, presets/demo.yaml), until the release gates pass or the round budget is spent. The config's names
 * are resolved into a scenario before the first model call (a bad key stops with exit 2, naming it). Progress with
 * ETAs goes to stderr (--no-progress: none; the round results and warnings stay); the report (report.md, report.html)
 * is rewritten after every round. Re-running the same command resumes the run from its last finished step. With --json the last stdout line is {"rounds": [{round, ...}], ...}.
 * With several training seeds (--seeds N, cycle.seeds) the rounds run once per seed (cycle/seeds.ts), and the output
 * adds mean ± sd [min, max] over seeds per round; --json then prints {"seeds": [{seed, runId, rounds, ...}], "aggregate"}.
 */
import path from "node:path";
import { configSourceName, loadConfigWithSource } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import { type CycleBudgets, runCycle } from "../../cycle/cycle.ts";
import { ScenarioConfigError, scenarioFromConfig } from "../../cycle/from-config.ts";
import type { Scenario } from "../../cycle/scenario.ts";
import { configForSeed, roundLines, runSeeds, trainingSeeds } from "../../cycle/seeds.ts";
import { percent } from "../../domain/format.ts";
import { Store } from "../../store/store.ts";
import { CliError, intFlag } from "../errors.ts";

export interface CycleFlags {
  config?: string;
  model?: string;
  workspace?: string;
  rounds?: string;
  suiteLimit?: string;
  seedsPerCategory?: string;
  maxAttacks?: string;
  maxTokens?: string;
  trainMaxSteps?: string;
  safetySetRows?: string;
  personas?: string;
  engine?: string;
  seeds?: string;
  json?: boolean;
  /** --no-progress: false. */
  progress?: boolean;
}

/**
 * Where a cycle's lines go: all to stderr; with --no-progress the progress lines (a step starting or done with the
 * elapsed time and an ETA, counts with an ETA) are dropped, as every long command's --no-progress does, and the rest
 * (the run, round results, failed gates, warnings) is kept.
 */
export function cycleSinks(f: Pick<CycleFlags, "progress">, log: (l: string) => void) {
  return { log, progress: f.progress === false ? () => {} : log };
}

/** The round budgets of a config: seeds per category, attacks per persona, the target's token cap, personas. */
export function budgetsFromConfig(cfg: Config): CycleBudgets {
  const personas = cfg.redteam.personas.map((p) => p.id);
  return {
    seedsPerCategory: cfg.redteam.seedsPerCategory,
    maxAttacks: Math.max(1, Math.floor(cfg.redteam.budget.maxAttacksPerRound / Math.max(1, personas.length))),
    maxTokens: cfg.target.maxTokens,
    personas,
  };
}

/** Command-line overrides applied to the config (the same keys a file sets). */
function withFlags(cfg: Config, f: CycleFlags): Config {
  const limit = intFlag("suite-limit", f.suiteLimit, 1);
  const maxSteps = intFlag("train-max-steps", f.trainMaxSteps, 1);
  const safetyRows = intFlag("safety-set-rows", f.safetySetRows, 0);
  const maxTokens = intFlag("max-tokens", f.maxTokens, 1);
  const seeds = intFlag("seeds-per-category", f.seedsPerCategory, 1);
  const rounds = intFlag("rounds", f.rounds, 1);
  const seedCount = intFlag("seeds", f.seeds, 1);
  if (f.engine !== undefined && f.engine !== "llamacpp" && f.engine !== "builtin")
    throw new CliError(`--engine: expected llamacpp or builtin, got '${f.engine}'`, 2);
  const known = new Set(cfg.redteam.personas.map((p) => p.id));
  const personas = f.personas
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of personas ?? [])
    if (!known.has(p)) throw new CliError(`--personas: unknown persona '${p}'; known: ${[...known].join(", ")}`, 2);
  return {
    ...cfg,
    ...(f.workspace ? { workspace: path.resolve(f.workspace) } : {}),
    target: { ...cfg.target, ...(maxTokens ? { maxTokens } : {}) },
    redteam: {
      ...cfg.redteam,
      ...(seeds ? { seedsPerCategory: seeds } : {}),
      ...(personas ? { personas: cfg.redteam.personas.filter((p) => personas.includes(p.id)) } : {}),
    },
    benchmarks: {
      ...cfg.benchmarks,
      suites: limit ? cfg.benchmarks.suites.map((s) => ({ ...s, limit })) : cfg.benchmarks.suites,
    },
    curation: { ...cfg.curation, ...(safetyRows !== undefined ? { safetySetRows: safetyRows } : {}) },
    training: { ...cfg.training, ...(maxSteps ? { maxSteps } : {}) },
    cycle: {
      ...cfg.cycle,
      ...(rounds ? { rounds } : {}),
      ...(seedCount ? { seeds: seedCount } : {}),
      ...(f.engine ? { engine: f.engine as "llamacpp" | "builtin" } : {}),
    },
  };
}

export async function cycleAction(f: CycleFlags): Promise<void> {
  let cfg: Config;
  let source: string;
  try {
    const loaded = loadConfigWithSource(f.config);
    source = configSourceName(loaded.file);
    cfg = withFlags(loaded.config, f);
  } catch (e) {
    throw e instanceof CliError ? e : new CliError((e as Error).message, 2);
  }
  const { log, progress } = cycleSinks(f, (l: string) => process.stderr.write(`${l}\n`));
  // the cycle measures every probe once, greedily (its decisions compare rounds item by item); said, not ignored
  if (cfg.benchmarks.samples > 1)
    log(
      `${source}: benchmarks.samples (${cfg.benchmarks.samples}) applies to breakfix bench; the cycle measures each probe once, at temperature 0`,
    );
  const budgets = budgetsFromConfig(cfg);
  const maxAttacks = intFlag("max-attacks", f.maxAttacks, 1);
  if (maxAttacks) budgets.maxAttacks = maxAttacks;
  const store = Store.open(cfg.workspace);
  let scenario: Awaited<ReturnType<typeof scenarioFromConfig>>;
  try {
    scenario = await scenarioFromConfig(cfg, {
      store,
      workspace: cfg.workspace,
      // as given: baseModelDir resolves a plain folder and keeps hf:ORG/NAME[@REV] and `demo` for their resolvers
      ...(f.model ? { baseModel: f.model } : {}),
      log,
    });
  } catch (e) {
    store.close();
    // named as the config's own errors name it: --config's file, $BREAKFIX_CONFIG's, ./breakfix.yaml or the preset
    if (e instanceof ScenarioConfigError) throw new CliError(`${source}: ${e.message}`, 2);
    throw e;
  }
  try {
    const seeds = trainingSeeds(cfg);
    if (seeds.length > 1) {
      await seedsCycle(cfg, scenario, budgets, seeds, { log, progress }, f.json === true);
      return;
    }
    const res = await runCycle({
      config: configForSeed(cfg, seeds[0]),
      scenario,
      workspace: cfg.workspace,
      rounds: cfg.cycle.rounds,
      budgets,
      log,
      progress,
    });
    const lines = [
      `cycle run ${res.runId.slice(0, 16)}: ${res.rounds.length - 1} rounds after the base model`,
      // The test split's figures (what is reported); the gates and the release candidate were decided on dev.
      ...res.rounds.map(
        ({ round, test: t, dev }) =>
          `  round ${round} (test): harmful DR ${percent(t.harmfulDr.value)}, jailbreak DR ${percent(t.jailbreakDr.value)}, ` +
          `held-out DR ${percent(t.heldoutDr.value)}, IPRR ${percent(t.iprr.value)}, VPRR ${percent(t.vprr.value)}, ` +
          `capability ${percent(t.capability.value)}, DR by language ` +
          Object.entries(t.drByLanguage)
            .map(([k, v]) => `${k} ${percent(v.value)}`)
            .join(" / ") +
          ` (dev, what the gates read: harmful DR ${percent(dev.harmfulDr.value)}, IPRR ${percent(dev.iprr.value)}, ` +
          `VPRR ${percent(dev.vprr.value)})`,
      ),
      res.allGatesPassed
        ? "all release gates pass"
        : `release gates failed in the last round: ${res.failedGates.join("; ")}`,
      res.releaseCandidate !== undefined ? `release candidate: round ${res.releaseCandidate}` : "no release candidate",
      `report: ${res.report.md} and ${res.report.html}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    if (f.json)
      process.stdout.write(
        `${JSON.stringify({ runId: res.runId, rounds: res.rounds, releaseCandidate: res.releaseCandidate ?? null })}\n`,
      );
  } finally {
    await scenario.close();
    store.close();
  }
}

/** The cycle once per training seed, then the statistics over seeds (cycle/seeds.ts). */
async function seedsCycle(
  cfg: Config,
  scenario: Scenario,
  budgets: CycleBudgets,
  seeds: number[],
  sinks: { log: (l: string) => void; progress: (l: string) => void },
  json: boolean,
): Promise<void> {
  const res = await runSeeds({
    config: cfg,
    scenario,
    workspace: cfg.workspace,
    rounds: cfg.cycle.rounds,
    budgets,
    ...sinks,
    seeds,
  });
  const lines = [
    `cycle over ${seeds.length} training seeds:`,
    ...res.runs.map(
      (r) =>
        `  seed ${r.seed}: run ${r.runId.slice(0, 16)}, ${r.rounds.length - 1} rounds after the base model, ` +
        `release candidate ${r.releaseCandidate === undefined ? "none" : `round ${r.releaseCandidate}`}, ` +
        (r.allGatesPassed
          ? "all release gates pass"
          : `release gates failed in the last round: ${r.failedGates.join("; ")}`),
    ),
    ...roundLines(res.aggregate).map((l) => `  ${l}`),
    `report: ${res.report.md} and ${res.report.html}`,
  ];
  // With --json, stdout is the JSON document alone (the summary goes to stderr, beside the progress log).
  (json ? process.stderr : process.stdout).write(`${lines.join("\n")}\n`);
  if (json)
    process.stdout.write(
      `${JSON.stringify({
        seeds: res.runs.map((r) => ({
          seed: r.seed,
          runId: r.runId,
          rounds: r.rounds,
          releaseCandidate: r.releaseCandidate ?? null,
          allGatesPassed: r.allGatesPassed,
          failedGates: r.failedGates,
        })),
        aggregate: res.aggregate,
      })}\n`,
    );
}
