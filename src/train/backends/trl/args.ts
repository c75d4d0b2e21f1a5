/**
 * breakfix's `training` section -> the arguments of TRL's SFTConfig / DPOConfig, PEFT's LoraConfig and the accelerate
 * config, for the versions in TRL_TARGETS (names checked against those versions' sources). TRL_KEY_MAP says, for every
 * key of the section, which argument it becomes or who else uses it; a test fails when a schema key is missing from
 * it, so no setting is ever dropped silently.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Config, configSchema } from "../../../config/schema.ts";
import type { ModelType } from "../../../nn/llama.ts";
import { fusedTargets } from "../../peft-layout.ts";

/** The versions train_trl.py and these names target (requirements.txt pins them). */
export const TRL_TARGETS = {
  trl: "1.9.0",
  peft: "0.20.0",
  transformers: "5.8.0",
  accelerate: "1.14.0",
} as const;

/** DeepSpeed for ZeRO-2/3: TRL 1.9.0's `deepspeed` extra asks for this range (pyproject.toml). */
export const DEEPSPEED_REQUIREMENT = "deepspeed>=0.14.4";

export type Training = Config["training"];
export type TrlSettings = NonNullable<Training["trl"]>;

/**
 * Where a training key goes. `to`: the arguments it sets (Class.field, accelerate.<yaml key>, deepspeed.<json path>).
 * `handledBy`: a key that is no TRL argument, and who reads it instead.
 */
export type TrlKeyTarget =
  | { to: readonly string[]; note?: string }
  | { handledBy: "trl-backend" | "cycle" | "command-backend" | "openai-backend"; note: string };

export const TRL_KEY_MAP: Readonly<Record<string, TrlKeyTarget>> = {
  method: { to: ["LoraConfig (lora) or none (full: every weight trained, output saved as a merged folder)"] },
  "lora.rank": { to: ["LoraConfig.r"] },
  "lora.alpha": { to: ["LoraConfig.lora_alpha"] },
  "lora.dropout": { to: ["LoraConfig.lora_dropout"] },
  "lora.targets": { to: ["LoraConfig.target_modules"] },
  "sft.enabled": { handledBy: "cycle", note: "whether the cycle runs the SFT stage at all" },
  "sft.lr": { to: ["SFTConfig.learning_rate"] },
  "sft.epochs": { to: ["SFTConfig.num_train_epochs"] },
  "sft.batchSize": {
    to: ["SFTConfig.per_device_train_batch_size", "SFTConfig.per_device_eval_batch_size"],
    note: "per process: the global batch is batchSize x numProcesses x gradientAccumulation",
  },
  "sft.maxSeqLen": {
    to: ["SFTConfig.max_length", "DPOConfig.max_length"],
    note: "capped by the model's max_position_embeddings, as the local engine does; TRL truncates, the local engine drops",
  },
  "dpo.enabled": { handledBy: "cycle", note: "whether the cycle runs the DPO stage at all" },
  "dpo.lr": { to: ["DPOConfig.learning_rate"] },
  "dpo.epochs": { to: ["DPOConfig.num_train_epochs"] },
  "dpo.batchSize": {
    to: ["DPOConfig.per_device_train_batch_size", "DPOConfig.per_device_eval_batch_size"],
    note: "per process, as sft.batchSize",
  },
  "dpo.beta": { to: ["DPOConfig.beta"] },
  "dpo.loss": {
    to: ["DPOConfig.loss_type", "DPOConfig.loss_weights"],
    note: "sigmoid -> [sigmoid]; ipo -> [ipo]; sft_dpo -> [sigmoid, sft] weights [1, 1] (RPO; TRL 1.x removed rpo_alpha)",
  },
  seed: { to: ["SFTConfig.seed", "DPOConfig.seed"], note: "seed + round, as the local engine" },
  model: {
    handledBy: "trl-backend",
    note: "the cycle resolves it into the stage's starting folder (BackendJob.from), which TRL loads",
  },
  backend: { handledBy: "cycle", note: "selects this backend" },
  "command.run": { handledBy: "command-backend", note: "backend command only" },
  "command.timeoutMs": { handledBy: "command-backend", note: "backend command only" },
  "trl.launch": { handledBy: "trl-backend", note: "the launch command line (placeholders filled, shell-quoted)" },
  "trl.topology": {
    to: ["accelerate.distributed_type", "accelerate.deepspeed_config", "accelerate.fsdp_config", "deepspeed.json"],
  },
  "trl.numProcesses": { to: ["accelerate.num_processes"], note: "total processes over all machines" },
  "trl.numMachines": { to: ["accelerate.num_machines"] },
  "trl.machineRank": { to: ["accelerate.machine_rank"] },
  "trl.mainProcessIp": { to: ["accelerate.main_process_ip"] },
  "trl.mainProcessPort": { to: ["accelerate.main_process_port"] },
  "trl.precision": {
    to: [
      "SFTConfig.bf16",
      "SFTConfig.fp16",
      "DPOConfig.bf16",
      "DPOConfig.fp16",
      "SFTConfig.model_init_kwargs",
      "DPOConfig.model_init_kwargs",
      "accelerate.mixed_precision",
    ],
    note: "DeepSpeed: 'auto' in the JSON, filled by the Trainer from bf16/fp16",
  },
  "trl.gradientAccumulation": {
    to: ["SFTConfig.gradient_accumulation_steps", "DPOConfig.gradient_accumulation_steps"],
  },
  "trl.model": {
    handledBy: "trl-backend",
    note: "what TRL loads when a stage starts from the base weights (a hub id or a path on the training machine)",
  },
  "trl.timeoutMs": { handledBy: "trl-backend", note: "the job is killed after this long" },
  "openai.model": { handledBy: "openai-backend", note: "backend openai only" },
  "openai.baseUrl": { handledBy: "openai-backend", note: "backend openai only" },
  "openai.apiKeyEnv": { handledBy: "openai-backend", note: "backend openai only" },
  "openai.secretsFile": { handledBy: "openai-backend", note: "backend openai only" },
  "openai.suffix": { handledBy: "openai-backend", note: "backend openai only" },
  "openai.epochs": { handledBy: "openai-backend", note: "backend openai only" },
  "openai.batchSize": { handledBy: "openai-backend", note: "backend openai only" },
  "openai.learningRateMultiplier": { handledBy: "openai-backend", note: "backend openai only" },
  "openai.pollSeconds": { handledBy: "openai-backend", note: "backend openai only" },
  "openai.trainingPerMTok": { handledBy: "openai-backend", note: "backend openai only" },
  cumulative: { handledBy: "cycle", note: "which model and data a round starts from" },
  maxSteps: { to: ["SFTConfig.max_steps", "DPOConfig.max_steps"] },
};

/** Settings of the local engine that are no config key but decide the weights; TRL gets the same. */
export const FIXED_TRAINER_ARGS = {
  lr_scheduler_type: "cosine_with_min_lr",
  lr_scheduler_kwargs: { min_lr_rate: 0.1 },
  warmup_steps: 0.05,
  max_grad_norm: 1.0,
  weight_decay: 0.0,
  logging_steps: 1,
  save_strategy: "steps",
  save_steps: 0.1,
  save_total_limit: 2,
  report_to: "none",
  disable_tqdm: true,
  gradient_checkpointing: true,
} as const;

/** What args.json holds (train_trl.py reads it). Paths are relative to the job folder unless absolute. */
export interface TrlArgs {
  version: 1;
  stage: "sft" | "dpo";
  round: number;
  model: string;
  method: "lora" | "full";
  trainer: "SFTTrainer" | "DPOTrainer";
  config: Record<string, unknown>;
  peft: Record<string, unknown> | null;
  data: { train: string; eval?: string };
  output: string;
  accelerate: {
    config_file: string;
    topology: TrlSettings["topology"];
    /** The same settings as config_file (accelerate.yaml), for the dry run, which reads no YAML. */
    config: Record<string, unknown>;
    deepspeed_config_file?: string;
    deepspeed?: Record<string, unknown>;
  };
  targets: typeof TRL_TARGETS;
}

let defaults: TrlSettings | undefined;

/** The trl section, with the schema's own defaults when breakfix.yaml has none (backend trl, no `trl:` mapping). */
export function trlSettings(t: Training): TrlSettings {
  if (t.trl) return t.trl;
  defaults ??= configSchema.parse({ training: { trl: {} } }).training.trl;
  if (!defaults) throw new Error("unreachable: the schema gives training.trl defaults");
  return defaults;
}

export function lossTypeArgs(loss: Training["dpo"]["loss"]): { loss_type: string[]; loss_weights?: number[] } {
  switch (loss) {
    case "sigmoid":
      return { loss_type: ["sigmoid"] };
    case "ipo":
      return { loss_type: ["ipo"] };
    case "sft_dpo":
      // The local engine's sft_dpo: DPO + 1.0 * NLL of the chosen answers pooled over their tokens (sftAlpha 1),
      // the same quantity as TRL's "sft" loss type (losses.ts dpoSftLoss).
      return { loss_type: ["sigmoid", "sft"], loss_weights: [1, 1] };
  }
}

function precisionArgs(p: TrlSettings["precision"], method: Training["method"]) {
  // fp16 mixed precision keeps fp32 master weights for a full fine-tune (an fp16 model cannot be unscaled);
  // LoRA trains fp32 adapters (PEFT upcasts them), so the frozen base may load in fp16.
  const dtype = p === "bf16" ? "bfloat16" : p === "fp16" && method === "lora" ? "float16" : "float32";
  return { bf16: p === "bf16", fp16: p === "fp16", model_init_kwargs: { dtype } };
}

/** A local model folder's config.json, or {} when there is none to read. */
function folderConfig(dir: string | undefined): Record<string, unknown> {
  const file = dir ? join(dir, "config.json") : "";
  if (!file || !existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** max_position_embeddings of a local model folder, when there is one to read. */
export function modelMaxPositions(dir: string | undefined): number {
  const n = folderConfig(dir).max_position_embeddings;
  return typeof n === "number" ? n : Number.POSITIVE_INFINITY;
}

/** The Hugging Face model_type of a local model folder ("phi3", ...), when there is one to read. */
export function modelTypeOf(dir: string | undefined): { modelType?: ModelType } {
  const t = folderConfig(dir).model_type;
  return typeof t === "string" ? { modelType: t as ModelType } : {};
}

/** The LoRA targets as PEFT names them on the model (Phi-3: q/k/v_proj -> qkv_proj, gate/up_proj -> gate_up_proj). */
export function peftTargets(t: Training, model: { modelType?: ModelType }): string[] {
  return fusedTargets(model, t.lora.targets);
}

/** SFTConfig / DPOConfig keyword arguments of one stage. */
export function trainerConfig(
  t: Training,
  stage: "sft" | "dpo",
  round: number,
  o: { maxPositions?: number; hasEval: boolean },
): Record<string, unknown> {
  const trl = trlSettings(t);
  const s = stage === "sft" ? t.sft : t.dpo;
  const maxLength = Math.min(t.sft.maxSeqLen, o.maxPositions ?? Number.POSITIVE_INFINITY);
  return {
    output_dir: "checkpoints",
    learning_rate: s.lr,
    num_train_epochs: s.epochs,
    max_steps: t.maxSteps ?? -1,
    per_device_train_batch_size: s.batchSize,
    per_device_eval_batch_size: s.batchSize,
    gradient_accumulation_steps: trl.gradientAccumulation,
    seed: t.seed + round,
    max_length: maxLength,
    ...precisionArgs(trl.precision, t.method),
    ...FIXED_TRAINER_ARGS,
    eval_strategy: o.hasEval ? "epoch" : "no",
    ...(stage === "sft"
      ? // prompt-completion rows: the loss is on the last assistant turn only, as the local engine's cycle step
        { completion_only_loss: true }
      : { beta: t.dpo.beta, ...lossTypeArgs(t.dpo.loss) }),
  };
}

/** PEFT LoraConfig keyword arguments, or null for full fine-tuning. `model`: the model_type of the start folder. */
export function loraConfig(t: Training, model: { modelType?: ModelType } = {}): Record<string, unknown> | null {
  if (t.method === "full") return null;
  return {
    r: t.lora.rank,
    lora_alpha: t.lora.alpha,
    lora_dropout: t.lora.dropout,
    target_modules: peftTargets(t, model),
    bias: "none",
    task_type: "CAUSAL_LM",
  };
}
