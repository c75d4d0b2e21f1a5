/**
 * The Llama configs of the benchmarks (perf/train.ts, perf/generate.ts): ~5M and ~30M parameters (issue 4), and the
 * shapes of two real small models as Llamas with random weights (issue 22): SmolLM2-135M's and Qwen2.5-0.5B's
 * (Qwen2's q/k/v biases left out), both with tied embeddings.
 */
import { CONFIG_5M } from "../src/nn/bench-ref.ts";
import type { LlamaConfig } from "../src/nn/llama.ts";

export const BENCH_CONFIGS: Record<string, LlamaConfig> = {
  "5m": CONFIG_5M, // the reference executor benchmark's config (src/nn/bench-ref.ts)
  "30m": {
    vocabSize: 4096,
    hiddenSize: 512,
    intermediateSize: 1376,
    numLayers: 8,
    numHeads: 8,
    numKvHeads: 8,
    headDim: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositionEmbeddings: 512,
    tieWordEmbeddings: false,
  },
  "135m": {
    vocabSize: 49152,
    hiddenSize: 576,
    intermediateSize: 1536,
    numLayers: 30,
    numHeads: 9,
    numKvHeads: 3,
    headDim: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 100000,
    maxPositionEmbeddings: 8192,
    tieWordEmbeddings: true,
  },
  "0.5b": {
    vocabSize: 151936,
    hiddenSize: 896,
    intermediateSize: 4864,
    numLayers: 24,
    numHeads: 14,
    numKvHeads: 2,
    headDim: 64,
    rmsNormEps: 1e-6,
    ropeTheta: 1000000,
    maxPositionEmbeddings: 32768,
    tieWordEmbeddings: true,
  },
};
