/**
 * Test and benchmark fixtures for the GGUF / llama.cpp / ONNX code: a seeded random Llama checkpoint with Hugging Face
 * names, and a small byte-level BPE tokenizer.json (GPT-2 byte alphabet + merges + special tokens). They exist so
 * these folders can be tested independently of the model and tokenizer code in nn/, and are not used at run time.
 */
import { mulberry32 } from "../../domain/random.ts";
import { type HfLlamaConfig, type NamedTensor, writeLlamaGguf } from "./llama.ts";

/** Normal(0, std) samples (Box-Muller). */
export function randn(n: number, std: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** A seeded random Llama checkpoint in HF naming. Norm weights are 1 + noise so they are not trivially 1. */
export function randomLlamaWeights(config: HfLlamaConfig, seed: number, std = 0.08): Map<string, NamedTensor> {
  const rand = mulberry32(seed);
  const h = config.hidden_size;
  const hd = config.head_dim ?? h / config.num_attention_heads;
  const q = config.num_attention_heads * hd;
  const k = (config.num_key_value_heads ?? config.num_attention_heads) * hd;
  const f = config.intermediate_size;
  const m = new Map<string, NamedTensor>();
  const mat = (name: string, rows: number, cols: number, s = std) =>
    m.set(name, { shape: [rows, cols], data: randn(rows * cols, s, rand) });
  const norm = (name: string) => {
    const d = randn(h, 0.1, rand);
    for (let i = 0; i < h; i++) d[i] += 1;
    m.set(name, { shape: [h], data: d });
  };
  mat("model.embed_tokens.weight", config.vocab_size, h, 0.5);
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    norm(`${p}input_layernorm.weight`);
    mat(`${p}self_attn.q_proj.weight`, q, h, 0.3);
    mat(`${p}self_attn.k_proj.weight`, k, h, 0.3);
    mat(`${p}self_attn.v_proj.weight`, k, h);
    mat(`${p}self_attn.o_proj.weight`, h, q);
    norm(`${p}post_attention_layernorm.weight`);
    mat(`${p}mlp.gate_proj.weight`, f, h);
    mat(`${p}mlp.up_proj.weight`, f, h);
    mat(`${p}mlp.down_proj.weight`, h, f);
  }
  norm("model.norm.weight");
  if (!config.tie_word_embeddings) mat("lm_head.weight", config.vocab_size, h, 0.3);
  return m;
}

/** GPT-2's bytes_to_unicode: the printable stand-in character of each byte in byte-level BPE vocabularies. */
export function byteToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const map: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (keep.includes(b)) map[b] = String.fromCodePoint(b);
    else map[b] = String.fromCodePoint(256 + n++);
  }
  return map;
}

export const FIXTURE_SPECIALS = ["<|bos|>", "<|eos|>", "<|user|>", "<|assistant|>", "<|end|>"] as const;

/**
 * A byte-level BPE tokenizer.json (GPT-2 pre-tokenizer): ids 0..255 are the bytes, then merges of frequent English
 * pairs, then the special tokens. Returns the JSON and the id of each special token.
 */
export function byteLevelTokenizerJson(extraMerges: readonly [string, string][] = DEFAULT_MERGES): {
  json: Record<string, unknown>;
  specials: Record<string, number>;
  vocabSize: number;
} {
  const b2u = byteToUnicode();
  const vocab: Record<string, number> = {};
  b2u.forEach((ch, i) => {
    vocab[ch] = i;
  });
  let next = 256;
  const merges: string[] = [];
  for (const [a, b] of extraMerges) {
    const ua = [...Buffer.from(a, "utf8")].map((x) => b2u[x]).join("");
    const ub = [...Buffer.from(b, "utf8")].map((x) => b2u[x]).join("");
    if (vocab[ua] === undefined || vocab[ub] === undefined) throw new Error(`fixture merge ${a}+${b}: parts unknown`);
    if (vocab[ua + ub] !== undefined) continue;
    vocab[ua + ub] = next++;
    merges.push(`${ua} ${ub}`);
  }
  const specials: Record<string, number> = {};
  const added = FIXTURE_SPECIALS.map((content) => {
    specials[content] = next;
    return { id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  });
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  return { json, specials, vocabSize: next };
}

const DEFAULT_MERGES: [string, string][] = [
  [" ", "t"],
  ["h", "e"],
  [" t", "he"],
  [" ", "a"],
  ["i", "n"],
  [" ", "s"],
  ["e", "r"],
  [" ", "w"],
  ["o", "n"],
  ["r", "e"],
  [" ", "o"],
  ["a", "t"],
  ["e", "n"],
  ["n", "d"],
  [" a", "nd"],
  [" ", "i"],
  ["i", "s"],
  [" ", "c"],
  ["o", "r"],
  ["a", "r"],
];

export const FIXTURE_CHAT_TEMPLATE =
  "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] + '<|end|>' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

/** A tiny Llama config (vocab from the fixture tokenizer, padded) for fast tests. */
export function tinyLlamaConfig(over: Partial<HfLlamaConfig> = {}): HfLlamaConfig {
  const { vocabSize } = byteLevelTokenizerJson();
  return {
    vocab_size: vocabSize + 3,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 256,
    tie_word_embeddings: false,
    bos_token_id: vocabSize - 5,
    eos_token_id: vocabSize - 4,
    ...over,
  };
}

/**
 * Writes a tiny random Llama GGUF (tinyLlamaConfig, weights of `seed`) with the fixture tokenizer and chat template,
 * the model the llama-server tests run; returns the tokenizer's BOS id.
 */
export function writeFixtureGguf(file: string, seed = 1): { bos: number } {
  const hf = tinyLlamaConfig();
  const tok = byteLevelTokenizerJson();
  writeLlamaGguf(file, {
    config: hf,
    tensors: randomLlamaWeights(hf, seed, 0.25),
    tokenizer: {
      tokenizerJson: tok.json,
      tokenizerConfig: { chat_template: FIXTURE_CHAT_TEMPLATE, bos_token: "<|bos|>", eos_token: "<|eos|>" },
    },
  });
  return { bos: tok.specials["<|bos|>"] };
}
