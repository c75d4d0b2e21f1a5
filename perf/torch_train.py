"""PyTorch CPU reference for perf/train.ts (issue 4): tokens/s of one full AdamW training step of a Llama config.

Run by perf/train.ts with Debian's /usr/bin/python3 (python3-torch); never a runtime dependency of breakfix.
Reads one JSON object on argv[1]: {config: HF-style Llama config, batch, seq, steps, warmup, mode: "full"|"lora",
lora_r, lora_alpha, threads}. Prints one JSON line: {"tokens_per_s", "step_ms", "best_step_ms", "cpu_s_per_step",
"peak_rss_mb", "losses"}.

The model is tokens_per_s uses the fastest timed step (shared machines add noise, never
speed), step_ms is the median. The model is the same Llama as src/nn/llama.ts (RMSNorm, RoPE rotate-half, GQA, SwiGLU, lm_head untied or tied to the embedding as the config says), float32,
eager mode, attention as HF's eager implementation (softmax(q k^T / sqrt(hd) + causal mask) v; Debian's torch 1.13
has no scaled_dot_product_attention), AdamW
from torch.optim with its default implementation. LoRA: frozen base, A/B on q,k,v,o,gate,up,down (PEFT's layout).
"""

import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F


def main() -> None:
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(int(spec.get("threads", 2)))
    torch.manual_seed(0)
    c = spec["config"]
    B, T = int(spec["batch"]), int(spec["seq"])
    D, H, KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim", D // H)
    I, V, L = c["intermediate_size"], c["vocab_size"], c["num_hidden_layers"]
    eps, theta = c["rms_norm_eps"], c["rope_theta"]
    lora = spec["mode"] == "lora"
    r, alpha = int(spec.get("lora_r", 16)), float(spec.get("lora_alpha", 32))

    def w(*shape, std=0.02):
        return torch.nn.Parameter(torch.randn(*shape) * std)

    params = {"embed": w(V, D), "norm": torch.nn.Parameter(torch.ones(D))}
    tied = bool(c.get("tie_word_embeddings", False))
    if not tied:
        params["lm_head"] = w(V, D)
    modules = {"q": (H * hd, D), "k": (KV * hd, D), "v": (KV * hd, D), "o": (D, H * hd), "gate": (I, D), "up": (I, D), "down": (D, I)}
    for l in range(L):
        params[f"{l}.ln1"] = torch.nn.Parameter(torch.ones(D))
        params[f"{l}.ln2"] = torch.nn.Parameter(torch.ones(D))
        for m, (o, i) in modules.items():
            params[f"{l}.{m}"] = w(o, i)
            if lora:
                params[f"{l}.{m}.A"] = torch.nn.Parameter(torch.empty(r, i).uniform_(-1 / math.sqrt(i), 1 / math.sqrt(i)))
                params[f"{l}.{m}.B"] = torch.nn.Parameter(torch.zeros(o, r))
    if lora:
        for n, p in params.items():
            p.requires_grad_(n.endswith(".A") or n.endswith(".B"))
    trainable = [p for p in params.values() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01)

    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    ang = torch.outer(torch.arange(T, dtype=torch.float32), inv)
    cos = torch.cat([ang.cos(), ang.cos()], -1)
    sin = torch.cat([ang.sin(), ang.sin()], -1)
    scale = alpha / r
    causal = torch.full((T, T), float("-inf")).triu(1)

    def lin(x, l, m):
        y = x @ params[f"{l}.{m}"].t()
        if lora:
            y = y + (x @ params[f"{l}.{m}.A"].t()) @ params[f"{l}.{m}.B"].t() * scale
        return y

    def rms(x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight

    def rope(x):
        x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def loss_fn(ids):
        x = params["embed"][ids]
        for l in range(L):
            h = rms(x, params[f"{l}.ln1"])
            q = rope(lin(h, l, "q").view(B, T, H, hd).transpose(1, 2))
            k = rope(lin(h, l, "k").view(B, T, KV, hd).transpose(1, 2))
            v = lin(h, l, "v").view(B, T, KV, hd).transpose(1, 2)
            if KV != H:
                k = k.repeat_interleave(H // KV, 1)
                v = v.repeat_interleave(H // KV, 1)
            att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd)) + causal
            a = torch.softmax(att, -1) @ v
            x = x + lin(a.transpose(1, 2).reshape(B, T, H * hd), l, "o")
            h2 = rms(x, params[f"{l}.ln2"])
            x = x + lin(F.silu(lin(h2, l, "gate")) * lin(h2, l, "up"), l, "down")
        logits = rms(x, params["norm"]) @ params["embed" if tied else "lm_head"].t()
        return F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))

    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, V, (B, T), generator=g)
    losses, times, cpus = [], [], []
    for step in range(int(spec["warmup"]) + int(spec["steps"])):
        t0 = time.perf_counter()
        c0 = time.process_time()
        loss = loss_fn(ids)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        losses.append(float(loss))
        if step >= int(spec["warmup"]):
            times.append(dt)
            cpus.append(dc)
    step_s = sorted(times)[len(times) // 2]
    best_s = min(times)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "tokens_per_s": B * T / best_s,
        "step_ms": step_s * 1000,
        "best_step_ms": best_s * 1000,
        "cpu_s_per_step": min(cpus),
        "peak_rss_mb": peak_kb / 1024,
        "losses": losses,
    }))


if __name__ == "__main__":
    main()
