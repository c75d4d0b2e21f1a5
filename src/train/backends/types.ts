/**
 * Training backends: where a round's post-training runs (the plug-in family's one interface file). The cycle hands a
 * backend the round's curated data (TRL conversational JSONL: sft.jsonl rows {messages}, dpo.jsonl rows {prompt,
 * chosen, rejected}) and the model to start from, and gets the round's model back:
 *
 * - `local`: our engine in this process (runTraining);
 * - `command`: any trainer behind a documented command contract (placeholders, exit status, output layout);
 * - `trl`: a self-contained job folder (TRL SFTTrainer then DPOTrainer, PEFT, accelerate) launched by the user's
 *   launch template (accelerate launch, torchrun, sbatch, sky, ray ...);
 * - `openai`: the OpenAI fine-tuning API (a supervised job, then a DPO job on its result).
 *
 * Every backend is resumable: a killed cycle that calls train() again with the same job re-attaches to the work it
 * started (checkpoints, a stored external job id) and never starts a second job for the same stage.
 */
import type { Config } from "../../config/schema.ts";
import type { Store } from "../../store/store.ts";

/** A model a round starts from or produces: local weights, or a model that lives behind an API. */
export type ModelRef =
  | { kind: "folder" /** A Hugging Face folder (merged weights, config, tokenizer). */; dir: string }
  | { kind: "remote" /** The provider's model id (e.g. an OpenAI fine-tuned model "ft:..."). */; id: string };

export interface TrainingData {
  sft: string;
  dpo: string;
  /** Validation rows (may be absent or empty). */
  sftVal?: string;
  dpoVal?: string;
}

export interface BackendJob {
  /** The cycle run and round (job records in the store are keyed by them). */
  runId: string;
  round: number;
  from: ModelRef;
  data: TrainingData;
  /** A folder of this round's own (job folders, logs, outputs). */
  outDir: string;
  /** The resolved training section of breakfix.yaml (method, LoRA, SFT, DPO, seed, backend settings). */
  training: Config["training"];
  store: Store;
  log: (line: string) => void;
  /** Step-by-step progress lines (a local stage's step, loss and ETA); default: log. */
  progress?: (line: string) => void;
}

/** What one stage (SFT or DPO) left, for the cycle's step record and the report. */
export interface StageResult {
  stage: "sft" | "dpo";
  model: ModelRef;
  /** Optimizer steps (or the provider's trained steps), when known. */
  steps?: number;
  /** Final metrics (loss, eval loss, rewards ...), when known. */
  final?: Record<string, number | undefined>;
  /** What the stage ran with (hyperparameters, the external job id ...). */
  params: Record<string, unknown>;
}

export interface TrainingBackend {
  readonly id: string;
  /** Runs one stage from `job.from` (SFT on data.sft, DPO on data.dpo) and returns its model. Resumable. */
  train(stage: "sft" | "dpo", job: BackendJob): Promise<StageResult>;
}
