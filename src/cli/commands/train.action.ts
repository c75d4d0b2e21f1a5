/**
 * The action of `breakfix train sft|dpo` (registered in train.ts), loaded when it runs: defaults come from the
 * config's `training` section, flags override; shows a progress bar (step, loss, tokens/s, ETA); writes a JSON
 * metrics line per step to OUT/metrics.jsonl; re-running the same command resumes.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../config/index.ts";
import { etaText } from "../../domain/eta.ts";
import { resolveModelSpec } from "../../models/hub.ts";
import { LOCAL_ROWS, maxLengthFor, trainOptionsFor } from "../../train/backends/local.ts";
import { OutputFolderError } from "../../train/identity.ts";
import { DataFileError } from "../../train/jsonl.ts";
import type { LoraConfig } from "../../train/lora.ts";
import type { PreferenceLossKind } from "../../train/losses.ts";
import type { LossOn } from "../../train/render.ts";
import { runTraining } from "../../train/run.ts";
import type { TrainOptions } from "../../train/trainer.ts";
import { CliError, numberFlag } from "../errors.ts";
import { progressReporter } from "../progress.ts";

export interface TrainFlags {
  model: string;
  data: string;
  out: string;
  evalData?: string;
  evalFraction?: string;
  config?: string;
  lora?: boolean;
  full?: boolean;
  loraR?: string;
  loraAlpha?: string;
  loraDropout?: string;
  loraTargets?: string;
  lr?: string;
  epochs?: string;
  batchSize?: string;
  gradAccum?: string;
  maxSteps?: string;
  maxLength?: string;
  beta?: string;
  loss?: string;
  sftAlpha?: string;
  seed?: string;
  checkpointEvery?: string;
  evalEvery?: string;
  lossOn?: string;
  mergedModel?: boolean;
  overwrite?: boolean;
  json?: boolean;
  progress: boolean;
}

type Range = Parameters<typeof numberFlag>[2];

/** A numeric flag (or the config's value when the flag is absent), range-checked either way: exit 2 when out of range. */
function num(flag: string, v: string | undefined, fallback: number, range: Range = {}): number {
  return numberFlag(flag, v ?? fallback, range);
}

const POSITIVE: Range = { min: 0, minExclusive: true };
const COUNT: Range = { min: 1, integer: true };
const COUNT0: Range = { min: 0, integer: true };

const LOSSES: PreferenceLossKind[] = ["sigmoid", "ipo", "sft_dpo"];
const LOSS_ON: LossOn[] = ["assistant", "last_assistant", "all"];

/**
 * The trainer's options of `breakfix train`: the cycle's local backend's options for this stage (trainOptionsFor, from
 * breakfix.yaml's training section, round 0), with each flag that is given in place of its value. One way to build
 * them, so `breakfix train` with no flags runs what the cycle runs.
 */
export function trainOptionsFrom(
  method: "sft" | "dpo",
  f: TrainFlags,
): { opts: TrainOptions; maxLength: number; evalFraction: number; lossOn: LossOn } {
  const cfg = loadConfig(f.config).training;
  const base = trainOptionsFor(cfg, method, 0);
  const useLora = f.full ? false : f.lora ? true : cfg.method === "lora";
  const lora: LoraConfig | undefined = useLora
    ? {
        r: num("lora-r", f.loraR, cfg.lora.rank, COUNT),
        alpha: num("lora-alpha", f.loraAlpha, cfg.lora.alpha, POSITIVE),
        dropout: num("lora-dropout", f.loraDropout, cfg.lora.dropout, { min: 0, max: 1, maxExclusive: true }),
        targetModules: f.loraTargets ? f.loraTargets.split(",").map((s) => s.trim()) : cfg.lora.targets,
      }
    : undefined;
  const loss = (f.loss ?? cfg.dpo.loss) as PreferenceLossKind;
  if (!LOSSES.includes(loss)) throw new CliError(`--loss: expected one of ${LOSSES.join(", ")}, got "${loss}"`);
  const sftAlpha = base.objective.kind === "dpo" ? base.objective.sftAlpha : 1;
  const opts: TrainOptions = {
    ...base,
    objective:
      method === "sft"
        ? base.objective
        : {
            kind: "dpo",
            loss,
            beta: num("beta", f.beta, cfg.dpo.beta, POSITIVE),
            sftAlpha: num("sft-alpha", f.sftAlpha, sftAlpha, { min: 0 }),
          },
    lr: num("lr", f.lr, base.lr, POSITIVE),
    epochs: num("epochs", f.epochs, base.epochs, COUNT),
    batchSize: num("batch-size", f.batchSize, base.batchSize, COUNT),
    gradAccum: num("grad-accum", f.gradAccum, base.gradAccum, COUNT),
    maxSteps: f.maxSteps === undefined ? base.maxSteps : num("max-steps", f.maxSteps, 0, COUNT),
    seed: num("seed", f.seed, base.seed, COUNT0),
    lora,
    checkpointEvery: num("checkpoint-every", f.checkpointEvery, base.checkpointEvery, COUNT0),
    evalEvery: num("eval-every", f.evalEvery, base.evalEvery, COUNT0),
  };
  const lossOn = (f.lossOn ?? LOCAL_ROWS.lossOn) as LossOn;
  if (!LOSS_ON.includes(lossOn)) throw new CliError(`--loss-on: expected ${LOSS_ON.join(", ")}, got "${lossOn}"`);
  return {
    opts,
    maxLength: num("max-length", f.maxLength, maxLengthFor(cfg, f.model), COUNT),
    evalFraction: num("eval-fraction", f.evalFraction, LOCAL_ROWS.evalFraction, { min: 0, max: 1, maxExclusive: true }),
    lossOn,
  };
}

/** `train sft` and `train dpo`: the method is the subcommand's name. */
export async function trainAction(method: "sft" | "dpo", f: TrainFlags): Promise<void> {
  const { opts, maxLength, evalFraction, lossOn } = trainOptionsFrom(method, f);
  if (f.lora && f.full) throw new CliError("--lora and --full: pick one");
  // Inputs are checked before anything loads, each error naming the file (exit 2).
  f.model = await resolveModelSpec(f.model); // hf:ORG/NAME[@REV]: the HF cache's snapshot (downloaded if absent)
  if (!existsSync(path.join(f.model, "config.json")))
    throw new CliError(
      `--model: ${f.model}: ${existsSync(f.model) ? "not a Hugging Face model folder (no config.json)" : "no such folder"}`,
    );
  for (const [flag, file] of [
    ["--data", f.data],
    ["--eval-data", f.evalData],
  ] as const)
    if (file !== undefined && !existsSync(file)) throw new CliError(`${flag}: ${file}: no such file`);
  const progress = progressReporter<{ step: number; total: number; loss: number; tps: number; eta: string }>(
    f.progress,
    {
      format: "{bar} step {value}/{total} | loss {loss} | {tps} tok/s | ETA {eta_formatted}",
      done: (p) => p.step,
      total: (p) => p.total,
      payload: (p) => ({ loss: p.loss.toFixed(4), tps: Math.round(p.tps) }),
      line: (p) => `step ${p.step}/${p.total} loss ${p.loss.toFixed(4)} ${Math.round(p.tps)} tok/s ETA ${p.eta}`,
    },
  );
  let t0 = 0;
  let firstStep = -1;
  const summary = await runTraining({
    method,
    modelDir: f.model,
    dataFile: f.data,
    outDir: f.out,
    evalFile: f.evalData,
    evalFraction,
    maxLength,
    lossOn,
    train: opts,
    exportMerged: f.mergedModel,
    overwrite: f.overwrite,
    onLockWait: (h) =>
      process.stderr.write(
        `breakfix train: another training run (pid ${h.pid}, since ${h.at}) is writing ${f.out}; waiting for it to finish, then resuming from its checkpoint\n`,
      ),
    events: {
      onResume: (step) => process.stderr.write(`resuming from checkpoint at step ${step}\n`),
      onStep: (m, total) => {
        if (firstStep < 0) {
          t0 = Date.now();
          firstStep = m.step - 1;
        }
        const rate = (m.step - firstStep) / ((Date.now() - t0) / 1000);
        progress.update({
          step: m.step,
          total,
          loss: m.loss,
          tps: m.tokens_per_s,
          eta: etaText(((total - m.step) / rate) * 1000),
        });
      },
    },
  }).catch((err: unknown) => {
    progress.stop();
    // Bad or missing input files and a foreign --out are the user's to fix: exit 2, the message names the file.
    if (err instanceof OutputFolderError || err instanceof DataFileError) throw new CliError(err.message, 2);
    throw err;
  });
  progress.stop();
  const out = summary.outputs;
  process.stdout.write(
    `trained ${summary.steps} steps on ${summary.trainRows} rows (${summary.evalRows} eval, ${summary.droppedTooLong} too long); ` +
      `eval ${JSON.stringify(summary.final)}\n` +
      (out.model ? `model: ${out.model}\n` : "") +
      (out.adapter ? `adapter: ${out.adapter} (PEFT), ${out.ggufAdapter} (GGUF)\n` : "") +
      `metrics: ${out.metrics}\n`,
  );
  if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
}
