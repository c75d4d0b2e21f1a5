"""Independent PyTorch reference for the nn parity tests (run with Debian /usr/bin/python3 + python3-torch).

It shares no code with the TypeScript engine: its own safetensors reader/writer, a plain Llama / Phi-3 forward
written from the Hugging Face modeling semantics (fused qkv_proj / gate_up_proj used as stored for Phi-3), torch
autograd for gradients and torch.optim.AdamW + clip_grad_norm_ for the optimizer steps.

usage: ref.py JOB.json   (see parity.parity.test.ts for the job fields); writes job["out"] as F32 safetensors.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_num_threads(1)


def read_st(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        s, t = e["data_offsets"]
        raw = buf[base + s : base + t]
        if e["dtype"] == "F32":
            a = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif e["dtype"] == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif e["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{path}: {name}: dtype {e['dtype']}")
        out[name] = torch.from_numpy(a.copy()).reshape(e["shape"])
    return out


def read_checkpoint(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
        out = {}
        for fn in files:
            out.update(read_st(os.path.join(d, fn)))
        return out
    return read_st(os.path.join(d, "model.safetensors"))


def write_st(path, tensors, dtype="F32"):
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if dtype == "F32":
            b = t.float().numpy().astype("<f4").tobytes()
        elif dtype == "F16":
            b = t.half().numpy().astype("<f2").tobytes()
        elif dtype == "BF16":
            b = t.bfloat16().view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def rms(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(W, cfg, ids, mask):
    phi3 = cfg.get("model_type") == "phi3"
    B, T = ids.shape
    D = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    hd = cfg.get("head_dim", D // H)
    I = cfg["intermediate_size"]
    eps = cfg["rms_norm_eps"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type", rs.get("type")) == "llama3":
        # transformers' _compute_llama3_parameters
        factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / lo, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old / hi) & ~(wavelen > old / lo)
        inv = torch.where(medium, smoothed, scaled)
    elif rs and rs.get("rope_type", rs.get("type")) == "linear":
        inv = inv / rs["factor"]
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    allowed = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None] & mask.bool()[:, None, None, :]
    x = W["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}"
        h = rms(x, W[f"{p}.input_layernorm.weight"], eps)
        if phi3:
            qkv = h @ W[f"{p}.self_attn.qkv_proj.weight"].T
            q, k, v = qkv[..., : H * hd], qkv[..., H * hd : (H + KV) * hd], qkv[..., (H + KV) * hd :]
        else:
            q = h @ W[f"{p}.self_attn.q_proj.weight"].T
            k = h @ W[f"{p}.self_attn.k_proj.weight"].T
            v = h @ W[f"{p}.self_attn.v_proj.weight"].T
        q = q.view(B, T, H, hd).transpose(1, 2)
        k = k.view(B, T, KV, hd).transpose(1, 2)
        v = v.view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        s = s.masked_fill(~allowed, float("-inf"))
        o = torch.softmax(s, dim=-1) @ v
        o = o.transpose(1, 2).reshape(B, T, H * hd)
        x = x + o @ W[f"{p}.self_attn.o_proj.weight"].T
        h = rms(x, W[f"{p}.post_attention_layernorm.weight"], eps)
        if phi3:
            g, u = (h @ W[f"{p}.mlp.gate_up_proj.weight"].T).chunk(2, dim=-1)
        else:
            g = h @ W[f"{p}.mlp.gate_proj.weight"].T
            u = h @ W[f"{p}.mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ W[f"{p}.mlp.down_proj.weight"].T
    x = rms(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return x @ head.T


def loss_fn(logits, labels):
    V = logits.shape[-1]
    lg = logits[:, :-1, :]
    lab = labels[:, 1:]
    ce = torch.nn.functional.cross_entropy(lg.reshape(-1, V), lab.reshape(-1), ignore_index=-100)
    lp = torch.log_softmax(lg, -1)
    keep = lab != -100
    tok = lp.gather(-1, lab.clamp(min=0).unsqueeze(-1)).squeeze(-1) * keep
    return ce, tok.sum(-1)


def adamw_only(job):
    """torch.optim.AdamW + clip_grad_norm_ applied to gradients given by the caller (one file per step)."""
    W = read_checkpoint(job["dir"])
    params = {n: torch.nn.Parameter(t.clone()) for n, t in W.items()}
    a = job["adamw"]
    decay = [p for n, p in params.items() if p.dim() >= 2]
    no_decay = [p for n, p in params.items() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": a["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=a["lr"], betas=(a["beta1"], a["beta2"]), eps=a["eps"],
    )
    for path in job["grad_files"]:
        g = read_st(path)
        for n, p in params.items():
            p.grad = g[n].clone()
        torch.nn.utils.clip_grad_norm_(list(params.values()), a["max_norm"])
        opt.step()
    write_st(job["out"], {f"after.{n}": p.detach() for n, p in params.items()})


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    if job.get("mode") == "adamw_only":
        return adamw_only(job)
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
    # "dtype": "float64" runs the whole reference in double precision (to measure float32 round-off on both sides)
    dt = torch.float64 if job.get("dtype") == "float64" else torch.float32
    params = {n: torch.nn.Parameter(t.clone().to(dt)) for n, t in W.items()}
    out = {}
    logits = forward(params, cfg, ids, mask)
    loss, seq = loss_fn(logits, labels)
    loss.backward()
    out["logits"] = logits
    out["loss"] = loss.reshape(1)
    out["sequence_logps"] = seq
    for n, p in params.items():
        out[f"grad.{n}"] = p.grad.clone()
    # AdamW: decay on matrices only, global-norm clipping, `steps` steps on the same batch
    a = job["adamw"]
    decay = [p for n, p in params.items() if p.dim() >= 2]
    no_decay = [p for n, p in params.items() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": a["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=a["lr"], betas=(a["beta1"], a["beta2"]), eps=a["eps"],
    )
    losses = []
    for _ in range(a["steps"]):
        opt.zero_grad()
        l, _ = loss_fn(forward(params, cfg, ids, mask), labels)
        l.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), a["max_norm"])
        opt.step()
        losses.append(l.item())
    for n, p in params.items():
        out[f"after.{n}"] = p.detach().clone()
    out["adamw_losses"] = torch.tensor(losses)
    # formats: the raw checkpoint rounded by torch, in F16 and BF16 (our reader must give exactly these values)
    if job.get("formats_dir"):
        fd = job["formats_dir"]
        write_st(os.path.join(fd, "f16.safetensors"), W, "F16")
        write_st(os.path.join(fd, "bf16.safetensors"), W, "BF16")
        rounded = {}
        for n, t in W.items():
            rounded[f"f16.{n}"] = t.half().float()
            rounded[f"bf16.{n}"] = t.bfloat16().float()
        write_st(os.path.join(fd, "rounded.safetensors"), rounded, "F32")
    # a checkpoint written by us in F16 must equal torch's own rounding
    if job.get("f16_dir"):
        ours = read_checkpoint(job["f16_dir"])
        worst = max(float((ours[n] - W[n].half().float()).abs().max()) for n in W)
        out["f16_max_diff"] = torch.tensor([worst])
    with torch.no_grad():
        write_st(job["out"], {k: v.detach() for k, v in out.items()})


if __name__ == "__main__":
    main()
