"""PyTorch reference for the trainer parity tests (Debian /usr/bin/python3 + python3-torch).

Reuses the independent Llama forward of src/nn/parity/ref.py (no code shared with the TypeScript engine) and adds:
- the DPO losses (sigmoid, IPO, sigmoid + TRL's "sft" term for sft_dpo) written from the papers / TRL's formulas,
  with torch autograd for the gradients;
- a PEFT LoRA adapter read by PEFT's tensor names and applied as W + (alpha / r) B A, for logits.

usage: dpo_ref.py JOB.json ; writes job["out"] as F32 safetensors.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "nn", "parity"))
from ref import forward, read_checkpoint, read_st, write_st  # noqa: E402

torch.set_num_threads(1)


def seq_logps(logits, labels):
    lp = torch.log_softmax(logits[:, :-1, :], -1)
    lab = labels[:, 1:]
    keep = lab != -100
    tok = lp.gather(-1, lab.clamp(min=0).unsqueeze(-1)).squeeze(-1) * keep
    return tok.sum(-1), keep.sum(-1)


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    d = job["dir"]
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    W = read_checkpoint(d)
    if cfg.get("tie_word_embeddings"):
        W.pop("lm_head.weight", None)
    B, T = job["B"], job["T"]
    ids = torch.tensor(job["input_ids"], dtype=torch.long).view(B, T)
    mask = torch.tensor(job["attention_mask"], dtype=torch.long).view(B, T)
    labels = torch.tensor(job["labels"], dtype=torch.long).view(B, T)
    out = {}
    if job["mode"] == "dpo":
        params = {n: torch.nn.Parameter(t.clone()) for n, t in W.items()}
        logits = forward(params, cfg, ids, mask)
        lp, ntok = seq_logps(logits, labels)
        ref = torch.tensor(job["ref_logps"], dtype=torch.float32)
        P = B // 2
        beta = job["beta"]
        if job["loss"] == "ipo":
            lp_, ref_ = lp / ntok, ref / ntok
            h = (lp_[:P] - ref_[:P]) - (lp_[P:] - ref_[P:]) - 1 / (2 * beta)
            loss = (h ** 2).mean()
        else:
            logits_ = beta * ((lp[:P] - ref[:P]) - (lp[P:] - ref[P:]))
            loss = -torch.nn.functional.logsigmoid(logits_).mean()
        if job["loss"] == "sft_dpo":
            # TRL v1.9.0 dpo_trainer.py, loss_type "sft": one cross-entropy over the chosen rows' completion tokens,
            # pooled (F.cross_entropy(chosen_logits[chosen_mask], chosen_labels[chosen_mask])), weighted sft_alpha
            lab = labels[:P, 1:]
            keep = lab != -100
            nll = torch.nn.functional.cross_entropy(logits[:P, :-1, :][keep], lab[keep])
            loss = loss + job["sft_alpha"] * nll
        loss.backward()
        out["loss"] = loss.detach().reshape(1)
        out["logps"] = lp.detach()
        for n, p in params.items():
            out[f"grad.{n}"] = p.grad.detach()
    elif job["mode"] == "peft":
        a_dir = job["adapter_dir"]
        with open(os.path.join(a_dir, "adapter_config.json")) as f:
            acfg = json.load(f)
        A = read_st(os.path.join(a_dir, "adapter_model.safetensors"))
        scale = acfg["lora_alpha"] / acfg["r"]
        W2 = dict(W)
        applied = 0
        for name, a in A.items():
            if ".lora_A." not in name:
                continue
            assert name.startswith("base_model.model."), name
            module = name[len("base_model.model."):].split(".lora_A.")[0]
            assert module.split(".")[-1] in acfg["target_modules"], module
            b = A[name.replace(".lora_A.", ".lora_B.")]
            W2[module + ".weight"] = W[module + ".weight"] + scale * (b @ a)
            applied += 1
        out["applied"] = torch.tensor([float(applied)])
        with torch.no_grad():
            out["logits"] = forward(W2, cfg, ids, mask)
    write_st(job["out"], out)


if __name__ == "__main__":
    main()
