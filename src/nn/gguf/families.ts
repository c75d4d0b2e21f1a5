/**
 * GGUF export of the families llama.cpp runs under their own architectures, as convert_hf_to_gguf.py writes them
 * (conversion/{qwen,gemma,phi}.py; src/models/{qwen2,qwen3,gemma2,gemma3,phi3}.cpp read them):
 *
 *   model_type   arch     differences from the llama export (gguf/llama.ts)
 *   qwen2        qwen2    q/k/v biases (attn_{q,k,v}.bias); RoPE NEOX (rotate-half, as HF): no q/k row permutation
 *   qwen3        qwen3    attn_q_norm / attn_k_norm [hd]
 *   gemma2       gemma2   every norm weight + 1 (HF computes x * (1 + w)); post_attention_layernorm -> post_attention_norm,
 *                         pre_/post_feedforward_layernorm -> ffn_norm / post_ffw_norm; soft-capping and the window as
 *                         metadata; output is always token_embd
 *   gemma3_text  gemma3   gemma2's layout + q/k norms (+1), rope.freq_base_swa (local base), window pattern
 *   phi3         phi3     (longrope only; plain Phi-3 exports as llama) ffn_up = [gate; up], rope_factors_long/short,
 *                         rope.scaling.attn_factor and original_context_length
 *
 * What llama.cpp cannot express is refused with the reason, or (where llama.cpp itself drops it) documented:
 * llama.cpp runs Mistral as llama and Phi-3 as phi3 WITHOUT sliding windows (src/models/phi3.cpp: "Phi SWA is
 * currently disabled"), so those exports match HF only while the context fits in the window; Phi-3.5's longrope picks
 * long or short factors by the llama.cpp context size (n_ctx > original context: long), HF by the sequence length.
 */
import type { GgmlTypeId, GgufTensorIn, GgufValue } from "./gguf.ts";
import { GgmlType, kv } from "./gguf.ts";
import {
  asF32,
  ggufTensorName,
  type HfLlamaConfig,
  headDim,
  kvHeads,
  type NamedTensor,
  ropeScalingKind,
  unfusePhi3,
} from "./llama.ts";

export type GgufArch = "llama" | "qwen2" | "qwen3" | "gemma2" | "gemma3" | "phi3";

/** The llama.cpp architecture a config exports to. */
export function ggufArch(c: HfLlamaConfig): GgufArch {
  switch (c.model_type ?? "llama") {
    case "qwen2":
      return "qwen2";
    case "qwen3":
      return "qwen3";
    case "gemma2":
      return "gemma2";
    case "gemma3_text":
      return "gemma3";
    case "phi3":
      return ropeScalingKind(c) === "longrope" ? "phi3" : "llama";
    case "llama":
    case "mistral":
      return "llama";
    default:
      throw new Error(`GGUF export: model_type "${c.model_type}" has no llama.cpp export here`);
  }
}

/** The period n of a layer pattern llama.cpp can express (layer il slides iff il % n < n - 1), or undefined. */
export function swaPeriod(types: readonly string[]): number | undefined {
  for (let n = 1; n <= types.length + 1; n++) {
    if (types.every((t, il) => (t === "sliding_attention") === il % n < n - 1)) return n;
  }
  return undefined;
}

function refuse(why: string): never {
  throw new Error(`GGUF export: ${why}`);
}

/** Checks that llama.cpp computes what HF does for this config (throws naming the key otherwise). */
function checkFamily(c: HfLlamaConfig, arch: GgufArch): void {
  const hd = headDim(c);
  if (arch === "qwen2" || arch === "phi3") {
    if (hd * c.num_attention_heads !== c.hidden_size)
      refuse(`llama.cpp's ${arch} needs num_attention_heads * head_dim = hidden_size`);
  }
  if ((arch === "qwen2" || arch === "qwen3") && c.use_sliding_window)
    refuse(`llama.cpp's ${arch} has no sliding window (use_sliding_window)`);
  if (arch === "gemma2" || arch === "gemma3") {
    // llama.cpp scales queries by 1/sqrt(head_dim), or 1/sqrt(hidden/heads) for the 27B layer counts (46 / 62)
    const big = c.num_hidden_layers === (arch === "gemma2" ? 46 : 62);
    const scalar = big ? c.hidden_size / c.num_attention_heads : hd;
    if ((c.query_pre_attn_scalar ?? hd) !== scalar)
      refuse(
        `query_pre_attn_scalar ${c.query_pre_attn_scalar}: llama.cpp's ${arch} uses ${scalar} for ${c.num_hidden_layers} layers`,
      );
    if (c.tie_word_embeddings === false)
      refuse(`llama.cpp's ${arch} ties the output to token_embd (tie_word_embeddings: false)`);
    if (arch === "gemma2" && (c.attn_logit_softcapping == null || c.final_logit_softcapping == null))
      refuse("llama.cpp's gemma2 always soft-caps: attn_logit_softcapping and final_logit_softcapping must be set");
    if (arch === "gemma3" && c.attn_logit_softcapping != null)
      refuse("llama.cpp's gemma3 has no attention soft-capping");
    const types = c.layer_types ?? [];
    if (c.sliding_window != null && swaPeriod(types) === undefined)
      refuse(`layer_types ${JSON.stringify(types)} is not a periodic pattern llama.cpp can express`);
  }
}

/** Model metadata for a family architecture (llama.cpp's LLM_KV names). */
export function familyMetadata(c: HfLlamaConfig, fileType: 0 | 1, name: string): Map<string, GgufValue> {
  const arch = ggufArch(c);
  checkFamily(c, arch);
  const hd = headDim(c);
  const m = new Map<string, GgufValue>();
  const a = (k: string, v: GgufValue) => m.set(`${arch}.${k}`, v);
  m.set("general.architecture", kv.str(arch));
  m.set("general.type", kv.str("model"));
  m.set("general.name", kv.str(name));
  m.set("general.file_type", kv.u32(fileType));
  a("vocab_size", kv.u32(c.vocab_size));
  a("context_length", kv.u32(c.max_position_embeddings ?? 2048));
  a("embedding_length", kv.u32(c.hidden_size));
  a("block_count", kv.u32(c.num_hidden_layers));
  a("feed_forward_length", kv.u32(c.intermediate_size));
  a("rope.dimension_count", kv.u32(hd));
  a("attention.head_count", kv.u32(c.num_attention_heads));
  a("attention.head_count_kv", kv.u32(kvHeads(c)));
  a("attention.layer_norm_rms_epsilon", kv.f32(c.rms_norm_eps));
  a("rope.freq_base", kv.f32(c.rope_theta ?? 10000));
  a("attention.key_length", kv.u32(hd));
  a("attention.value_length", kv.u32(hd));
  const rs = c.rope_scaling as Record<string, unknown> | null | undefined;
  const kind = rs ? (rs.rope_type ?? rs.type) : undefined;
  if (kind === "linear") {
    a("rope.scaling.type", kv.str("linear"));
    a("rope.scaling.factor", kv.f32(Number(rs?.factor)));
  }
  if (arch === "gemma2" || arch === "gemma3") {
    if (c.attn_logit_softcapping != null) a("attn_logit_softcapping", kv.f32(c.attn_logit_softcapping));
    if (c.final_logit_softcapping != null) a("final_logit_softcapping", kv.f32(c.final_logit_softcapping));
    if (c.sliding_window != null) {
      a("attention.sliding_window", kv.u32(c.sliding_window));
      a("attention.sliding_window_pattern", kv.u32(swaPeriod(c.layer_types ?? []) ?? 1));
    }
    if (arch === "gemma3") a("rope.freq_base_swa", kv.f32(c.rope_local_base_freq ?? 10000));
  }
  if (arch === "phi3") {
    const orig = c.original_max_position_embeddings ?? Number(rs?.original_max_position_embeddings);
    const factor = (c.max_position_embeddings ?? orig) / orig;
    const attn =
      rs?.attention_factor != null
        ? Number(rs.attention_factor)
        : factor > 1
          ? Math.sqrt(1 + Math.log(factor) / Math.log(orig))
          : 1;
    a("rope.scaling.original_context_length", kv.u32(orig));
    a("rope.scaling.attn_factor", kv.f32(attn));
    a("attention.sliding_window", kv.u32(c.sliding_window ?? 0));
  }
  return m;
}

/** The GGUF tensors of a family checkpoint (HF names in, llama.cpp names and layout out). */
export function familyGgufTensors(
  config: HfLlamaConfig,
  tensorsIn: Iterable<[string, NamedTensor]>,
  dtype: "f32" | "f16" = "f32",
): GgufTensorIn[] {
  const arch = ggufArch(config);
  checkFamily(config, arch);
  const tensors = unfusePhi3(config, tensorsIn);
  for (const name of [...tensors.keys()]) if (name.endsWith("rotary_emb.inv_freq")) tensors.delete(name);
  const gemma = arch === "gemma2" || arch === "gemma3";
  if (config.tie_word_embeddings || gemma) tensors.delete("lm_head.weight");
  const wType: GgmlTypeId = dtype === "f16" ? GgmlType.F16 : GgmlType.F32;
  const out: GgufTensorIn[] = [];
  const take = (name: string): NamedTensor => {
    const t = tensors.get(name);
    if (!t) refuse(`missing tensor "${name}"`);
    tensors.delete(name);
    return t;
  };
  const push = (ggufName: string, t: NamedTensor, plusOne = false) => {
    let data = asF32(t.data);
    if (plusOne) data = data.map((x) => x + 1); // Gemma: HF scales by (1 + w), llama.cpp by w
    out.push({ name: ggufName, shape: t.shape, data, type: t.shape.length === 1 ? GgmlType.F32 : wType });
  };
  const hfPush = (hfName: string) =>
    push(ggufTensorName(hfName, arch), take(hfName), gemma && hfName.endsWith("norm.weight"));
  hfPush("model.embed_tokens.weight");
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const names = [...tensors.keys()].filter((n) => n.startsWith(`${p}.`));
    if (arch === "phi3") {
      // llama.cpp's phi3 has no ffn_gate: ffn_up holds [gate; up] and the SwiGLU splits it
      const g = take(`${p}.mlp.gate_proj.weight`);
      const u = take(`${p}.mlp.up_proj.weight`);
      const data = new Float32Array(g.data.length + u.data.length);
      data.set(asF32(g.data));
      data.set(asF32(u.data), g.data.length);
      push(`blk.${l}.ffn_up.weight`, { shape: [g.shape[0] + u.shape[0], g.shape[1]], data });
    }
    for (const n of names) if (tensors.has(n)) hfPush(n);
  }
  hfPush("model.norm.weight");
  if (tensors.has("lm_head.weight")) hfPush("lm_head.weight");
  if (arch === "phi3") {
    const rs = config.rope_scaling as { long_factor: number[]; short_factor: number[] };
    push("rope_factors_long.weight", { shape: [rs.long_factor.length], data: Float32Array.from(rs.long_factor) });
    push("rope_factors_short.weight", { shape: [rs.short_factor.length], data: Float32Array.from(rs.short_factor) });
  }
  if (tensors.size > 0) refuse(`unexpected tensors ${[...tensors.keys()].slice(0, 5).join(", ")}`);
  return out;
}
