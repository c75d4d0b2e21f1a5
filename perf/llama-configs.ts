/** The Llama configs of the issue-4 benchmarks (perf/train.ts, perf/generate.ts): ~5M and ~30M parameters. */
import type { LlamaConfig } from "../src/nn/llama.ts";

export const BENCH_CONFIGS: Record<string, LlamaConfig> = {
  "5m": {
    vocabSize: 4096,
    hiddenSize: 256,
    intermediateSize: 688,
    numLayers: 4,
    numHeads: 4,
    numKvHeads: 4,
    headDim: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositionEmbeddings: 512,
    tieWordEmbeddings: false,
  },
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
};
