/**
 * The Llama-family decoder (Hugging Face `LlamaForCausalLM` semantics), recorded as a graph.
 *
 *   ids [B,T] -> embed -> L x { x += Attn(RMSNorm(x)); x += SwiGLU(RMSNorm(x)) } -> RMSNorm -> lm_head -> logits [B,T,V]
 *
 * Shapes: B batch, T sequence, D hidden, H query heads, KV key/value heads (GQA, H = KV * R), hd head dim,
 * I intermediate (MLP) size, V vocabulary. Parameters carry HF names so safetensors round-trip and LoRA can target
 * modules by name ("model.layers.0.self_attn.q_proj"). `Phi3ForCausalLM` checkpoints load by splitting the fused
 * `qkv_proj` and `gate_up_proj` weights into the Llama layout.
 */
import { SplitMix32 } from "../domain/random.ts";
import type { HostTensor, Shape } from "./ir.ts";
import { type GraphBuilder, linear, rmsNorm, type Sym } from "./tensor.ts";

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number; // D
  intermediateSize: number; // I
  numLayers: number;
  numHeads: number; // H
  numKvHeads: number; // KV
  headDim: number; // hd (usually D / H)
  rmsNormEps: number;
  ropeTheta: number;
  /** HF rope_scaling: "linear" (positions / factor) or "llama3" (Llama 3.1+ frequency-dependent scaling) */
  ropeScaling?: RopeScaling;
  /** Phi-3 sliding_window: sequences longer than this are refused (we implement full attention only) */
  slidingWindow?: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  padTokenId?: number;
}

export type RopeScaling =
  | { type: "linear"; factor: number }
  | {
      type: "llama3";
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

/** Weights by HF tensor name. */
export type Weights = Map<string, HostTensor>;

/** Additive attention bias for masked positions (finite, so a fully masked padding row stays NaN-free). */
export const MASKED = -1e9;

// ---------------------------------------------------------------------------------------------------------------
// config.json

type Json = Record<string, unknown>;

function num(json: Json, key: string, file: string, fallback?: number): number {
  const v = json[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new Error(`${file}: missing number "${key}"`);
  }
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new Error(`${file}: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/** Read a HF config.json object (LlamaForCausalLM or Phi3ForCausalLM). `file` names the source in errors. */
export function configFromHf(json: Json, file = "config.json"): LlamaConfig {
  const modelType = String(json.model_type ?? "llama");
  if (modelType !== "llama" && modelType !== "phi3") {
    throw new Error(`${file}: model_type "${modelType}" is not supported (llama, phi3)`);
  }
  const ropeScaling = parseRopeScaling(json.rope_scaling, file);
  const prf = json.partial_rotary_factor;
  if (prf !== undefined && prf !== 1 && prf !== 1.0)
    throw new Error(`${file}: partial_rotary_factor ${prf} not supported`);
  if (json.attention_bias === true || json.mlp_bias === true)
    throw new Error(`${file}: attention/mlp biases not supported`);
  const hidden = num(json, "hidden_size", file);
  const heads = num(json, "num_attention_heads", file);
  const cfg: LlamaConfig = {
    vocabSize: num(json, "vocab_size", file),
    hiddenSize: hidden,
    intermediateSize: num(json, "intermediate_size", file),
    numLayers: num(json, "num_hidden_layers", file),
    numHeads: heads,
    numKvHeads: num(json, "num_key_value_heads", file, heads),
    headDim: num(json, "head_dim", file, hidden / heads),
    rmsNormEps: num(json, "rms_norm_eps", file, 1e-6),
    ropeTheta: num(json, "rope_theta", file, 10000),
    maxPositionEmbeddings: num(json, "max_position_embeddings", file, 2048),
    tieWordEmbeddings: json.tie_word_embeddings === true,
  };
  if (ropeScaling) cfg.ropeScaling = ropeScaling;
  if (typeof json.sliding_window === "number") cfg.slidingWindow = json.sliding_window;
  if (typeof json.bos_token_id === "number") cfg.bosTokenId = json.bos_token_id;
  if (typeof json.eos_token_id === "number" || Array.isArray(json.eos_token_id)) {
    cfg.eosTokenId = json.eos_token_id as number | number[];
  }
  if (typeof json.pad_token_id === "number") cfg.padTokenId = json.pad_token_id;
  validateConfig(cfg, file);
  return cfg;
}

function parseRopeScaling(raw: unknown, file: string): RopeScaling | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = raw as Json;
  const type = String(r.rope_type ?? r.type ?? "");
  const key = (k: string) => num(r, k, `${file}: rope_scaling`);
  if (type === "linear") return { type, factor: key("factor") };
  if (type === "llama3") {
    return {
      type,
      factor: key("factor"),
      lowFreqFactor: key("low_freq_factor"),
      highFreqFactor: key("high_freq_factor"),
      originalMaxPositionEmbeddings: key("original_max_position_embeddings"),
    };
  }
  if (type === "default") return undefined;
  throw new Error(`${file}: rope_scaling type "${type}" is not supported (linear, llama3)`);
}

function ropeScalingToHf(s: RopeScaling | undefined): Json | null {
  if (!s) return null;
  if (s.type === "linear") return { rope_type: "linear", factor: s.factor };
  return {
    rope_type: "llama3",
    factor: s.factor,
    low_freq_factor: s.lowFreqFactor,
    high_freq_factor: s.highFreqFactor,
    original_max_position_embeddings: s.originalMaxPositionEmbeddings,
  };
}

export function validateConfig(c: LlamaConfig, file = "config"): void {
  for (const k of [
    "vocabSize",
    "hiddenSize",
    "intermediateSize",
    "numLayers",
    "numHeads",
    "numKvHeads",
    "headDim",
  ] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`${file}: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.numHeads % c.numKvHeads !== 0) {
    throw new Error(
      `${file}: num_attention_heads ${c.numHeads} is not a multiple of num_key_value_heads ${c.numKvHeads}`,
    );
  }
  if (c.headDim % 2 !== 0) throw new Error(`${file}: head_dim ${c.headDim} must be even for RoPE`);
}

/** HF config.json for LlamaForCausalLM. */
export function configToHf(c: LlamaConfig): Json {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    hidden_act: "silu",
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: ropeScalingToHf(c.ropeScaling),
    ...(c.slidingWindow !== undefined ? { sliding_window: c.slidingWindow } : {}),
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: false,
    mlp_bias: false,
    initializer_range: 0.02,
    torch_dtype: "float32",
    ...(c.bosTokenId !== undefined ? { bos_token_id: c.bosTokenId } : {}),
    ...(c.eosTokenId !== undefined ? { eos_token_id: c.eosTokenId } : {}),
    ...(c.padTokenId !== undefined ? { pad_token_id: c.padTokenId } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// parameters

/** Every parameter name with its shape, in HF order. */
export function paramShapes(c: LlamaConfig): Map<string, number[]> {
  const { hiddenSize: D, intermediateSize: I, numHeads: H, numKvHeads: KV, headDim: hd, vocabSize: V } = c;
  const m = new Map<string, number[]>();
  m.set("model.embed_tokens.weight", [V, D]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    m.set(`${p}.input_layernorm.weight`, [D]);
    m.set(`${p}.self_attn.q_proj.weight`, [H * hd, D]);
    m.set(`${p}.self_attn.k_proj.weight`, [KV * hd, D]);
    m.set(`${p}.self_attn.v_proj.weight`, [KV * hd, D]);
    m.set(`${p}.self_attn.o_proj.weight`, [D, H * hd]);
    m.set(`${p}.post_attention_layernorm.weight`, [D]);
    m.set(`${p}.mlp.gate_proj.weight`, [I, D]);
    m.set(`${p}.mlp.up_proj.weight`, [I, D]);
    m.set(`${p}.mlp.down_proj.weight`, [D, I]);
  }
  m.set("model.norm.weight", [D]);
  if (!c.tieWordEmbeddings) m.set("lm_head.weight", [V, D]);
  return m;
}

export function countParams(c: LlamaConfig): number {
  let n = 0;
  for (const s of paramShapes(c).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** Seeded init like HF: normal(0, std) for matrices, ones for norms. */
export function initWeights(c: LlamaConfig, seed: number, std = 0.02): Weights {
  const rng = new SplitMix32(seed);
  const w: Weights = new Map();
  for (const [name, shape] of paramShapes(c)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length === 1) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    w.set(name, { shape, data });
  }
  return w;
}

/** Check that `w` holds exactly the parameters of `c` with the right shapes (names the first mismatch). */
export function checkWeights(c: LlamaConfig, w: Weights, source = "weights"): void {
  for (const [name, shape] of paramShapes(c)) {
    const t = w.get(name);
    if (!t) throw new Error(`${source}: missing tensor "${name}"`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${source}: "${name}" has shape [${t.shape}], config expects [${shape}]`);
    }
  }
}

function rows(t: HostTensor, start: number, end: number): HostTensor {
  const cols = t.shape[1];
  return { shape: [end - start, cols], data: (t.data as Float32Array).slice(start * cols, end * cols) };
}

/**
 * Convert Phi3ForCausalLM tensors to the Llama layout: qkv_proj [(H+2KV)hd, D] -> q/k/v_proj;
 * gate_up_proj [2I, D] -> gate_proj (first I rows), up_proj (last I rows). Other names are identical.
 */
export function phi3ToLlama(c: LlamaConfig, w: Weights): Weights {
  const out: Weights = new Map();
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  for (const [name, t] of w) {
    if (name.endsWith(".self_attn.qkv_proj.weight")) {
      const p = name.slice(0, -".qkv_proj.weight".length);
      if (t.shape[0] !== q + 2 * kv) throw new Error(`${name}: ${t.shape[0]} rows, expected ${q + 2 * kv}`);
      out.set(`${p}.q_proj.weight`, rows(t, 0, q));
      out.set(`${p}.k_proj.weight`, rows(t, q, q + kv));
      out.set(`${p}.v_proj.weight`, rows(t, q + kv, q + 2 * kv));
    } else if (name.endsWith(".mlp.gate_up_proj.weight")) {
      const p = name.slice(0, -".gate_up_proj.weight".length);
      const i = c.intermediateSize;
      if (t.shape[0] !== 2 * i) throw new Error(`${name}: ${t.shape[0]} rows, expected ${2 * i}`);
      out.set(`${p}.gate_proj.weight`, rows(t, 0, i));
      out.set(`${p}.up_proj.weight`, rows(t, i, 2 * i));
    } else out.set(name, t);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// forward graph

/** RoPE inverse frequencies [hd/2] as float32 values (HF: 1 / theta^(2i/hd), then rope_scaling). */
export function ropeInvFreq(c: LlamaConfig): Float64Array {
  const hd = c.headDim;
  const inv = new Float64Array(hd / 2);
  for (let i = 0; i < hd / 2; i++) inv[i] = Math.fround(1 / c.ropeTheta ** ((2 * i) / hd));
  const s = c.ropeScaling;
  if (s?.type === "linear") for (let i = 0; i < inv.length; i++) inv[i] = Math.fround(inv[i] / s.factor);
  if (s?.type === "llama3") {
    const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
    const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    for (let i = 0; i < inv.length; i++) {
      const f = inv[i];
      const wavelen = (2 * Math.PI) / f;
      let out: number;
      if (wavelen < highWavelen) out = f;
      else if (wavelen > lowWavelen) out = f / s.factor;
      else {
        const smooth =
          (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        out = (1 - smooth) * (f / s.factor) + smooth * f;
      }
      inv[i] = Math.fround(out);
    }
  }
  return inv;
}

/** Refuse sequences that need a sliding-window attention we do not implement. */
export function checkSequenceLength(c: LlamaConfig, length: number): void {
  if (c.slidingWindow !== undefined && length > c.slidingWindow) {
    throw new Error(
      `sequence length ${length} exceeds sliding_window ${c.slidingWindow} (only full attention is implemented)`,
    );
  }
}

/** RoPE tables for positions 0..T-1, HF layout: cos/sin of cat(freqs, freqs), each [T, hd]. */
export function ropeTables(c: LlamaConfig, positions: ArrayLike<number>): { cos: Float32Array; sin: Float32Array } {
  const hd = c.headDim;
  const half = hd / 2;
  const T = positions.length;
  const invFreq = ropeInvFreq(c);
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = Math.fround(positions[t] * invFreq[i]);
      const cv = Math.cos(a);
      const sv = Math.sin(a);
      cos[t * hd + i] = cv;
      cos[t * hd + half + i] = cv;
      sin[t * hd + i] = sv;
      sin[t * hd + half + i] = sv;
    }
  }
  return { cos, sin };
}

/** x*cos + rotate_half(x)*sin, rotate_half(x) = cat(-x2, x1); x [B,heads,T,hd], cos/sin [T,hd]. */
function rope(x: Sym, cos: Sym, sin: Sym): Sym {
  const hd = x.shape[3];
  const x1 = x.slice(3, 0, hd / 2);
  const x2 = x.slice(3, hd / 2, hd);
  const rot = x.b.concat([x2.neg(), x1], 3);
  return x.mul(cos).add(rot.mul(sin));
}

/**
 * Applies a linear module. `module` is the HF module name ("model.layers.0.mlp.up_proj"); the default is x W^T.
 * LoRA (or any adapter) replaces it, e.g. (m, x, w) => linear(x, w).add(lora(m, x)).
 */
export type LinearHook = (module: string, x: Sym, weight: Sym) => Sym;
export const plainLinear: LinearHook = (_m, x, w) => linear(x, w);

/**
 * Input embeddings [B,T,D] from the embedding table [V,D] and the input ids [B,T]; the default gathers rows. GCG
 * (redteam/gcg) replaces some positions by one-hot [S,V] x table, so the loss has a gradient w.r.t. the tokens.
 */
export type EmbedHook = (table: Sym, inputIds: Sym) => Sym;

export interface ForwardGraph {
  /** input "input_ids" [B,T] i32 */
  inputIds: Sym;
  /** input "key_padding_bias" [B,1,1,1,T] f32: 0 for real keys, MASKED for padding (see keyPaddingBias) */
  keyPaddingBias: Sym;
  /** [B,T,V] */
  logits: Sym;
  /** param nodes by HF name */
  params: Map<string, Sym>;
}

/** Record the forward pass for a fixed batch shape [B, T] (positions 0..T-1, right padding). */
export function buildForward(
  c: LlamaConfig,
  b: GraphBuilder,
  B: number,
  T: number,
  hook: LinearHook = plainLinear,
  embed?: EmbedHook,
): ForwardGraph {
  const { numHeads: H, numKvHeads: KV, headDim: hd } = c;
  const R = H / KV;
  checkSequenceLength(c, T);
  const params = new Map<string, Sym>();
  for (const [name, shape] of paramShapes(c)) params.set(name, b.param(name, shape));
  const P = (name: string) => params.get(name)!;
  const lin = (module: string, x: Sym) => hook(module, x, P(`${module}.weight`));

  const inputIds = b.input("input_ids", [B, T], "i32");
  const keyPaddingBias = b.input("key_padding_bias", [B, 1, 1, 1, T]);
  const causal = b.constant(causalBias(T), [T, T]); // 0 on and below the diagonal, MASKED above
  const positions = Array.from({ length: T }, (_, i) => i);
  const tables = ropeTables(c, positions);
  const cos = b.constant(tables.cos, [T, hd]);
  const sin = b.constant(tables.sin, [T, hd]);
  const scale = 1 / Math.sqrt(hd);

  const table = P("model.embed_tokens.weight"); // [V,D]
  let x = embed ? embed(table, inputIds) : table.gather(inputIds); // [B,T,D]
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    const h = rmsNorm(x, P(`${p}.input_layernorm.weight`), c.rmsNormEps);
    const q = lin(`${p}.self_attn.q_proj`, h).reshape([B, T, H, hd]).transpose([0, 2, 1, 3]); // [B,H,T,hd]
    const k = lin(`${p}.self_attn.k_proj`, h).reshape([B, T, KV, hd]).transpose([0, 2, 1, 3]); // [B,KV,T,hd]
    const v = lin(`${p}.self_attn.v_proj`, h).reshape([B, T, KV, hd]).transpose([0, 2, 1, 3]); // [B,KV,T,hd]
    // GQA without copying k/v: query head h uses kv head floor(h / R), so group the R query heads of each kv head.
    const qg = rope(q, cos, sin).reshape([B, KV, R * T, hd]); // [B,KV,R*T,hd]
    const kr = rope(k, cos, sin); // [B,KV,T,hd]
    const scores = qg.matmul(kr.t()).mul(scale).reshape([B, KV, R, T, T]).add(causal).add(keyPaddingBias); // [B,KV,R,T,T]
    const probs = scores.softmax().reshape([B, KV, R * T, T]);
    const attn = probs
      .matmul(v) // [B,KV,R*T,hd]
      .reshape([B, H, T, hd])
      .transpose([0, 2, 1, 3]) // [B,T,H,hd]
      .reshape([B, T, H * hd]);
    x = x.add(lin(`${p}.self_attn.o_proj`, attn));
    const h2 = rmsNorm(x, P(`${p}.post_attention_layernorm.weight`), c.rmsNormEps);
    const gated = lin(`${p}.mlp.gate_proj`, h2)
      .silu()
      .mul(lin(`${p}.mlp.up_proj`, h2)); // [B,T,I]
    x = x.add(lin(`${p}.mlp.down_proj`, gated));
  }
  x = rmsNorm(x, P("model.norm.weight"), c.rmsNormEps);
  const head = c.tieWordEmbeddings ? P("model.embed_tokens.weight") : P("lm_head.weight");
  const logits = c.tieWordEmbeddings ? linear(x, head) : hook("lm_head", x, head); // [B,T,V]
  return { inputIds, keyPaddingBias, logits, params };
}

export interface LossGraph extends ForwardGraph {
  /** per-sequence sum of log p(label) over counted tokens, [B] (DPO needs it) */
  sequenceLogps: Sym;
  /** mean token cross-entropy over counted tokens (scalar) */
  loss: Sym;
}

/**
 * Adds token log-probs of the next-token labels. Inputs: "target_index" [B*T] i32 = flat index of
 * (b, t, label[b, t+1]) in logits [B*T*V]; "target_mask" [B,T] f32 (1 counted, 0 ignored); "loss_scale" [] f32 =
 * 1 / number of counted tokens in the batch. `lossBatch` builds all three.
 */
export function buildLoss(c: LlamaConfig, b: GraphBuilder, B: number, T: number, hook?: LinearHook): LossGraph {
  const fwd = buildForward(c, b, B, T, hook);
  const V = c.vocabSize;
  const targetIndex = b.input("target_index", [B * T], "i32");
  const targetMask = b.input("target_mask", [B, T]);
  const lossScale = b.input("loss_scale", []);
  const logp = fwd.logits.logSoftmax().reshape([B * T * V, 1]); // [B*T*V,1]
  const tokenLogp = logp.gather(targetIndex).reshape([B, T]).mul(targetMask); // [B,T]
  const sequenceLogps = tokenLogp.sum([1]); // [B]
  const loss = tokenLogp.sum().mul(lossScale).neg(); // []
  return { ...fwd, sequenceLogps, loss };
}

// ---------------------------------------------------------------------------------------------------------------
// host-side batch tensors

/** [T,T]: 0 where key j <= query i, MASKED above the diagonal. */
export function causalBias(T: number): Float32Array {
  const data = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) data[i * T + j] = MASKED;
  return data;
}

/** Key-padding bias [B,1,1,1,T]: 0 for real tokens (attentionMask 1), MASKED for padding. */
export function keyPaddingBias(B: number, T: number, attentionMask: ArrayLike<number>): HostTensor {
  const data = new Float32Array(B * T);
  for (let i = 0; i < B * T; i++) data[i] = attentionMask[i] ? 0 : MASKED;
  return { shape: [B, 1, 1, 1, T], data };
}

/**
 * Feeds for `buildLoss`: HF convention, labels aligned with input ids (-100 = ignore) and shifted inside, so logits at
 * t are scored against labels[t+1].
 */
export function lossBatch(
  c: LlamaConfig,
  B: number,
  T: number,
  inputIds: ArrayLike<number>,
  attentionMask: ArrayLike<number>,
  labels: ArrayLike<number>,
): Record<string, HostTensor> {
  const V = c.vocabSize;
  checkBatchArrays(B, T, { inputIds, attentionMask, labels });
  const targetIndex = new Int32Array(B * T);
  const targetMask = new Float32Array(B * T);
  let count = 0;
  for (let bi = 0; bi < B; bi++) {
    for (let t = 0; t < T - 1; t++) {
      const lab = labels[bi * T + t + 1];
      if (lab === -100) continue;
      if (!Number.isInteger(lab) || lab < 0 || lab >= V)
        throw new Error(`label ${lab} at [${bi}, ${t + 1}] outside [0, ${V})`);
      targetIndex[bi * T + t] = (bi * T + t) * V + lab;
      targetMask[bi * T + t] = 1;
      count++;
    }
  }
  for (let i = 0; i < B * T; i++) {
    if (inputIds[i] < 0 || inputIds[i] >= V)
      throw new Error(`input id ${inputIds[i]} at flat position ${i} outside [0, ${V})`);
  }
  return {
    input_ids: { shape: [B, T], data: Int32Array.from(inputIds) },
    key_padding_bias: keyPaddingBias(B, T, attentionMask),
    target_index: { shape: [B * T], data: targetIndex },
    target_mask: { shape: [B, T], data: targetMask },
    loss_scale: { shape: [], data: Float32Array.of(1 / Math.max(1, count)) },
  };
}

function checkBatchArrays(B: number, T: number, arrays: Record<string, ArrayLike<number>>): void {
  for (const [name, a] of Object.entries(arrays)) {
    if (a.length !== B * T) throw new Error(`${name} has ${a.length} entries, expected B*T = ${B}*${T} = ${B * T}`);
  }
}

/** Feeds for `buildForward`. */
export function forwardBatch(
  B: number,
  T: number,
  inputIds: ArrayLike<number>,
  attentionMask?: ArrayLike<number>,
): Record<string, HostTensor> {
  const mask = attentionMask ?? new Array<number>(B * T).fill(1);
  checkBatchArrays(B, T, { inputIds, attentionMask: mask });
  return {
    input_ids: { shape: [B, T], data: Int32Array.from(inputIds) },
    key_padding_bias: keyPaddingBias(B, T, mask),
  };
}

/** Weights as executor feeds. */
export function weightFeeds(w: Weights): Record<string, HostTensor> {
  return Object.fromEntries(w);
}

export type { Shape };
