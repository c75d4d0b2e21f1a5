/**
 * The train step of a round: SFT then DPO on the round's fix data (stacked: on the previous round's model with this
 * round's data; cumulative: on the base model with every round's data), on the local engine through runTraining,
 * resumable from its checkpoints. The merged export is the round's model.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema.ts";
import { type CurationFiles, curationFiles } from "../curate/io.ts";
import { runTraining } from "../train/run.ts";
import { DEFAULT_TRAIN, type TrainOptions } from "../train/trainer.ts";
import { etaText } from "./progress.ts";

export interface TrainStepResult {
  /** The merged model folder, relative to the workspace. */
  model: string;
  params: Record<string, unknown>;
  steps: number;
  final: Record<string, number | undefined>;
}

const countLines = (file: string): number =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim()).length
    : 0;

/**
 * The fix data of several rounds as one set of files (rows in round order, exact duplicate lines kept once: the
 * retention sample of two rounds can repeat a row); written atomically, idempotent.
 */
export function mergeCurationFiles(dirs: readonly string[], out: string): CurationFiles {
  const files = curationFiles(out);
  mkdirSync(out, { recursive: true });
  for (const k of ["sft", "dpo", "sftVal", "dpoVal"] as const) {
    const lines = dirs
      .map((d) => curationFiles(d)[k])
      .filter((f) => existsSync(f))
      .flatMap((f) => readFileSync(f, "utf8").split("\n"))
      .filter((l) => l.trim());
    const text = [...new Set(lines)].join("\n");
    const tmp = `${files[k]}.tmp`;
    writeFileSync(tmp, text ? `${text}\n` : "");
    renameSync(tmp, files[k]);
  }
  return files;
}

/** The training files of a round from its data folders (one folder: as is; several: merged into mergedDir). */
export function roundTrainingFiles(dataDirs: readonly string[], mergedDir: string) {
  const files = dataDirs.length === 1 ? curationFiles(dataDirs[0]) : mergeCurationFiles(dataDirs, mergedDir);
  return { files, rows: countLines(files.sft), hasVal: countLines(files.sftVal) > 0 };
}

function modelMaxPositions(dir: string): number {
  try {
    const c = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8")) as { max_position_embeddings?: number };
    return c.max_position_embeddings ?? Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The trainer's options for one stage of a round, from breakfix.yaml's training section. */
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

export async function trainStep(
  method: "sft" | "dpo",
  o: {
    training: Config["training"];
    round: number;
    modelDir: string;
    dataFile: string;
    evalFile?: string;
    outDir: string;
    rel: (p: string) => string;
    log: (l: string) => void;
  },
): Promise<TrainStepResult> {
  const train = trainOptionsFor(o.training, method, o.round);
  const maxLength = Math.min(o.training.sft.maxSeqLen, modelMaxPositions(o.modelDir));
  let t0 = 0;
  let first = 0;
  const summary = await runTraining({
    method,
    modelDir: o.modelDir,
    dataFile: o.dataFile,
    evalFile: o.evalFile,
    evalFraction: 0,
    outDir: o.outDir,
    maxLength,
    // Only the curated last turn is a target. Earlier assistant turns of a multi-turn finding are what the attacked
    // model said (possibly unsafe): context to condition on, never something to learn.
    lossOn: "last_assistant",
    train,
    exportMerged: true,
    events: {
      onResume: (s) => o.log(`round ${o.round}: train-${method} resuming from checkpoint at step ${s}`),
      onStep: (m, total) => {
        if (!t0) {
          t0 = Date.now();
          first = m.step;
        }
        if (m.step % 10 === 0 || m.step === total) {
          const per = m.step > first ? (Date.now() - t0) / (m.step - first) : Number.NaN;
          o.log(
            `round ${o.round}: train-${method} step ${m.step}/${total} loss ${m.loss.toFixed(3)} ETA ${etaText(per * (total - m.step))}`,
          );
        }
      },
    },
  });
  if (!summary.outputs.model) throw new Error(`train-${method}: the run wrote no merged model`);
  return {
    model: o.rel(summary.outputs.model),
    params: {
      method,
      lr: train.lr,
      epochs: train.epochs,
      batchSize: train.batchSize,
      lora: train.lora ?? null,
      rows: summary.rows,
    },
    steps: summary.steps,
    final: { ...summary.final },
  };
}
