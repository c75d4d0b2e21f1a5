/**
 * The decoder of every supported family (Hugging Face `*ForCausalLM` semantics), recorded as a graph.
 *
 *   ids [B,T] -> embed -> L x { x += Attn(Norm(x)); x += MLP(Norm(x)) } -> Norm -> lm_head -> logits [B,T,V]
 *
 * Shapes: B batch, T sequence, D hidden, H query heads, KV key/value heads (GQA, H = KV * R), hd head dim,
 * I intermediate (MLP) size, V vocabulary. Parameters carry HF names so safetensors round-trip and LoRA can target
 * modules by name ("model.layers.0.self_attn.q_proj"). One decoder, with named options for what the families add
 * (families.ts reads and writes each family's config.json):
 *   Llama 3.x / SmolLM2   tied embeddings, llama3 RoPE scaling          Mistral   sliding-window attention
 *   Qwen2 / 2.5           bias on q/k/v                                 Qwen3     RMSNorm of q and k per head
 *   Gemma 2               (1 + w) norms, sqrt(D) embedding scale, gelu-tanh MLP, norms before and after attention
 *                         and MLP, query_pre_attn_scalar, attention and final logit soft-capping, sliding window on
 *                         alternating layers
 *   Gemma 3               Gemma 2 + q/k norms, 5 sliding : 1 global layers, a local RoPE base on sliding layers
 *   Phi-3 / 3.5           fused qkv_proj / gate_up_proj split on load, longrope (short/long factors, attention factor)
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
  /** HF rope_scaling: "linear", "llama3" (Llama 3.1+) or "longrope" (Phi-3.5); Gemma 3 applies it to global layers */
  ropeScaling?: RopeScaling;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  padTokenId?: number;
  // --- family options (all absent = Llama) -------------------------------------------------------------------
  /** the HF model_type the checkpoint is saved as (default "llama") */
  modelType?: ModelType;
  /** sliding-window attention: a query attends to the `slidingWindow` latest keys (itself included) */
  slidingWindow?: number;
  /** which layers use the window (HF `layer_types`); all layers when absent and `slidingWindow` is set */
  layerTypes?: LayerType[];
  /** Qwen2: bias on q_proj, k_proj and v_proj */
  attentionBias?: boolean;
  /** Qwen3, Gemma 3: RMSNorm over each head of q and k before RoPE (self_attn.q_norm / k_norm, [hd]) */
  qkNorm?: boolean;
  /** Gemma: every RMSNorm scales by (1 + weight) */
  normPlusOne?: boolean;
  /** Gemma: embeddings times sqrt(hidden_size) (rounded to float32, as HF does in the weight dtype) */
  embedScale?: boolean;
  /** MLP activation: "silu" (default) or Gemma's "gelu_pytorch_tanh" */
  hiddenAct?: "silu" | "gelu_pytorch_tanh";
  /** Gemma: post_attention_layernorm on the attention output, pre_/post_feedforward_layernorm around the MLP */
  sandwichNorms?: boolean;
  /** Gemma: attention scores scale by query_pre_attn_scalar^-0.5 instead of head_dim^-0.5 */
  queryPreAttnScalar?: number;
  /** Gemma 2: scores = cap * tanh(scores / cap) before masking */
  attnLogitSoftcap?: number;
  /** Gemma 2: logits = cap * tanh(logits / cap) */
  finalLogitSoftcap?: number;
  /** Gemma 3: RoPE base of sliding layers (no rope scaling there) */
  ropeLocalTheta?: number;
}

export type ModelType = "llama" | "mistral" | "qwen2" | "qwen3" | "gemma2" | "gemma3_text" | "phi3";
export type LayerType = "full_attention" | "sliding_attention";

export type RopeScaling =
  | { type: "linear"; factor: number }
  | {
      type: "llama3";
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    }
  | {
      /** Phi-3.5: inv_freq / short or long factor (long once the sequence exceeds the original context) */
      type: "longrope";
      shortFactor: number[];
      longFactor: number[];
      originalMaxPositionEmbeddings: number;
      /** cos and sin are multiplied by it (HF: sqrt(1 + ln(max/orig) / ln(orig)) unless given) */
      attentionFactor: number;
    };

/** Weights by HF tensor name. */
export type Weights = Map<string, HostTensor>;

/** Additive attention bias for masked positions (finite, so a fully masked padding row stays NaN-free). */
export const MASKED = -1e9;

export { configFromHf, configToHf } from "./families.ts";

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
  if (c.layerTypes && c.layerTypes.length !== c.numLayers)
    throw new Error(`${file}: layer_types has ${c.layerTypes.length} entries for ${c.numLayers} layers`);
  if (c.slidingWindow !== undefined && !(Number.isInteger(c.slidingWindow) && c.slidingWindow > 0))
    throw new Error(`${file}: sliding_window must be a positive integer, got ${c.slidingWindow}`);
  const s = c.ropeScaling;
  if (s?.type === "longrope") {
    for (const [k, f] of [
      ["short_factor", s.shortFactor],
      ["long_factor", s.longFactor],
    ] as const) {
      if (f.length !== c.headDim / 2)
        throw new Error(`${file}: rope_scaling.${k} has ${f.length} entries, need ${c.headDim / 2}`);
    }
  }
}

/** Whether layer `l` uses sliding-window attention. */
export function isSlidingLayer(c: LlamaConfig, l: number): boolean {
  if (c.slidingWindow === undefined) return false;
  return c.layerTypes ? c.layerTypes[l] === "sliding_attention" : true;
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
    if (c.attentionBias) m.set(`${p}.self_attn.q_proj.bias`, [H * hd]);
    m.set(`${p}.self_attn.k_proj.weight`, [KV * hd, D]);
    if (c.attentionBias) m.set(`${p}.self_attn.k_proj.bias`, [KV * hd]);
    m.set(`${p}.self_attn.v_proj.weight`, [KV * hd, D]);
    if (c.attentionBias) m.set(`${p}.self_attn.v_proj.bias`, [KV * hd]);
    m.set(`${p}.self_attn.o_proj.weight`, [D, H * hd]);
    if (c.qkNorm) {
      m.set(`${p}.self_attn.q_norm.weight`, [hd]);
      m.set(`${p}.self_attn.k_norm.weight`, [hd]);
    }
    m.set(`${p}.post_attention_layernorm.weight`, [D]);
    if (c.sandwichNorms) {
      m.set(`${p}.pre_feedforward_layernorm.weight`, [D]);
      m.set(`${p}.post_feedforward_layernorm.weight`, [D]);
    }
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

/** Seeded init like HF: normal(0, std) for matrices, ones for norms (zeros for Gemma's (1 + w) norms and biases). */
export function initWeights(c: LlamaConfig, seed: number, std = 0.02): Weights {
  const rng = new SplitMix32(seed);
  const w: Weights = new Map();
  for (const [name, shape] of paramShapes(c)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length === 1) data.fill(name.endsWith(".bias") || c.normPlusOne ? 0 : 1);
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

/** Which RoPE a layer uses: Gemma 3's sliding layers have their own base and no scaling; longrope depends on length. */
export interface RopeVariant {
  /** Gemma 3 sliding layer: base `ropeLocalTheta`, no rope_scaling */
  local?: boolean;
  /** longrope: the sequence length HF sees (max position id + 1); long factors beyond the original context */
  seqLen?: number;
}

/** RoPE inverse frequencies [hd/2] as float32 values (HF: 1 / theta^(2i/hd), then rope_scaling). */
export function ropeInvFreq(c: LlamaConfig, variant: RopeVariant = {}): Float64Array {
  const hd = c.headDim;
  const inv = new Float64Array(hd / 2);
  const theta = variant.local && c.ropeLocalTheta !== undefined ? c.ropeLocalTheta : c.ropeTheta;
  for (let i = 0; i < hd / 2; i++) inv[i] = Math.fround(1 / theta ** ((2 * i) / hd));
  const s = variant.local ? undefined : c.ropeScaling;
  if (s?.type === "linear") for (let i = 0; i < inv.length; i++) inv[i] = Math.fround(inv[i] / s.factor);
  if (s?.type === "longrope") {
    const ext = (variant.seqLen ?? 0) > s.originalMaxPositionEmbeddings ? s.longFactor : s.shortFactor;
    for (let i = 0; i < inv.length; i++) {
      inv[i] = Math.fround(1 / Math.fround(Math.fround(ext[i]) * Math.fround(theta ** ((2 * i) / hd))));
    }
  }
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

/** The factor HF multiplies cos and sin by (longrope's attention factor; 1 otherwise). */
export function ropeAttentionFactor(c: LlamaConfig, variant: RopeVariant = {}): number {
  return !variant.local && c.ropeScaling?.type === "longrope" ? Math.fround(c.ropeScaling.attentionFactor) : 1;
}

/** @deprecated sliding windows are implemented now; kept so older callers still compile. Accepts every length. */
export function checkSequenceLength(_c: LlamaConfig, _length: number): void {}

/** RoPE tables for positions 0..T-1, HF layout: cos/sin of cat(freqs, freqs), each [T, hd]. */
export function ropeTables(
  c: LlamaConfig,
  positions: ArrayLike<number>,
  variant: RopeVariant = {},
): { cos: Float32Array; sin: Float32Array } {
  const hd = c.headDim;
  const half = hd / 2;
  const T = positions.length;
  let maxPos = 0;
  for (let t = 0; t < T; t++) maxPos = Math.max(maxPos, positions[t]);
  const v = { seqLen: maxPos + 1, ...variant };
  const invFreq = ropeInvFreq(c, v);
  const af = ropeAttentionFactor(c, v);
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = Math.fround(positions[t] * invFreq[i]);
      const cv = Math.fround(Math.cos(a)) * af;
      const sv = Math.fround(Math.sin(a)) * af;
      cos[t * hd + i] = cv;
      cos[t * hd + half + i] = cv;
      sin[t * hd + i] = sv;
      sin[t * hd + half + i] = sv;
    }
  }
  return { cos, sin };
}

/** cap * tanh(x / cap) (Gemma's soft-capping). */
function softcap(x: Sym, cap: number): Sym {
  return x.div(cap).tanh().mul(cap);
}

/** gelu_pytorch_tanh: 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3). */
function geluTanh(x: Sym): Sym {
  const k = Math.sqrt(2 / Math.PI);
  return x.mul(
    x
      .square()
      .mul(0.044715 * 2 * k)
      .add(2 * k)
      .mul(x)
      .sigmoid(),
  );
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
  const params = new Map<string, Sym>();
  for (const [name, shape] of paramShapes(c)) params.set(name, b.param(name, shape));
  const P = (name: string) => params.get(name)!;
  const lin = (module: string, x: Sym) => {
    const y = hook(module, x, P(`${module}.weight`));
    return params.has(`${module}.bias`) ? y.add(P(`${module}.bias`)) : y;
  };
  const norm = (x: Sym, name: string) => rmsNorm(x, c.normPlusOne ? P(name).add(1) : P(name), c.rmsNormEps);

  const inputIds = b.input("input_ids", [B, T], "i32");
  const keyPaddingBias = b.input("key_padding_bias", [B, 1, 1, 1, T]);
  // The attention masks, causal (or sliding-window) and key padding, added up once per forward: [B,1,1,T,T]. Each
  // layer then adds one bias to its scores, where it used to add the two in turn (4 big adds fewer per forward on the
  // demo model). Same probabilities bit for bit: where both are 0 the sum is 0, and a masked score is around -1e9 or
  // -2e9 either way, whose exp underflows to exactly 0 after the row's max is subtracted.
  const causal = b.constant(causalBias(T), [T, T]).add(keyPaddingBias); // 0 on and below the diagonal, MASKED above
  const sliding =
    c.slidingWindow !== undefined && c.slidingWindow < T
      ? b.constant(causalBias(T, c.slidingWindow), [T, T]).add(keyPaddingBias)
      : causal;
  const positions = Array.from({ length: T }, (_, i) => i);
  const ropeConsts = (local: boolean) => {
    const tables = ropeTables(c, positions, { local });
    return { cos: b.constant(tables.cos, [T, hd]), sin: b.constant(tables.sin, [T, hd]) };
  };
  const globalRope = ropeConsts(false);
  const localRope = c.ropeLocalTheta !== undefined ? ropeConsts(true) : globalRope;
  const scale = 1 / Math.sqrt(c.queryPreAttnScalar ?? hd);

  const table = P("model.embed_tokens.weight"); // [V,D]
  let x = embed ? embed(table, inputIds) : table.gather(inputIds); // [B,T,D]
  if (c.embedScale) x = x.mul(Math.fround(Math.sqrt(c.hiddenSize)));
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    const slidingLayer = isSlidingLayer(c, l);
    const { cos, sin } = slidingLayer ? localRope : globalRope;
    const h = norm(x, `${p}.input_layernorm.weight`);
    // [B,T,n*hd] -> [B,n,T,hd], Qwen3 / Gemma 3 normalizing each head first
    const heads = (y: Sym, n: number, normName?: string) => {
      const t = y.reshape([B, T, n, hd]); // [B,T,n,hd]
      return (c.qkNorm && normName ? norm(t, normName) : t).transpose([0, 2, 1, 3]);
    };
    const q = heads(lin(`${p}.self_attn.q_proj`, h), H, `${p}.self_attn.q_norm.weight`); // [B,H,T,hd]
    const k = heads(lin(`${p}.self_attn.k_proj`, h), KV, `${p}.self_attn.k_norm.weight`); // [B,KV,T,hd]
    const v = heads(lin(`${p}.self_attn.v_proj`, h), KV); // [B,KV,T,hd]
    // GQA without copying k/v: query head h uses kv head floor(h / R), so group the R query heads of each kv head.
    const qg = rope(q, cos, sin).reshape([B, KV, R * T, hd]); // [B,KV,R*T,hd]
    const kr = rope(k, cos, sin); // [B,KV,T,hd]
    let scores = qg.matmul(kr.t()).mul(scale); // [B,KV,R*T,T]
    if (c.attnLogitSoftcap !== undefined) scores = softcap(scores, c.attnLogitSoftcap);
    scores = scores.reshape([B, KV, R, T, T]).add(slidingLayer ? sliding : causal); // [B,KV,R,T,T]
    const probs = scores.softmax().reshape([B, KV, R * T, T]);
    const attn = probs
      .matmul(v) // [B,KV,R*T,hd]
      .reshape([B, H, T, hd])
      .transpose([0, 2, 1, 3]) // [B,T,H,hd]
      .reshape([B, T, H * hd]);
    let o = lin(`${p}.self_attn.o_proj`, attn); // [B,T,D]
    if (c.sandwichNorms) o = norm(o, `${p}.post_attention_layernorm.weight`);
    x = x.add(o);
    const h2 = norm(
      x,
      c.sandwichNorms ? `${p}.pre_feedforward_layernorm.weight` : `${p}.post_attention_layernorm.weight`,
    );
    const g = lin(`${p}.mlp.gate_proj`, h2); // [B,T,I]
    const gated = (c.hiddenAct === "gelu_pytorch_tanh" ? geluTanh(g) : g.silu()).mul(lin(`${p}.mlp.up_proj`, h2));
    let m = lin(`${p}.mlp.down_proj`, gated); // [B,T,D]
    if (c.sandwichNorms) m = norm(m, `${p}.post_feedforward_layernorm.weight`);
    x = x.add(m);
  }
  x = norm(x, "model.norm.weight");
  const head = c.tieWordEmbeddings ? P("model.embed_tokens.weight") : P("lm_head.weight");
  let logits = c.tieWordEmbeddings ? linear(x, head) : hook("lm_head", x, head); // [B,T,V]
  if (c.finalLogitSoftcap !== undefined) logits = softcap(logits, c.finalLogitSoftcap);
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

/** [T,T]: 0 where key j <= query i (and i - j < window, when given), MASKED elsewhere. */
export function causalBias(T: number, window = Number.POSITIVE_INFINITY): Float32Array {
  const data = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) if (j > i || i - j >= window) data[i * T + j] = MASKED;
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
