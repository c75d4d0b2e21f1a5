/**
 * The training loop shared by SFT and DPO: seeded data order with length-grouped batches, gradient accumulation,
 * warmup + cosine schedule, global-norm clipping, AdamW, periodic evaluation, and checkpoints that hold everything
 * needed to continue bit-for-bit: trainable weights, optimizer moments, the step, and the dropout RNG state (the
 * data order is a pure function of (seed, epoch), so the position in it is enough).
 *
 * A run killed at any point and started again with the same arguments resumes from its last checkpoint and ends
 * with the same weights as an uninterrupted run.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SplitMix32 } from "../domain/random.ts";
import type { Executor } from "../nn/ir.ts";
import type { LlamaConfig, Weights } from "../nn/llama.ts";
import { AdamW, clipGradNorm } from "../nn/optim.ts";
import { readSafetensorsFile, serializeSafetensors } from "../nn/safetensors.ts";
import { defaultExecutor } from "./executor.ts";
import { DEFAULT_LORA, dropoutFeeds, initLora, isLoraParam, type LoraConfig, loraHook } from "./lora.ts";
import { dpoScalars } from "./losses.ts";
import { type Objective, ObjectiveRunner, padBatch, type TokenizedSeq } from "./objective.ts";
import { learningRate } from "./schedule.ts";

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
}

function readCheckpoint(dir: string): { ck: Checkpoint; trainable: Weights; optPath: string } | undefined {
  const latest = join(dir, "latest");
  if (!existsSync(latest)) return undefined;
  const stepDir = join(dir, `step-${readFileSync(latest, "utf8").trim()}`);
  const ck = JSON.parse(readFileSync(join(stepDir, "state.json"), "utf8")) as Checkpoint;
  const { tensors } = readSafetensorsFile(join(stepDir, "trainable.safetensors"));
  return { ck, trainable: tensors, optPath: join(stepDir, "optimizer.safetensors") };
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
  if (data.train.length === 0) throw new Error("no training examples");
  const isDpo = opts.objective.kind === "dpo";
  for (const e of data.train) {
    if (isPair(e) !== isDpo)
      throw new Error(`${opts.objective.kind} training needs ${isDpo ? "preference pairs" : "sequences"}`);
  }
  const ckDir = join(outDir, "checkpoints");
  mkdirSync(ckDir, { recursive: true });
  const metricsFile = join(outDir, "metrics.jsonl");

  // Parameters: under LoRA the adapter is trainable and the base frozen; otherwise every base weight trains.
  let adapter = opts.lora ? initLora(model, opts.lora, opts.seed) : undefined;
  const trainHook = opts.lora ? loraHook(model, opts.lora, true) : undefined;
  const evalHook = opts.lora ? loraHook(model, opts.lora, false) : undefined;
  const trainable = opts.lora ? isLoraParam : (n: string) => !isLoraParam(n);
  const exec = executor ?? defaultExecutor();
  const runner = new ObjectiveRunner(model, opts.objective, trainable, trainHook, exec);
  const evalRunner = new ObjectiveRunner(model, opts.objective, trainable, evalHook, exec);
  const allWeights = (): Weights => (adapter ? new Map([...weights, ...adapter]) : weights);

  const lengths = data.train.map(exLength);
  const batchesPerEpoch = Math.ceil(data.train.length / opts.batchSize);
  const stepsPerEpoch = Math.ceil(batchesPerEpoch / opts.gradAccum);
  const totalSteps = Math.min(opts.maxSteps ?? Number.POSITIVE_INFINITY, stepsPerEpoch * opts.epochs);
  const schedule = {
    lr: opts.lr,
    warmupSteps: Math.round(opts.warmupRatio * totalSteps),
    totalSteps,
    minLrRatio: opts.minLrRatio,
  };
  const T = padTo(Math.max(...lengths, ...data.eval.map(exLength)), opts.padMultiple);
  if (T > model.maxPositionEmbeddings)
    throw new Error(
      `longest example (${T} tokens padded) exceeds max_position_embeddings ${model.maxPositionEmbeddings}`,
    );

  // DPO: reference log-probs once, up front (the frozen base; under LoRA the base without the adapter).
  const refLogps = new Map<Example, Float32Array>();
  const toBatch = (exs: Example[]) => {
    const seqs = isDpo
      ? [...exs.map((e) => (e as TokenizedPair).chosen), ...exs.map((e) => (e as TokenizedPair).rejected)]
      : (exs as TokenizedSeq[]);
    const Tb = padTo(Math.max(...seqs.map((s) => s.ids.length)), opts.padMultiple);
    return padBatch(seqs, Tb, padId);
  };
  if (isDpo) {
    for (const set of [data.train, data.eval]) {
      for (let i = 0; i < set.length; i += opts.batchSize) {
        const exs = set.slice(i, i + opts.batchSize);
        const lp = await runner.sequenceLogps(weights, toBatch(exs), null);
        exs.forEach((e, k) => {
          refLogps.set(e, Float32Array.of(lp[k], lp[exs.length + k]));
        });
      }
    }
  }
  const refFor = (exs: Example[]) => {
    const P = exs.length;
    const out = new Float32Array(2 * P);
    exs.forEach((e, k) => {
      const r = refLogps.get(e)!;
      out[k] = r[0];
      out[P + k] = r[1];
    });
    return out;
  };

  // Resume.
  let step = 0;
  const rng = new SplitMix32(opts.seed ^ 0x5eed);
  let opt = new AdamW({ lr: opts.lr, weightDecay: opts.weightDecay });
  const metrics: StepMetrics[] = [];
  const saved = readCheckpoint(ckDir);
  if (saved) {
    step = saved.ck.step;
    rng.setState(saved.ck.rngState);
    opt = AdamW.load(saved.optPath);
    if (adapter) adapter = saved.trainable;
    else for (const [n, t] of saved.trainable) weights.set(n, t);
    // metrics.jsonl may hold lines written after the checkpoint: keep only those the checkpoint covers.
    const lines = existsSync(metricsFile) ? readFileSync(metricsFile, "utf8").split("\n").filter(Boolean) : [];
    const kept = lines.slice(0, saved.ck.metricsCount);
    writeFileSync(metricsFile, kept.map((l) => `${l}\n`).join(""));
    for (const l of kept) metrics.push(JSON.parse(l) as StepMetrics);
    events.onResume?.(step);
  } else {
    writeFileSync(metricsFile, "");
  }
  const trainableWeights = (): Weights => {
    if (adapter) return adapter;
    return new Map([...weights].filter(([n]) => trainable(n)));
  };

  const evaluate = async () => {
    if (data.eval.length === 0) return {};
    let lossSum = 0;
    let n = 0;
    let acc = 0;
    for (let i = 0; i < data.eval.length; i += opts.batchSize) {
      const exs = data.eval.slice(i, i + opts.batchSize);
      const batch = toBatch(exs);
      const lp = await evalRunner.sequenceLogps(allWeights(), batch);
      if (isDpo) {
        const beta = (opts.objective as { beta: number }).beta;
        exs.forEach((e, k) => {
          const r = refLogps.get(e)!;
          const s = dpoScalars(lp[k], lp[exs.length + k], r[0], r[1], beta);
          lossSum += s.loss;
          acc += s.accurate ? 1 : 0;
          n++;
        });
      } else {
        // token-weighted mean cross-entropy
        exs.forEach((_, k) => {
          lossSum += -lp[k];
          n += batch.tokens[k];
        });
      }
    }
    return isDpo ? { eval_loss: lossSum / n, "eval_rewards/accuracies": acc / n } : { eval_loss: lossSum / n };
  };

  // Walk the schedule from the start, skipping what the checkpoint already covers (the order is a pure function).
  const planned: number[][] = [];
  for (let epoch = 0; planned.length < totalSteps * opts.gradAccum && epoch < opts.epochs; epoch++) {
    for (const b of epochBatches(lengths, opts.batchSize, opts.seed, epoch)) planned.push(b);
  }
  const stepEpoch = (s: number) => Math.floor((s * opts.gradAccum) / batchesPerEpoch);
  while (step < totalSteps) {
    const t0 = performance.now();
    const micro = planned.slice(step * opts.gradAccum, (step + 1) * opts.gradAccum);
    const sum = new Map<string, Float32Array>();
    let lossSum = 0;
    let tokens = 0;
    const rewards = { chosen: 0, rejected: 0, acc: 0, n: 0 };
    for (const idx of micro) {
      const exs = idx.map((i) => data.train[i]);
      const batch = toBatch(exs);
      const feeds = opts.lora ? dropoutFeeds(model, opts.lora, batch.B, batch.T, rng) : {};
      const ref = isDpo ? refFor(exs) : undefined;
      const res = await runner.step(allWeights(), batch, ref, feeds);
      lossSum += res.loss;
      tokens += batch.attentionMask.reduce((a, b) => a + b, 0);
      for (const [n, g] of res.grads) {
        const acc = sum.get(n);
        if (!acc) sum.set(n, g);
        else for (let i = 0; i < g.length; i++) acc[i] += g[i];
      }
      if (isDpo && ref) {
        const P = exs.length;
        const beta = (opts.objective as { beta: number }).beta;
        for (let k = 0; k < P; k++) {
          const s = dpoScalars(res.sequenceLogps[k], res.sequenceLogps[P + k], ref[k], ref[P + k], beta);
          rewards.chosen += s.chosen;
          rewards.rejected += s.rejected;
          rewards.acc += s.accurate ? 1 : 0;
          rewards.n++;
        }
      }
    }
    if (micro.length > 1) for (const g of sum.values()) for (let i = 0; i < g.length; i++) g[i] /= micro.length;
    const gradNorm = clipGradNorm(sum, opts.maxGradNorm);
    const lr = learningRate(step, schedule);
    const target = trainableWeights();
    opt.update(target, sum, lr);
    step++;
    const seconds = (performance.now() - t0) / 1000;
    const m: StepMetrics = {
      step,
      epoch: stepEpoch(step - 1),
      lr,
      loss: lossSum / micro.length,
      grad_norm: gradNorm,
      tokens,
      tokens_per_s: tokens / seconds,
    };
    if (isDpo && rewards.n) {
      m["rewards/chosen"] = rewards.chosen / rewards.n;
      m["rewards/rejected"] = rewards.rejected / rewards.n;
      m["rewards/margins"] = (rewards.chosen - rewards.rejected) / rewards.n;
      m["rewards/accuracies"] = rewards.acc / rewards.n;
    }
    if (opts.evalEvery > 0 && step % opts.evalEvery === 0 && step < totalSteps) Object.assign(m, await evaluate());
    metrics.push(m);
    appendFileSync(metricsFile, `${JSON.stringify(m)}\n`);
    events.onStep?.(m, totalSteps);
    if (opts.checkpointEvery > 0 && step % opts.checkpointEvery === 0 && step < totalSteps) {
      writeCheckpoint(ckDir, { step, rngState: rng.getState(), metricsCount: metrics.length }, trainableWeights(), opt);
    }
  }
  const final = await evaluate();
  writeCheckpoint(ckDir, { step, rngState: rng.getState(), metricsCount: metrics.length }, trainableWeights(), opt);
  await runner.dispose();
  await evalRunner.dispose();
  return { weights, adapter, steps: step, metrics, final };
}
