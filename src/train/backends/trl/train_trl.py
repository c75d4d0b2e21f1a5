#!/usr/bin/env python3
"""breakfix job entry: one SFT or DPO stage with TRL (+ PEFT LoRA), launched by accelerate, torchrun or a wrapper.

Written into every job folder by breakfix (src/train/backends/trl/). It reads args.json beside it (or --args FILE):
the resolved SFTConfig / DPOConfig keyword arguments, the PEFT LoraConfig (null for full fine-tuning), the model TRL
loads, the data files and the accelerate topology. Paths in args.json are relative to the job folder.

  python3 train_trl.py --dry-run     prints the resolved TRL / PEFT / accelerate arguments as JSON, imports no ML
                                     library (trl, peft, transformers, torch, datasets are imported inside train())
  accelerate launch --config_file accelerate.yaml train_trl.py

Progress: the main process prints one JSON line per logging step, {"breakfix": "progress", "step", "max_steps",
"start_step", "epoch", "elapsed_s", "loss", ...} (start_step and elapsed_s count from this process's on_train_begin),
and {"breakfix": "end", ...} after training. Output: output/ holds a PEFT adapter
(adapter_config.json + adapter_model.safetensors) or, for full fine-tuning, the model (config.json + *.safetensors),
plus the tokenizer. Checkpoints go to checkpoints/; a relaunch resumes from the latest one.

Targets trl==1.9.0, peft==0.20.0, transformers==5.8.0, accelerate==1.14.0 (requirements.txt).
"""

import argparse
import json
import os
import sys
import time

# The configuration fields this script sets, as the pinned versions name them (checked against their sources:
# trl/trainer/sft_config.py, dpo_config.py, base_config.py at v1.9.0, transformers TrainingArguments 5.x,
# peft/tuners/lora/config.py at v0.20.0). The dry run refuses a key outside these lists; a real run checks the keys
# against the installed dataclasses instead, so a version drift fails before the model loads.
TRAINING_ARGUMENTS_FIELDS = {
    "output_dir", "learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size",
    "per_device_eval_batch_size", "gradient_accumulation_steps", "seed", "bf16", "fp16", "lr_scheduler_type",
    "lr_scheduler_kwargs", "warmup_steps", "max_grad_norm", "weight_decay", "logging_steps", "save_strategy",
    "save_steps", "save_total_limit", "eval_strategy", "report_to", "disable_tqdm", "gradient_checkpointing",
}
SFT_CONFIG_FIELDS = TRAINING_ARGUMENTS_FIELDS | {"max_length", "completion_only_loss", "model_init_kwargs"}
DPO_CONFIG_FIELDS = TRAINING_ARGUMENTS_FIELDS | {"max_length", "beta", "loss_type", "loss_weights", "model_init_kwargs"}
LORA_CONFIG_FIELDS = {"r", "lora_alpha", "lora_dropout", "target_modules", "bias", "task_type"}

TARGET_VERSIONS = {"trl": "1.9.0", "peft": "0.20.0", "transformers": "5.8.0", "accelerate": "1.14.0"}


def fail(message):
    print(json.dumps({"breakfix": "error", "message": message}), flush=True)
    sys.exit(2)


def load_args(path):
    try:
        with open(path, encoding="utf-8") as f:
            args = json.load(f)
    except OSError as err:
        fail(f"{path}: {err.strerror}")
    except json.JSONDecodeError as err:
        fail(f"{path}: invalid JSON: {err}")
    for key in ("stage", "model", "data", "output", "trainer", "config"):
        if key not in args:
            fail(f"{path}: missing key {key!r}")
    if args["stage"] not in ("sft", "dpo"):
        fail(f"{path}: stage must be 'sft' or 'dpo', got {args['stage']!r}")
    return args


def resolve(args, job_dir):
    """The arguments with paths made absolute against the job folder (what the trainers receive)."""

    def rel(p):
        return p if p is None or os.path.isabs(p) else os.path.join(job_dir, p)

    config = dict(args["config"])
    config["output_dir"] = rel(config.get("output_dir", "checkpoints"))
    model = args["model"]
    # A relative model path is a folder in the job (a hub id such as "org/name" is not a path that exists)
    if not os.path.isabs(model) and os.path.isdir(os.path.join(job_dir, model)):
        model = os.path.join(job_dir, model)
    data = {k: rel(v) for k, v in args["data"].items() if v}
    return {
        "stage": args["stage"],
        "round": args.get("round"),
        "model": model,
        "method": args.get("method", "lora"),
        "trainer": args["trainer"],
        "config_class": "SFTConfig" if args["stage"] == "sft" else "DPOConfig",
        "config": config,
        "peft": args.get("peft"),
        "data": data,
        "output": rel(args["output"]),
        "accelerate": args.get("accelerate"),
        "targets": TARGET_VERSIONS,
    }


def check_keys(resolved, config_fields, lora_fields, where):
    unknown = sorted(set(resolved["config"]) - set(config_fields))
    if unknown:
        fail(f"{where}: {resolved['config_class']} has no field(s) {unknown}")
    if resolved["peft"] is not None:
        unknown = sorted(set(resolved["peft"]) - set(lora_fields))
        if unknown:
            fail(f"{where}: LoraConfig has no field(s) {unknown}")


def count_rows(path):
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


def dry_run(resolved):
    check_keys(
        resolved,
        SFT_CONFIG_FIELDS if resolved["stage"] == "sft" else DPO_CONFIG_FIELDS,
        LORA_CONFIG_FIELDS,
        "args.json",
    )
    out = dict(resolved)
    out["rows"] = {k: count_rows(v) for k, v in resolved["data"].items()}
    out["accelerate_env"] = {k: v for k, v in sorted(os.environ.items()) if k.startswith("ACCELERATE_")}
    # Proof for the caller: nothing heavy was imported
    out["imported"] = sorted(m for m in ("trl", "peft", "transformers", "torch", "datasets") if m in sys.modules)
    print(json.dumps(out, indent=2, sort_keys=True), flush=True)


class ProgressLog:
    """The progress lines of one training process (plain Python: the callback in train() calls it).

    The clock and the step count start at on_train_begin, which the Trainer calls after it loaded a checkpoint's
    state: a relaunched job resumes at its last checkpoint's global_step, and breakfix's ETA is elapsed_s over the
    steps since start_step. Counting from step 0 with this process's clock made a resumed job's ETA near zero (the
    earlier attempt's steps counted as done in no time); starting the clock at construction counted the model loading.
    """

    def __init__(self, clock=time.time):
        self.clock = clock
        self.t0 = None
        self.start_step = 0

    def begin(self, state):
        self.t0 = self.clock()
        self.start_step = state.global_step

    def line(self, state, logs):
        if self.t0 is None:  # no on_train_begin seen: count from here
            self.begin(state)
        line = {
            "breakfix": "progress",
            "step": state.global_step,
            "max_steps": state.max_steps,
            "start_step": self.start_step,
            "epoch": state.epoch,
            "elapsed_s": round(self.clock() - self.t0, 3),
        }
        for k, v in (logs or {}).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in line:
                line[k] = v
        return line


def train(resolved):
    import dataclasses

    import torch  # noqa: F401  (fails early with a clear ImportError when the environment lacks it)
    from datasets import load_dataset
    from transformers import AutoTokenizer, TrainerCallback

    import trl

    stage = resolved["stage"]
    config_cls = trl.SFTConfig if stage == "sft" else trl.DPOConfig
    trainer_cls = trl.SFTTrainer if stage == "sft" else trl.DPOTrainer
    lora_fields = set()
    peft_config = None
    if resolved["peft"] is not None:
        import peft

        lora_fields = {f.name for f in dataclasses.fields(peft.LoraConfig)}
    check_keys(resolved, {f.name for f in dataclasses.fields(config_cls)}, lora_fields, "installed versions")
    if resolved["peft"] is not None:
        peft_config = peft.LoraConfig(**resolved["peft"])

    config = config_cls(**resolved["config"])
    files = {"train": resolved["data"]["train"]}
    if "eval" in resolved["data"]:
        files["eval"] = resolved["data"]["eval"]
    dataset = load_dataset("json", data_files=files)

    class Progress(TrainerCallback):
        """One JSON line per logging step on the main process: what breakfix parses for progress and ETA."""

        def __init__(self):
            self.log = ProgressLog()

        def on_train_begin(self, args, state, control, **kwargs):
            self.log.begin(state)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero:
                return
            print(json.dumps(self.log.line(state, logs)), flush=True)

    tokenizer = AutoTokenizer.from_pretrained(resolved["model"])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    trainer = trainer_cls(
        model=resolved["model"],
        args=config,
        train_dataset=dataset["train"],
        eval_dataset=dataset["eval"] if "eval" in dataset else None,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[Progress()],
    )
    checkpoints = config.output_dir
    resume = os.path.isdir(checkpoints) and any(d.startswith("checkpoint-") for d in os.listdir(checkpoints))
    result = trainer.train(resume_from_checkpoint=True if resume else None)
    out = resolved["output"]
    # save_model gathers sharded weights (ZeRO-3, FSDP) and writes the PEFT adapter for a PEFT model
    trainer.save_model(out)
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(out)
        metrics = {k: v for k, v in result.metrics.items() if isinstance(v, (int, float))}
        end = {"breakfix": "end", "step": trainer.state.global_step, "metrics": metrics}
        tmp = os.path.join(out, "breakfix_end.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(end, f)
        os.replace(tmp, os.path.join(out, "breakfix_end.json"))
        print(json.dumps(end), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--args", default=os.path.join(here, "args.json"), help="args.json of the job")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved arguments; import nothing heavy")
    opts = parser.parse_args(argv)
    path = os.path.abspath(opts.args)
    resolved = resolve(load_args(path), os.path.dirname(path))
    if opts.dry_run:
        dry_run(resolved)
    else:
        train(resolved)


if __name__ == "__main__":
    main()
