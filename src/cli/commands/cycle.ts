/**
 * `breakfix cycle`: rounds of measure -> break -> identify -> curate -> post-train on the demo model organism (or
 * --model DIR), until the release gates pass or the round budget is spent. Progress with ETAs goes to stderr; the
 * report (report.md, report.html) is rewritten after every round. Re-running the same command resumes the run from
 * its last finished step. With --json the last stdout line is {"rounds": [{round, harmful_dr, ...}]}.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { loadConfigWithSource } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import {
  type CycleBudgets,
  type CycleEngine,
  runCycle,
  type TrainingPlan,
  trainingPlanFrom,
} from "../../cycle/cycle.ts";
import { buildWorldModel } from "../../world/build.ts";
import { CliError } from "../errors.ts";

/** Where `breakfix world build` puts the demo model organism. */
export const DEMO_MODEL_DIR = "artifacts/demo-world/model";

/**
 * The demo recipe (used when there is no breakfix.yaml): budgets sized for 2 CPU cores and the small demo model,
 * and a LoRA recipe with learning rates suited to a model trained from scratch on the world (the config defaults
 * are sized for real 3-8B models).
 */
export const DEMO_BUDGETS: CycleBudgets = {
  suiteLimit: 300,
  seedsPerCategory: 8,
  maxAttacks: 240,
  maxTokens: 64,
  personas: ["low_skilled", "intermediate"],
};

export function demoTraining(t: TrainingPlan): TrainingPlan {
  return {
    ...t,
    method: "lora",
    // Measured on the committed demo model (issue 12 notes; each figure one run, +-1.5 points of run-to-run noise):
    // - MLP-only adapters (gate/up/down) at scale alpha/r = 1: round 1 harmful DR 8.1%, IPRR 95.8%, capability 84.4%
    //   vs every linear layer 5.5-9.8% / 89-94% / 82.5-83.7% (attention-only could not move the MLPs that map a
    //   request to its placeholder: 82% harmful DR). Scale 2 lost 5 capability points in one round.
    // - Capability is lost on the word tasks (75% -> 57-66%): any perturbation flips the base model's marginal
    //   answers. A big replay of the base model's own capability data (demoConfig: retentionRatio 10, ~1,200 of ~1,500
    //   rows) holds it: capability 85.2-86.4% vs 82.5-84.4% with ratio 2-4; 8 SFT epochs (~740 steps, 55 s) keep
    //   harmful DR at 7% where 4 epochs leave 16%.
    // - Cumulative rounds (a fresh adapter on the base model with all rounds' fix data): round 3 harmful DR 2.3%,
    //   held-out families 2.4%, capability 84.4%; stacked rounds drifted to 83.7% with harmful DR 5.3%.
    // - Two counter-data rows per safety row (demoConfig) instead of one: VPRR 5.6-6.9% vs 8.3-11.1%.
    // - Run-to-run noise is large: the same round-1 data with another training seed gave harmful DR 4.0% or 11.3%,
    //   capability 84.4-85.6%. Later rounds add few rows (5-11 safety rows), so the release candidate (the best
    //   round by the gates) is often round 1 or 2. Fixing the seed across cumulative rounds did not steady them.
    // - One gentle DPO epoch with an SFT term (RPO): plain sigmoid DPO at 5e-4 drove its loss to ~0 and garbled text.
    cumulative: true,
    lora: {
      ...t.lora,
      r: 8,
      alpha: 8,
      targetModules: ["gate_proj", "up_proj", "down_proj"],
    },
    sft: { enabled: true, lr: 2e-3, epochs: 8, batchSize: 16 },
    dpo: { ...t.dpo, enabled: true, lr: 1e-4, epochs: 1, batchSize: 8, loss: "sft_dpo" },
    maxSeqLen: 256,
  };
}

/** The demo's curation: a large capability replay (the config default is 2 rows per safety row), see demoTraining. */
export function demoConfig(cfg: Config): Config {
  return { ...cfg, curation: { ...cfg.curation, retentionRatio: 10, counterDataRatio: 2 } };
}

export function budgetsFromConfig(cfg: Config): CycleBudgets {
  const demoLimit = cfg.benchmarks.suites.find((s) => s.name === "demo" || s.name.startsWith("demo-"))?.limit;
  const personas = cfg.redteam.personas.map((p) => p.id);
  return {
    suiteLimit: demoLimit,
    seedsPerCategory: cfg.redteam.seedsPerCategory,
    maxAttacks: Math.max(1, Math.floor(cfg.redteam.budget.maxAttacksPerRound / Math.max(1, personas.length))),
    maxTokens: cfg.target.maxTokens,
    personas,
  };
}

interface CycleFlags {
  config?: string;
  model?: string;
  workspace?: string;
  rounds?: string;
  suiteLimit?: string;
  seedsPerCategory?: string;
  maxAttacks?: string;
  maxTokens?: string;
  trainMaxSteps?: string;
  personas?: string;
  engine?: string;
  json?: boolean;
}

function engineOf(v: string | undefined): CycleEngine | undefined {
  if (v === undefined) return undefined;
  if (v === "llamacpp" || v === "builtin") return v;
  throw new CliError(`--engine: expected llamacpp or builtin, got '${v}'`, 2);
}

function int(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name}: expected an integer >= ${min}, got '${v}'`, 2);
  return n;
}

async function cycleAction(f: CycleFlags): Promise<void> {
  let loaded: ReturnType<typeof loadConfigWithSource>;
  try {
    loaded = loadConfigWithSource(f.config);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  const cfg = loaded.config;
  const demo = loaded.file === null;
  const log = (l: string) => process.stderr.write(`${l}\n`);
  let model = f.model ? path.resolve(f.model) : path.resolve(DEMO_MODEL_DIR);
  if (!existsSync(path.join(model, "config.json"))) {
    if (f.model) throw new CliError(`--model: ${f.model} is not a Hugging Face model folder (no config.json)`, 2);
    log(
      `the demo model organism is not built yet (${DEMO_MODEL_DIR}); building it now with \`breakfix world build\`...`,
    );
    const built = await buildWorldModel({
      outDir: path.dirname(model),
      log,
      events: {
        onStep: (m, total) => {
          if (m.step % 50 === 0 || m.step === total)
            log(`world build: step ${m.step}/${total} loss ${m.loss.toFixed(3)}`);
        },
      },
    });
    model = built.modelDir;
    log(`built the demo model in ${built.seconds.toFixed(0)} s`);
  }
  const base = demo ? DEMO_BUDGETS : budgetsFromConfig(cfg);
  const budgets: CycleBudgets = {
    ...base,
    suiteLimit: int(f.suiteLimit, "suite-limit", 1) ?? base.suiteLimit,
    seedsPerCategory: int(f.seedsPerCategory, "seeds-per-category", 1) ?? base.seedsPerCategory,
    maxAttacks: int(f.maxAttacks, "max-attacks", 1) ?? base.maxAttacks,
    maxTokens: int(f.maxTokens, "max-tokens", 1) ?? base.maxTokens,
    personas: f.personas
      ? f.personas
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : base.personas,
  };
  const maxSteps = int(f.trainMaxSteps, "train-max-steps", 1);
  if (maxSteps !== undefined) budgets.trainMaxSteps = maxSteps;
  const plan = trainingPlanFrom(cfg.training);
  const res = await runCycle({
    config: demo ? demoConfig(cfg) : cfg,
    workspace: f.workspace ? path.resolve(f.workspace) : cfg.workspace,
    baseModel: model,
    rounds: int(f.rounds, "rounds", 1) ?? cfg.cycle.rounds,
    budgets,
    training: demo ? demoTraining(plan) : plan,
    engine: engineOf(f.engine),
    log,
  });
  const pct = (x: number | null) => (x === null ? "n/a" : `${(100 * x).toFixed(1)}%`);
  const lines = [
    `cycle run ${res.runId.slice(0, 16)}: ${res.rounds.length - 1} rounds after the base model`,
    ...res.rounds.map(
      (r) =>
        `  round ${r.round}: harmful DR ${pct(r.harmful_dr)}, jailbreak DR ${pct(r.jailbreak_dr)}, held-out DR ${pct(r.heldout_dr)}, IPRR ${pct(r.iprr)}, VPRR ${pct(r.vprr)}, capability ${pct(r.capability)}, DR by language ${Object.entries(
          r.dr_by_language,
        )
          .map(([k, v]) => `${k} ${pct(v)}`)
          .join(" / ")}`,
    ),
    res.allGatesPassed
      ? "all release gates pass"
      : `release gates failed in the last round: ${res.failedGates.join("; ")}`,
    res.releaseCandidate !== undefined ? `release candidate: round ${res.releaseCandidate}` : "no release candidate",
    `report: ${res.report.md} and ${res.report.html}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (f.json) process.stdout.write(`${JSON.stringify({ rounds: res.rounds })}\n`);
}

export function registerCycle(program: Command): void {
  program
    .command("cycle")
    .description("Run the break-fix cycle (measure, break, identify, curate, post-train) until the release gates pass")
    .option("--config <file>", "breakfix.yaml (default: found upward from here; none = the demo recipe)")
    .option("--model <dir>", `base model, a Hugging Face folder (default: ${DEMO_MODEL_DIR}, built on first use)`)
    .option("--workspace <dir>", "workspace folder (default: the config's)")
    .option("--rounds <n>", "rounds after the base model (default: the config's cycle.rounds)")
    .option("--suite-limit <n>", "seeded subset of held-out items per demo suite")
    .option("--seeds-per-category <n>", "red-team seeds per harm category each round")
    .option("--max-attacks <n>", "most attacks per persona campaign each round")
    .option("--max-tokens <n>", "generation cap for the target")
    .option("--train-max-steps <n>", "cap on optimizer steps per training stage")
    .option("--personas <list>", "red-team personas each round, comma-separated")
    .option(
      "--engine <name>",
      "how round models run: llamacpp (default: a GGUF export through llama.cpp) or builtin (no native code)",
    )
    .option("--json", 'print {"rounds": [...]} as one JSON object on the last line')
    .action(cycleAction);
}
