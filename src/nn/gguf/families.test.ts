/**
 * llama.cpp parity of every family's GGUF export (node-llama-cpp 3.21.1's llama.cpp): a tiny random model of each
 * family (nn/family-fixtures.ts, vocabulary of the fixture tokenizer) exported by writeLlamaGguf and run by llama.cpp
 * gives next-token probabilities within 1e-3 of our model (reference executor) on prompts longer than the sliding
 * windows; and what llama.cpp cannot express is refused with the reason.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { afterAll, describe, expect, it } from "vitest";
import { mulberry32, SplitMix32 } from "../../domain/random.ts";
import { RefExecutor } from "../executor-ref.ts";
import { TINY_FAMILIES } from "../family-fixtures.ts";
import {
  buildForward,
  configToHf,
  forwardBatch,
  initWeights,
  type LlamaConfig,
  type Weights,
  weightFeeds,
} from "../llama.ts";
import { GraphBuilder } from "../tensor.ts";
import { ggufArch, swaPeriod } from "./families.ts";
import { byteLevelTokenizerJson, FIXTURE_CHAT_TEMPLATE } from "./fixtures.ts";
import { readGguf } from "./gguf.ts";
import { type HfLlamaConfig, type LoraPair, writeLlamaGguf, writeLoraGguf } from "./llama.ts";
import { LlamaCppRunner } from "./llamacpp.ts";

const dir = mkdtempSync(join(tmpdir(), "gguf-families-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tok = byteLevelTokenizerJson();
const tokenizerConfig = { chat_template: FIXTURE_CHAT_TEMPLATE, bos_token: "<|bos|>", eos_token: "<|eos|>" };
const nText = tok.vocabSize - 5;

async function ourNextProbs(cfg: LlamaConfig, w: Weights, prompts: number[][]): Promise<Float64Array[]> {
  const B = prompts.length;
  const T = Math.max(...prompts.map((p) => p.length));
  const V = cfg.vocabSize;
  const b = new GraphBuilder();
  const fwd = buildForward(cfg, b, B, T);
  const compiled = new RefExecutor("f32").compile(b.graph, [fwd.logits.id]);
  const ids = new Array<number>(B * T).fill(0);
  const mask = new Array<number>(B * T).fill(0);
  prompts.forEach((p, i) => {
    p.forEach((t, j) => {
      ids[i * T + j] = t;
      mask[i * T + j] = 1;
    });
  });
  const [logits] = await compiled.run({ ...weightFeeds(w), ...forwardBatch(B, T, ids, mask) });
  return prompts.map((p, i) => {
    const off = (i * T + p.length - 1) * V;
    const out = new Float64Array(V);
    let mx = Number.NEGATIVE_INFINITY;
    for (let v = 0; v < V; v++) mx = Math.max(mx, logits.data[off + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += out[v] = Math.exp(logits.data[off + v] - mx);
    for (let v = 0; v < V; v++) out[v] /= s;
    return out;
  });
}

function prompts(n: number, seed: number, minLen: number, maxLen: number): number[][] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const len = minLen + Math.floor(rand() * (maxLen - minLen + 1));
    return Array.from({ length: len }, () => Math.floor(rand() * nText));
  });
}

/** A family's tiny model with the fixture tokenizer's vocabulary; 1-D weights (norms, biases) get noise. */
function model(name: string, patch: Partial<LlamaConfig> = {}): { cfg: LlamaConfig; w: Weights } {
  const cfg: LlamaConfig = { ...structuredClone(TINY_FAMILIES[name]), vocabSize: tok.vocabSize, ...patch };
  const w = initWeights(cfg, 21, 0.15);
  const rng = new SplitMix32(22);
  for (const t of w.values())
    if (t.shape.length === 1) for (let i = 0; i < t.data.length; i++) t.data[i] += 0.1 * rng.normal();
  return { cfg, w };
}

/**
 * The parity cases: prompt lengths span the sliding windows (9) except where llama.cpp itself runs without one
 * (Mistral as llama, Phi-3 as phi3: prompts within the window there). Phi-3.5 is run in both longrope regimes:
 * llama.cpp picks the factors by context size (128 > original 16: long) and HF by sequence length (all > 16: long);
 * with an original context of 1024 both pick the short factors.
 */
const CASES: { name: string; family: string; patch?: Partial<LlamaConfig>; arch: string; min: number; max: number }[] =
  [
    { name: "Llama 3.2 (tied, llama3 rope_freqs)", family: "llama3.2", arch: "llama", min: 1, max: 40 },
    { name: "SmolLM2 (9 heads / 3 kv, tied)", family: "smollm2", arch: "llama", min: 1, max: 40 },
    {
      name: "Mistral (llama arch; llama.cpp has no window: prompts <= 9)",
      family: "mistral",
      arch: "llama",
      min: 1,
      max: 9,
    },
    { name: "Qwen2.5 (q/k/v bias)", family: "qwen2.5", arch: "qwen2", min: 1, max: 40 },
    { name: "Qwen3 (q/k norm)", family: "qwen3", arch: "qwen3", min: 1, max: 40 },
    // llama.cpp scales queries by head_dim^-0.5: gemma-2-2b's query_pre_attn_scalar (256 = head_dim)
    {
      name: "Gemma 2 (soft-caps, sliding window)",
      family: "gemma2",
      patch: { queryPreAttnScalar: 8 },
      arch: "gemma2",
      min: 10,
      max: 40,
    },
    {
      name: "Gemma 3 (q/k norm, local base, linear global scaling)",
      family: "gemma3",
      arch: "gemma3",
      min: 10,
      max: 40,
    },
    { name: "Phi-3.5 longrope, long factors", family: "phi3.5", arch: "phi3", min: 17, max: 40 },
    {
      name: "Phi-3.5 longrope, short factors",
      family: "phi3.5",
      patch: {
        maxPositionEmbeddings: 32768,
        ropeScaling: {
          type: "longrope",
          shortFactor: [1.0, 1.1, 1.3, 1.9],
          longFactor: [1.2, 3.5, 9.0, 30.0],
          originalMaxPositionEmbeddings: 1024,
          attentionFactor: Math.sqrt(1 + Math.log(32) / Math.log(1024)),
        },
      },
      arch: "phi3",
      min: 1,
      max: 40,
    },
  ];

describe("llama.cpp parity of each family's GGUF export (node-llama-cpp 3.21.1)", () => {
  for (const c of CASES) {
    it(`${c.name}: next-token probabilities within 1e-3 on 12 prompts`, async () => {
      const { cfg, w } = model(c.family, c.patch);
      const path = join(dir, `${c.family}-${c.arch}-${c.min}.gguf`);
      writeLlamaGguf(path, {
        config: configToHf(cfg) as unknown as HfLlamaConfig,
        tensors: w,
        tokenizer: { tokenizerJson: tok.json, tokenizerConfig },
      });
      expect(readGguf(path).metadata.get("general.architecture")).toBe(c.arch);
      const runner = await LlamaCppRunner.load(path, { sequences: 4, contextSize: 128, precision: "exact" });
      try {
        const ps = prompts(12, 7, c.min, c.max);
        const ours = await ourNextProbs(cfg, w, ps);
        const theirs = await runner.nextTokenProbabilities(ps);
        let worst = 0;
        ps.forEach((_, i) => {
          for (let v = 0; v < cfg.vocabSize; v++) worst = Math.max(worst, Math.abs(ours[i][v] - theirs[i][v]));
        });
        console.info(`[llama.cpp parity ${c.family} ${c.arch}] max |p_ours - p_llama.cpp| = ${worst.toExponential(2)}`);
        expect(worst).toBeLessThan(1e-3);
        // the distributions are far from uniform, so the comparison has teeth
        expect(Math.max(...ours.map((p) => Math.max(...p)))).toBeGreaterThan(5 / cfg.vocabSize);
      } finally {
        await runner.dispose();
      }
    });
  }
});

describe("GGUF LoRA adapters of the NEOX-RoPE architectures (no q/k row permutation; phi3's fused gate + up)", () => {
  for (const family of ["qwen2.5", "gemma3", "phi3.5"]) {
    it(`${family}: llama.cpp with the adapter gives our merged model's probabilities`, async () => {
      const { cfg, w } = model(family);
      const config = configToHf(cfg) as unknown as HfLlamaConfig;
      const modelPath = join(dir, `${family}-lora-base.gguf`);
      writeLlamaGguf(modelPath, { config, tensors: w, tokenizer: { tokenizerJson: tok.json, tokenizerConfig } });
      const rng = new SplitMix32(31);
      const alpha = 8;
      const pairs = new Map<string, LoraPair>();
      const merged: Weights = new Map(w);
      for (let l = 0; l < cfg.numLayers; l++) {
        for (const m of [
          "self_attn.q_proj",
          "self_attn.k_proj",
          "self_attn.v_proj",
          "self_attn.o_proj",
          "mlp.gate_proj",
          "mlp.up_proj",
          "mlp.down_proj",
        ]) {
          // phi3 fuses gate + up: layer 0 adapts both (ranks 4 and 2), layer 1 only up
          if (m === "mlp.gate_proj" && family === "phi3.5" && l === 1) continue;
          const r = m === "mlp.up_proj" ? 2 : 4;
          const name = `model.layers.${l}.${m}.weight`;
          const base = w.get(name)!;
          const [out, inp] = base.shape;
          const a = { shape: [r, inp], data: Float32Array.from({ length: r * inp }, () => 0.3 * rng.normal()) };
          const b = { shape: [out, r], data: Float32Array.from({ length: out * r }, () => 0.6 * rng.normal()) };
          pairs.set(name, { a, b });
          const data = Float32Array.from(base.data as Float32Array);
          for (let i = 0; i < out; i++) {
            for (let j = 0; j < inp; j++) {
              let s = 0;
              for (let k = 0; k < r; k++) s += b.data[i * r + k] * a.data[k * inp + j];
              data[i * inp + j] += (alpha / r) * s;
            }
          }
          merged.set(name, { shape: base.shape, data });
        }
      }
      const adapterPath = join(dir, `${family}-lora.gguf`);
      writeLoraGguf(adapterPath, { config, pairs, alpha });
      const runner = await LlamaCppRunner.load(modelPath, {
        sequences: 4,
        contextSize: 128,
        precision: "exact",
        lora: [{ path: adapterPath }],
      });
      try {
        const ps = prompts(8, 5, 10, 30);
        const ours = await ourNextProbs(cfg, merged, ps);
        const base = await ourNextProbs(cfg, w, ps);
        const theirs = await runner.nextTokenProbabilities(ps);
        let worst = 0;
        let effect = 0;
        ps.forEach((_, i) => {
          for (let v = 0; v < cfg.vocabSize; v++) {
            worst = Math.max(worst, Math.abs(ours[i][v] - theirs[i][v]));
            effect = Math.max(effect, Math.abs(ours[i][v] - base[i][v]));
          }
        });
        console.info(
          `[llama.cpp LoRA ${family}] max diff vs merged ${worst.toExponential(2)}; adapter effect ${effect.toFixed(3)}`,
        );
        expect(worst).toBeLessThan(1e-3);
        expect(effect).toBeGreaterThan(0.05);
      } finally {
        await runner.dispose();
      }
    });
  }
});

describe("byte-level BPE pre-tokenizers of the families (tokenizer.ggml.pre)", () => {
  const QWEN2 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const variants: [string, string, unknown][] = [
    [
      "Qwen2 / 2.5 / 3",
      "qwen2",
      {
        type: "Sequence",
        pretokenizers: [
          { type: "Split", pattern: { Regex: QWEN2 }, behavior: "Isolated", invert: false },
          { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
        ],
      },
    ],
    [
      "SmolLM2",
      "smollm",
      {
        type: "Sequence",
        pretokenizers: [
          { type: "Digits", individual_digits: true },
          { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
        ],
      },
    ],
  ];
  for (const [label, pre, preTokenizer] of variants) {
    it(`${label}: detected as "${pre}"; llama.cpp tokenizes like @huggingface/tokenizers`, async () => {
      // merges across the splits the pre-tokenizers disagree on (digit runs, space + digit), so a wrong pre has teeth
      const t2 = byteLevelTokenizerJson([
        ["1", "2"],
        ["12", "3"],
        [" ", "6"],
        ["6", "7"],
        ["2", "0"],
        ["\n", "\n"],
        ["t", "h"],
        ["a", "n"],
      ]);
      const json = { ...t2.json, pre_tokenizer: preTokenizer };
      const gpt2 = new Tokenizer(t2.json, tokenizerConfig);
      const { cfg, w } = model("qwen2.5", { vocabSize: t2.vocabSize });
      const path = join(dir, `tok-${pre}.gguf`);
      writeLlamaGguf(path, {
        config: configToHf(cfg) as unknown as HfLlamaConfig,
        tensors: w,
        tokenizer: { tokenizerJson: json, tokenizerConfig },
      });
      expect(readGguf(path).metadata.get("tokenizer.ggml.pre")).toBe(pre);
      const hfTok = new Tokenizer(json, tokenizerConfig);
      const runner = await LlamaCppRunner.load(path, { sequences: 1, contextSize: 64 });
      try {
        for (const t of [
          "numbers 12345 67 8 and 2024",
          "Hello, world! It's 10:30.",
          "tabs\tand\nnewlines\n\n  x",
          "héllo wörld 中文",
        ]) {
          expect(runner.tokenize(t, false), t).toEqual(hfTok.encode(t, { add_special_tokens: false }).ids);
        }
        const digits = "numbers 12345 67 8 and 2024";
        expect(hfTok.encode(digits).ids).not.toEqual(gpt2.encode(digits).ids); // the split matters for this text
      } finally {
        await runner.dispose();
      }
    });
  }
});

describe("what llama.cpp cannot express is refused, naming the key", () => {
  const hf = (name: string, patch: Partial<LlamaConfig> = {}) => {
    const { cfg, w } = model(name, patch);
    return {
      config: configToHf(cfg) as unknown as HfLlamaConfig,
      tensors: w,
      tokenizer: { tokenizerJson: tok.json, tokenizerConfig },
    };
  };
  it("Gemma's query_pre_attn_scalar other than llama.cpp's, untied Gemma, non-periodic windows, Qwen windows", () => {
    const p = join(dir, "refused.gguf");
    expect(() => writeLlamaGguf(p, hf("gemma2"))).toThrow(/query_pre_attn_scalar 9: llama.cpp's gemma2 uses 8/);
    expect(() => writeLlamaGguf(p, hf("gemma3", { tieWordEmbeddings: false }))).toThrow(/tie_word_embeddings/);
    const bad = hf("gemma3", {
      numLayers: 3,
      layerTypes: ["full_attention", "sliding_attention", "sliding_attention"],
    });
    expect(() => writeLlamaGguf(p, bad)).toThrow(/not a periodic pattern/);
    const qwenWindow = hf("qwen3", { slidingWindow: 8, layerTypes: ["full_attention", "sliding_attention"] });
    expect(() => writeLlamaGguf(p, qwenWindow)).toThrow(/use_sliding_window/);
  });

  it("sliding-window patterns map to llama.cpp's period (layer il slides iff il % n < n - 1)", () => {
    const g2 = Array.from({ length: 6 }, (_, i) => ((i + 1) % 2 ? "sliding_attention" : "full_attention"));
    const g3 = Array.from({ length: 12 }, (_, i) => ((i + 1) % 6 ? "sliding_attention" : "full_attention"));
    expect(swaPeriod(g2)).toBe(2);
    expect(swaPeriod(g3)).toBe(6);
    expect(swaPeriod(["full_attention", "full_attention"])).toBe(1);
  });
});

describe('GGUF export of a Phi-3 config.json whose rope_scaling says "su" or "yarn"', () => {
  it("exports as phi3 with longrope, as transformers reads it (configuration_phi3.py renames both to longrope)", () => {
    const hf = configToHf(TINY_FAMILIES["phi3.5"]) as unknown as HfLlamaConfig;
    expect(ggufArch(hf)).toBe("phi3");
    for (const old of ["su", "yarn"]) {
      const { rope_type: _r, ...factors } = hf.rope_scaling as Record<string, unknown>;
      expect(ggufArch({ ...hf, rope_scaling: { ...factors, type: old } })).toBe("phi3");
    }
  });
});
