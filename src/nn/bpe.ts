/**
 * A byte-level BPE trainer (GPT-2 style: regex pre-split, bytes mapped to printable characters, merges learned on
 * pre-token counts) that writes a Hugging Face `tokenizer.json` + `tokenizer_config.json`. Every byte is in the base
 * vocabulary, so any string encodes and decodes losslessly.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The GPT-2 pre-tokenizer pattern (the one `ByteLevel` with use_regex applies). */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's bytes_to_unicode: byte -> a printable character (printable Latin-1 bytes map to themselves). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => {
    out[b] = String.fromCodePoint(cs[i]);
  });
  return out;
}

export interface BpeTrainOptions {
  /** total vocabulary size including the 256 byte symbols and the special tokens */
  vocabSize: number;
  /** special tokens, given the first ids in this order */
  specialTokens?: readonly string[];
  /** pairs seen fewer times are never merged */
  minFrequency?: number;
  /** called every 100 merges */
  onProgress?: (done: number, total: number) => void;
}

export interface TrainedBpe {
  vocab: Map<string, number>;
  merges: [string, string][];
  specialTokens: string[];
}

const KEY = 1 << 20;

/** Learn merges from `texts`. Deterministic: ties go to the lexicographically smallest merged pair. */
export function trainBpe(texts: Iterable<string>, opts: BpeTrainOptions): TrainedBpe {
  const special = [...(opts.specialTokens ?? [])];
  const byteChars = bytesToUnicode();
  const minFreq = opts.minFrequency ?? 2;
  if (opts.vocabSize < special.length + 256)
    throw new Error(`vocabSize ${opts.vocabSize} < ${special.length + 256} (specials + bytes)`);
  if (opts.vocabSize >= KEY) throw new Error(`vocabSize ${opts.vocabSize} too large`);
  // symbols: id -> string; base bytes first (ordered by byte value)
  const symbols: string[] = [...byteChars];
  const enc = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(GPT2_PATTERN)) wordCounts.set(m[0], (wordCounts.get(m[0]) ?? 0) + 1);
  }
  const words: { syms: number[]; count: number }[] = [];
  for (const [w, count] of wordCounts) words.push({ syms: Array.from(enc.encode(w)), count });

  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (wi: number, sign: number) => {
    const { syms, count } = words[wi];
    for (let i = 0; i + 1 < syms.length; i++) {
      const k = syms[i] * KEY + syms[i + 1];
      pairCounts.set(k, (pairCounts.get(k) ?? 0) + sign * count);
      if (sign > 0) {
        let s = where.get(k);
        if (!s) {
          s = new Set();
          where.set(k, s);
        }
        s.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1);

  const merges: [string, string][] = [];
  const target = opts.vocabSize - special.length - 256;
  while (merges.length < target) {
    let best = -1;
    let bestCount = 0;
    let bestStr = "";
    for (const [k, c] of pairCounts) {
      if (c < minFreq || c < bestCount) continue;
      const s = symbols[Math.floor(k / KEY)] + symbols[k % KEY];
      if (c > bestCount || s < bestStr) {
        best = k;
        bestCount = c;
        bestStr = s;
      }
    }
    if (best < 0) break;
    const a = Math.floor(best / KEY);
    const b = best % KEY;
    const id = symbols.length;
    symbols.push(bestStr);
    merges.push([symbols[a], symbols[b]]);
    for (const wi of where.get(best) ?? []) {
      const w = words[wi];
      addPairs(wi, -1);
      const out: number[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(w.syms[i]);
      }
      w.syms = out;
      addPairs(wi, 1);
    }
    where.delete(best);
    pairCounts.delete(best);
    for (const [k, c] of pairCounts) if (c <= 0) pairCounts.delete(k);
    if (opts.onProgress && merges.length % 100 === 0) opts.onProgress(merges.length, target);
  }
  const vocab = new Map<string, number>();
  special.forEach((s, i) => {
    vocab.set(s, i);
  });
  symbols.forEach((s, i) => {
    vocab.set(s, special.length + i);
  });
  return { vocab, merges, specialTokens: special };
}

/** The Hugging Face tokenizer.json object for a trained byte-level BPE. */
export function tokenizerJson(bpe: TrainedBpe): Record<string, unknown> {
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: bpe.specialTokens.map((content) => ({
      id: bpe.vocab.get(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(bpe.vocab),
      merges: bpe.merges,
    },
  };
}

/** A Phi-3 style chat template (<|system|>/<|user|>/<|assistant|> ... <|end|>). */
export const PHI3_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}";

export const PHI3_SPECIAL_TOKENS = ["<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"] as const;

/** Write tokenizer.json and tokenizer_config.json (atomically) into `dir`. */
export function saveTokenizer(
  dir: string,
  bpe: TrainedBpe,
  config: {
    eosToken?: string;
    bosToken?: string | null;
    padToken?: string;
    chatTemplate?: string;
    modelMaxLength?: number;
  } = {},
): void {
  mkdirSync(dir, { recursive: true });
  const write = (name: string, obj: unknown) => {
    const p = join(dir, name);
    writeFileSync(`${p}.tmp`, `${JSON.stringify(obj, null, 2)}\n`);
    renameSync(`${p}.tmp`, p);
  };
  write("tokenizer.json", tokenizerJson(bpe));
  const eos = config.eosToken ?? bpe.specialTokens[0] ?? null;
  write("tokenizer_config.json", {
    tokenizer_class: "PreTrainedTokenizerFast",
    added_tokens_decoder: Object.fromEntries(
      bpe.specialTokens.map((s) => [
        String(bpe.vocab.get(s)),
        { content: s, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
      ]),
    ),
    bos_token: config.bosToken ?? null,
    eos_token: eos,
    pad_token: config.padToken ?? eos,
    unk_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: config.modelMaxLength ?? 4096,
    chat_template: config.chatTemplate ?? PHI3_CHAT_TEMPLATE,
  });
}
