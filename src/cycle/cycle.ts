/**
 * The break-fix cycle over a scenario (scenario.ts). Round 0 measures the base model. Each later round r breaks the
 * model of round r-1 (break.ts), curates fix data from the findings (curation.ts), post-trains SFT then DPO
 * (train.ts), makes the new model answer (deploy.ts), measures it (measure.ts), replays every earlier successful
 * attack against it (regression.ts), evaluates the release gates (gates.ts) and rewrites the report (report.ts). The
 * cycle stops when every gate passes or the round budget is spent.
 *
 * Decisions read dev only: the measure step stores the dev and test splits' figures (and slices), but the loop is
 * handed the dev figures alone (Rounds.measure); the test figures are read back from the step records after the loop,
 * for the result and the report (report.ts readMeasurements).
 *
 * Resumable: the run id is the content hash of (config hash, base-model fingerprint, scenario identity, rounds,
 * budgets, training); every step is recorded in the store once it finishes (steps.ts) and skipped on a re-run; work
 * inside a step resumes from its own content-keyed records (suite records, attack records, replays, checkpoints). A
 * run holds the store's lock `cycle:RUN_ID` while it runs, so an identical cycle started meanwhile waits, then resumes.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Progress } from "../benchmarks/runner.ts";
import { StoreSink } from "../benchmarks/store-sink.ts";
import { type Config, configSchema } from "../config/schema.ts";
import { etaText } from "../domain/eta.ts";
import { percent } from "../domain/format.ts";
import { contentHash } from "../domain/hash.ts";
import {
  type MeasuredSplit,
  type RoundMeasurement,
  type RoundMetrics,
  reviveRoundMeasurement,
} from "../domain/round-metrics.ts";
import type { SamplingParams } from "../models/types.ts";
import { SqliteCampaignStore } from "../redteam/campaign/sqlite-store.ts";
import type { AttackRecord } from "../redteam/campaign/types.ts";
import { type RunLock, Store } from "../store/store.ts";
import { backendFor } from "../train/backends/index.ts";
import type { ModelRef, StageResult, TrainingBackend } from "../train/backends/types.ts";
import { type BreakResult, breakStep } from "./break.ts";
import { type CurateResult, curateStep } from "./curation.ts";
import { type OpenedModel, type RoundModel, refFingerprint, refFromString, refToString } from "./deploy.ts";
import { allPassed, decideRounds, evaluateGates } from "./gates.ts";
import { measureModel } from "./measure.ts";
import { cycleEtaMs, ROUND_STEPS, throttled } from "./progress.ts";
import { type RegressionStepResult, regressionStep } from "./regression.ts";
import { readMeasurements, writeRunReport } from "./report.ts";
import type { Scenario } from "./scenario.ts";
import { type StepEvent, Steps } from "./steps.ts";
import { roundTrainingFiles } from "./train.ts";

/** A stage's result as its step record holds it (the model as refToString writes it). */
type StoredStage = Omit<StageResult, "model"> & { model: string };

export type { BreakResult, CampaignSummary } from "./break.ts";

/** Budgets of a round (from breakfix.yaml, overridable on the command line). */
export interface CycleBudgets {
  /** Red-team seed probes per harm category each round. */
  seedsPerCategory: number;
  /** Most attacks per persona campaign each round. */
  maxAttacks: number;
  /** Generation cap for the target. */
  maxTokens: number;
  /** Red-team personas run each round. */
  personas: string[];
}

export interface CycleOptions {
  /** The resolved config: training, gates, held-out families, red-team personas and budgets. */
  config: Config;
  scenario: Scenario;
  workspace: string;
  rounds: number;
  budgets: CycleBudgets;
  log?: (line: string) => void;
  /**
   * Progress lines: a step starting or done (elapsed time, ETA), measure / break / regression counts with an ETA, a
   * local training stage's steps. Default: `log`; `breakfix cycle --no-progress` drops them. Never part of the run's
   * identity or its figures.
   */
  progress?: (line: string) => void;
}

/** One split's (or slice's) figures in a round result: without the model and the workspace's benchmark run ids. */
export type RoundFigures = Omit<RoundMetrics, "runIds" | "model">;

/**
 * A round's figures as `breakfix cycle --json` prints them: the measurement of that round's model, dev (what the
 * decisions read), test (what reports headline) and each split's slices, without the workspace's internal benchmark
 * run ids (the same cycle in another workspace prints the same JSON).
 */
export interface RoundResult {
  round: number;
  model: string;
  dev: RoundFigures;
  test: RoundFigures;
  slices: Record<MeasuredSplit, Record<string, RoundFigures>>;
}

function figuresOf({ runIds: _r, model: _m, ...f }: RoundMetrics): RoundFigures {
  return f;
}

/** A stored measurement as the result prints it. */
export function roundResult(m: RoundMeasurement, round: number): RoundResult {
  const slices = (split: MeasuredSplit) =>
    Object.fromEntries(Object.entries(m.slices[split]).map(([k, v]) => [k, figuresOf(v)]));
  return {
    round,
    model: m.dev.model,
    dev: figuresOf(m.dev),
    test: figuresOf(m.test),
    slices: { dev: slices("dev"), test: slices("test") },
  };
}

export interface CycleResult {
  runId: string;
  runDir: string;
  rounds: RoundResult[];
  /** Round index of the release candidate (best round >= 1 by the gates), if any round was trained. */
  releaseCandidate?: number;
  allGatesPassed: boolean;
  failedGates: string[];
  report: { md: string; html: string };
}

/** What identifies a run (and so what a re-run must repeat exactly to resume it). */
export function cycleArgs(o: CycleOptions): Record<string, unknown> {
  return {
    base: refFingerprint(o.scenario.models.base),
    scenario: o.scenario.identity,
    serving: o.scenario.models.identity,
    rounds: o.rounds,
    budgets: o.budgets,
    training: trainingIdentityOf(o.config.training),
    heldOutFamilies: o.config.cycle.heldOutFamilies,
    gates: o.config.cycle.gates,
  };
}

/** Model-section keys that say how to reach a model, not what it is: changing them never starts another run. */
const OPERATIONAL = [
  "concurrency",
  "timeoutMs",
  "retries",
  "requestsPerMinute",
  "tokensPerMinute",
  "apiKeyEnv",
  "secretsFile",
  "secretName",
];

/**
 * Training-backend keys that say how a job is run, reached, waited for or priced, not what it trains: changing them
 * (raising a timeout, as its error advises) resumes the run and its recorded jobs instead of starting (and paying for)
 * new ones.
 */
const OPERATIONAL_TRAINING = {
  command: ["timeoutMs"],
  trl: ["launch", "timeoutMs", "mainProcessIp", "mainProcessPort"],
  openai: ["pollSeconds", "apiKeyEnv", "secretsFile", "trainingPerMTok"],
} as const;

let trainingDefaults: Config["training"] | undefined;

/**
 * training as it identifies a run: each operational key (OPERATIONAL_TRAINING) of a backend section the config has
 * is set to its schema default, or left out when it has none. Not dropped: a config that kept the defaults (the demo
 * preset and the default config have none of these sections) hashes as it always did, so its run id is unchanged.
 */
export function trainingIdentityOf(training: Config["training"]): Config["training"] {
  trainingDefaults ??= configSchema.parse({
    training: { command: { run: "-" }, trl: {}, openai: { model: "-" } },
  }).training;
  const out: Record<string, unknown> = { ...training };
  for (const [section, keys] of Object.entries(OPERATIONAL_TRAINING)) {
    const given = training[section as keyof typeof OPERATIONAL_TRAINING];
    if (!given) continue;
    const defaults = trainingDefaults[section as keyof typeof OPERATIONAL_TRAINING] as Record<string, unknown>;
    const kept: Record<string, unknown> = { ...given };
    for (const k of keys) {
      if (defaults[k] === undefined) delete kept[k];
      else kept[k] = defaults[k];
    }
    out[section] = kept;
  }
  return out as Config["training"];
}

/**
 * The config as it identifies a run: everything that changes results. Operational settings are left out (where the
 * workspace is, how round models are deployed, endpoint limits, keys), so fixing a failed deploy command or a
 * timeout resumes the same run instead of starting another.
 */
export function runIdentityOf(config: Config): Record<string, unknown> {
  const { workspace: _w, dataCache: _d, deploy: _deploy, ...rest } = config;
  // How many seeds run is not part of one seed's run (its seed is training.seed): a run keeps its id when seeds are added.
  const { seeds: _seeds, ...cycle } = config.cycle;
  const model = (m: Config["target"] | undefined) =>
    m ? Object.fromEntries(Object.entries(m).filter(([k]) => !OPERATIONAL.includes(k))) : null;
  return {
    ...rest,
    training: trainingIdentityOf(config.training),
    cycle,
    target: model(config.target),
    attacker: model(config.attacker),
    judge: model(config.judge),
    responder: model(config.responder),
  };
}

export function runDirOf(workspace: string, runId: string): string {
  return path.join(workspace, "cycles", runId.slice(0, 16));
}

/** Rounds of the cycle; see the file comment. */
export async function runCycle(o: CycleOptions): Promise<CycleResult> {
  const log = o.log ?? (() => {});
  const workspace = path.resolve(o.workspace);
  const store = Store.open(workspace);
  let lock: RunLock | undefined;
  let started: string | undefined;
  try {
    const identity = { configHash: contentHash(runIdentityOf(o.config)), args: cycleArgs(o) };
    // Two identical cycles at once would both make every model call (and launch every training job): the second
    // waits for the first, then resumes from its recorded steps.
    const id = store.runIdOf("cycle", identity);
    lock = await store.waitLock(`cycle:${id}`, {
      detail: `breakfix cycle (pid ${process.pid})`,
      onWait: (h) =>
        log(
          `cycle run ${id.slice(0, 16)}: an identical cycle (pid ${h.pid} on ${h.host}, since ${h.acquiredAt}) is running it; waiting for it to finish, then resuming from its recorded steps`,
        ),
    });
    const run = store.beginRun("cycle", identity);
    const { runId } = run;
    started = runId;
    const runDir = runDirOf(workspace, runId);
    mkdirSync(runDir, { recursive: true });
    log(
      `cycle run ${runId.slice(0, 16)} (${run.resumed ? `resuming; it was ${run.previousState ?? "unknown"}` : "new"}) in ${runDir}`,
    );
    const r = new Rounds(o, store, runId, runDir, log, o.progress ?? log);
    // The dev figures of each round: all the loop ever holds (and all its decisions read).
    const measurements: RoundMetrics[] = [await r.measure(0, r.baseModel())];
    r.recordRound(0, measurements[0].model, measurements[0]);
    let gates = evaluateGates(measurements[0], measurements[0], o.config.cycle.gates);
    let report = await writeRunReport(store, runId, runDir);
    const history: RegressionStepResult["replays"] = [];
    for (let round = 1; round <= o.rounds && !allPassed(gates); round++) {
      const prev = r.modelOf(round - 1, measurements[round - 1]);
      const brk = await r.steps.run(round, "break", () => r.break(round, prev));
      const cur = await r.steps.run(round, "curate", () => r.curate(round, brk));
      const model = await r.train(round, prev, cur);
      const m = await r.measure(round, model);
      measurements.push(m);
      const rep = await r.steps.run(round, "regression", () => r.regression(round, model, history));
      history.push(...rep.replays);
      r.recordRound(round, measurements[round - 1].model, m);
      gates = evaluateGates(m, measurements[0], o.config.cycle.gates);
      report = await writeRunReport(store, runId, runDir);
      log(roundLine(m, round));
      log(
        `round ${round}: regression suite replayed ${rep.replayed} earlier successful attacks; ${rep.stillBroken} still break the model; ${rep.regressions.length} regressions`,
      );
      for (const g of gates.filter((x) => !x.passed))
        log(`round ${round}: gate failed: ${g.name} = ${percent(g.value)} (must be ${g.op} ${percent(g.threshold)})`);
    }
    // The release candidate from the dev figures (the report shows the same choice: decideRounds on the same figures).
    const rc = decideRounds(measurements, o.config.cycle.gates).releaseCandidate;
    store.endRun(runId, "done", { rounds: measurements.length - 1 });
    return {
      runId,
      runDir,
      // read back after every decision is made: the test figures go to the result, never to the loop
      rounds: readMeasurements(store, runId).map(roundResult),
      releaseCandidate: rc >= 0 ? rc : undefined,
      allGatesPassed: allPassed(gates),
      failedGates: gates.filter((g) => !g.passed).map((g) => g.name),
      report,
    };
  } catch (e) {
    // Recorded so the store (breakfix view, the re-run's "resuming; it was ...") does not show it running; no detail:
    // an error may quote what a server answered.
    try {
      if (started !== undefined) store.endRun(started, "failed");
    } catch {
      // the run's own error is the one to report
    }
    throw e;
  } finally {
    try {
      await o.scenario.models.close();
    } finally {
      // after the round models are closed (a deployed endpoint stopped), so a waiting run never finds it still up
      lock?.release();
      store.close();
    }
  }
}

/** The steps of one run, sharing its store, paths, progress log and the model currently opened. */
class Rounds {
  readonly steps: Steps;
  private readonly sink: StoreSink;
  private readonly sampling: SamplingParams;
  private readonly t0 = Date.now();
  /** Adapter chains of the rounds trained in this process (see chainOf). */
  private readonly chains = new Map<number, string[]>();
  private backend: TrainingBackend | undefined;

  constructor(
    private readonly o: CycleOptions,
    private readonly store: Store,
    private readonly runId: string,
    private readonly runDir: string,
    private readonly log: (l: string) => void,
    private readonly progressLog: (l: string) => void,
  ) {
    const total = 1 + o.rounds * ROUND_STEPS.length;
    const times: { step: string; seconds: number }[] = [];
    let finished = 0;
    this.steps = new Steps(store, runId, (e: StepEvent) => {
      if (e.event === "done" || e.event === "skip") {
        finished++;
        if (e.event === "done" && e.seconds !== undefined) times.push({ step: e.step, seconds: e.seconds });
        progressLog(
          `round ${e.round}: ${e.step} ${e.event === "skip" ? "already done (recorded in the store)" : `done in ${e.seconds?.toFixed(1)} s`}` +
            ` | steps ${finished}/${total} at most | elapsed ${etaText(Date.now() - this.t0)}` +
            ` | ETA ${etaText(cycleEtaMs(times, e, o.rounds))} if every round runs`,
        );
      } else
        progressLog(
          `round ${e.round}: ${e.step} ${e.event === "resume" ? "resuming (interrupted before)" : "starting"}`,
        );
    });
    this.sink = new StoreSink(store);
    this.sampling = { temperature: 0, maxTokens: o.budgets.maxTokens };
  }

  rel = (p: string) => path.relative(path.resolve(this.o.workspace), p);
  abs = (p: string) => path.resolve(this.o.workspace, p);

  /** Opens a round model (deploying it when the target is an endpoint), runs fn, closes the client. */
  /** The base model as a round model (round 0). */
  baseModel(): RoundModel {
    return { ref: this.o.scenario.models.base, adapters: [] };
  }

  /** Round r's model from its measurement, with the adapters that lead to it from the base. */
  modelOf(round: number, m: RoundMetrics): RoundModel {
    return { ref: refFromString(m.model, this.abs), adapters: this.chains.get(round) ?? this.chainOf(round) };
  }

  /** The PEFT adapters from the base to round r's model, from the recorded train steps (resume-safe). */
  private chainOf(round: number): string[] {
    if (round === 0) return [];
    const own = (["sft", "dpo"] as const).flatMap((st) => {
      const a = this.steps.get<StoredStage>(round, `train-${st}`)?.params.adapter;
      return typeof a === "string" ? [this.abs(a)] : [];
    });
    if (own.length === 0) return this.chainOf(round - 1); // no training this round: the previous model
    return this.o.config.training.cumulative ? own : [...this.chainOf(round - 1), ...own];
  }

  private async withModel<T>(m: RoundModel, round: number, fn: (m: OpenedModel) => Promise<T>): Promise<T> {
    const opened = await this.o.scenario.models.open(m, round);
    try {
      return await fn(opened);
    } finally {
      await opened.model.close?.();
    }
  }

  /**
   * Measures a round's model (dev, test and slices, stored in the step record) and returns the DEV figures only: the
   * caller decides, and the test figures never reach it.
   */
  async measure(round: number, rm: RoundModel): Promise<RoundMetrics> {
    const progress = throttled(5000);
    const model = refToString(rm.ref, this.rel);
    const recorded = await this.steps.run<RoundMeasurement>(round, "measure", () =>
      this.withModel(rm, round, async ({ model: client }) => {
        const m = await measureModel(client, {
          suites: this.o.scenario.suites,
          sink: this.sink,
          sampling: this.sampling,
          heldOutFamilies: this.o.config.cycle.heldOutFamilies,
          variantFamilies: (v) => this.o.scenario.variantFamilies(v),
          devShare: this.o.config.benchmarks.devShare,
          level: this.o.config.benchmarks.confidence,
          onProgress: (p: Progress) => {
            if (progress(p.done >= p.total))
              this.progressLog(`round ${round}: measure ${p.suite} ${p.done}/${p.total} ETA ${etaText(p.etaMs)}`);
          },
        });
        const named = (x: RoundMetrics) => ({ ...x, model });
        const slices = (s: Record<string, RoundMetrics>) =>
          Object.fromEntries(Object.entries(s).map(([k, v]) => [k, named(v)]));
        return {
          dev: named(m.dev),
          test: named(m.test),
          slices: { dev: slices(m.slices.dev), test: slices(m.slices.test) },
        };
      }),
    );
    return reviveRoundMeasurement(recorded, `run ${this.runId.slice(0, 16)} round ${round} measure step`).dev;
  }

  break(round: number, prev: RoundModel): Promise<BreakResult> {
    return this.withModel(prev, round - 1, (target) =>
      breakStep(target, {
        store: this.store,
        redteam: this.o.scenario.redteam,
        config: this.o.config,
        round,
        seed: this.o.config.training.seed * 1000 + round,
        personas: this.o.budgets.personas,
        seedsPerCategory: this.o.budgets.seedsPerCategory,
        maxAttacksPerPersona: this.o.budgets.maxAttacks,
        maxTokens: this.o.budgets.maxTokens,
        log: this.log,
        progress: this.progressLog,
      }),
    );
  }

  curate(round: number, brk: BreakResult): Promise<CurateResult> {
    return curateStep(
      brk.campaigns.flatMap((c) => c.findings),
      {
        store: this.store,
        runId: this.runId,
        round,
        curation: this.o.scenario.curation,
        config: this.o.config,
        // Spaced like the break seed: with several training seeds (seeds.ts), seed s + 1's round r must not reuse seed
        // s's round r + 1 sampling (seed 0 keeps the seeds it always had: 0 * 1000 + round).
        seed: this.o.config.training.seed * 1000 + round,
        dataDir: path.join(this.runDir, `round-${round}`, "data"),
        rel: this.rel,
      },
    );
  }

  /**
   * SFT then DPO (each a recorded step) on the configured backend (training.backend). Stacked rounds fine-tune the
   * previous round's model on this round's data; cumulative rounds train a fresh adapter on the base model with the
   * data of rounds 1..r (one growing safety set, as in the Phi-3 cycle), so drift never compounds. Returns the round's
   * model.
   */
  async train(round: number, prev: RoundModel, cur: CurateResult): Promise<RoundModel> {
    const t = this.o.config.training;
    const roundDir = path.join(this.runDir, `round-${round}`);
    const sources = t.cumulative
      ? Array.from({ length: round }, (_, i) => (i + 1 === round ? cur : this.steps.get<CurateResult>(i + 1, "curate")))
      : [cur];
    const data = roundTrainingFiles(
      sources.flatMap((x) => (x ? [this.abs(x.dataDir)] : [])),
      path.join(roundDir, "data-all"),
    );
    if (data.rows === 0) {
      this.log(`round ${round}: no training rows were curated; the model is unchanged this round`);
      this.chains.set(round, [...prev.adapters]);
      return prev;
    }
    this.backend ??= await backendFor(t);
    const backend = this.backend;
    let from: ModelRef = t.cumulative ? this.o.scenario.models.base : prev.ref;
    for (const stage of ["sft", "dpo"] as const) {
      if (!t[stage].enabled) continue;
      const start = from;
      const stored = await this.steps.run<StoredStage>(round, `train-${stage}`, async () => {
        const res = await backend.train(stage, {
          runId: this.runId,
          round,
          from: start,
          data: {
            sft: data.files.sft,
            dpo: data.files.dpo,
            ...(data.hasVal ? { sftVal: data.files.sftVal, dpoVal: data.files.dpoVal } : {}),
          },
          outDir: path.join(roundDir, stage),
          training: t,
          store: this.store,
          log: this.log,
          progress: this.progressLog,
        });
        const adapter = res.params.adapter;
        return {
          ...res,
          model: refToString(res.model, this.rel),
          params: { ...res.params, ...(typeof adapter === "string" ? { adapter: this.rel(adapter) } : {}) },
        };
      });
      from = refFromString(stored.model, this.abs);
      this.store.trainingRuns.put(
        { runId: this.runId, round, stage },
        { kind: stage, baseModel: refToString(start, this.rel), resultModel: stored.model, params: stored.params },
        { runId: this.runId, round },
      );
    }
    const chain = this.chainOf(round);
    this.chains.set(round, chain);
    return { ref: from, adapters: chain };
  }

  regression(
    round: number,
    model: RoundModel,
    history: readonly RegressionStepResult["replays"][number][],
  ): Promise<RegressionStepResult> {
    // Every successful attack of rounds 1..r, replayed against this round's model.
    const attacks: { record: AttackRecord; foundInRound: number }[] = [];
    const cstore = new SqliteCampaignStore(this.store);
    for (let j = 1; j <= round; j++)
      for (const c of this.steps.get<BreakResult>(j, "break")?.campaigns ?? [])
        for (const id of c.successIds) {
          const rec = cstore.getRecord(id);
          if (rec) attacks.push({ record: rec, foundInRound: j });
        }
    return this.withModel(model, round, ({ model: client }) =>
      regressionStep(this.store, this.runId, round, attacks, history, client, this.o.scenario.redteam.judge, {
        sampling: this.sampling,
        success: { ...this.o.scenario.redteam.success },
        log: this.log,
        progress: this.progressLog,
      }),
    );
  }

  recordRound(round: number, startModel: string, m: RoundMetrics): void {
    this.store.rounds.put(
      { runId: this.runId, round },
      { index: round, startModel, resultModel: m.model, status: "done", startedAt: new Date().toISOString() },
      { runId: this.runId, round },
    );
  }
}

function roundLine(m: RoundMetrics, r: number): string {
  const skipped = Object.entries(m.skipped ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const langs = Object.entries(m.drByLanguage)
    .map(([k, v]) => `${k} ${percent(v.value)}`)
    .join(", ");
  return (
    `round ${r} (dev split, what the gates read): harmful DR ${percent(m.harmfulDr.value)} | jailbreak DR ${percent(m.jailbreakDr.value)} | held-out families DR ${percent(m.heldoutDr.value)}` +
    ` | IPRR ${percent(m.iprr.value)} | VPRR ${percent(m.vprr.value)} | capability ${percent(m.capability.value)} | DR by language: ${langs}` +
    ` | harmful other ${percent(m.harmfulOutcomes.other?.value ?? Number.NaN)}` +
    ` | benign other ${percent(m.benignOutcomes.other?.value ?? Number.NaN)}` +
    (skipped ? ` | items left out (longer than the model's context): ${skipped}` : "")
  );
}
