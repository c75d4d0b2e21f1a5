/**
 * SentencePiece tokenizers (tokenizer.model: Gemma 2 / 3, Mistral, Phi-3 / 3.5, Llama 2) -> llama.cpp's "llama" (SPM)
 * vocabulary, as convert_hf_to_gguf.py's _set_vocab_sentencepiece writes it: every piece with its score and type
 * (NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE: the same numbers in both), [PADi] up to vocab_size,
 * added tokens of tokenizer.json as CONTROL / USER_DEFINED, add_space_prefix = the normalizer's add_dummy_prefix.
 *
 * tokenizer.model is a protobuf ModelProto; only the fields used here are read:
 *   ModelProto { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2; NormalizerSpec normalizer_spec = 3 }
 *   SentencePiece { string piece = 1; float score = 2; Type type = 3 (default NORMAL = 1) }
 *   TrainerSpec { int32 unk_id = 40; bos_id = 41; eos_id = 42; pad_id = 43 }   NormalizerSpec { bool add_dummy_prefix = 3 }
 */
import { chatTemplateOf } from "../chat-template.ts";
import { type GgufValue, kv } from "./gguf.ts";
import type { HfLlamaConfig, HfTokenizerFiles } from "./llama.ts";
import { TokenType } from "./llama.ts";

export interface SentencePieceModel {
  pieces: { piece: string; score: number; type: number }[];
  addDummyPrefix: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}
  /** An int32 field (negative values are 10-byte varints): the low 32 bits, signed. */
  int32(): number {
    let lo = 0;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) throw new Error("tokenizer.model: truncated varint");
      const b = this.buf[this.pos++];
      if (i < 5) lo = (lo + (b & 0x7f) * 2 ** (7 * i)) % 2 ** 32;
      if (b < 0x80) return lo | 0;
    }
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Error("tokenizer.model: truncated varint");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  }
  /** Calls f(field, wireType) for each field; f reads the value or returns false to skip it. */
  fields(f: (field: number, wire: number) => boolean): void {
    while (this.pos < this.end) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      const start = this.pos;
      if (f(field, wire)) continue;
      this.pos = start;
      if (wire === 0) this.varint();
      else if (wire === 1) this.pos += 8;
      else if (wire === 5) this.pos += 4;
      else if (wire === 2) {
        const n = this.varint(); // (not `this.pos += this.varint()`: that adds to the position before the length)
        this.pos += n;
      } else throw new Error(`tokenizer.model: unsupported wire type ${wire}`);
    }
  }
  sub(): Reader {
    const len = this.varint();
    const r = new Reader(this.buf, this.pos + len);
    r.pos = this.pos;
    this.pos += len;
    return r;
  }
}

/** Parse a SentencePiece tokenizer.model. */
export function parseSentencePiece(buf: Uint8Array): SentencePieceModel {
  const out: SentencePieceModel = { pieces: [], addDummyPrefix: true, unkId: 0, bosId: 1, eosId: 2, padId: -1 };
  const dec = new TextDecoder("utf-8", { fatal: true });
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const top = new Reader(buf);
  top.fields((field, wire) => {
    if (wire !== 2) return false;
    const r = top.sub();
    if (field === 1) {
      const p = { piece: "", score: 0, type: 1 };
      r.fields((f, w) => {
        if (f === 1 && w === 2) {
          const s = r.sub();
          p.piece = dec.decode(buf.subarray(s.pos, s.end));
          return true;
        }
        if (f === 2 && w === 5) {
          p.score = view.getFloat32(r.pos, true);
          r.pos += 4;
          return true;
        }
        if (f === 3 && w === 0) {
          p.type = r.varint();
          return true;
        }
        return false;
      });
      out.pieces.push(p);
    } else if (field === 2) {
      r.fields((f, w) => {
        if (w !== 0 || f < 40 || f > 43) return false;
        const signed = r.int32();
        if (f === 40) out.unkId = signed;
        if (f === 41) out.bosId = signed;
        if (f === 42) out.eosId = signed;
        if (f === 43) out.padId = signed;
        return true;
      });
    } else if (field === 3) {
      r.fields((f, w) => {
        if (f === 3 && w === 0) {
          out.addDummyPrefix = r.varint() !== 0;
          return true;
        }
        return false;
      });
    }
    return true;
  });
  if (out.pieces.length === 0) throw new Error("tokenizer.model: no pieces (not a SentencePiece model?)");
  return out;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** tokenizer.ggml.* metadata for a SentencePiece model (llama.cpp "llama" vocabulary). */
export function spmTokenizerMetadata(
  model: SentencePieceModel,
  files: HfTokenizerFiles,
  config: HfLlamaConfig,
): Map<string, GgufValue> {
  const V = config.vocab_size;
  const tokens: string[] = Array.from({ length: V }, (_, i) => `[PAD${i}]`);
  const scores = new Float32Array(V).fill(-10000);
  const types = new Int32Array(V).fill(TokenType.UNUSED);
  model.pieces.forEach((p, id) => {
    if (id >= V) return;
    tokens[id] = p.piece;
    scores[id] = p.score;
    types[id] = p.type >= 1 && p.type <= 6 ? p.type : TokenType.NORMAL;
  });
  const tj = isRecord(files.tokenizerJson) ? files.tokenizerJson : {};
  const added = Array.isArray(tj.added_tokens)
    ? (tj.added_tokens as { id: number; content: string; special?: boolean }[])
    : [];
  for (const a of added) {
    if (!Number.isInteger(a.id) || a.id < 0 || a.id >= V) continue;
    tokens[a.id] = a.content;
    scores[a.id] = -1000;
    types[a.id] = a.special ? TokenType.CONTROL : TokenType.USER_DEFINED;
  }
  const tc = isRecord(files.tokenizerConfig) ? files.tokenizerConfig : {};
  const first = (v: number | number[] | null | undefined) => (Array.isArray(v) ? v[0] : (v ?? undefined));
  const valid = (id: number | undefined) => (id !== undefined && id >= 0 && id < V ? id : undefined);
  const m = new Map<string, GgufValue>();
  m.set("tokenizer.ggml.model", kv.str("llama"));
  m.set("tokenizer.ggml.pre", kv.str("default"));
  m.set("tokenizer.ggml.tokens", kv.strings(tokens));
  m.set("tokenizer.ggml.scores", kv.f32s(scores));
  m.set("tokenizer.ggml.token_type", kv.i32s(types));
  m.set("tokenizer.ggml.add_space_prefix", kv.bool(model.addDummyPrefix));
  const ids: [string, number | undefined][] = [
    ["bos_token_id", valid(first(config.bos_token_id) ?? model.bosId)],
    ["eos_token_id", valid(first(config.eos_token_id) ?? model.eosId)],
    ["unknown_token_id", valid(model.unkId)],
    ["padding_token_id", valid(first(config.pad_token_id) ?? model.padId)],
  ];
  for (const [k, id] of ids) if (id !== undefined) m.set(`tokenizer.ggml.${k}`, kv.u32(id));
  m.set("tokenizer.ggml.add_bos_token", kv.bool(tc.add_bos_token !== false));
  m.set("tokenizer.ggml.add_eos_token", kv.bool(tc.add_eos_token === true));
  const template = chatTemplateOf(tc);
  if (template !== undefined) m.set("tokenizer.chat_template", kv.str(template));
  return m;
}
