/**
 * A synthetic task for trainer tests: map a 4-letter word over a 10-letter alphabet through a fixed letter
 * substitution ("abcd=" -> "qwer"). A model can only answer held-out words by learning the mapping, not by recall.
 */

import { SplitMix32 } from "../domain/random.ts";
import { PHI3_CHAT_TEMPLATE, PHI3_SPECIAL_TOKENS, saveTokenizer, trainBpe } from "../nn/bpe.ts";
import { initWeights, type LlamaConfig } from "../nn/llama.ts";
import { saveModel } from "../nn/model.ts";
import type { TokenizedSeq } from "./objective.ts";
import type { TokenizedPair } from "./trainer.ts";

export const ALPHABET = "abcdefghij";
export const SIGMA_1 = "qwertyuiop";
export const SIGMA_2 = "zxcvbnmlkp";
export const BOS = 1;
export const EQ = 2;
export const NL = 3;
export const PAD = 0;

export const taskModel = (over: Partial<LlamaConfig> = {}): LlamaConfig => ({
  vocabSize: 42,
  hiddenSize: 64,
  intermediateSize: 128,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  maxPositionEmbeddings: 64,
  tieWordEmbeddings: true,
  eosTokenId: NL,
  ...over,
});

export const letterId = (c: string) => 16 + c.charCodeAt(0) - 97;

export function mapWord(word: string, sigma: string): string {
  return [...word].map((c) => sigma[ALPHABET.indexOf(c)]).join("");
}

export function promptIds(word: string): number[] {
  return [BOS, ...[...word].map(letterId), EQ];
}

export function answerIds(answer: string): number[] {
  return [...[...answer].map(letterId), NL];
}

/** prompt + answer, with the loss on the answer (and its newline) only. */
export function example(word: string, answer: string): TokenizedSeq {
  const p = promptIds(word);
  const a = answerIds(answer);
  return { ids: [...p, ...a], labels: [...p.map(() => -100), ...a] };
}

export function pair(word: string, chosen: string, rejected: string): TokenizedPair {
  return { chosen: example(word, chosen), rejected: example(word, rejected) };
}

/** Distinct random words, split into train and held-out. */
export function words(n: number, seed: number): string[] {
  const rng = new SplitMix32(seed);
  const out = new Set<string>();
  while (out.size < n) out.add(Array.from({ length: 4 }, () => ALPHABET[rng.int(ALPHABET.length)]).join(""));
  return [...out];
}

/** A tiny Llama model folder with a byte-level BPE tokenizer trained on `corpus` and a Phi-3 style chat template. */
export function makeTinyModelDir(
  dir: string,
  corpus: readonly string[],
  seed = 1,
  over: Partial<LlamaConfig> = {},
): void {
  const bpe = trainBpe(corpus, { vocabSize: 320, specialTokens: [...PHI3_SPECIAL_TOKENS] });
  saveTokenizer(dir, bpe, { eosToken: "<|endoftext|>", padToken: "<|endoftext|>", chatTemplate: PHI3_CHAT_TEMPLATE });
  const cfg = taskModel({
    vocabSize: bpe.vocab.size,
    hiddenSize: 32,
    intermediateSize: 64,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    maxPositionEmbeddings: 128,
    eosTokenId: 0,
    ...over,
  });
  saveModel(dir, cfg, initWeights(cfg, seed));
}
