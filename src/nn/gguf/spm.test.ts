/**
 * SentencePiece export (spm.ts): a tokenizer.model written here (protobuf, the layout of sentencepiece_model.proto)
 * and the equivalent tokenizer.json (BPE with byte fallback, as transformers ships for Gemma / Mistral / Llama 2) are
 * exported with a tiny Gemma 2; llama.cpp's SPM tokenizer must split like @huggingface/tokenizers, with and without
 * the dummy prefix, through byte fallback for characters outside the vocabulary.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { afterAll, describe, expect, it } from "vitest";
import { TINY_FAMILIES } from "../family-fixtures.ts";
import { configToHf, initWeights } from "../llama.ts";
import { readGguf } from "./gguf.ts";
import { type HfLlamaConfig, writeLlamaGguf } from "./llama.ts";
import { LlamaCppRunner } from "./llamacpp.ts";
import { parseSentencePiece } from "./spm.ts";

const dir = mkdtempSync(join(tmpdir(), "gguf-spm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// --- a minimal protobuf writer
const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = BigInt.asUintN(64, BigInt(n)); // negative int32: two's complement over 64 bits (10 bytes)
  do {
    let b = Number(v % 128n);
    v /= 128n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
};
const field = (f: number, wire: number, payload: number[]): number[] => [...varint(f * 8 + wire), ...payload];
const bytesField = (f: number, b: number[]): number[] => field(f, 2, [...varint(b.length), ...b]);
const f32 = (x: number): number[] => [...new Uint8Array(Float32Array.of(x).buffer)];

const S = "\u2581"; // ▁
const MERGES: [string, string][] = [
  [S, "t"],
  ["h", "e"],
  [`${S}t`, "he"],
  ["a", "n"],
  [S, "a"],
  [`${S}a`, "n"],
  ["i", "n"],
  ["in", "g"],
  [S, "c"],
  ["a", "t"],
  [`${S}c`, "at"],
  [S, S],
];

function vocabulary(): { pieces: { piece: string; score: number; type: number }[]; merges: string[] } {
  const pieces = [
    { piece: "<unk>", score: 0, type: 2 },
    { piece: "<s>", score: 0, type: 3 },
    { piece: "</s>", score: 0, type: 3 },
  ];
  for (let b = 0; b < 256; b++)
    pieces.push({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, score: 0, type: 6 });
  for (const ch of [S, ..."abcdefghijklmnopqrstuvwxyz", ",", "!", "."])
    pieces.push({ piece: ch, score: -1000, type: 1 });
  // merged pieces score by merge rank (earlier = higher), as SentencePiece BPE models do
  MERGES.forEach(([a, b], rank) => {
    pieces.push({ piece: a + b, score: -rank, type: 1 });
  });
  // merges as transformers' SentencePiece converter derives them: every split of a piece into two pieces, in the
  // piece's score order (SentencePiece merges any adjacent pair whose concatenation is a piece)
  const ids = new Map(pieces.map((p, i) => [p.piece, i]));
  const merges: string[] = [];
  for (const [a, b] of MERGES) {
    const whole = [...(a + b)];
    for (let k = 1; k < whole.length; k++) {
      const l = whole.slice(0, k).join("");
      const r = whole.slice(k).join("");
      if (ids.has(l) && ids.has(r)) merges.push(`${l} ${r}`);
    }
  }
  return { pieces, merges };
}

function tokenizerModel(addDummyPrefix: boolean): Uint8Array {
  const { pieces } = vocabulary();
  const out: number[] = [];
  for (const p of pieces) {
    const body = [
      ...bytesField(1, [...Buffer.from(p.piece, "utf8")]),
      ...field(2, 5, f32(p.score)),
      ...field(3, 0, varint(p.type)),
    ];
    out.push(...bytesField(1, body));
  }
  out.push(
    ...bytesField(2, [
      ...field(3, 0, varint(2)),
      ...field(40, 0, varint(0)),
      ...field(41, 0, varint(1)),
      ...field(42, 0, varint(2)),
      ...field(43, 0, varint(-1)),
    ]),
  );
  out.push(
    ...bytesField(3, [...bytesField(1, [...Buffer.from("identity")]), ...field(3, 0, varint(addDummyPrefix ? 1 : 0))]),
  );
  return Uint8Array.from(out);
}

function tokenizerJson(addDummyPrefix: boolean): Record<string, unknown> {
  const { pieces, merges } = vocabulary();
  const vocab = Object.fromEntries(pieces.map((p, i) => [p.piece, i]));
  const replace = { type: "Replace", pattern: { String: " " }, content: S };
  return {
    version: "1.0",
    added_tokens: ["<unk>", "<s>", "</s>"].map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: addDummyPrefix
      ? { type: "Sequence", normalizers: [{ type: "Prepend", prepend: S }, replace] }
      : replace,
    pre_tokenizer: null,
    post_processor: null,
    decoder: {
      type: "Sequence",
      decoders: [{ type: "Replace", pattern: { String: S }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

describe("SentencePiece tokenizer.model -> llama.cpp SPM vocabulary", () => {
  it("parses pieces, scores, types, special ids and add_dummy_prefix", () => {
    const m = parseSentencePiece(tokenizerModel(false));
    const { pieces } = vocabulary();
    expect(m.pieces).toEqual(pieces.map((p) => ({ ...p, score: Math.fround(p.score) })));
    expect(m).toMatchObject({ addDummyPrefix: false, unkId: 0, bosId: 1, eosId: 2, padId: -1 });
    expect(parseSentencePiece(tokenizerModel(true)).addDummyPrefix).toBe(true);
    expect(() => parseSentencePiece(Uint8Array.of(0x08, 0x01))).toThrow(/no pieces/);
  });

  for (const prefix of [false, true]) {
    it(`llama.cpp tokenizes like @huggingface/tokenizers (${prefix ? "Llama 2 / Mistral style dummy prefix" : "Gemma style, no prefix"})`, async () => {
      const json = tokenizerJson(prefix);
      const V = vocabulary().pieces.length;
      const cfg = { ...TINY_FAMILIES.gemma2, queryPreAttnScalar: 8, vocabSize: V };
      const path = join(dir, `spm-${prefix}.gguf`);
      const tokenizerConfig = { add_bos_token: true, bos_token: "<s>", eos_token: "</s>" };
      writeLlamaGguf(path, {
        config: configToHf(cfg) as unknown as HfLlamaConfig,
        tensors: initWeights(cfg, 3, 0.1),
        tokenizer: { tokenizerJson: json, tokenizerConfig, sentencePiece: tokenizerModel(prefix) },
      });
      const meta = readGguf(path).metadata;
      expect(meta.get("tokenizer.ggml.model")).toBe("llama");
      expect(meta.get("tokenizer.ggml.add_space_prefix")).toBe(prefix);
      const hfTok = new Tokenizer(json, {});
      const runner = await LlamaCppRunner.load(path, { sequences: 1, contextSize: 64 });
      try {
        for (const t of [
          "the cat and the thing",
          "an ant, a cat!",
          "  two  spaces",
          "héllo wörld 12 中",
          "catcat thethe",
        ]) {
          const ids = hfTok.encode(t, { add_special_tokens: false }).ids;
          expect(runner.tokenize(t, false), t).toEqual(ids);
        }
        // byte fallback really happens (é is not a piece) and merges really apply (▁the is one token)
        expect(hfTok.encode("é", { add_special_tokens: false }).ids.length).toBeGreaterThan(1);
        expect(hfTok.encode(" the", { add_special_tokens: false }).ids).toContain(
          vocabulary().pieces.findIndex((p) => p.piece === `${S}the`),
        );
      } finally {
        await runner.dispose();
      }
    });
  }
});
