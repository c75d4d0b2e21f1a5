/**
 * The training loop shared by SFT and DPO: seeded data order with length-grouped batches, gradient accumulation,
 * warmup + cosine schedule, global-norm clipping, AdamW, periodic evaluation, and checkpoints that hold everything
 * needed to continue bit-for-bit: trainable weights, optimizer moments, the step, and the dropout RNG state (the
 * data order is a pure function of (seed, epoch), so the position in it is enough).
 *
 * A run killed at any point and started again with the same arguments resumes from its last checkpoint and ends
 * with the same weights as an uninterrupted run.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { SplitMix32 } from "../domain/random.ts";
import type { Executor } from "../nn/ir.ts";
import type { LlamaConfig, Weights } from "../nn/llama.ts";
import { AdamW, clipGradNorm } from "../nn/optim.ts";
import { readSafetensorsFile, serializeSafetensors } from "../nn/safetensors.ts";
import { defaultExecutor } from "./executor.ts";
import { DEFAULT_LORA, DropoutMasks, initLora, isLoraParam, type LoraConfig, loraHook } from "./lora.ts";
import { type PairLogps, preferenceRewards, preferenceSetLoss } from "./losses.ts";
import { type Objective, ObjectiveRunner, padBatch, type TokenizedSeq } from "./objective.ts";
import { learningRate, warmupStepsFor } from "./schedule.ts";

export interface TrainOptions {
  objective: Objective;
  lr: number;
  epochs: number;
  /** Rows per micro-batch (SFT sequences, or DPO pairs). */
  batchSize: number;
  gradAccum: number;
  /** Warmup as a fraction of the total optimizer steps. */
  warmupRatio: number;
  minLrRatio: number;
  maxGradNorm: number;
  weightDecay: number;
  seed: number;
  /** LoRA; undefined = full fine-tuning. */
  lora?: LoraConfig;
  /** Sequences are padded to a multiple of this (fewer distinct shapes = fewer compiled graphs). */
  padMultiple: number;
  /** Evaluate every N optimizer steps (0 = only at the end). */
  evalEvery: number;
  /** Checkpoint every N optimizer steps (0 = never, except the final state). */
  checkpointEvery: number;
  /** Stop after this many optimizer steps (undefined = all epochs); for tests and budgets. */
  maxSteps?: number;
  /**
   * The schedule from before it matched transformers (schedule.ts ScheduleConfig.legacy: warmup from lr / W over
   * round(ratio N) steps). Set only by `breakfix world build`, so the committed demo organisms stay what it makes.
   */
  legacySchedule?: boolean;
}

export const DEFAULT_TRAIN: Omit<TrainOptions, "objective"> = {
  lr: 2e-4,
  epochs: 1,
  batchSize: 8,
  gradAccum: 1,
  warmupRatio: 0.05,
  minLrRatio: 0.1,
  maxGradNorm: 1,
  weightDecay: 0,
  seed: 0,
  lora: DEFAULT_LORA,
  padMultiple: 16,
  evalEvery: 0,
  checkpointEvery: 0,
};

/** A preference example: prompt+chosen and prompt+rejected, labels on the completion only. */
export interface TokenizedPair {
  chosen: TokenizedSeq;
  rejected: TokenizedSeq;
}

export type Example = TokenizedSeq | TokenizedPair;

export interface StepMetrics {
  step: number;
  epoch: number;
  lr: number;
  loss: number;
  grad_norm: number;
  tokens: number;
  tokens_per_s: number;
  "rewards/chosen"?: number;
  "rewards/rejected"?: number;
  "rewards/margins"?: number;
  "rewards/accuracies"?: number;
  eval_loss?: number;
  "eval_rewards/accuracies"?: number;
}

export interface TrainEvents {
  onStep?(m: StepMetrics, totalSteps: number): void;
  onResume?(step: number): void;
}

export interface TrainResult {
  /** The base weights (updated in place by full fine-tuning; untouched under LoRA). */
  weights: Weights;
  /** The adapter weights under LoRA. */
  adapter?: Weights;
  steps: number;
  metrics: StepMetrics[];
  /** Evaluation at the end (loss, and reward accuracy for DPO). */
  final: { eval_loss?: number; "eval_rewards/accuracies"?: number };
}

const isPair = (e: Example): e is TokenizedPair => "chosen" in e;
const exLength = (e: Example) => (isPair(e) ? Math.max(e.chosen.ids.length, e.rejected.ids.length) : e.ids.length);

/**
 * The batches of one epoch, as lists of example indices: a seeded permutation, cut into windows of 16 batches, each
 * window sorted by length (so batches hold similar lengths and pad little), then the batch order shuffled again.
 */
export function epochBatches(lengths: readonly number[], batchSize: number, seed: number, epoch: number): number[][] {
  const rng = new SplitMix32((seed * 1000003 + epoch * 7919 + 1) >>> 0);
  const perm = lengths.map((_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const window = batchSize * 16;
  const batches: number[][] = [];
  for (let w = 0; w < perm.length; w += window) {
    const chunk = perm.slice(w, w + window).sort((a, b) => lengths[b] - lengths[a] || a - b);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  for (let i = batches.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [batches[i], batches[j]] = [batches[j], batches[i]];
  }
  return batches;
}

function padTo(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

interface Checkpoint {
  step: number;
  rngState: number;
  metricsCount: number;
}

function writeCheckpoint(dir: string, ck: Checkpoint, trainable: Weights, opt: AdamW): void {
  const final = join(dir, `step-${ck.step}`);
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, "trainable.safetensors"), serializeSafetensors(trainable, "F32"));
  opt.save(join(tmp, "optimizer.safetensors"));
  writeFileSync(join(tmp, "state.json"), JSON.stringify(ck));
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  writeFileSync(join(dir, "latest.tmp"), String(ck.step));
  renameSync(join(dir, "latest.tmp"), join(dir, "latest"));
  pruneCheckpoints(dir, ck.step);
}

/**
 * Checkpoints kept: the latest (what a resumed run reads) and the one before it. A checkpoint every few steps kept in
 * full filled disks: the demo cycle checkpoints every 4 steps and kept 451 of one SFT run (357 MB), about 1.4 GB a
 * cycle, for the tiny demo model; a full fine-tune of a real model would write its weights and optimizer each time.
 */
const KEEP_CHECKPOINTS = 2;

function pruneCheckpoints(dir: string, latest: number): void {
  // A checkpoint half-written by a killed run (step-N.tmp-PID) is never read; one training run writes a folder at a
  // time (the --out lock), so a temporary folder of another pid is a dead run's and goes.
  for (const f of readdirSync(dir)) {
    const m = /^step-\d+\.tmp-(\d+)$/.exec(f);
    if (m && Number(m[1]) !== process.pid) rmSync(join(dir, f), { recursive: true, force: true });
  }
  const steps = readdirSync(dir)
    .map((f) => /^step-(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .filter((s) => s <= latest)
    .sort((a, b) => b - a);
  for (const s of steps.slice(KEEP_CHECKPOINTS)) rmSync(join(dir, `step-${s}`), { recursive: true, force: true });
}

function readCheckpoint(dir: string): { ck: Checkpoint; trainable: Weights; optPath: string } | undefined {
  const latest = join(dir, "latest");
  if (!existsSync(latest)) return undefined;
  const stepDir = join(dir, `step-${readFileSync(latest, "utf8").trim()}`);
  const ck = JSON.parse(readFileSync(join(stepDir, "state.json"), "utf8")) as Checkpoint;
  const { tensors } = readSafetensorsFile(join(stepDir, "trainable.safetensors"));
  return { ck, trainable: tensors, optPath: join(stepDir, "optimizer.safetensors") };
}

/** What one training run's steps share: the model, data, options, the objective runners and the DPO references. */
interface Run {
  model: LlamaConfig;
  data: { train: Example[]; eval: Example[] };
  opts: TrainOptions;
  isDpo: boolean;
  runner: ObjectiveRunner;
  evalRunner: ObjectiveRunner;
  /** Examples -> a padded batch (DPO: the chosen sequences, then the rejected ones). */
  toBatch: (exs: Example[]) => ReturnType<typeof padBatch>;
  /** DPO: the frozen reference's [chosen, rejected] log-probs per example. */
  refLogps: Map<Example, Float32Array>;
  /** LoRA: the per-step dropout masks (buffers reused from step to step). */
  dropout?: DropoutMasks;
}

/**
 * Trains `weights` (a loaded model) on tokenized examples. `outDir` holds checkpoints/ and metrics.jsonl; when it
 * already holds a checkpoint of this run, training resumes from it.
 */
export async function train(
  model: LlamaConfig,
  weights: Weights,
  data: { train: Example[]; eval: Example[] },
  opts: TrainOptions,
  outDir: string,
  padId: number,
  executor?: Executor,
  events: TrainEvents = {},
): Promise<TrainResult> {
  const isDpo = checkExamples(data, opts);
  const ckDir = join(outDir, "checkpoints");
  mkdirSync(ckDir, { recursive: true });
  const metricsFile = join(outDir, "metrics.jsonl");

  // Parameters: under LoRA the adapter is trainable and the base frozen; otherwise every base weight trains.
  let adapter = opts.lora ? initLora(model, opts.lora, opts.seed) : undefined;
  const trainHook = opts.lora ? loraHook(model, opts.lora, true) : undefined;
  const evalHook = opts.lora ? loraHook(model, opts.lora, false) : undefined;
  const trainable = opts.lora ? isLoraParam : (n: string) => !isLoraParam(n);
  const exec = executor ?? defaultExecutor();
  const run: Run = {
    model,
    data,
    opts,
    isDpo,
    runner: new ObjectiveRunner(model, opts.objective, trainable, trainHook, exec),
    evalRunner: new ObjectiveRunner(model, opts.objective, trainable, evalHook, exec),
    toBatch: (exs) => {
      const seqs = isDpo
        ? [...exs.map((e) => (e as TokenizedPair).chosen), ...exs.map((e) => (e as TokenizedPair).rejected)]
        : (exs as TokenizedSeq[]);
      return padBatch(seqs, padTo(Math.max(...seqs.map((s) => s.ids.length)), opts.padMultiple), padId);
    },
    refLogps: new Map(),
    dropout: opts.lora ? new DropoutMasks(model, opts.lora) : undefined,
  };
  const allWeights = (): Weights => (adapter ? new Map([...weights, ...adapter]) : weights);
  const lengths = data.train.map(exLength);
  const plan = planSteps(run, lengths);
  // DPO: reference log-probs once, up front (the frozen base; under LoRA the base without the adapter).
  if (isDpo) await referenceLogps(run, weights);

  // Resume from the latest checkpoint, if any.
  const rng = new SplitMix32(opts.seed ^ 0x5eed);
  const resumed = resume(ckDir, metricsFile, rng, weights, adapter !== undefined);
  let { step } = resumed;
  const opt = resumed.opt ?? new AdamW({ lr: opts.lr, weightDecay: opts.weightDecay });
  const metrics = resumed.metrics;
  adapter = resumed.adapter ?? adapter;
  if (resumed.fromCheckpoint) events.onResume?.(step);
  const trainableWeights = (): Weights => adapter ?? new Map([...weights].filter(([n]) => trainable(n)));
  const checkpoint = () =>
    writeCheckpoint(ckDir, { step, rngState: rng.getState(), metricsCount: metrics.length }, trainableWeights(), opt);

  // Walk the schedule from the start, skipping what the checkpoint already covers (the order is a pure function).
  const planned = stepPlan(lengths, opts, plan.totalSteps);
  while (step < plan.totalSteps) {
    const t0 = performance.now();
    const { epoch, micro } = planned[step];
    const acc = await accumulate(run, micro, allWeights(), rng);
    const gradNorm = clipGradNorm(acc.grads, opts.maxGradNorm);
    const lr = learningRate(step, plan.schedule);
    opt.update(trainableWeights(), acc.grads, lr);
    step++;
    const m = stepMetrics(acc, {
      step,
      epoch,
      lr,
      gradNorm,
      seconds: (performance.now() - t0) / 1000,
    });
    if (opts.evalEvery > 0 && step % opts.evalEvery === 0 && step < plan.totalSteps)
      Object.assign(m, await evaluate(run, allWeights()));
    metrics.push(m);
    appendFileSync(metricsFile, `${JSON.stringify(m)}\n`);
    events.onStep?.(m, plan.totalSteps);
    if (opts.checkpointEvery > 0 && step % opts.checkpointEvery === 0 && step < plan.totalSteps) checkpoint();
  }
  const final = await evaluate(run, allWeights());
  checkpoint();
  await run.runner.dispose();
  await run.evalRunner.dispose();
  return { weights, adapter, steps: step, metrics, final };
}

/**
 * The optimizer steps of a run, in order, as the micro-batches each one accumulates: every epoch's batches
 * (`epochBatches`) cut into groups of `gradAccum`, the epoch's last group holding what is left, so a step never mixes
 * two epochs and never is empty. With `gradAccum` 1 a step is one batch, in the epochs' batch order. Only the first
 * `totalSteps` steps are planned (epochs past them are not drawn).
 */
export function stepPlan(
  lengths: readonly number[],
  opts: Pick<TrainOptions, "batchSize" | "gradAccum" | "seed" | "epochs">,
  totalSteps: number,
): { epoch: number; micro: number[][] }[] {
  const steps: { epoch: number; micro: number[][] }[] = [];
  for (let epoch = 0; steps.length < totalSteps && epoch < opts.epochs; epoch++) {
    const batches = epochBatches(lengths, opts.batchSize, opts.seed, epoch);
    for (let i = 0; i < batches.length; i += opts.gradAccum)
      steps.push({ epoch, micro: batches.slice(i, i + opts.gradAccum) });
  }
  return steps.slice(0, totalSteps);
}

/** Checks the examples fit the objective (sequences for SFT, pairs for DPO); true for DPO. */
function checkExamples(data: { train: Example[] }, opts: TrainOptions): boolean {
  if (data.train.length === 0) throw new Error("no training examples");
  const isDpo = opts.objective.kind === "dpo";
  for (const e of data.train) {
    if (isPair(e) !== isDpo)
      throw new Error(`${opts.objective.kind} training needs ${isDpo ? "preference pairs" : "sequences"}`);
  }
  return isDpo;
}

/** Steps per epoch, total steps and the learning-rate schedule; the longest example must fit the model. */
function planSteps({ model, data, opts }: Run, lengths: readonly number[]) {
  const batchesPerEpoch = Math.ceil(data.train.length / opts.batchSize);
  const stepsPerEpoch = Math.ceil(batchesPerEpoch / opts.gradAccum);
  const totalSteps = Math.min(opts.maxSteps ?? Number.POSITIVE_INFINITY, stepsPerEpoch * opts.epochs);
  const schedule = {
    lr: opts.lr,
    warmupSteps: warmupStepsFor(opts.warmupRatio, totalSteps, opts.legacySchedule),
    totalSteps,
    minLrRatio: opts.minLrRatio,
    legacy: opts.legacySchedule,
  };
  // a loop, not Math.max(...xs): spreading 100k+ lengths overflows the call stack
  let longest = 0;
  for (const n of lengths) longest = Math.max(longest, n);
  for (const ex of data.eval) longest = Math.max(longest, exLength(ex));
  const T = padTo(longest, opts.padMultiple);
  if (T > model.maxPositionEmbeddings)
    throw new Error(
      `longest example (${T} tokens padded) exceeds max_position_embeddings ${model.maxPositionEmbeddings}`,
    );
  return { batchesPerEpoch, totalSteps, schedule };
}

/**
 * Forward-only passes (DPO references, evaluation) in batches of similar lengths: the examples sorted by length (ties
 * in data order), cut into batches. A row's log-prob does not depend on its batch partners or its padding (masked keys
 * and labels add exact zeros; batching.test.ts), so this gives the values of any other batching with less padding. In
 * data order a batch was padded to the longest of random pairs: a demo round-1 DPO run of one step (tokenizing, the
 * references of 3,974 pairs, evaluation, export) took 30-31 s, and 25-26 s batched by length, same adapter and loss.
 */
export function lengthSortedBatches<E extends Example>(set: readonly E[], batchSize: number): E[][] {
  const order = set.map((_, i) => i).sort((a, b) => exLength(set[a]) - exLength(set[b]) || a - b);
  const out: E[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize).map((k) => set[k]));
  return out;
}

/** DPO reference log-probs of every train and eval example, with the weights as they are before training. */
async function referenceLogps({ data, opts, runner, toBatch, refLogps }: Run, weights: Weights): Promise<void> {
  for (const set of [data.train, data.eval]) {
    for (const exs of lengthSortedBatches(set, opts.batchSize)) {
      const lp = await runner.sequenceLogps(weights, toBatch(exs), null);
      exs.forEach((e, k) => {
        refLogps.set(e, Float32Array.of(lp[k], lp[exs.length + k]));
      });
    }
  }
}

/** The references of a batch as the objective takes them: [chosen of each pair..., rejected of each pair...]. */
function refFor(refLogps: ReadonlyMap<Example, Float32Array>, exs: Example[]): Float32Array {
  const P = exs.length;
  const out = new Float32Array(2 * P);
  exs.forEach((e, k) => {
    const r = refLogps.get(e)!;
    out[k] = r[0];
    out[P + k] = r[1];
  });
  return out;
}

/**
 * The state of the latest checkpoint: its step, optimizer, metrics and RNG state (set on `rng`); its trainable weights
 * replace the base weights in place, or are returned as the adapter. Without a checkpoint, step 0 and empty metrics.
 */
function resume(
  ckDir: string,
  metricsFile: string,
  rng: SplitMix32,
  weights: Weights,
  hasAdapter: boolean,
): { fromCheckpoint: boolean; step: number; opt?: AdamW; adapter?: Weights; metrics: StepMetrics[] } {
  const saved = readCheckpoint(ckDir);
  if (!saved) {
    writeFileSync(metricsFile, "");
    return { fromCheckpoint: false, step: 0, metrics: [] };
  }
  rng.setState(saved.ck.rngState);
  if (!hasAdapter) for (const [n, t] of saved.trainable) weights.set(n, t);
  return {
    fromCheckpoint: true,
    step: saved.ck.step,
    opt: AdamW.load(saved.optPath),
    adapter: hasAdapter ? saved.trainable : undefined,
    metrics: keepCheckpointedMetrics(metricsFile, saved.ck.metricsCount),
  };
}

/** metrics.jsonl may hold lines written after the checkpoint: keeps (and returns) only those the checkpoint covers. */
function keepCheckpointedMetrics(metricsFile: string, count: number): StepMetrics[] {
  const lines = existsSync(metricsFile) ? readFileSync(metricsFile, "utf8").split("\n").filter(Boolean) : [];
  const kept = lines.slice(0, count);
  writeFileSync(metricsFile, kept.map((l) => `${l}\n`).join(""));
  return kept.map((l) => JSON.parse(l) as StepMetrics);
}

/**
 * Evaluation loss: token-weighted cross-entropy for SFT; for preference training the objective's own loss (sigmoid
 * DPO, IPO or DPO + SFT term, as trained) and the reward accuracy.
 */
async function evaluate(
  { data, opts, isDpo, evalRunner, toBatch, refLogps }: Run,
  weights: Weights,
): Promise<TrainResult["final"]> {
  if (data.eval.length === 0) return {};
  // per example (loss, count, accurate; DPO: its log-probs), summed below in data order whatever the batching
  const per = new Map<Example, { loss: number; n: number; acc: number; pair?: PairLogps }>();
  for (const exs of lengthSortedBatches(data.eval, opts.batchSize)) {
    const batch = toBatch(exs);
    const lp = await evalRunner.sequenceLogps(weights, batch);
    if (isDpo) {
      const { loss, beta } = opts.objective as Extract<Objective, { kind: "dpo" }>;
      const P = exs.length;
      exs.forEach((e, k) => {
        const r = refLogps.get(e)!;
        const pair = {
          pc: lp[k],
          pr: lp[P + k],
          rc: r[0],
          rr: r[1],
          chosenTokens: batch.tokens[k],
          rejectedTokens: batch.tokens[P + k],
        };
        const s = preferenceRewards(loss, pair, beta);
        per.set(e, { loss: 0, n: 1, acc: s.accurate ? 1 : 0, pair });
      });
    } else {
      // token-weighted mean cross-entropy
      exs.forEach((e, k) => {
        per.set(e, { loss: -lp[k], n: batch.tokens[k], acc: 0 });
      });
    }
  }
  let lossSum = 0;
  let n = 0;
  let acc = 0;
  for (const e of data.eval) {
    const x = per.get(e)!;
    lossSum += x.loss;
    n += x.n;
    acc += x.acc;
  }
  if (!isDpo) return { eval_loss: lossSum / n };
  // the objective's own loss over the eval set (sigmoid DPO, IPO, or DPO + SFT term pooled over the set's chosen
  // tokens), so eval_loss compares with the training loss
  const { loss, beta, sftAlpha } = opts.objective as Extract<Objective, { kind: "dpo" }>;
  const pairs = data.eval.map((e) => per.get(e)!.pair!);
  return { eval_loss: preferenceSetLoss(loss, pairs, beta, sftAlpha), "eval_rewards/accuracies": acc / n };
}

interface Accumulated {
  /** The step's gradients: of the step's mean loss (see accumulate). */
  grads: Map<string, Float32Array>;
  /** The step's loss, as the gradients are of. */
  loss: number;
  tokens: number;
  rewards: { chosen: number; rejected: number; acc: number; n: number };
}

/**
 * One optimizer step's micro-batches: losses, token counts, DPO rewards and the step's gradient.
 * SFT: the loss is the mean cross-entropy over every counted token of the step, whatever micro-batch holds it (each
 * micro-batch's token sum is scaled by 1 / the step's counted tokens, and the gradients are summed), so gradAccum k
 * at batch size b trains as batch size k b does; this is transformers' num_items_in_batch normalisation (what TRL's
 * SFTTrainer trains). The mean of the micro-batches' own means weighed a token of a short-completion micro-batch
 * more than one of a long one. DPO: the mean over micro-batches of the per-pair mean (TRL's DPOTrainer).
 * With one micro-batch both are that batch's own mean loss.
 */
async function accumulate(run: Run, micro: number[][], weights: Weights, rng: SplitMix32): Promise<Accumulated> {
  const { data, opts, isDpo, runner, toBatch, dropout } = run;
  const sum = new Map<string, Float32Array>();
  let lossSum = 0;
  let tokens = 0;
  const rewards = { chosen: 0, rejected: 0, acc: 0, n: 0 };
  const batches = micro.map((idx) => {
    const exs = idx.map((i) => data.train[i]);
    return { exs, batch: toBatch(exs) };
  });
  // SFT over several micro-batches: 1 / the step's counted tokens, fed in place of each batch's own 1 / count
  const perToken = !isDpo && batches.length > 1;
  let stepCounted = 0;
  if (perToken) for (const { batch } of batches) for (const n of batch.tokens) stepCounted += n;
  const lossScale = Float32Array.of(1 / Math.max(1, stepCounted));
  for (const { exs, batch } of batches) {
    const feeds = dropout ? dropout.draw(batch.B, batch.T, rng) : {};
    if (perToken) feeds.loss_scale = { shape: [], data: lossScale };
    const ref = isDpo ? refFor(run.refLogps, exs) : undefined;
    const res = await runner.step(weights, batch, ref, feeds);
    lossSum += res.loss;
    tokens += batch.attentionMask.reduce((a, b) => a + b, 0);
    for (const [n, g] of res.grads) {
      const acc = sum.get(n);
      if (!acc) sum.set(n, g);
      else for (let i = 0; i < g.length; i++) acc[i] += g[i];
    }
    if (isDpo && ref) {
      const P = exs.length;
      const { loss, beta } = opts.objective as Extract<Objective, { kind: "dpo" }>;
      for (let k = 0; k < P; k++) {
        const s = preferenceRewards(
          loss,
          {
            pc: res.sequenceLogps[k],
            pr: res.sequenceLogps[P + k],
            rc: ref[k],
            rr: ref[P + k],
            chosenTokens: batch.tokens[k],
            rejectedTokens: batch.tokens[P + k],
          },
          beta,
        );
        rewards.chosen += s.chosen;
        rewards.rejected += s.rejected;
        rewards.acc += s.accurate ? 1 : 0;
        rewards.n++;
      }
    }
  }
  if (micro.length > 1 && !perToken)
    for (const g of sum.values()) for (let i = 0; i < g.length; i++) g[i] /= micro.length;
  return { grads: sum, loss: perToken ? lossSum : lossSum / micro.length, tokens, rewards };
}

/** The metrics line of one step (TRL's names). */
function stepMetrics(
  { loss, tokens, rewards }: Accumulated,
  s: { step: number; epoch: number; lr: number; gradNorm: number; seconds: number },
): StepMetrics {
  const m: StepMetrics = {
    step: s.step,
    epoch: s.epoch,
    lr: s.lr,
    loss,
    grad_norm: s.gradNorm,
    tokens,
    tokens_per_s: tokens / s.seconds,
  };
  if (rewards.n) {
    m["rewards/chosen"] = rewards.chosen / rewards.n;
    m["rewards/rejected"] = rewards.rejected / rewards.n;
    m["rewards/margins"] = (rewards.chosen - rewards.rejected) / rewards.n;
    m["rewards/accuracies"] = rewards.acc / rewards.n;
  }
  return m;
}
