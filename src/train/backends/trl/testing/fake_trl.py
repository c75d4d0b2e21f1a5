#!/usr/bin/env python3
"""Stand-in for `accelerate launch ... train_trl.py` in tests (TRL cannot be installed here).

Usage (as training.trl.launch): python3 fake_trl.py {job_dir}
Reads the job's args.json the way train_trl.py does, prints the callback's progress lines, and writes what TRL +
PEFT would leave in output/: a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors with PEFT's tensor
names and the base model's shapes) plus the tokenizer files. Standard library only.

Environment: FAKE_TRL_COUNTER (a file: one line appended per launch), FAKE_TRL_STEPS (default 3),
FAKE_TRL_STEP_S (seconds per step, default 0.05), FAKE_TRL_BAD_MODULE (adapt this module too: an invalid adapter),
FAKE_TRL_EXIT (exit with this status after the steps, writing nothing), FAKE_TRL_GATE (a file: wait for it after the
steps), FAKE_TRL_NO_TOKENIZER (full fine-tuning:
leave the tokenizer out).
"""

import json
import os
import random
import shutil
import struct
import sys
import time


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, (shape, values) in tensors.items():
        data = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    job_dir = os.path.abspath(sys.argv[1])
    with open(os.path.join(job_dir, "args.json")) as f:
        args = json.load(f)
    counter = os.environ.get("FAKE_TRL_COUNTER")
    if counter:
        with open(counter, "a") as f:
            f.write(f"{args['stage']} {args['round']} {os.getpid()}\n")
    steps = int(os.environ.get("FAKE_TRL_STEPS", "3"))
    step_s = float(os.environ.get("FAKE_TRL_STEP_S", "0.05"))
    print("loading model", args["model"], flush=True)
    t0 = time.time()
    for step in range(1, steps + 1):
        time.sleep(step_s)
        line = {"breakfix": "progress", "step": step, "max_steps": steps, "epoch": step / steps,
                "elapsed_s": round(time.time() - t0, 3), "loss": 2.0 / step, "learning_rate": 1e-4}
        print(json.dumps(line), flush=True)
    gate = os.environ.get("FAKE_TRL_GATE")
    if gate:  # a test holds the job here (after its steps, before its output) until it creates this file
        while not os.path.exists(gate):
            time.sleep(0.02)
    if os.environ.get("FAKE_TRL_EXIT"):
        print("Traceback (most recent call last): CUDA out of memory \x1b[2J", flush=True)
        sys.exit(int(os.environ["FAKE_TRL_EXIT"]))

    model = args["model"]
    out = os.path.join(job_dir, args["output"])
    os.makedirs(out, exist_ok=True)
    if args["peft"] is None:  # full fine-tuning: a model folder (here the start weights, as trainer.save_model writes)
        for name in os.listdir(model):
            if name.endswith(".safetensors") or name == "config.json":
                shutil.copy(os.path.join(model, name), os.path.join(out, name))
        if not os.environ.get("FAKE_TRL_NO_TOKENIZER"):
            for name in ("tokenizer.json", "tokenizer_config.json"):
                shutil.copy(os.path.join(model, name), os.path.join(out, name))
        print(json.dumps({"breakfix": "end", "step": steps, "metrics": {}}), flush=True)
        return
    with open(os.path.join(model, "config.json")) as f:
        cfg = json.load(f)
    hidden, inter = cfg["hidden_size"], cfg["intermediate_size"]
    heads = cfg["num_attention_heads"]
    kv = cfg.get("num_key_value_heads") or heads
    hd = cfg.get("head_dim") or hidden // heads
    shapes = {  # [out, in] of each Llama linear layer
        "q_proj": (heads * hd, hidden), "k_proj": (kv * hd, hidden), "v_proj": (kv * hd, hidden),
        "o_proj": (hidden, heads * hd), "gate_proj": (inter, hidden), "up_proj": (inter, hidden),
        "down_proj": (hidden, inter),
    }
    attn = {"q_proj", "k_proj", "v_proj", "o_proj"}
    peft = args["peft"]
    r = peft["r"]
    targets = list(peft["target_modules"])
    bad = os.environ.get("FAKE_TRL_BAD_MODULE")
    rng = random.Random(args["config"]["seed"])
    tensors = {}
    for layer in range(cfg["num_hidden_layers"]):
        for mod in targets + ([bad] if bad else []):
            out_f, in_f = shapes[mod]
            p = f"base_model.model.model.layers.{layer}.{'self_attn' if mod in attn else 'mlp'}.{mod}"
            tensors[f"{p}.lora_A.weight"] = ([r, in_f], [rng.uniform(-0.1, 0.1) for _ in range(r * in_f)])
            tensors[f"{p}.lora_B.weight"] = ([out_f, r], [rng.uniform(-0.1, 0.1) for _ in range(out_f * r)])
    write_safetensors(os.path.join(out, "adapter_model.safetensors"), tensors)
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": model, "r": r,
              "lora_alpha": peft["lora_alpha"], "lora_dropout": peft["lora_dropout"],
              "target_modules": sorted(targets), "bias": "none", "use_rslora": False, "use_dora": False}
    with open(os.path.join(out, "adapter_config.json"), "w") as f:
        json.dump(config, f)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if os.path.exists(os.path.join(model, name)):
            shutil.copy(os.path.join(model, name), os.path.join(out, name))
    end = {"breakfix": "end", "step": steps, "metrics": {"train_loss": 1.25, "train_runtime": time.time() - t0}}
    with open(os.path.join(out, "breakfix_end.json"), "w") as f:
        json.dump(end, f)
    print(json.dumps(end), flush=True)


if __name__ == "__main__":
    main()
