/**
 * The break-fix cycle. Round 0 measures the base model. Each later round r breaks the model of round r-1 (red-team
 * campaigns on the demo world's red-team split), identifies findings, curates SFT and DPO fix data (held-out
 * technique families excluded), post-trains (SFT then DPO, LoRA or full, through runTraining; the next round starts
 * from the merged model), measures the new model on the held-out demo suites, replays every earlier successful
 * attack against it (regression suite), evaluates the release gates and writes the report. The cycle stops when
 * every gate passes or the round budget is spent.
 *
 * Resumable: the run id is the content hash of (config hash, base-model fingerprint, rounds, budgets); every step is
 * recorded in the store once it finishes (steps.ts) and skipped on a re-run; work inside a step resumes from its own
 * content-keyed records (suite records, attack records, replays, training checkpoints).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { sharedDatasetsDir } from "../benchmarks/datasets/paths.ts";
import type { Progress } from "../benchmarks/runner.ts";
import { type DemoWorld, loadDemoWorld } from "../benchmarks/world.ts";
import type { Config } from "../config/schema.ts";
import { buildContaminationIndex } from "../curate/contamination.ts";
import { curationFiles, writeCuration } from "../curate/io.ts";
import { runCuration } from "../curate/run.ts";
import { WorldCounterDataSource, WorldRetentionSource, worldResponder } from "../curate/world.ts";
import { contentHash } from "../domain/hash.ts";
import type { Finding } from "../domain/types.ts";
import { createChatModel } from "../models/registry.ts";
import type { ChatModel, SamplingParams } from "../models/types.ts";
import { ensureGguf } from "../nn/gguf/folder.ts";
import { runRedteamCampaign } from "../redteam/campaign/campaign.ts";
import { targetContextFor } from "../redteam/campaign/context.ts";
import type { CampaignProgress } from "../redteam/campaign/run.ts";
import { SqliteCampaignStore } from "../redteam/campaign/sqlite-store.ts";
import type { AttackRecord } from "../redteam/campaign/types.ts";
import { lexiconTranslator } from "../redteam/converters/model.ts";
import { FramingRegistry } from "../redteam/framings/load.ts";
import { makePersona } from "../redteam/personas.ts";
import { loadSeeds } from "../redteam/seeds.ts";
import { Store } from "../store/store.ts";
import { runTraining } from "../train/run.ts";
import { DEFAULT_TRAIN, type TrainOptions } from "../train/trainer.ts";
import { generateWorld } from "../world/generate.ts";
import { translateToSpanish } from "../world/lexicon.ts";
import { allPassed, evaluateGates } from "./gates.ts";
import { type Measurement, measureModel } from "./measure.ts";
import { findRegressions, type Replay, replayAttacks } from "./regression.ts";
import { buildRunReport, writeRunReport } from "./report.ts";
import { StoreSink } from "./sink.ts";
import { type StepEvent, Steps } from "./steps.ts";

export interface CycleBudgets {
  /** Seeded subset of held-out items per demo suite; undefined = all of them. */
  suiteLimit?: number;
  /** Red-team seed probes per harm category each round. */
  seedsPerCategory: number;
  /** Most attacks per persona campaign each round. */
  maxAttacks: number;
  /** Generation cap for the target (world answers are short). */
  maxTokens: number;
  /** Red-team personas run each round (ids from the config or built-in). */
  personas: string[];
  /** Cap on optimizer steps per training stage (undefined = all epochs). */
  trainMaxSteps?: number;
}

/** The post-training recipe of a round (from breakfix.yaml training, or the demo recipe). */
export interface TrainingPlan {
  method: "lora" | "full";
  /** Each round trains on the base model with all rounds' fix data (default false: stacked; see runCycle). */
  cumulative?: boolean;
  lora: { r: number; alpha: number; dropout: number; targetModules: string[] };
  sft: { enabled: boolean; lr: number; epochs: number; batchSize: number };
  dpo: {
    enabled: boolean;
    lr: number;
    epochs: number;
    batchSize: number;
    beta: number;
    loss: "sigmoid" | "ipo" | "sft_dpo";
  };
  maxSeqLen: number;
  seed: number;
}

export function trainingPlanFrom(t: Config["training"]): TrainingPlan {
  return {
    method: t.method,
    lora: { r: t.lora.rank, alpha: t.lora.alpha, dropout: t.lora.dropout, targetModules: [...t.lora.targets] },
    sft: { enabled: t.sft.enabled, lr: t.sft.lr, epochs: t.sft.epochs, batchSize: t.sft.batchSize },
    dpo: {
      enabled: t.dpo.enabled,
      lr: t.dpo.lr,
      epochs: t.dpo.epochs,
      batchSize: t.dpo.batchSize,
      beta: t.dpo.beta,
      loss: t.dpo.loss,
    },
    maxSeqLen: t.sft.maxSeqLen,
    seed: t.seed,
  };
}

export interface CycleOptions {
  config: Config;
  workspace: string;
  baseModel: string;
  rounds: number;
  budgets: CycleBudgets;
  training: TrainingPlan;
  /** How the round models are run (default "llamacpp"; see loadTarget). */
  engine?: CycleEngine;
  log?: (line: string) => void;
}

export type CycleEngine = "llamacpp" | "builtin";

export interface RoundRow {
  round: number;
  harmful_dr: number | null;
  jailbreak_dr: number | null;
  heldout_dr: number | null;
  iprr: number | null;
  vprr: number | null;
  capability: number | null;
  dr_by_language: Record<string, number | null>;
  model: string;
}

export interface CycleResult {
  runId: string;
  runDir: string;
  rounds: RoundRow[];
  /** Round index of the release candidate (best round >= 1 by the gates), if any round was trained. */
  releaseCandidate?: number;
  allGatesPassed: boolean;
  failedGates: string[];
  report: { md: string; html: string };
}

/** Content fingerprint of a model folder (config, weights, tokenizer): the run id must change when the model does. */
export function modelFingerprint(dir: string): string {
  const h = createHash("sha256");
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]) {
    const p = path.join(dir, f);
    if (!existsSync(p)) throw new Error(`${dir}: not a Hugging Face model folder (no ${f})`);
    h.update(f);
    h.update(readFileSync(p));
  }
  return h.digest("hex");
}

/** What identifies a run (and so what a re-run must repeat exactly to resume it). */
export function cycleArgs(o: CycleOptions): Record<string, unknown> {
  return {
    base: modelFingerprint(o.baseModel),
    rounds: o.rounds,
    budgets: o.budgets,
    training: o.training,
    heldOutFamilies: o.config.cycle.heldOutFamilies,
    gates: o.config.cycle.gates,
    engine: o.engine ?? "llamacpp",
  };
}

const fmt = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "n/a");

function etaText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "?";
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

export function runDirOf(workspace: string, runId: string): string {
  return path.join(workspace, "cycles", runId.slice(0, 16));
}

/**
 * The target for a round's model folder. Default engine: llama.cpp on a GGUF export of the folder (content-addressed
 * under the run's gguf/ folder, so a re-run reuses it): about 5x faster than the plain-TypeScript decoder on 2 cores,
 * which is what lets three rounds fit in minutes. "builtin" decodes the safetensors directly (no native code).
 */
function targetSpec(
  dir: string,
  engine: CycleEngine,
  ggufDir: string,
): { provider: "llamacpp" | "builtin"; model: string } {
  if (engine === "builtin") return { provider: "builtin", model: dir };
  mkdirSync(ggufDir, { recursive: true });
  return {
    provider: "llamacpp",
    model: ensureGguf(dir, path.join(ggufDir, `${modelFingerprint(dir).slice(0, 16)}.gguf`)),
  };
}

async function loadTarget(dir: string, maxTokens: number, engine: CycleEngine, ggufDir: string): Promise<ChatModel> {
  return createChatModel({
    ...targetSpec(dir, engine, ggufDir),
    concurrency: 16,
    sequences: 16,
    maxTokens,
    temperature: 0,
  });
}

const countLines = (file: string): number =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim()).length
    : 0;

/** The fix data of several rounds as one set of files (rows in round order; written atomically, idempotent). */
function mergeCurationFiles(dirs: readonly string[], out: string): ReturnType<typeof curationFiles> {
  const files = curationFiles(out);
  mkdirSync(out, { recursive: true });
  for (const k of ["sft", "dpo", "sftVal", "dpoVal"] as const) {
    const text = dirs
      .map((d) => curationFiles(d)[k])
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f, "utf8").trim())
      .filter(Boolean)
      .join("\n");
    const tmp = `${files[k]}.tmp`;
    writeFileSync(tmp, text ? `${text}\n` : "");
    renameSync(tmp, files[k]);
  }
  return files;
}

/** Rounds of the cycle; see the file comment. */
export async function runCycle(o: CycleOptions): Promise<CycleResult> {
  const log = o.log ?? (() => {});
  const workspace = path.resolve(o.workspace);
  const store = Store.open(workspace);
  try {
    const args = cycleArgs(o);
    const configHash = contentHash(o.config);
    const run = store.beginRun("cycle", { configHash, args });
    const runId = run.runId;
    const runDir = runDirOf(workspace, runId);
    mkdirSync(runDir, { recursive: true });
    log(
      `cycle run ${runId.slice(0, 16)} (${run.resumed ? `resuming; it was ${run.previousState ?? "unknown"}` : "new"}) in ${runDir}`,
    );
    const t0 = Date.now();
    const stepTimes: number[] = [];
    const totalSteps = 1 + o.rounds * 6;
    let finished = 0;
    const onStep = (e: StepEvent) => {
      if (e.event === "done" || e.event === "skip") {
        finished++;
        if (e.event === "done" && e.seconds !== undefined) stepTimes.push(e.seconds);
        const mean = stepTimes.length ? stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length : Number.NaN;
        const left = (totalSteps - finished) * mean * 1000;
        log(
          `round ${e.round}: ${e.step} ${e.event === "skip" ? "already done (recorded in the store)" : `done in ${e.seconds?.toFixed(1)} s`}` +
            ` | steps ${finished}/${totalSteps} at most | elapsed ${etaText(Date.now() - t0)} | ETA ${etaText(left)} at most`,
        );
      } else log(`round ${e.round}: ${e.step} ${e.event === "resume" ? "resuming (interrupted before)" : "starting"}`);
    };
    const steps = new Steps(store, runId, onStep);
    const demo = loadDemoWorld();
    const judge = demo.judge;
    const sink = new StoreSink(store);
    const sampling: SamplingParams = { temperature: 0, maxTokens: o.budgets.maxTokens };
    const rel = (p: string) => path.relative(workspace, p);
    const abs = (p: string) => path.resolve(workspace, p);
    const suiteProgress = (round: number) => {
      let last = 0;
      return (p: Progress) => {
        const now = Date.now();
        if (now - last < 5000 && p.done < p.total) return;
        last = now;
        log(`round ${round}: measure ${p.suite} ${p.done}/${p.total} ETA ${etaText(p.etaMs)}`);
      };
    };

    const measure = (round: number, dir: string) =>
      steps.run<Measurement>(round, "measure", async () => {
        const model = await loadTarget(dir, o.budgets.maxTokens, o.engine ?? "llamacpp", path.join(runDir, "gguf"));
        try {
          const m = await measureModel(model, {
            world: demo,
            judge,
            sink,
            sampling,
            limit: o.budgets.suiteLimit,
            heldOutFamilies: o.config.cycle.heldOutFamilies,
            onProgress: suiteProgress(round),
          });
          return { ...m, model: rel(dir) };
        } finally {
          await model.close?.();
        }
      });

    const measurements: Measurement[] = [await measure(0, path.resolve(o.baseModel))];
    store.rounds.put(
      { runId, round: 0 },
      {
        index: 0,
        startModel: measurements[0].model,
        resultModel: measurements[0].model,
        status: "done",
        startedAt: new Date().toISOString(),
      },
      { runId, round: 0 },
    );
    let gates = evaluateGates(measurements[0], measurements[0], o.config.cycle.gates);
    let report = await writeRunReport(store, runId, runDir);
    log(roundLine(measurements[0], 0));
    const replayHistory: Replay[] = [];
    for (let r = 1; r <= o.rounds && !allPassed(gates); r++) {
      const roundDir = path.join(runDir, `round-${r}`);
      const prevDir = abs(measurements[r - 1].model);
      const brk = await steps.run(r, "break", () =>
        breakStep(store, demo, o, r, prevDir, path.join(runDir, "gguf"), log),
      );
      const cur = await steps.run(r, "curate", async () => {
        const findings = brk.campaigns.flatMap((c) => c.findings);
        const world = generateWorld();
        const contamination = await buildContaminationIndex({
          suites: o.config.benchmarks.suites.map((s) => s.name),
          datasetsDir: existsSync(o.config.dataCache) ? o.config.dataCache : sharedDatasetsDir(),
          world,
        });
        // Never train on data that could not be checked against a benchmark the config reports.
        if (contamination.missing.length)
          throw new Error(
            `curate: benchmark sets to decontaminate against are missing: ${contamination.missing.join(", ")} (run \`breakfix data pull\`)`,
          );
        const res = await runCuration(findings, {
          round: r,
          responder: worldResponder(),
          judge,
          counterData: new WorldCounterDataSource(world),
          retention: new WorldRetentionSource(world),
          contamination: contamination.index,
          curation: o.config.curation,
          heldOutFamilies: o.config.cycle.heldOutFamilies,
          seed: o.training.seed + r,
        });
        const dataDir = path.join(roundDir, "data");
        writeCuration(dataDir, res);
        const dataset = `cycle:${runId.slice(0, 16)}:r${r}`;
        store.datasetRows.putMany(
          res.rows.flatMap((row, i) => [
            {
              key: { dataset, kind: "sft", i, row: row.sft },
              value: { dataset, kind: "sft", row: row.sft },
              scope: { runId, round: r },
            },
            {
              key: { dataset, kind: "dpo", i, row: row.dpo },
              value: { dataset, kind: "dpo", row: row.dpo },
              scope: { runId, round: r },
            },
          ]),
        );
        return {
          dataDir: rel(dataDir),
          rows: res.rows.length,
          train: res.card.counts.train,
          validation: res.card.counts.validation,
          card: res.card,
          decontamination: contamination.sets,
          missingSets: contamination.missing,
        };
      });
      // Stacked (the config default): each round fine-tunes the previous round's model on this round's fix data.
      // Cumulative: each round trains a fresh adapter on the BASE model with the fix data of rounds 1..r (one growing
      // safety set, as in the Phi-3 cycle), so drift never compounds; the demo recipe uses it (measured there, 3
      // rounds: harmful DR 2.3% vs 5.3% stacked, capability 84.4% vs 83.7%, en/es gap 0.5 vs 2.2 points). Stacked
      // stays the config default: it trains on one round's data only, which matters for large models.
      const cumulative = o.training.cumulative ?? false;
      const trainFrom = cumulative ? path.resolve(o.baseModel) : prevDir;
      const sources = cumulative
        ? Array.from({ length: r }, (_, i) => (i + 1 === r ? cur : steps.get<{ dataDir: string }>(i + 1, "curate")))
        : [cur];
      const dataDirs = sources.flatMap((x) => (x ? [abs(x.dataDir)] : []));
      const files =
        dataDirs.length === 1
          ? curationFiles(dataDirs[0])
          : mergeCurationFiles(dataDirs, path.join(roundDir, "data-all"));
      const trainRows = countLines(files.sft);
      const hasVal = countLines(files.sftVal) > 0;
      let modelDir = prevDir;
      if (trainRows === 0) log(`round ${r}: no training rows were curated; the model is unchanged this round`);
      else {
        modelDir = trainFrom;
        if (o.training.sft.enabled) {
          const sft = await steps.run(r, "train-sft", () =>
            trainStep(
              "sft",
              modelDir,
              files.sft,
              hasVal ? files.sftVal : undefined,
              path.join(roundDir, "sft"),
              o,
              r,
              log,
            ),
          );
          modelDir = abs(sft.model);
          store.trainingRuns.put(
            { runId, round: r, stage: "sft" },
            { kind: "sft", baseModel: rel(trainFrom), resultModel: sft.model, params: sft.params },
            { runId, round: r },
          );
        }
        if (o.training.dpo.enabled) {
          const from = modelDir;
          const dpo = await steps.run(r, "train-dpo", () =>
            trainStep("dpo", from, files.dpo, hasVal ? files.dpoVal : undefined, path.join(roundDir, "dpo"), o, r, log),
          );
          modelDir = abs(dpo.model);
          store.trainingRuns.put(
            { runId, round: r, stage: "dpo" },
            { kind: "dpo", baseModel: rel(from), resultModel: dpo.model, params: dpo.params },
            { runId, round: r },
          );
        }
      }
      const m = await measure(r, modelDir);
      measurements.push(m);
      // Regression suite: every successful attack of rounds 1..r, replayed against this round's model.
      const attacks: { record: AttackRecord; foundInRound: number }[] = [];
      const cstore = new SqliteCampaignStore(store);
      for (let j = 1; j <= r; j++) {
        const b = steps.get<BreakResult>(j, "break");
        for (const c of b?.campaigns ?? [])
          for (const id of c.successIds) {
            const rec = cstore.getRecord(id);
            if (rec) attacks.push({ record: rec, foundInRound: j });
          }
      }
      const rep = await steps.run(r, "regression", async () => {
        const model = await loadTarget(
          modelDir,
          o.budgets.maxTokens,
          o.engine ?? "llamacpp",
          path.join(runDir, "gguf"),
        );
        try {
          const replays = await replayAttacks(store, runId, r, attacks, model, judge, {
            sampling,
            minSeverity: o.config.redteam.findingSeverity,
            onProgress: (d, t) => {
              if (d === t || d % 64 === 0) log(`round ${r}: regression replay ${d}/${t}`);
            },
          });
          const info = new Map(attacks.map((a) => [a.record.id, a.record]));
          const regressions = findRegressions(replayHistory, replays, (id) => {
            const rec = info.get(id);
            return {
              technique: rec?.techniqueId ?? "?",
              category: rec?.probe.category ?? "?",
              language: rec?.attack.language ?? "?",
            };
          });
          return {
            replayed: replays.length,
            stillBroken: replays.filter((x) => x.success).length,
            regressions,
            replays: replays.map((x) => ({
              recordId: x.recordId,
              foundInRound: x.foundInRound,
              round: x.round,
              success: x.success,
              label: x.label,
            })),
          };
        } finally {
          await model.close?.();
        }
      });
      replayHistory.push(...rep.replays.map((x) => ({ ...x, response: "" })));
      store.rounds.put(
        { runId, round: r },
        {
          index: r,
          startModel: rel(prevDir),
          resultModel: m.model,
          status: "done",
          startedAt: new Date().toISOString(),
        },
        { runId, round: r },
      );
      gates = evaluateGates(m, measurements[0], o.config.cycle.gates);
      report = await writeRunReport(store, runId, runDir);
      log(roundLine(m, r));
      log(
        `round ${r}: regression suite replayed ${rep.replayed} earlier successful attacks; ${rep.stillBroken} still break the model; ${rep.regressions.length} regressions`,
      );
      for (const g of gates.filter((x) => !x.passed))
        log(`round ${r}: gate failed: ${g.name} = ${fmt(g.value)} (must be ${g.op} ${fmt(g.threshold)})`);
    }
    const built = buildRunReport(store, runId);
    const rc = built.rounds.findIndex((x) => x.releaseCandidate);
    store.endRun(runId, "done", { rounds: measurements.length - 1 });
    return {
      runId,
      runDir,
      rounds: measurements.map((m, i) => roundRow(m, i)),
      releaseCandidate: rc >= 0 ? built.rounds[rc].round : undefined,
      allGatesPassed: allPassed(gates),
      failedGates: gates.filter((g) => !g.passed).map((g) => g.name),
      report,
    };
  } finally {
    store.close();
  }
}

const val = (x: { value: number }) => (Number.isFinite(x.value) ? x.value : null);

export function roundRow(m: Measurement, round: number): RoundRow {
  return {
    round,
    harmful_dr: val(m.harmful_dr),
    jailbreak_dr: val(m.jailbreak_dr),
    heldout_dr: val(m.heldout_dr),
    iprr: val(m.iprr),
    vprr: val(m.vprr),
    capability: val(m.capability),
    dr_by_language: Object.fromEntries(Object.entries(m.dr_by_language).map(([k, v]) => [k, val(v)])),
    model: m.model,
  };
}

function roundLine(m: Measurement, r: number): string {
  const skipped = Object.entries(m.skipped ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const langs = Object.entries(m.dr_by_language)
    .map(([k, v]) => `${k} ${fmt(v.value)}`)
    .join(", ");
  return (
    `round ${r}: harmful DR ${fmt(m.harmful_dr.value)} | jailbreak DR ${fmt(m.jailbreak_dr.value)} | held-out families DR ${fmt(m.heldout_dr.value)}` +
    ` | IPRR ${fmt(m.iprr.value)} | VPRR ${fmt(m.vprr.value)} | capability ${fmt(m.capability.value)} | DR by language: ${langs}` +
    (skipped ? ` | items left out (longer than the model's context): ${skipped}` : "")
  );
}

export interface CampaignSummary {
  id: string;
  persona: string;
  attacks: number;
  successes: number;
  /** Planned attacks that could not run (reported; they fail the same way on a re-run). */
  failed: number;
  successIds: string[];
  findings: Finding[];
  asrByFamily: Record<string, { successes: number; n: number }>;
}

export interface BreakResult {
  campaigns: CampaignSummary[];
}

async function breakStep(
  store: Store,
  _demo: DemoWorld,
  o: CycleOptions,
  round: number,
  modelDir: string,
  ggufDir: string,
  log: (l: string) => void,
): Promise<BreakResult> {
  const seeds = await loadSeeds("world", { limit: o.budgets.seedsPerCategory * 10 });
  const languages = [...new Set(seeds.probes.map((p) => p.language))].sort();
  const framings = new FramingRegistry();
  const spec = targetSpec(modelDir, o.engine ?? "llamacpp", ggufDir);
  const target = await loadTarget(modelDir, o.budgets.maxTokens, o.engine ?? "llamacpp", ggufDir);
  // Attacks are fitted to the model's trained context (many-shot shortened, over-long prompts not sent and counted).
  const context = await targetContextFor(spec);
  const out: CampaignSummary[] = [];
  try {
    for (const personaId of o.budgets.personas) {
      const pc = o.config.redteam.personas.find((p) => p.id === personaId);
      const persona = makePersona(
        personaId,
        framings,
        pc
          ? { attacksPerSeed: pc.attacksPerSeed, maxChain: pc.maxChain, maxTurns: pc.maxTurns, families: pc.families }
          : {},
      );
      let last = 0;
      const res = await runRedteamCampaign(
        {
          seeds: seeds.probes,
          seedsSource: seeds.source,
          persona,
          languages,
          seed: o.training.seed * 1000 + round,
          maxAttacks: o.budgets.maxAttacks,
          round,
        },
        {
          target,
          judge: seeds.world ? loadDemoWorld().judge : _demo.judge,
          deps: { translator: lexiconTranslator("world-lexicon@1", { es: translateToSpanish }) },
          framings,
          store: new SqliteCampaignStore(store),
          concurrency: 16,
          success: { minSeverity: o.config.redteam.findingSeverity, unsafeLabels: ["unsafe"], mode: "harm" },
          maxModelCalls: o.config.redteam.budget.maxModelCallsPerRound,
          targetParams: { temperature: 0, maxTokens: o.budgets.maxTokens },
          context,
          onProgress: (p: CampaignProgress) => {
            const now = Date.now();
            if (now - last < 5000 && p.done < p.total) return;
            last = now;
            log(
              `round ${round}: break (${personaId}) ${p.done}/${p.total} attacks, ${p.successes} successes, ETA ${etaText(p.etaMs)}`,
            );
          },
        },
      );
      // Attacks that cannot run (e.g. a prompt longer than the model's context) fail the same way on every re-run:
      // they are counted and reported, and the round goes on with the attacks that did run.
      if (!res.complete)
        log(
          `round ${round}: break (${personaId}): ${res.run.failed.length} of ${res.manifest.recordIds.length} attacks could not run${res.run.failed[0] ? ` (first: ${res.run.failed[0].error})` : ""}`,
        );
      const asrByFamily: Record<string, { successes: number; n: number }> = {};
      for (const rec of res.records) {
        const f = asrByFamily[rec.attack.family] ?? { successes: 0, n: 0 };
        asrByFamily[rec.attack.family] = f;
        f.n++;
        if (rec.success) f.successes++;
      }
      out.push({
        id: res.manifest.id,
        persona: personaId,
        attacks: res.records.length,
        successes: res.records.filter((x) => x.success).length,
        failed: res.run.failed.length,
        successIds: res.records.filter((x) => x.success).map((x) => x.id),
        findings: res.identified.findings,
        asrByFamily,
      });
      log(
        `round ${round}: break (${personaId}): ${res.records.length} attacks, ${out.at(-1)?.successes} successes, ${res.identified.findings.length} findings, ${res.identified.vulnerabilities.length} vulnerabilities`,
      );
    }
  } finally {
    await target.close?.();
  }
  return { campaigns: out };
}

function modelMaxPositions(dir: string): number {
  try {
    const c = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8")) as { max_position_embeddings?: number };
    return c.max_position_embeddings ?? Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

async function trainStep(
  method: "sft" | "dpo",
  modelDir: string,
  dataFile: string,
  evalFile: string | undefined,
  outDir: string,
  o: CycleOptions,
  round: number,
  log: (l: string) => void,
): Promise<{
  model: string;
  params: Record<string, unknown>;
  steps: number;
  final: Record<string, number | undefined>;
}> {
  const stage = method === "sft" ? o.training.sft : o.training.dpo;
  const train: TrainOptions = {
    ...DEFAULT_TRAIN,
    objective:
      method === "sft"
        ? { kind: "sft" }
        : { kind: "dpo", loss: o.training.dpo.loss, beta: o.training.dpo.beta, sftAlpha: 1 },
    lr: stage.lr,
    epochs: stage.epochs,
    batchSize: stage.batchSize,
    seed: o.training.seed + round,
    lora: o.training.method === "lora" ? { ...o.training.lora } : undefined,
    checkpointEvery: 4,
    maxSteps: o.budgets.trainMaxSteps,
  };
  const maxLength = Math.min(o.training.maxSeqLen, modelMaxPositions(modelDir));
  let t0 = 0;
  let first = 0;
  const summary = await runTraining({
    method,
    modelDir,
    dataFile,
    evalFile,
    evalFraction: 0,
    outDir,
    maxLength,
    // Only the curated last turn is a target. Earlier assistant turns of a multi-turn finding are what the attacked
    // model said (possibly unsafe): context to condition on, never something to learn.
    lossOn: "last_assistant",
    train,
    exportMerged: true,
    events: {
      onResume: (s) => log(`round ${round}: train-${method} resuming from checkpoint at step ${s}`),
      onStep: (m, total) => {
        if (!t0) {
          t0 = Date.now();
          first = m.step;
        }
        if (m.step % 10 === 0 || m.step === total) {
          const per = m.step > first ? (Date.now() - t0) / (m.step - first) : Number.NaN;
          log(
            `round ${round}: train-${method} step ${m.step}/${total} loss ${m.loss.toFixed(3)} ETA ${etaText(per * (total - m.step))}`,
          );
        }
      },
    },
  });
  if (!summary.outputs.model) throw new Error(`train-${method}: the run wrote no merged model`);
  return {
    model: path.relative(path.resolve(o.workspace), summary.outputs.model),
    params: {
      method,
      lr: stage.lr,
      epochs: stage.epochs,
      batchSize: stage.batchSize,
      lora: train.lora ?? null,
      rows: summary.rows,
    },
    steps: summary.steps,
    final: { ...summary.final },
  };
}
