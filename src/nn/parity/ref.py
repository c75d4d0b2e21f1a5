"""Independent PyTorch reference for the nn parity tests (run with Debian /usr/bin/python3 + python3-torch).

It shares no code with the TypeScript engine: its own safetensors reader/writer, a plain decoder forward written
from the Hugging Face modeling semantics of Llama (3.2 rope scaling, tied), Mistral and Phi-3 (sliding window; fused
qkv_proj / gate_up_proj used as stored; longrope), Qwen2 (q/k/v bias), Qwen3 (q/k norm) and Gemma 2 / 3 ((1 + w)
norms, sqrt(D) embedding scale, gelu-tanh, sandwich norms, query_pre_attn_scalar, soft-capping, alternating sliding
layers, Gemma 3's local RoPE base), torch autograd for gradients and torch.optim.AdamW + clip_grad_norm_ for the
optimizer steps.

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


def rms(x, w, eps, plus_one=False):
    # Gemma's RMSNorm: computed in float32, scaled by (1 + weight)
    return (1.0 + w if plus_one else w) * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def gelu_tanh(x):
    # torch.nn.functional.gelu(x, approximate="tanh") (gelu_pytorch_tanh)
    return torch.nn.functional.gelu(x, approximate="tanh")


def family(cfg):
    """The per-family switches, read from config.json the way transformers' modeling_*.py do."""
    mt = cfg.get("model_type", "llama")
    if mt == "gemma3" and "text_config" in cfg:
        cfg = dict(cfg["text_config"], model_type="gemma3_text")
        mt = "gemma3_text"
    gemma = mt in ("gemma2", "gemma3_text")
    L = cfg["num_hidden_layers"]
    window = cfg.get("sliding_window")
    if gemma:
        if cfg.get("layer_types"):
            types = cfg["layer_types"]
        elif mt == "gemma2":
            types = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(L)]
        else:
            p = cfg.get("sliding_window_pattern", 6)
            types = ["sliding_attention" if (i + 1) % p else "full_attention" for i in range(L)]
    elif mt in ("qwen2", "qwen3"):
        # configuration_qwen2.py: sliding_window (default 4096) only with use_sliding_window; layer_types when given,
        # else layers >= max_window_layers (default 28)
        window = cfg.get("sliding_window", 4096) if cfg.get("use_sliding_window") else None
        types = cfg.get("layer_types") or [
            "sliding_attention" if window is not None and i >= cfg.get("max_window_layers", 28) else "full_attention"
            for i in range(L)]
    elif mt in ("mistral", "phi3"):
        types = ["sliding_attention" if window else "full_attention"] * L
    else:
        window = None
        types = ["full_attention"] * L
    return cfg, {
        "type": mt,
        "gemma": gemma,
        "phi3": mt == "phi3",
        "qkv_bias": mt == "qwen2",
        "qk_norm": mt in ("qwen3", "gemma3_text"),
        "window": window,
        "types": types,
        "tie": cfg.get("tie_word_embeddings", gemma),
    }


def inv_freq_of(cfg, hd, T, local=False):
    """inv_freq and the cos/sin multiplier (modeling_rope_utils: default, linear, llama3, longrope)."""
    base = cfg.get("rope_local_base_freq", 10000.0) if local else cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = None if local else cfg.get("rope_scaling")
    kind = rs and rs.get("rope_type", rs.get("type"))
    scale = 1.0
    if kind == "llama3":
        # transformers' _compute_llama3_parameters
        factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / lo, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old / hi) & ~(wavelen > old / lo)
        inv = torch.where(medium, smoothed, scaled)
    elif kind == "linear":
        inv = inv / rs["factor"]
    elif kind in ("longrope", "su"):
        # _compute_longrope_parameters + the dynamic update: long factors once max(position_ids) + 1 > original
        orig = cfg.get("original_max_position_embeddings", rs.get("original_max_position_embeddings"))
        factor = cfg["max_position_embeddings"] / orig
        scale = rs.get("attention_factor") or (1.0 if factor <= 1 else math.sqrt(1 + math.log(factor) / math.log(orig)))
        ext = torch.tensor(rs["long_factor"] if T > orig else rs["short_factor"], dtype=torch.float32)
        inv = 1.0 / (ext * base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos() * scale, emb.sin() * scale


def softcap(x, cap):
    return torch.tanh(x / cap) * cap


def forward(W, cfg, ids, mask):
    cfg, F = family(cfg)
    B, T = ids.shape
    D = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    hd = cfg.get("head_dim", D // H)
    eps = cfg["rms_norm_eps"]
    g1 = F["gemma"]
    cos, sin = inv_freq_of(cfg, hd, T)
    cos_l, sin_l = inv_freq_of(cfg, hd, T, local=F["type"] == "gemma3_text")
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None] & mask.bool()[:, None, None, :]
    if F["window"] is not None:
        qi = torch.arange(T)[:, None]
        kj = torch.arange(T)[None, :]
        swa = causal & ((qi - kj) < F["window"])[None, None]
    scaling = cfg.get("query_pre_attn_scalar", hd) ** -0.5 if g1 else None
    x = W["model.embed_tokens.weight"][ids]
    if g1:
        x = x * torch.tensor(D ** 0.5, dtype=x.dtype)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}"
        sliding = F["types"][l] == "sliding_attention"
        h = rms(x, W[f"{p}.input_layernorm.weight"], eps, g1)
        if F["phi3"]:
            qkv = h @ W[f"{p}.self_attn.qkv_proj.weight"].T
            q, k, v = qkv[..., : H * hd], qkv[..., H * hd : (H + KV) * hd], qkv[..., (H + KV) * hd :]
        else:
            q = h @ W[f"{p}.self_attn.q_proj.weight"].T
            k = h @ W[f"{p}.self_attn.k_proj.weight"].T
            v = h @ W[f"{p}.self_attn.v_proj.weight"].T
            if F["qkv_bias"]:
                q = q + W[f"{p}.self_attn.q_proj.bias"]
                k = k + W[f"{p}.self_attn.k_proj.bias"]
                v = v + W[f"{p}.self_attn.v_proj.bias"]
        q = q.view(B, T, H, hd)
        k = k.view(B, T, KV, hd)
        if F["qk_norm"]:
            q = rms(q, W[f"{p}.self_attn.q_norm.weight"], eps, g1)
            k = rms(k, W[f"{p}.self_attn.k_norm.weight"], eps, g1)
        q = q.transpose(1, 2)
        k = k.transpose(1, 2)
        v = v.view(B, T, KV, hd).transpose(1, 2)
        c, s_ = (cos_l, sin_l) if sliding else (cos, sin)
        q = q * c + rotate_half(q) * s_
        k = k * c + rotate_half(k) * s_
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        s = (q @ k.transpose(-1, -2)) * scaling if g1 else (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        if g1 and cfg.get("attn_logit_softcapping") is not None:
            s = softcap(s, cfg["attn_logit_softcapping"])
        s = s.masked_fill(~(swa if sliding else causal), torch.finfo(s.dtype).min)
        o = torch.softmax(s, dim=-1) @ v
        o = o.transpose(1, 2).reshape(B, T, H * hd)
        o = o @ W[f"{p}.self_attn.o_proj.weight"].T
        if g1:
            o = rms(o, W[f"{p}.post_attention_layernorm.weight"], eps, True)
            x = x + o
            h = rms(x, W[f"{p}.pre_feedforward_layernorm.weight"], eps, True)
        else:
            x = x + o
            h = rms(x, W[f"{p}.post_attention_layernorm.weight"], eps)
        if F["phi3"]:
            g, u = (h @ W[f"{p}.mlp.gate_up_proj.weight"].T).chunk(2, dim=-1)
        else:
            g = h @ W[f"{p}.mlp.gate_proj.weight"].T
            u = h @ W[f"{p}.mlp.up_proj.weight"].T
        act = gelu_tanh(g) if g1 else torch.nn.functional.silu(g)
        m = (act * u) @ W[f"{p}.mlp.down_proj.weight"].T
        if g1:
            m = rms(m, W[f"{p}.post_feedforward_layernorm.weight"], eps, True)
        x = x + m
    x = rms(x, W["model.norm.weight"], eps, g1)
    head = W["model.embed_tokens.weight"] if F["tie"] else W["lm_head.weight"]
    logits = x @ head.T
    if g1 and cfg.get("final_logit_softcapping") is not None:
        logits = softcap(logits, cfg["final_logit_softcapping"])
    return logits


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
    if family(cfg)[1]["tie"]:
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
