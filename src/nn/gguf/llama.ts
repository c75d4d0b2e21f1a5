/**
 * Hugging Face Llama (and Phi-3) -> GGUF, the way llama.cpp's convert_hf_to_gguf.py / convert_lora_to_gguf.py do it:
 *
 * - tensor names: model.embed_tokens -> token_embd, model.layers.N.self_attn.q_proj -> blk.N.attn_q, ... , model.norm
 *   -> output_norm, lm_head -> output (omitted when the embeddings are tied: llama.cpp then reuses token_embd);
 * - the rows of q_proj (heads = num_attention_heads) and k_proj (heads = num_key_value_heads) are permuted: HF applies
 *   RoPE to the halves of each head (rotate_half), llama.cpp's LLAMA architecture to adjacent pairs, so within a
 *   head row (t * half + j) moves to (2 * j + t). LoRA: only lora_b of q/k is permuted (its rows are output rows);
 * - Phi-3 fused qkv_proj / gate_up_proj are split into q/k/v and gate/up (a Phi-3 exported this way is a Llama);
 * - 1-D tensors (norms) stay F32 in an F16 file, as the convert script does;
 * - byte-level BPE tokenizer.json -> tokenizer.ggml.model = "gpt2" with tokens, token types, merges, special ids and
 *   the chat template;
 * - Llama 3.x rope_scaling "llama3" -> a rope_freqs tensor of per-frequency divisors, "linear" -> rope.scaling.*.
 * Other families (Qwen2, Qwen3, Gemma 2 / 3, Phi-3.5 longrope) have their own llama.cpp architectures: families.ts.
 */
import { chatTemplateOf } from "../chat-template.ts";
import { familyGgufTensors, familyMetadata, ggufArch } from "./families.ts";
import { GgmlType, type GgmlTypeId, type GgufTensorIn, type GgufValue, kv, writeGguf } from "./gguf.ts";
import { parseSentencePiece, spmTokenizerMetadata } from "./spm.ts";

/** The fields of a Hugging Face `config.json` (LlamaForCausalLM / Phi3ForCausalLM) the export needs. */
export interface HfLlamaConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  rms_norm_eps: number;
  rope_theta?: number;
  max_position_embeddings?: number;
  tie_word_embeddings?: boolean;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
  rope_scaling?: unknown;
  _name_or_path?: string;
  // family keys (see nn/families.ts); model_type picks the llama.cpp architecture (gguf/families.ts)
  model_type?: string;
  sliding_window?: number | null;
  layer_types?: string[];
  use_sliding_window?: boolean;
  query_pre_attn_scalar?: number;
  attn_logit_softcapping?: number | null;
  final_logit_softcapping?: number | null;
  rope_local_base_freq?: number;
  original_max_position_embeddings?: number;
}

/** A row-major tensor (nn's HostTensor fits); values are stored as F32/F16 whatever the array type. */
export interface NamedTensor {
  shape: readonly number[];
  data: Float32Array | Float64Array | Int32Array;
}

/** The tensor's values as a Float32Array (no copy when it already is one). */
export function asF32(data: NamedTensor["data"]): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/** The tokenizer inputs: the parsed `tokenizer.json` and (optionally) `tokenizer_config.json`. */
export interface HfTokenizerFiles {
  tokenizerJson: unknown;
  tokenizerConfig?: unknown;
  /** tokenizer.model bytes: a SentencePiece vocabulary (Gemma, Mistral, Phi-3, Llama 2) exports as llama.cpp's SPM */
  sentencePiece?: Uint8Array;
}

export interface LlamaGgufOptions {
  config: HfLlamaConfig;
  /** Parameters by Hugging Face name (model.layers.0.self_attn.q_proj.weight, ...). */
  tensors: ReadonlyMap<string, NamedTensor> | Readonly<Record<string, NamedTensor>>;
  tokenizer: HfTokenizerFiles;
  /** Storage type of the 2-D weights. Default "f32". */
  dtype?: "f32" | "f16";
  name?: string;
  /** Override tokenizer.ggml.pre (otherwise derived from the tokenizer's pre_tokenizer). */
  pre?: string;
}

/** llama.cpp token types (llama_token_type / gguf.TokenType). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/**
 * A config.json's rope_scaling type as transformers reads it: Phi-3's "su" and "yarn" are longrope (configuration_phi3.py
 * renames them, for backward compatibility), as configFromHf reads them.
 */
export function ropeScalingKind(c: HfLlamaConfig): string | undefined {
  const rs = c.rope_scaling as { rope_type?: string; type?: string } | null | undefined;
  const kind = rs ? (rs.rope_type ?? rs.type) : undefined;
  return c.model_type === "phi3" && (kind === "su" || kind === "yarn") ? "longrope" : kind;
}

export function headDim(c: HfLlamaConfig): number {
  return c.head_dim ?? c.hidden_size / c.num_attention_heads;
}

export function kvHeads(c: HfLlamaConfig): number {
  return c.num_key_value_heads ?? c.num_attention_heads;
}

/**
 * Reorder the rows of a [nHead * headDim, cols] projection from HF's rotate-half RoPE layout to llama.cpp's
 * interleaved one (LlamaModel.permute in convert_hf_to_gguf.py): reshape(nHead, 2, hd/2, cols).swapaxes(1, 2).
 */
export function permuteRopeRows(data: Float32Array, rows: number, cols: number, nHead: number): Float32Array {
  if (rows % nHead !== 0 || (rows / nHead) % 2 !== 0) {
    throw new Error(`permuteRopeRows: ${rows} rows do not split into ${nHead} heads of even size`);
  }
  const hd = rows / nHead;
  const half = hd / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < nHead; h++) {
    for (let t = 0; t < 2; t++) {
      for (let j = 0; j < half; j++) {
        const src = (h * hd + t * half + j) * cols;
        const dst = (h * hd + 2 * j + t) * cols;
        out.set(data.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

const LAYER_MAP: Record<string, string> = {
  "input_layernorm.weight": "attn_norm.weight",
  "self_attn.q_proj.weight": "attn_q.weight",
  "self_attn.k_proj.weight": "attn_k.weight",
  "self_attn.v_proj.weight": "attn_v.weight",
  "self_attn.o_proj.weight": "attn_output.weight",
  "post_attention_layernorm.weight": "ffn_norm.weight",
  "mlp.gate_proj.weight": "ffn_gate.weight",
  "mlp.up_proj.weight": "ffn_up.weight",
  "mlp.down_proj.weight": "ffn_down.weight",
};

/** What the other llama.cpp architectures add or name differently (Gemma's norms around attention and MLP). */
const FAMILY_LAYER_MAP: Record<string, string> = {
  "self_attn.q_proj.bias": "attn_q.bias",
  "self_attn.k_proj.bias": "attn_k.bias",
  "self_attn.v_proj.bias": "attn_v.bias",
  "self_attn.q_norm.weight": "attn_q_norm.weight",
  "self_attn.k_norm.weight": "attn_k_norm.weight",
};
const GEMMA_LAYER_MAP: Record<string, string> = {
  "post_attention_layernorm.weight": "post_attention_norm.weight",
  "pre_feedforward_layernorm.weight": "ffn_norm.weight",
  "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
};

/** The llama.cpp name of a Hugging Face parameter (without fused Phi-3 names) in `arch`, or throws naming it. */
export function ggufTensorName(hfName: string, arch = "llama"): string {
  if (hfName === "model.embed_tokens.weight") return "token_embd.weight";
  if (hfName === "model.norm.weight") return "output_norm.weight";
  if (hfName === "lm_head.weight") return "output.weight";
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hfName);
  const gemma = arch === "gemma2" || arch === "gemma3";
  const mapped =
    m && ((gemma && GEMMA_LAYER_MAP[m[2]]) || LAYER_MAP[m[2]] || (arch !== "llama" && FAMILY_LAYER_MAP[m[2]]));
  if (m && mapped) return `blk.${m[1]}.${mapped}`;
  throw new Error(`GGUF export: no llama.cpp ${arch} name for tensor "${hfName}"`);
}

function sliceRows(t: NamedTensor, start: number, end: number): NamedTensor {
  const cols = t.shape[1];
  return { shape: [end - start, cols], data: asF32(t.data).slice(start * cols, end * cols) };
}

/** Split Phi-3's fused qkv_proj / gate_up_proj into Llama's separate projections; other names pass through. */
export function unfusePhi3(config: HfLlamaConfig, tensors: Iterable<[string, NamedTensor]>): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  const hd = headDim(config);
  const q = config.num_attention_heads * hd;
  const k = kvHeads(config) * hd;
  for (const [name, t] of tensors) {
    if (name.endsWith(".self_attn.qkv_proj.weight")) {
      const base = name.slice(0, -"qkv_proj.weight".length);
      if (t.shape[0] !== q + 2 * k) throw new Error(`${name}: expected ${q + 2 * k} rows, got ${t.shape[0]}`);
      out.set(`${base}q_proj.weight`, sliceRows(t, 0, q));
      out.set(`${base}k_proj.weight`, sliceRows(t, q, q + k));
      out.set(`${base}v_proj.weight`, sliceRows(t, q + k, q + 2 * k));
    } else if (name.endsWith(".mlp.gate_up_proj.weight")) {
      const base = name.slice(0, -"gate_up_proj.weight".length);
      const i = config.intermediate_size;
      if (t.shape[0] !== 2 * i) throw new Error(`${name}: expected ${2 * i} rows, got ${t.shape[0]}`);
      out.set(`${base}gate_proj.weight`, sliceRows(t, 0, i));
      out.set(`${base}up_proj.weight`, sliceRows(t, i, 2 * i));
    } else out.set(name, t);
  }
  return out;
}

function entries(
  t: ReadonlyMap<string, NamedTensor> | Readonly<Record<string, NamedTensor>>,
): Iterable<[string, NamedTensor]> {
  return t instanceof Map ? t.entries() : Object.entries(t);
}

function checkConfig(c: HfLlamaConfig): void {
  const ints: (keyof HfLlamaConfig)[] = [
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
  ];
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      throw new Error(`GGUF export: config.json key "${k}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  if (typeof c.rms_norm_eps !== "number") throw new Error('GGUF export: config.json key "rms_norm_eps" is missing');
  const kind = ropeScalingKind(c);
  const arch = ggufArch(c);
  const ok =
    kind === undefined ||
    kind === "default" ||
    kind === "linear" ||
    (kind === "llama3" && arch === "llama") ||
    (kind === "longrope" && arch === "phi3");
  if (!ok) throw new Error(`GGUF export: config.json rope_scaling "${kind}" has no llama.cpp ${arch} equivalent here`);
  if (!Number.isInteger(headDim(c))) throw new Error("GGUF export: hidden_size is not a multiple of the head count");
}

/** Model metadata for the llama architecture (llama.cpp's LLM_KV names). */
export function llamaMetadata(c: HfLlamaConfig, fileType: 0 | 1, name: string): Map<string, GgufValue> {
  checkConfig(c);
  const hd = headDim(c);
  const m = new Map<string, GgufValue>();
  m.set("general.architecture", kv.str("llama"));
  m.set("general.type", kv.str("model"));
  m.set("general.name", kv.str(name));
  m.set("general.file_type", kv.u32(fileType));
  m.set("llama.vocab_size", kv.u32(c.vocab_size));
  m.set("llama.context_length", kv.u32(c.max_position_embeddings ?? 2048));
  m.set("llama.embedding_length", kv.u32(c.hidden_size));
  m.set("llama.block_count", kv.u32(c.num_hidden_layers));
  m.set("llama.feed_forward_length", kv.u32(c.intermediate_size));
  m.set("llama.rope.dimension_count", kv.u32(hd));
  m.set("llama.attention.head_count", kv.u32(c.num_attention_heads));
  m.set("llama.attention.head_count_kv", kv.u32(kvHeads(c)));
  m.set("llama.attention.layer_norm_rms_epsilon", kv.f32(c.rms_norm_eps));
  m.set("llama.rope.freq_base", kv.f32(c.rope_theta ?? 10000));
  if (hd * c.num_attention_heads !== c.hidden_size) {
    m.set("llama.attention.key_length", kv.u32(hd));
    m.set("llama.attention.value_length", kv.u32(hd));
  }
  const rs = c.rope_scaling as { rope_type?: string; type?: string; factor?: number } | null | undefined;
  if (rs && (rs.rope_type ?? rs.type) === "linear") {
    m.set("llama.rope.scaling.type", kv.str("linear"));
    m.set("llama.rope.scaling.factor", kv.f32(rs.factor ?? 1));
  }
  return m;
}

/**
 * Llama 3.1+ rope_scaling as llama.cpp's rope_freqs tensor [hd/2]: llama.cpp divides each frequency by its entry
 * (1 for high frequencies, `factor` for low ones, smoothed between), as LlamaModel.generate_extra_tensors writes it.
 */
export function llama3RopeFreqs(c: HfLlamaConfig): Float32Array | undefined {
  const rs = c.rope_scaling as Record<string, number | string> | null | undefined;
  if (!rs || (rs.rope_type ?? rs.type) !== "llama3") return undefined;
  const hd = headDim(c);
  const base = c.rope_theta ?? 10000;
  const factor = Number(rs.factor ?? 8);
  const lo = Number(rs.low_freq_factor ?? 1);
  const hi = Number(rs.high_freq_factor ?? 4);
  const old = Number(rs.original_max_position_embeddings ?? 8192);
  const out = new Float32Array(hd / 2);
  for (let i = 0; i < hd / 2; i++) {
    const freq = Math.fround(1 / Math.fround(base ** Math.fround((2 * i) / hd)));
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < old / hi) out[i] = 1;
    else if (wavelen > old / lo) out[i] = factor;
    else {
      const smooth = (old / wavelen - lo) / (hi - lo);
      out[i] = 1 / ((1 - smooth) / factor + smooth);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------------------------
// Tokenizer

interface AddedToken {
  id: number;
  content: string;
  special?: boolean;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

const QWEN2_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const GPT2_SPLIT = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

/**
 * Which llama.cpp pre-tokenizer (tokenizer.ggml.pre) reproduces this tokenizer.json's pre_tokenizer.
 *
 * llama.cpp ties two things to this name: the split regex and `clean_spaces` (HF's clean_up_tokenization_spaces,
 * which makes detokenize drop the space in " ," " ." " ?" " !" and around apostrophes). "gpt-2" has the GPT-2 regex
 * with clean-up ON; "trillion" has the same regex with clean-up OFF (llama-vocab.cpp), which is what a byte-level
 * BPE decodes to in HF when clean_up_tokenization_spaces is false (the default of tokenizers trained here). So a
 * GPT-2-style tokenizer becomes "gpt-2" only when tokenizer_config.json asks for the clean-up.
 */
export function detectPreTokenizer(tokenizerJson: Record<string, unknown>, cleanUpSpaces = false): string {
  const pt = tokenizerJson.pre_tokenizer;
  const gpt2 = cleanUpSpaces ? "gpt-2" : "trillion";
  const isByteLevel = (p: unknown, regex: boolean) =>
    isRecord(p) && p.type === "ByteLevel" && (p.use_regex ?? true) === regex;
  if (isByteLevel(pt, true)) return gpt2;
  if (isRecord(pt) && pt.type === "Sequence" && Array.isArray(pt.pretokenizers)) {
    const ps = pt.pretokenizers as unknown[];
    const split = ps[0];
    // SmolLM / SmolLM2: single digits, then GPT-2's byte-level split (llama.cpp "smollm", no space clean-up)
    if (
      ps.length === 2 &&
      isRecord(split) &&
      split.type === "Digits" &&
      split.individual_digits === true &&
      isByteLevel(ps[1], true)
    )
      return "smollm";
    // Qwen2 / 2.5 / 3: Llama 3's split with single digits (\p{N} instead of \p{N}{1,3})
    const qwenPattern = isRecord(split) && isRecord(split.pattern) ? split.pattern.Regex : undefined;
    if (ps.length === 2 && isByteLevel(ps[1], false) && qwenPattern === QWEN2_SPLIT) return "qwen2";
    if (ps.length === 2 && isByteLevel(ps[1], false) && isRecord(split) && split.type === "Split") {
      const pattern = isRecord(split.pattern) ? split.pattern.Regex : undefined;
      if (pattern === GPT2_SPLIT) return gpt2;
      if (
        typeof pattern === "string" &&
        pattern.startsWith("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+")
      )
        return "llama-bpe";
    }
  }
  throw new Error(
    `GGUF export: tokenizer.json pre_tokenizer ${JSON.stringify(pt)?.slice(0, 200)} has no known llama.cpp ` +
      "equivalent; pass `pre` explicitly",
  );
}

/** tokenizer.ggml.* metadata for a byte-level BPE tokenizer.json. */
export function tokenizerMetadata(
  files: HfTokenizerFiles,
  config: HfLlamaConfig,
  preOverride?: string,
): Map<string, GgufValue> {
  const tj = files.tokenizerJson;
  if (!isRecord(tj) || !isRecord(tj.model)) throw new Error("GGUF export: tokenizer.json has no `model` object");
  const model = tj.model;
  if (model.type !== "BPE")
    throw new Error(`GGUF export: tokenizer.json model.type is ${String(model.type)}, need BPE`);
  if (!isRecord(model.vocab)) throw new Error("GGUF export: tokenizer.json model.vocab is missing");
  const vocabSize = config.vocab_size;
  const tokens: (string | undefined)[] = new Array(vocabSize);
  const types = new Int32Array(vocabSize);
  for (const [tok, id] of Object.entries(model.vocab)) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new Error(`GGUF export: tokenizer.json model.vocab["${tok}"] = ${String(id)} is outside vocab_size`);
    }
    tokens[id] = tok;
    types[id] = TokenType.NORMAL;
  }
  const added = Array.isArray(tj.added_tokens) ? (tj.added_tokens as AddedToken[]) : [];
  for (const a of added) {
    if (!Number.isInteger(a.id) || a.id < 0 || a.id >= vocabSize) {
      throw new Error(`GGUF export: tokenizer.json added token "${a.content}" has id ${a.id} outside vocab_size`);
    }
    tokens[a.id] = a.content;
    types[a.id] = a.special ? TokenType.CONTROL : TokenType.USER_DEFINED;
  }
  const tokenList: string[] = [];
  for (let i = 0; i < vocabSize; i++) {
    if (tokens[i] === undefined) {
      tokenList.push(`[PAD${i}]`);
      types[i] = TokenType.UNUSED;
    } else tokenList.push(tokens[i]!);
  }
  const merges = (Array.isArray(model.merges) ? model.merges : []).map((mg: unknown, i: number) => {
    if (typeof mg === "string") return mg;
    if (Array.isArray(mg) && mg.length === 2) return `${mg[0]} ${mg[1]}`;
    throw new Error(`GGUF export: tokenizer.json model.merges[${i}] is neither "a b" nor ["a", "b"]`);
  });
  const tc = isRecord(files.tokenizerConfig) ? files.tokenizerConfig : {};
  const idOf = (key: "bos_token" | "eos_token" | "pad_token" | "unk_token"): number | undefined => {
    const v = tc[key];
    const content = typeof v === "string" ? v : isRecord(v) && typeof v.content === "string" ? v.content : undefined;
    if (content === undefined) return undefined;
    const idx = tokenList.indexOf(content);
    return idx >= 0 ? idx : undefined;
  };
  const first = (v: number | number[] | null | undefined) => (Array.isArray(v) ? v[0] : (v ?? undefined));
  const bos = first(config.bos_token_id) ?? idOf("bos_token");
  const eos = first(config.eos_token_id) ?? idOf("eos_token");
  const pad = first(config.pad_token_id) ?? idOf("pad_token");
  const m = new Map<string, GgufValue>();
  m.set("tokenizer.ggml.model", kv.str("gpt2"));
  m.set("tokenizer.ggml.pre", kv.str(preOverride ?? detectPreTokenizer(tj, tc.clean_up_tokenization_spaces === true)));
  m.set("tokenizer.ggml.tokens", kv.strings(tokenList));
  m.set("tokenizer.ggml.token_type", kv.i32s(types));
  m.set("tokenizer.ggml.merges", kv.strings(merges));
  if (bos !== undefined) m.set("tokenizer.ggml.bos_token_id", kv.u32(bos));
  if (eos !== undefined) m.set("tokenizer.ggml.eos_token_id", kv.u32(eos));
  if (pad !== undefined) m.set("tokenizer.ggml.padding_token_id", kv.u32(pad));
  const unk = idOf("unk_token");
  if (unk !== undefined) m.set("tokenizer.ggml.unknown_token_id", kv.u32(unk));
  m.set("tokenizer.ggml.add_bos_token", kv.bool(tc.add_bos_token === true));
  m.set("tokenizer.ggml.add_eos_token", kv.bool(tc.add_eos_token === true));
  const template = chatTemplateOf(tc);
  if (template !== undefined) m.set("tokenizer.chat_template", kv.str(template));
  return m;
}

// ------------------------------------------------------------------------------------------------------------------
// Model export

/** The GGUF tensors of a Llama checkpoint, in llama.cpp order (token_embd, blocks, output_norm, output). */
export function llamaGgufTensors(
  config: HfLlamaConfig,
  tensorsIn: ReadonlyMap<string, NamedTensor> | Readonly<Record<string, NamedTensor>>,
  dtype: "f32" | "f16" = "f32",
): GgufTensorIn[] {
  checkConfig(config);
  const tensors = unfusePhi3(config, entries(tensorsIn));
  const hd = headDim(config);
  const wType: GgmlTypeId = dtype === "f16" ? GgmlType.F16 : GgmlType.F32;
  const out: GgufTensorIn[] = [];
  const expectShape = (name: string, t: NamedTensor, shape: number[]) => {
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`GGUF export: "${name}" has shape [${t.shape.join(", ")}], config says [${shape.join(", ")}]`);
    }
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`GGUF export: "${name}" data length`);
  };
  const h = config.hidden_size;
  const q = config.num_attention_heads * hd;
  const k = kvHeads(config) * hd;
  const f = config.intermediate_size;
  const shapes: Record<string, number[]> = {
    "input_layernorm.weight": [h],
    "self_attn.q_proj.weight": [q, h],
    "self_attn.k_proj.weight": [k, h],
    "self_attn.v_proj.weight": [k, h],
    "self_attn.o_proj.weight": [h, q],
    "post_attention_layernorm.weight": [h],
    "mlp.gate_proj.weight": [f, h],
    "mlp.up_proj.weight": [f, h],
    "mlp.down_proj.weight": [h, f],
  };
  const take = (name: string, shape: number[]): NamedTensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`GGUF export: missing tensor "${name}"`);
    expectShape(name, t, shape);
    tensors.delete(name);
    return t;
  };
  const push = (hfName: string, t: NamedTensor) =>
    out.push({
      name: ggufTensorName(hfName),
      shape: t.shape,
      data: asF32(t.data),
      type: t.shape.length === 1 ? 0 : wType,
    });
  push("model.embed_tokens.weight", take("model.embed_tokens.weight", [config.vocab_size, h]));
  for (let l = 0; l < config.num_hidden_layers; l++) {
    for (const [suffix, shape] of Object.entries(shapes)) {
      const name = `model.layers.${l}.${suffix}`;
      let t = take(name, shape);
      if (suffix === "self_attn.q_proj.weight")
        t = { shape: t.shape, data: permuteRopeRows(asF32(t.data), q, h, config.num_attention_heads) };
      if (suffix === "self_attn.k_proj.weight")
        t = { shape: t.shape, data: permuteRopeRows(asF32(t.data), k, h, kvHeads(config)) };
      push(name, t);
    }
  }
  push("model.norm.weight", take("model.norm.weight", [h]));
  const freqs = llama3RopeFreqs(config);
  if (freqs) out.push({ name: "rope_freqs.weight", shape: [freqs.length], data: freqs, type: 0 });
  const lm = tensors.get("lm_head.weight");
  if (lm && config.tie_word_embeddings)
    tensors.delete("lm_head.weight"); // tied: llama.cpp reuses token_embd
  else if (!config.tie_word_embeddings) push("lm_head.weight", take("lm_head.weight", [config.vocab_size, h]));
  // RoPE inverse-frequency buffers are derived data, not parameters.
  for (const name of [...tensors.keys()]) if (name.endsWith("rotary_emb.inv_freq")) tensors.delete(name);
  if (tensors.size > 0)
    throw new Error(`GGUF export: unexpected tensors ${[...tensors.keys()].slice(0, 5).join(", ")}`);
  return out;
}

/**
 * Write a GGUF (weights + tokenizer + chat template) in the llama.cpp architecture of the config's family: llama
 * (Llama, SmolLM2, Mistral, Phi-3 without longrope), qwen2, qwen3, gemma2, gemma3, phi3 (longrope).
 */
export function writeLlamaGguf(path: string, opts: LlamaGgufOptions): void {
  const dtype = opts.dtype ?? "f32";
  const arch = ggufArch(opts.config);
  const name = opts.name ?? opts.config._name_or_path ?? "breakfix";
  const fileType = dtype === "f16" ? 1 : 0;
  const tensors =
    arch === "llama"
      ? llamaGgufTensors(opts.config, opts.tensors, dtype)
      : familyGgufTensors(opts.config, entries(opts.tensors), dtype);
  const meta =
    arch === "llama" ? llamaMetadata(opts.config, fileType, name) : familyMetadata(opts.config, fileType, name);
  const tokMeta = opts.tokenizer.sentencePiece
    ? spmTokenizerMetadata(parseSentencePiece(opts.tokenizer.sentencePiece), opts.tokenizer, opts.config)
    : tokenizerMetadata(opts.tokenizer, opts.config, opts.pre);
  for (const [k, v] of tokMeta) meta.set(k, v);
  writeGguf(path, meta, tensors);
}

// ------------------------------------------------------------------------------------------------------------------
// LoRA adapter export

/** One LoRA pair for a linear layer: A [r, in], B [out, r]; the layer computes W x + (alpha / r) B A x. */
export interface LoraPair {
  a: NamedTensor;
  b: NamedTensor;
}

export interface LoraGgufOptions {
  config: HfLlamaConfig;
  /**
   * Pairs by the Hugging Face name of the adapted weight ("model.layers.0.self_attn.q_proj.weight"). PEFT names
   * ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight") can be grouped with `loraPairsFromPeft`.
   */
  pairs: ReadonlyMap<string, LoraPair>;
  /**
   * LoRA alpha: llama.cpp scales B A by alpha / r (r = rows of A). For rsLoRA (scale alpha / sqrt(r)) or any other
   * scale s, pass `scale` instead: the file then stores alpha = s * r. Exactly one of the two.
   */
  alpha?: number;
  scale?: number;
  dtype?: "f32" | "f16";
  name?: string;
}

/** Group PEFT-named tensors (lora_A / lora_B) into pairs keyed by the adapted weight's HF name. */
export function loraPairsFromPeft(
  tensors: ReadonlyMap<string, NamedTensor> | Readonly<Record<string, NamedTensor>>,
): Map<string, LoraPair> {
  const partial = new Map<string, Partial<LoraPair>>();
  for (const [raw, t] of entries(tensors)) {
    const m = /^(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.default)?\.weight$/.exec(raw);
    if (!m) throw new Error(`LoRA export: "${raw}" is not a PEFT lora_A/lora_B weight`);
    const key = `${m[1]}.weight`;
    const p = partial.get(key) ?? {};
    if (m[2] === "A") p.a = t;
    else p.b = t;
    partial.set(key, p);
  }
  const out = new Map<string, LoraPair>();
  for (const [k, p] of partial) {
    if (!p.a || !p.b) throw new Error(`LoRA export: "${k}" has lora_${p.a ? "B" : "A"} missing`);
    out.set(k, { a: p.a, b: p.b });
  }
  return out;
}

/** The GGUF tensors of a LoRA adapter (blk.N.attn_q.weight.lora_a / .lora_b), q/k lora_b rows permuted. */
export function loraGgufTensors(
  config: HfLlamaConfig,
  pairs: ReadonlyMap<string, LoraPair>,
  dtype: "f32" | "f16" = "f32",
): GgufTensorIn[] {
  checkConfig(config);
  const arch = ggufArch(config);
  const type: GgmlTypeId = dtype === "f16" ? GgmlType.F16 : GgmlType.F32;
  const out: GgufTensorIn[] = [];
  if (arch === "phi3") pairs = fuseGateUpLora(pairs);
  for (const [name, { a, b }] of pairs) {
    if (name.endsWith(FUSED_UP)) {
      const l = name.slice("model.layers.".length, -FUSED_UP.length);
      out.push({ name: `blk.${l}.ffn_up.weight.lora_a`, shape: a.shape, data: asF32(a.data), type });
      out.push({ name: `blk.${l}.ffn_up.weight.lora_b`, shape: b.shape, data: asF32(b.data), type });
      continue;
    }
    if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[0] !== b.shape[1]) {
      throw new Error(`LoRA export: "${name}" has A [${a.shape}] and B [${b.shape}]; need A [r, in], B [out, r]`);
    }
    if (/\.(qkv_proj|gate_up_proj)\.weight$/.test(name)) {
      throw new Error(`LoRA export: "${name}" is a fused Phi-3 projection; merge it instead of exporting an adapter`);
    }
    const base = ggufTensorName(name, arch);
    let bData = asF32(b.data);
    if (arch !== "llama") {
      // the other architectures rotate halves as HF does (NEOX RoPE): rows stay in place
    } else if (name.endsWith("self_attn.q_proj.weight")) {
      bData = permuteRopeRows(bData, b.shape[0], b.shape[1], config.num_attention_heads);
    } else if (name.endsWith("self_attn.k_proj.weight")) {
      bData = permuteRopeRows(bData, b.shape[0], b.shape[1], kvHeads(config));
    }
    if (base === "token_embd.weight") throw new Error("LoRA export: adapters on embed_tokens are not supported");
    out.push({ name: `${base}.lora_a`, shape: a.shape, data: asF32(a.data), type });
    out.push({ name: `${base}.lora_b`, shape: b.shape, data: bData, type });
  }
  return out;
}

const FUSED_UP = ".mlp.gate_up_proj.__fused";

/**
 * llama.cpp's phi3 holds [gate; up] in one ffn_up: their LoRA pairs become one exact pair of rank rg + ru,
 * A = [Ag; Au], B = blockdiag(Bg * (rg + ru) / rg, Bu * (rg + ru) / ru) (llama.cpp scales by alpha / rank per tensor).
 */
function fuseGateUpLora(pairs: ReadonlyMap<string, LoraPair>): Map<string, LoraPair> {
  const out = new Map<string, LoraPair>();
  const layers = new Map<string, { gate?: LoraPair; up?: LoraPair }>();
  for (const [name, p] of pairs) {
    const m = /^(model\.layers\.\d+)\.mlp\.(gate|up)_proj\.weight$/.exec(name);
    if (!m) {
      out.set(name, p);
      continue;
    }
    const e = layers.get(m[1]) ?? {};
    e[m[2] as "gate" | "up"] = p;
    layers.set(m[1], e);
  }
  for (const [prefix, { gate, up }] of layers) {
    const parts = [gate, up];
    const inF = (gate ?? up)!.a.shape[1];
    const outs = parts.map((p, i) => p?.b.shape[0] ?? (parts[1 - i] as LoraPair).b.shape[0]);
    const ranks = parts.map((p) => p?.a.shape[0] ?? 0);
    const R = ranks[0] + ranks[1];
    const a = new Float32Array(R * inF);
    const b = new Float32Array((outs[0] + outs[1]) * R);
    parts.forEach((p, i) => {
      if (!p) return;
      a.set(asF32(p.a.data), ranks[0] * i * inF);
      const bd = asF32(p.b.data);
      const k = R / ranks[i];
      const row0 = i === 0 ? 0 : outs[0];
      const col0 = i === 0 ? 0 : ranks[0];
      for (let o = 0; o < outs[i]; o++)
        for (let j = 0; j < ranks[i]; j++) b[(row0 + o) * R + col0 + j] = bd[o * ranks[i] + j] * k;
    });
    out.set(`${prefix}${FUSED_UP}`, { a: { shape: [R, inF], data: a }, b: { shape: [outs[0] + outs[1], R], data: b } });
  }
  return out;
}

/** The alpha to store so that llama.cpp's alpha / r equals the wanted scale (all pairs must share r). */
export function loraAlpha(opts: Pick<LoraGgufOptions, "alpha" | "scale" | "pairs">): number {
  if ((opts.alpha === undefined) === (opts.scale === undefined)) {
    throw new Error("LoRA export: give exactly one of `alpha` and `scale`");
  }
  if (opts.alpha !== undefined) return opts.alpha;
  const ranks = new Set([...opts.pairs.values()].map((p) => p.a.shape[0]));
  if (ranks.size !== 1)
    throw new Error(`LoRA export: \`scale\` needs one rank for all pairs, got ${[...ranks].join(", ")}`);
  return opts.scale! * [...ranks][0];
}

/** Write a GGUF LoRA adapter (general.type = "adapter", adapter.type = "lora", adapter.lora.alpha). */
export function writeLoraGguf(path: string, opts: LoraGgufOptions): void {
  const tensors = loraGgufTensors(opts.config, opts.pairs, opts.dtype ?? "f32");
  const m = new Map<string, GgufValue>();
  m.set("general.architecture", kv.str(ggufArch(opts.config)));
  m.set("general.type", kv.str("adapter"));
  m.set("general.name", kv.str(opts.name ?? "breakfix-lora"));
  m.set("general.file_type", kv.u32(opts.dtype === "f16" ? 1 : 0));
  m.set("adapter.type", kv.str("lora"));
  m.set("adapter.lora.alpha", kv.f32(loraAlpha(opts)));
  writeGguf(path, m, tensors);
}
