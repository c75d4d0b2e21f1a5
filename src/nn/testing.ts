/**
 * The shared tiny-model fixture of the tests: a 2-layer Llama (grouped-query attention: 4 query heads over 2 KV heads,
 * head dim 8) small enough for gradient checks and Python parity runs. Tests change only what they are about
 * (vocabulary, MLP width, positions) through `over`. The HF-named twin for GGUF and provider tests is
 * `tinyLlamaConfig` in gguf/fixtures.ts.
 */
import type { LlamaConfig } from "./llama.ts";

export function tinyLlama(over: Partial<LlamaConfig> = {}): LlamaConfig {
  return {
    vocabSize: 61,
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositionEmbeddings: 64,
    tieWordEmbeddings: false,
    ...over,
  };
}
