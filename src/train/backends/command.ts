/**
 * The `command` backend: any trainer behind a documented contract. For each stage the cycle runs
 * `training.command.run` through /bin/sh in the stage's folder, with these placeholders filled in (each value
 * shell-quoted, except {breakfix_args}, a ready list of quoted flags):
 *
 *   {stage}          sft or dpo
 *   {model_dir}      the Hugging Face folder to train from (the base model, or the previous stage's result)
 *   {data}           the stage's rows, TRL conversational JSONL (sft: {messages}; dpo: {prompt, chosen, rejected})
 *   {eval_data}      validation rows in the same format (the file may be empty)
 *   {out_dir}        where the trainer must leave its output (also its checkpoint folder; created for it)
 *   {round}          the cycle round (1, 2, ...)
 *   {seed}           training.seed + round
 *   {settings}       a JSON file with the stage's resolved settings (method, LoRA, lr, epochs, batch size, beta, loss,
 *                    max_length, max_steps, seed): everything a trainer needs, for trainers other than ours
 *   {config}         a breakfix.yaml holding the training section (for `breakfix train --config`)
 *   {breakfix_args}  the `breakfix train` flags that reproduce the local backend exactly
 *
 * Exit status 0 means done; anything else fails the stage (the cycle stops with the status and the last output
 * lines; re-running the cycle runs the same command in the same {out_dir} again, so a trainer that resumes from its
 * checkpoints there resumes). Output layout, checked after exit 0: {out_dir}/model/ (a merged Hugging Face folder:
 * config.json, *.safetensors, tokenizer.json) or {out_dir}/adapter/ (a PEFT LoRA adapter: adapter_config.json,
 * adapter_model.safetensors), which breakfix merges into {model_dir}. Past training.command.timeoutMs the command's
 * whole process group gets SIGTERM (then SIGKILL after 5 s), so a trainer that saves a checkpoint on SIGTERM can.
 *
 * The command line, its output, the failure it quotes and the command recorded in the store all pass one redactor per
 * job (models/secrets.ts secretRedactor): registered keys, well-known token formats (sk-..., hf_..., ghp_..., xox...,
 * AKIA..., Bearer ...) and the values the command gives credential-named variables or flags (WANDB_API_KEY=...).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { escapeForTerminal } from "../../domain/escape.ts";
import { fillTemplate, runShell, shellQuote } from "../../domain/shell.ts";
import { secretRedactor } from "../../models/secrets.ts";
import { maxLengthFor, trainOptionsFor } from "./local.ts";
import { mergeAdapterFolder } from "./merge.ts";
import type { BackendJob, StageResult, TrainingBackend } from "./types.ts";

export const COMMAND_PLACEHOLDERS = [
  "stage",
  "model_dir",
  "data",
  "eval_data",
  "out_dir",
  "round",
  "seed",
  "settings",
  "config",
  "breakfix_args",
] as const;

/** The `breakfix train` flags equal to what the local backend runs (see trainOptionsFor). */
export function breakfixTrainArgs(job: BackendJob, stage: "sft" | "dpo", fromDir: string): string[] {
  const o = trainOptionsFor(job.training, stage, job.round);
  const args = [
    ...(o.lora
      ? [
          "--lora",
          "--lora-r",
          String(o.lora.r),
          "--lora-alpha",
          String(o.lora.alpha),
          "--lora-dropout",
          String(o.lora.dropout),
          "--lora-targets",
          o.lora.targetModules.join(","),
          "--merged-model",
        ]
      : ["--full"]),
    ...["--lr", String(o.lr), "--epochs", String(o.epochs), "--batch-size", String(o.batchSize)],
    ...["--grad-accum", String(o.gradAccum), "--seed", String(o.seed), "--checkpoint-every", String(o.checkpointEvery)],
    ...["--max-length", String(maxLengthFor(job.training, fromDir)), "--loss-on", "last_assistant"],
    ...(o.maxSteps !== undefined ? ["--max-steps", String(o.maxSteps)] : []),
    ...(o.objective.kind === "dpo" ? ["--beta", String(o.objective.beta), "--loss", o.objective.loss] : []),
    "--eval-fraction",
    "0",
    "--no-progress",
  ];
  return args;
}

function isModelFolder(dir: string): boolean {
  return (
    existsSync(path.join(dir, "config.json")) &&
    existsSync(dir) &&
    readdirSync(dir).some((f) => f.endsWith(".safetensors")) &&
    existsSync(path.join(dir, "tokenizer.json"))
  );
}

export class CommandBackend implements TrainingBackend {
  readonly id = "command";

  async train(stage: "sft" | "dpo", job: BackendJob): Promise<StageResult> {
    const spec = job.training.command;
    if (!spec) throw new Error("training.command: backend command needs training.command.run");
    if (job.from.kind !== "folder")
      throw new Error(`training.backend command trains a model folder, not ${job.from.id}`);
    const fromDir = job.from.dir;
    mkdirSync(job.outDir, { recursive: true });
    const evalFile = (stage === "sft" ? job.data.sftVal : job.data.dpoVal) ?? path.join(job.outDir, "eval.empty.jsonl");
    if (!existsSync(evalFile)) writeFileSync(evalFile, "");
    const o = trainOptionsFor(job.training, stage, job.round);
    const settings = path.join(job.outDir, "settings.json");
    writeFileSync(
      settings,
      `${JSON.stringify(
        {
          stage,
          method: job.training.method,
          lora: job.training.method === "lora" ? job.training.lora : null,
          lr: o.lr,
          epochs: o.epochs,
          batch_size: o.batchSize,
          grad_accum: o.gradAccum,
          beta: o.objective.kind === "dpo" ? o.objective.beta : null,
          loss: o.objective.kind === "dpo" ? o.objective.loss : null,
          max_length: maxLengthFor(job.training, fromDir),
          max_steps: o.maxSteps ?? null,
          seed: o.seed,
          loss_on: "last_assistant",
        },
        null,
        2,
      )}\n`,
    );
    const config = path.join(job.outDir, "breakfix.training.yaml");
    writeFileSync(config, stringify({ training: { ...job.training, backend: "local", command: undefined } }));
    const values: Record<string, string> = {
      stage,
      model_dir: fromDir,
      data: stage === "sft" ? job.data.sft : job.data.dpo,
      eval_data: evalFile,
      out_dir: job.outDir,
      round: String(job.round),
      seed: String(o.seed),
      settings,
      config,
      breakfix_args: breakfixTrainArgs(job, stage, fromDir).map(shellQuote).join(" "),
    };
    const command = fillTemplate(spec.run, values, COMMAND_PLACEHOLDERS, "training.command.run", ["breakfix_args"]);
    // One redactor for everything this job logs, throws and records: the registered keys (the trainer inherits the
    // environment), well-known token formats (sk-..., hf_..., ghp_..., xox..., AKIA..., Bearer ...), and whatever the
    // user's command line assigns to a credential-named variable or flag (WANDB_API_KEY=..., --hub-token ...).
    const redact = secretRedactor(spec.run);
    // the command line may hold a key and control characters: redacted whole, then cut and shown like its output
    job.log(
      `round ${job.round}: train-${stage} (command) ${escapeForTerminal(redact(command), { oneLine: true, max: 200 })}`,
    );
    await runShell(command, {
      key: "training.command.run",
      cwd: job.outDir,
      timeoutMs: spec.timeoutMs,
      timeoutKey: "training.command.timeoutMs",
      // each output line (and so the last lines a failure quotes) is redacted before it is shown
      redact,
      log: (l) => job.log(`round ${job.round}: train-${stage}: ${l}`),
    });
    const modelDir = path.join(job.outDir, "model");
    const adapterDir = path.join(job.outDir, "adapter");
    let dir: string;
    if (isModelFolder(modelDir)) dir = modelDir;
    else if (existsSync(path.join(adapterDir, "adapter_config.json")))
      dir = mergeAdapterFolder(fromDir, adapterDir, path.join(job.outDir, "merged"));
    else
      throw new Error(
        `training.command.run exited 0 but left neither ${modelDir} (a merged folder: config.json, *.safetensors, tokenizer.json) nor ${adapterDir} (a PEFT adapter)`,
      );
    return {
      stage,
      model: { kind: "folder", dir },
      params: {
        backend: this.id,
        // recorded in the store (step record, training runs): redacted as the log shows it
        command: redact(command),
        ...(existsSync(path.join(adapterDir, "adapter_config.json")) ? { adapter: adapterDir } : {}),
      },
    };
  }
}
