/**
 * A self-contained TRL job folder for one stage of one round:
 *
 *   data/train.jsonl (+ data/eval.jsonl)  TRL conversational rows (SFT: prompt-completion, the loss on the last
 *                                         assistant turn; DPO: {prompt, chosen, rejected} message lists)
 *   train_trl.py, args.json               the entry script and its resolved arguments
 *   accelerate.yaml (+ deepspeed.json)    the topology
 *   requirements.txt                      the pinned versions the script targets
 *   run.sh                                the launch command, run in the folder; writes shell.pid first, exit_status when it ends
 *   launch.txt                            the launch command as run (for the user)
 */

import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { fillTemplate, shellQuote } from "../../../domain/shell.ts";
import type { Message } from "../../../domain/types.ts";
import { readPreferenceJsonl, readSftJsonl } from "../../jsonl.ts";
import {
  DEEPSPEED_REQUIREMENT,
  loraConfig,
  modelMaxPositions,
  modelTypeOf,
  TRL_TARGETS,
  type Training,
  type TrlArgs,
  type TrlSettings,
  trainerConfig,
  trlSettings,
} from "./args.ts";

export const TRL_SCRIPT_SOURCE = fileURLToPath(new URL("./train_trl.py", import.meta.url));
export const DEFAULT_LAUNCH = "accelerate launch --config_file {accelerate_config} {script}";

export class TrlConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrlConfigError";
  }
}

export interface TrlJobSpec {
  stage: "sft" | "dpo";
  round: number;
  /** The model TRL loads: a local folder path or a hub id. */
  model: string;
  /** A local copy of the model (for max_position_embeddings), when there is one. */
  modelDir?: string;
  data: string;
  evalData?: string;
  training: Training;
}

export interface TrlJobFolder {
  dir: string;
  script: string;
  argsFile: string;
  acceleratePath: string;
  deepspeedPath?: string;
  requirements: string;
  runScript: string;
  launch: string;
  args: TrlArgs;
  rows: { train: number; eval: number };
}

/** Fills {job_dir} {script} {accelerate_config} {stage} {round}; an unknown placeholder is an error. */
export function fillLaunch(template: string, values: Record<string, string>): string {
  try {
    return fillTemplate(template, values, Object.keys(values), "training.trl.launch");
  } catch (e) {
    throw new TrlConfigError((e as Error).message);
  }
}

const clean = (ms: readonly Message[]) => ms.map((m) => ({ role: m.role, content: m.content }));

/** SFT rows as TRL conversational prompt-completion: the last assistant turn is the completion (the only target). */
function sftRows(file: string): unknown[] {
  return readSftJsonl(file).map((r, i) => {
    const last = r.messages.length - 1;
    if (r.messages[last].role !== "assistant")
      throw new TrlConfigError(`${file}: row ${i + 1}: the last message must be the assistant's answer to train on`);
    return { prompt: clean(r.messages.slice(0, last)), completion: clean([r.messages[last]]) };
  });
}

/** DPO rows in TRL's conversational preference format (provenance left out: it is no training column). */
function dpoRows(file: string): unknown[] {
  return readPreferenceJsonl(file).map((r) => ({
    prompt: clean(r.prompt),
    chosen: clean(r.chosen),
    rejected: clean(r.rejected),
  }));
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function writeRows(file: string, rows: readonly unknown[]): void {
  writeAtomic(file, rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : ""));
}

/** The accelerate config (keys as accelerate 1.14's config file and TRL 1.9's accelerate_configs/ use them). */
export function accelerateConfig(trl: TrlSettings, deepspeedFile?: string): Record<string, unknown> {
  const multiNode = trl.numMachines > 1;
  if (trl.topology === "single" && (trl.numProcesses > 1 || multiNode))
    throw new TrlConfigError(
      `training.trl.topology: single runs one process on one machine; numProcesses ${trl.numProcesses}, numMachines ${trl.numMachines} need ddp, zero2, zero3 or fsdp`,
    );
  if (trl.machineRank >= trl.numMachines)
    throw new TrlConfigError(
      `training.trl.machineRank: ${trl.machineRank} must be below numMachines (${trl.numMachines})`,
    );
  if (trl.numProcesses < trl.numMachines)
    throw new TrlConfigError(
      `training.trl.numProcesses: the total over all machines (${trl.numProcesses}) is below numMachines (${trl.numMachines})`,
    );
  const mixed = trl.precision === "fp32" ? "no" : trl.precision;
  const base: Record<string, unknown> = {
    compute_environment: "LOCAL_MACHINE",
    debug: false,
    distributed_type: "NO",
    downcast_bf16: "no",
    machine_rank: trl.machineRank,
    main_training_function: "main",
    num_machines: trl.numMachines,
    num_processes: trl.numProcesses,
    rdzv_backend: "static",
    same_network: true,
    use_cpu: false,
  };
  if (multiNode) {
    // Unset here: the launch command passes them (an sbatch script knows the first node only at run time).
    if (trl.mainProcessIp !== undefined) base.main_process_ip = trl.mainProcessIp;
    if (trl.mainProcessPort !== undefined) base.main_process_port = trl.mainProcessPort;
    base.same_network = false;
  }
  switch (trl.topology) {
    case "single":
      return { ...base, distributed_type: "NO", mixed_precision: mixed, gpu_ids: "all" };
    case "ddp":
      return { ...base, distributed_type: "MULTI_GPU", mixed_precision: mixed, gpu_ids: "all" };
    case "zero2":
    case "zero3":
      // With a deepspeed_config_file, accelerate refuses mixed_precision (and zero_stage, offload ...) in this file:
      // they live in the JSON ('auto' values the Trainer fills from its arguments).
      return {
        ...base,
        distributed_type: "DEEPSPEED",
        deepspeed_config: {
          deepspeed_config_file: deepspeedFile ?? "deepspeed.json",
          deepspeed_multinode_launcher: "standard",
          zero3_init_flag: trl.topology === "zero3",
        },
      };
    case "fsdp":
      return {
        ...base,
        distributed_type: "FSDP",
        mixed_precision: mixed,
        fsdp_config: {
          fsdp_version: 2,
          fsdp_auto_wrap_policy: "TRANSFORMER_BASED_WRAP",
          fsdp_cpu_ram_efficient_loading: true,
          fsdp_offload_params: false,
          fsdp_reshard_after_forward: true,
          // a full state dict, so save_model writes ordinary safetensors / a PEFT adapter
          fsdp_state_dict_type: "FULL_STATE_DICT",
          fsdp_activation_checkpointing: false,
        },
      };
  }
}

/** The DeepSpeed JSON for ZeRO-2/3: 'auto' everywhere the HF Trainer integration fills values from its arguments. */
export function deepspeedConfig(stage: 2 | 3): Record<string, unknown> {
  const zero: Record<string, unknown> =
    stage === 2
      ? {
          stage: 2,
          overlap_comm: true,
          contiguous_gradients: true,
          reduce_scatter: true,
          reduce_bucket_size: "auto",
          allgather_bucket_size: 5e8,
        }
      : {
          stage: 3,
          overlap_comm: true,
          contiguous_gradients: true,
          reduce_bucket_size: "auto",
          stage3_prefetch_bucket_size: "auto",
          stage3_param_persistence_threshold: "auto",
          stage3_max_live_parameters: 1e9,
          stage3_max_reuse_distance: 1e9,
          stage3_gather_16bit_weights_on_model_save: true,
        };
  return {
    bf16: { enabled: "auto" },
    fp16: { enabled: "auto" },
    zero_optimization: zero,
    gradient_accumulation_steps: "auto",
    gradient_clipping: "auto",
    train_batch_size: "auto",
    train_micro_batch_size_per_gpu: "auto",
    steps_per_print: 1_000_000,
    wall_clock_breakdown: false,
  };
}

export function requirementsTxt(topology: TrlSettings["topology"]): string {
  const zero = topology === "zero2" || topology === "zero3";
  return [
    `# What breakfix's train_trl.py targets (argument names checked against these versions' sources).`,
    `trl==${TRL_TARGETS.trl}`,
    `peft==${TRL_TARGETS.peft}`,
    `transformers==${TRL_TARGETS.transformers}`,
    `accelerate==${TRL_TARGETS.accelerate}`,
    "datasets>=4.7.0",
    "safetensors",
    "# torch: the build for your CUDA version (https://pytorch.org/get-started/locally/)",
    `${zero ? "" : "# "}${DEEPSPEED_REQUIREMENT}${zero ? "" : "  # for ZeRO-2/3 (training.trl.topology zero2 / zero3)"}`,
    "",
  ].join("\n");
}

/** Writes (or rewrites: it is idempotent) the job folder of one stage. */
export function writeTrlJob(dir: string, spec: TrlJobSpec): TrlJobFolder {
  const trl = trlSettings(spec.training);
  const jobDir = resolve(dir);
  mkdirSync(join(jobDir, "data"), { recursive: true });
  const rows = spec.stage === "sft" ? sftRows(spec.data) : dpoRows(spec.data);
  if (rows.length === 0) throw new TrlConfigError(`${spec.data}: no rows to train on`);
  writeRows(join(jobDir, "data", "train.jsonl"), rows);
  let evalRows = 0;
  const hasEval = spec.evalData !== undefined && existsSync(spec.evalData);
  if (hasEval && spec.evalData) {
    const ev = spec.stage === "sft" ? sftRows(spec.evalData) : dpoRows(spec.evalData);
    evalRows = ev.length;
    if (ev.length > 0) writeRows(join(jobDir, "data", "eval.jsonl"), ev);
  }

  const script = join(jobDir, "train_trl.py");
  copyFileSync(TRL_SCRIPT_SOURCE, script);

  const zeroStage = trl.topology === "zero2" ? 2 : trl.topology === "zero3" ? 3 : undefined;
  let deepspeedPath: string | undefined;
  const deepspeed = zeroStage ? deepspeedConfig(zeroStage) : undefined;
  if (deepspeed) {
    deepspeedPath = join(jobDir, "deepspeed.json");
    writeAtomic(deepspeedPath, `${JSON.stringify(deepspeed, null, 2)}\n`);
  }
  const acceleratePath = join(jobDir, "accelerate.yaml");
  const accelerate = accelerateConfig(trl, deepspeedPath);
  writeAtomic(acceleratePath, stringify(accelerate));

  const requirements = join(jobDir, "requirements.txt");
  writeAtomic(requirements, requirementsTxt(trl.topology));

  const args: TrlArgs = {
    version: 1,
    stage: spec.stage,
    round: spec.round,
    model: spec.model,
    method: spec.training.method,
    trainer: spec.stage === "sft" ? "SFTTrainer" : "DPOTrainer",
    config: trainerConfig(spec.training, spec.stage, spec.round, {
      maxPositions: modelMaxPositions(spec.modelDir),
      hasEval: evalRows > 0,
    }),
    peft: loraConfig(spec.training, modelTypeOf(spec.modelDir)),
    data: evalRows > 0 ? { train: "data/train.jsonl", eval: "data/eval.jsonl" } : { train: "data/train.jsonl" },
    output: "output",
    accelerate: {
      config_file: "accelerate.yaml",
      topology: trl.topology,
      config: accelerate,
      ...(deepspeed ? { deepspeed_config_file: "deepspeed.json", deepspeed } : {}),
    },
    targets: TRL_TARGETS,
  };
  const argsFile = join(jobDir, "args.json");
  writeAtomic(argsFile, `${JSON.stringify(args, null, 2)}\n`);

  const launch = fillLaunch(trl.launch, {
    job_dir: jobDir,
    script,
    accelerate_config: acceleratePath,
    stage: spec.stage,
    round: String(spec.round),
  });
  writeAtomic(join(jobDir, "launch.txt"), `${launch}\n`);
  const runScript = join(jobDir, "run.sh");
  writeAtomic(
    runScript,
    [
      "#!/bin/sh",
      "# Written by breakfix: runs the launch command in the job folder; exit_status records how it ended.",
      `cd ${shellQuote(jobDir)} || exit 1`,
      // first: this shell's pid and start time (Linux), so a cycle killed before recording the launch finds the job
      "echo \"$$ $(cut -d' ' -f22 /proc/$$/stat 2>/dev/null)\" > shell.pid.tmp && mv shell.pid.tmp shell.pid",
      "rm -f exit_status",
      "export PYTHONUNBUFFERED=1",
      launch,
      "rc=$?",
      'echo "$rc" > exit_status.tmp && mv exit_status.tmp exit_status',
      'exit "$rc"',
      "",
    ].join("\n"),
  );
  return {
    dir: jobDir,
    script,
    argsFile,
    acceleratePath,
    deepspeedPath,
    requirements,
    runScript,
    launch,
    args,
    rows: { train: rows.length, eval: evalRows },
  };
}

/** args.json of a job folder written earlier. */
export function readTrlArgs(dir: string): TrlArgs {
  return JSON.parse(readFileSync(join(dir, "args.json"), "utf8")) as TrlArgs;
}
