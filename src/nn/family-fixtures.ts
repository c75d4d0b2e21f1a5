/**
 * Tiny random-model configs of every supported family, shaped like the real checkpoints (used by the PyTorch parity
 * test, the family unit tests and the llama.cpp export tests).
 */
import type { LlamaConfig } from "./llama.ts";

/**
 * Tiny 2-layer configs with each family's real config shape (head / kv-head / MLP ratios, tying, RoPE base and
 * scaling, soft-cap values); sliding windows of 9 < T = 17, so the window masks real keys (and every padded query
 * still sees a real key: the longest padding run is 8). 1-D weights (norms, biases) get noise so they matter.
 */
const base = { vocabSize: 97, numLayers: 2, rmsNormEps: 1e-6, maxPositionEmbeddings: 128 };
export const TINY_FAMILIES: Record<string, LlamaConfig> = {
  // Llama-3.2-1B: H/KV 4, I = 4D, tied, rope_theta 5e5, llama3 scaling factor 32 (original context 16 < T)
  "llama3.2": {
    ...base,
    hiddenSize: 64,
    intermediateSize: 256,
    numHeads: 8,
    numKvHeads: 2,
    headDim: 8,
    ropeTheta: 500000,
    ropeScaling: { type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 16 },
    tieWordEmbeddings: true,
  },
  // SmolLM2-135M: 9 heads, 3 kv heads, I = 2.67D, tied, rope_theta 1e5
  smollm2: {
    ...base,
    hiddenSize: 72,
    intermediateSize: 192,
    numHeads: 9,
    numKvHeads: 3,
    headDim: 8,
    ropeTheta: 100000,
    tieWordEmbeddings: true,
  },
  // Mistral-7B-v0.1: H/KV 4, I = 3.5D, untied, sliding window on every layer
  mistral: {
    ...base,
    modelType: "mistral",
    hiddenSize: 64,
    intermediateSize: 224,
    numHeads: 8,
    numKvHeads: 2,
    headDim: 8,
    ropeTheta: 10000,
    slidingWindow: 9,
    tieWordEmbeddings: false,
  },
  // Qwen2.5-0.5B: 14 heads / 2 kv (7:1), I = 5.4D, tied, rope_theta 1e6, q/k/v bias
  "qwen2.5": {
    ...base,
    modelType: "qwen2",
    hiddenSize: 56,
    intermediateSize: 304,
    numHeads: 7,
    numKvHeads: 1,
    headDim: 8,
    ropeTheta: 1000000,
    attentionBias: true,
    tieWordEmbeddings: true,
  },
  // Qwen3-0.6B: H * hd = 2D (head_dim explicit), H/KV 2, I = 3D, tied, q/k norm
  qwen3: {
    ...base,
    modelType: "qwen3",
    hiddenSize: 32,
    intermediateSize: 96,
    numHeads: 8,
    numKvHeads: 4,
    headDim: 8,
    ropeTheta: 1000000,
    qkNorm: true,
    tieWordEmbeddings: true,
  },
  // Gemma-2 (27B's query_pre_attn_scalar = D / H, not head_dim): H * hd != D, H/KV 2, I = 4D, caps 50 / 30
  gemma2: {
    ...base,
    modelType: "gemma2",
    hiddenSize: 72,
    intermediateSize: 288,
    numHeads: 8,
    numKvHeads: 4,
    headDim: 8,
    ropeTheta: 10000,
    slidingWindow: 9,
    layerTypes: ["sliding_attention", "full_attention"],
    normPlusOne: true,
    embedScale: true,
    hiddenAct: "gelu_pytorch_tanh",
    sandwichNorms: true,
    queryPreAttnScalar: 9,
    attnLogitSoftcap: 50,
    finalLogitSoftcap: 30,
    tieWordEmbeddings: true,
  },
  // Gemma-3-4B text: H/KV 2, hd explicit, q/k norm, local RoPE base 1e4 on sliding layers, global 1e6 with linear
  // scaling 8; no soft-capping (layer 0 slides, layer 1 is global, as the 5:1 pattern's last layer)
  gemma3: {
    ...base,
    modelType: "gemma3_text",
    hiddenSize: 40,
    intermediateSize: 256,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 16,
    ropeTheta: 1000000,
    ropeScaling: { type: "linear", factor: 8 },
    ropeLocalTheta: 10000,
    slidingWindow: 9,
    layerTypes: ["sliding_attention", "full_attention"],
    qkNorm: true,
    normPlusOne: true,
    embedScale: true,
    hiddenAct: "gelu_pytorch_tanh",
    sandwichNorms: true,
    queryPreAttnScalar: 16,
    tieWordEmbeddings: true,
  },
  // Phi-3.5-mini: H = KV, I = 2.67D, untied, longrope (original context 16 < T = 17: long factors, attention factor
  // sqrt(1 + ln(512/16) / ln 16)), sliding_window 262144 as shipped; saved fused (qkv_proj, gate_up_proj)
  "phi3.5": {
    ...base,
    modelType: "phi3",
    hiddenSize: 64,
    intermediateSize: 170,
    numHeads: 8,
    numKvHeads: 8,
    headDim: 8,
    ropeTheta: 10000,
    maxPositionEmbeddings: 512,
    ropeScaling: {
      type: "longrope",
      shortFactor: [1.0, 1.1, 1.3, 1.9],
      longFactor: [1.2, 3.5, 9.0, 30.0],
      originalMaxPositionEmbeddings: 16,
      attentionFactor: Math.sqrt(1 + Math.log(512 / 16) / Math.log(16)),
    },
    slidingWindow: 262144,
    tieWordEmbeddings: false,
  },
};
// Phi-3.5 within its original context (64 > T): short factors
const phi35 = TINY_FAMILIES["phi3.5"].ropeScaling;
if (phi35?.type === "longrope") {
  const orig = 64;
  TINY_FAMILIES["phi3.5-short"] = {
    ...TINY_FAMILIES["phi3.5"],
    ropeScaling: {
      ...phi35,
      originalMaxPositionEmbeddings: orig,
      attentionFactor: Math.sqrt(1 + Math.log(512 / orig) / Math.log(orig)),
    },
  };
}
