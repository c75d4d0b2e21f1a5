/**
 * The `local` backend: our engine in this process (runTraining), resumable from its checkpoints in the stage folder.
 * The merged export is the stage's model; the PEFT and GGUF adapters stay beside it (params.adapter) for deploys
 * that load adapters.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../../config/schema.ts";
import { etaText } from "../../domain/eta.ts";
import { runTraining } from "../run.ts";
import { DEFAULT_TRAIN, type TrainOptions } from "../trainer.ts";
import { LOCAL_ROWS } from "./rows.ts";
import type { BackendJob, StageResult, TrainingBackend } from "./types.ts";

/** The trainer's options for one stage of a round, from breakfix.yaml's training section (seed + round). */
export function trainOptionsFor(t: Config["training"], method: "sft" | "dpo", round: number): TrainOptions {
  const stage = method === "sft" ? t.sft : t.dpo;
  return {
    ...DEFAULT_TRAIN,
    objective: method === "sft" ? { kind: "sft" } : { kind: "dpo", loss: t.dpo.loss, beta: t.dpo.beta, sftAlpha: 1 },
    lr: stage.lr,
    epochs: stage.epochs,
    batchSize: stage.batchSize,
    seed: t.seed + round,
    lora:
      t.method === "lora"
        ? { r: t.lora.rank, alpha: t.lora.alpha, dropout: t.lora.dropout, targetModules: [...t.lora.targets] }
        : undefined,
    checkpointEvery: 4,
    maxSteps: t.maxSteps,
  };
}

/** How the local backend reads a stage's rows (rows.ts): no held-out share, the loss on the last assistant turn. */
export { LOCAL_ROWS };

/** The longest sequence a stage trains on: the config's, capped at the model's positions. */
export function maxLengthFor(t: Config["training"], dir: string): number {
  let positions = Number.POSITIVE_INFINITY;
  try {
    const c = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8")) as { max_position_embeddings?: number };
    positions = c.max_position_embeddings ?? positions;
  } catch {
    // no readable config: the trainer itself reports it
  }
  return Math.min(t.sft.maxSeqLen, positions);
}

export class LocalBackend implements TrainingBackend {
  readonly id = "local";

  async train(stage: "sft" | "dpo", job: BackendJob): Promise<StageResult> {
    if (job.from.kind !== "folder") throw new Error(`training.backend local trains a model folder, not ${job.from.id}`);
    const train = trainOptionsFor(job.training, stage, job.round);
    let t0 = 0;
    let first = 0;
    const summary = await runTraining({
      method: stage,
      modelDir: job.from.dir,
      dataFile: stage === "sft" ? job.data.sft : job.data.dpo,
      evalFile: stage === "sft" ? job.data.sftVal : job.data.dpoVal,
      evalFraction: LOCAL_ROWS.evalFraction,
      outDir: job.outDir,
      maxLength: maxLengthFor(job.training, job.from.dir),
      // Only the curated last turn is a target (LOCAL_ROWS).
      lossOn: LOCAL_ROWS.lossOn,
      train,
      exportMerged: true,
      events: {
        onResume: (s) => job.log(`round ${job.round}: train-${stage} resuming from checkpoint at step ${s}`),
        onStep: (m, total) => {
          if (!t0) {
            t0 = Date.now();
            first = m.step;
          }
          if (m.step % 10 === 0 || m.step === total) {
            const per = m.step > first ? (Date.now() - t0) / (m.step - first) : Number.NaN;
            (job.progress ?? job.log)(
              `round ${job.round}: train-${stage} step ${m.step}/${total} loss ${m.loss.toFixed(3)} ETA ${etaText(per * (total - m.step))}`,
            );
          }
        },
      },
    });
    if (!summary.outputs.model) throw new Error(`train-${stage}: the run wrote no merged model`);
    return {
      stage,
      model: { kind: "folder", dir: summary.outputs.model },
      steps: summary.steps,
      final: { ...summary.final },
      params: {
        backend: this.id,
        method: stage,
        lr: train.lr,
        epochs: train.epochs,
        batchSize: train.batchSize,
        lora: train.lora ?? null,
        rows: summary.rows,
        ...(summary.outputs.adapter ? { adapter: summary.outputs.adapter } : {}),
        ...(summary.outputs.ggufAdapter ? { ggufAdapter: summary.outputs.ggufAdapter } : {}),
      },
    };
  }
}
