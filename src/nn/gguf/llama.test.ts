import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../../domain/random.ts";
import { byteLevelTokenizerJson, randn, randomLlamaWeights, tinyLlamaConfig } from "./fixtures.ts";
import { readGguf, roundToF16 } from "./gguf.ts";
import {
  asF32,
  detectPreTokenizer,
  ggufTensorName,
  llamaGgufTensors,
  loraAlpha,
  loraPairsFromPeft,
  permuteRopeRows,
  TokenType,
  tokenizerMetadata,
  unfusePhi3,
  writeLlamaGguf,
  writeLoraGguf,
} from "./llama.ts";

const dir = mkdtempSync(join(tmpdir(), "gguf-llama-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** HF RoPE on one head vector: rotate_half pairs (i, i + hd/2). */
function ropeHf(x: Float32Array, pos: number, theta: number): Float64Array {
  const hd = x.length;
  const half = hd / 2;
  const out = new Float64Array(hd);
  for (let i = 0; i < half; i++) {
    const a = pos / theta ** ((2 * i) / hd);
    out[i] = x[i] * Math.cos(a) - x[i + half] * Math.sin(a);
    out[i + half] = x[i + half] * Math.cos(a) + x[i] * Math.sin(a);
  }
  return out;
}

/** llama.cpp's LLAMA (rope type NORM) RoPE on one head vector: adjacent pairs (2j, 2j + 1). */
function ropeGgml(x: Float64Array, pos: number, theta: number): Float64Array {
  const hd = x.length;
  const out = new Float64Array(hd);
  for (let j = 0; j < hd / 2; j++) {
    const a = pos / theta ** ((2 * j) / hd);
    out[2 * j] = x[2 * j] * Math.cos(a) - x[2 * j + 1] * Math.sin(a);
    out[2 * j + 1] = x[2 * j] * Math.sin(a) + x[2 * j + 1] * Math.cos(a);
  }
  return out;
}

function matvec(w: Float32Array, rows: number, cols: number, x: Float32Array): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
    out[r] = s;
  }
  return out;
}

describe("Q/K row permutation", () => {
  it("turns HF rotate-half RoPE into llama.cpp's interleaved RoPE (same attention scores)", () => {
    const rand = mulberry32(3);
    const nHead = 3;
    const hd = 8;
    const cols = 5;
    const w = randn(nHead * hd * cols, 1, rand);
    const x = randn(cols, 1, rand);
    const wp = permuteRopeRows(w, nHead * hd, cols, nHead);
    const qHf = matvec(w, nHead * hd, cols, x);
    const qGg = matvec(wp, nHead * hd, cols, x);
    for (const pos of [0, 1, 7, 100]) {
      for (let h = 0; h < nHead; h++) {
        const hf = ropeHf(qHf.subarray(h * hd, (h + 1) * hd), pos, 10000);
        const gg = ropeGgml(Float64Array.from(qGg.subarray(h * hd, (h + 1) * hd)), pos, 10000);
        // gg is hf with its elements reordered by the same permutation: element (t * half + j) -> (2j + t)
        for (let t = 0; t < 2; t++) {
          for (let j = 0; j < hd / 2; j++) expect(gg[2 * j + t]).toBeCloseTo(hf[t * (hd / 2) + j], 5);
        }
      }
    }
  });

  it("is a permutation of whole rows and rejects odd head sizes", () => {
    const w = Float32Array.from({ length: 12 }, (_, i) => i);
    // 1 head of 4 rows x 3 cols: rows [0, 1, 2, 3] -> [0, 2, 1, 3]
    expect(Array.from(permuteRopeRows(w, 4, 3, 1))).toEqual([0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11]);
    expect(() => permuteRopeRows(new Float32Array(6), 6, 1, 2)).toThrow(/even size/);
  });
});

describe("tensor mapping", () => {
  it("names every HF Llama tensor as llama.cpp does", () => {
    expect(ggufTensorName("model.embed_tokens.weight")).toBe("token_embd.weight");
    expect(ggufTensorName("model.layers.11.self_attn.o_proj.weight")).toBe("blk.11.attn_output.weight");
    expect(ggufTensorName("model.layers.0.post_attention_layernorm.weight")).toBe("blk.0.ffn_norm.weight");
    expect(ggufTensorName("model.layers.2.mlp.down_proj.weight")).toBe("blk.2.ffn_down.weight");
    expect(ggufTensorName("model.norm.weight")).toBe("output_norm.weight");
    expect(ggufTensorName("lm_head.weight")).toBe("output.weight");
    expect(() => ggufTensorName("model.layers.0.mlp.fc1.weight")).toThrow(/"model.layers.0.mlp.fc1.weight"/);
  });

  it("permutes q/k, keeps norms F32 in F16 files, and omits output when tied", () => {
    const cfg = tinyLlamaConfig();
    const w = randomLlamaWeights(cfg, 5);
    const ts = llamaGgufTensors(cfg, w, "f16");
    expect(ts.length).toBe(3 + 9 * cfg.num_hidden_layers);
    const byName = new Map(ts.map((t) => [t.name, t]));
    expect(byName.get("blk.0.attn_norm.weight")!.type).toBe(0);
    expect(byName.get("blk.0.attn_q.weight")!.type).toBe(1);
    const q = w.get("model.layers.1.self_attn.k_proj.weight")!;
    expect(Array.from(byName.get("blk.1.attn_k.weight")!.data)).toEqual(
      Array.from(permuteRopeRows(asF32(q.data), q.shape[0], q.shape[1], cfg.num_key_value_heads!)),
    );
    expect(byName.get("blk.1.attn_v.weight")!.data).toBe(w.get("model.layers.1.self_attn.v_proj.weight")!.data);

    const tied = tinyLlamaConfig({ tie_word_embeddings: true });
    const tw = randomLlamaWeights(tied, 5);
    expect(llamaGgufTensors(tied, tw).some((t) => t.name === "output.weight")).toBe(false);
    const missing = new Map(w);
    missing.delete("model.layers.1.mlp.up_proj.weight");
    expect(() => llamaGgufTensors(cfg, missing)).toThrow(/missing tensor "model.layers.1.mlp.up_proj.weight"/);
    const extra = new Map(w);
    extra.set("model.layers.0.mlp.extra.weight", { shape: [1], data: new Float32Array(1) });
    expect(() => llamaGgufTensors(cfg, extra)).toThrow(/unexpected tensors model.layers.0.mlp.extra.weight/);
  });

  it("splits Phi-3 fused qkv_proj / gate_up_proj", () => {
    const cfg = tinyLlamaConfig();
    const w = randomLlamaWeights(cfg, 9);
    const p = "model.layers.0.";
    const cat = (...names: string[]) => {
      const parts = names.map((n) => w.get(p + n)!);
      const data = new Float32Array(parts.reduce((a, t) => a + t.data.length, 0));
      let o = 0;
      for (const t of parts) {
        data.set(t.data, o);
        o += t.data.length;
      }
      return { shape: [parts.reduce((a, t) => a + t.shape[0], 0), parts[0].shape[1]], data };
    };
    const fused = new Map(w);
    fused.set(
      `${p}self_attn.qkv_proj.weight`,
      cat("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"),
    );
    fused.set(`${p}mlp.gate_up_proj.weight`, cat("mlp.gate_proj.weight", "mlp.up_proj.weight"));
    for (const n of ["self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"])
      fused.delete(p + n);
    for (const n of ["mlp.gate_proj.weight", "mlp.up_proj.weight"]) fused.delete(p + n);
    const un = unfusePhi3(cfg, fused);
    for (const [name, t] of w) expect(Array.from(un.get(name)!.data)).toEqual(Array.from(t.data));
  });
});

describe("tokenizer metadata", () => {
  it("exports a byte-level BPE with types, merges, specials and padding", () => {
    const tok = byteLevelTokenizerJson();
    const cfg = tinyLlamaConfig();
    const m = tokenizerMetadata(
      { tokenizerJson: tok.json, tokenizerConfig: { chat_template: "{{ x }}", add_bos_token: true } },
      cfg,
    );
    const tokens = m.get("tokenizer.ggml.tokens")!;
    const types = m.get("tokenizer.ggml.token_type")!;
    expect(m.get("tokenizer.ggml.model")).toEqual({ type: "string", value: "gpt2" });
    expect(m.get("tokenizer.ggml.pre")).toEqual({ type: "string", value: "trillion" }); // GPT-2 regex, no clean-up
    if (tokens.type !== "array" || types.type !== "array") throw new Error("arrays expected");
    expect(tokens.value.length).toBe(cfg.vocab_size);
    expect(tokens.value[32]).toBe("Ġ"); // byte 0x20
    expect(tokens.value[cfg.vocab_size - 1]).toBe(`[PAD${cfg.vocab_size - 1}]`);
    expect((types.value as Int32Array)[cfg.vocab_size - 1]).toBe(TokenType.UNUSED);
    expect((types.value as Int32Array)[tok.specials["<|eos|>"]]).toBe(TokenType.CONTROL);
    expect((types.value as Int32Array)[65]).toBe(TokenType.NORMAL);
    expect(m.get("tokenizer.ggml.bos_token_id")).toEqual({ type: "u32", value: cfg.bos_token_id });
    expect(m.get("tokenizer.ggml.add_bos_token")).toEqual({ type: "bool", value: true });
    expect(m.get("tokenizer.chat_template")).toEqual({ type: "string", value: "{{ x }}" });
    const merges = m.get("tokenizer.ggml.merges")!;
    expect(merges.type === "array" && merges.value[0]).toBe("Ġ t");
  });

  it("derives tokenizer.ggml.pre or explains why it cannot", () => {
    expect(detectPreTokenizer({ pre_tokenizer: { type: "ByteLevel", use_regex: true } })).toBe("trillion");
    expect(detectPreTokenizer({ pre_tokenizer: { type: "ByteLevel", use_regex: true } }, true)).toBe("gpt-2");
    expect(() => detectPreTokenizer({ pre_tokenizer: { type: "Whitespace" } })).toThrow(/pass `pre` explicitly/);
  });
});

describe("files", () => {
  it("writes a model GGUF whose tensors read back (F32 exact, F16 rounded)", () => {
    const cfg = tinyLlamaConfig();
    const w = randomLlamaWeights(cfg, 11);
    const tok = byteLevelTokenizerJson();
    for (const dtype of ["f32", "f16"] as const) {
      const path = join(dir, `m-${dtype}.gguf`);
      writeLlamaGguf(path, { config: cfg, tensors: w, tokenizer: { tokenizerJson: tok.json }, dtype });
      const f = readGguf(path);
      expect(f.metadata.get("general.architecture")).toBe("llama");
      expect(f.metadata.get("general.file_type")).toBe(dtype === "f16" ? 1 : 0);
      expect(f.metadata.get("llama.attention.head_count_kv")).toBe(2);
      expect(f.metadata.get("llama.rope.dimension_count")).toBe(16);
      const up = w.get("model.layers.1.mlp.up_proj.weight")!.data;
      expect(Array.from(f.read("blk.1.ffn_up.weight"))).toEqual(
        Array.from(dtype === "f16" ? roundToF16(asF32(up)) : up),
      );
      expect(f.tensors.find((t) => t.name === "token_embd.weight")!.shape).toEqual([cfg.vocab_size, 64]);
    }
  });

  it("writes a LoRA adapter: PEFT names grouped, lora_b of q/k permuted, alpha stored", () => {
    const cfg = tinyLlamaConfig();
    const rand = mulberry32(2);
    const r = 4;
    const peft = new Map([
      [
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
        { shape: [r, 64], data: randn(r * 64, 1, rand) },
      ],
      [
        "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
        { shape: [64, r], data: randn(64 * r, 1, rand) },
      ],
      [
        "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight",
        { shape: [r, 128], data: randn(r * 128, 1, rand) },
      ],
      ["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight", { shape: [64, r], data: randn(64 * r, 1, rand) }],
    ]);
    const pairs = loraPairsFromPeft(peft);
    expect([...pairs.keys()]).toEqual([
      "model.layers.0.self_attn.q_proj.weight",
      "model.layers.1.mlp.down_proj.weight",
    ]);
    const path = join(dir, "lora.gguf");
    writeLoraGguf(path, { config: cfg, pairs, alpha: 8 });
    const f = readGguf(path);
    expect(f.metadata.get("general.type")).toBe("adapter");
    expect(f.metadata.get("adapter.type")).toBe("lora");
    expect(f.metadata.get("adapter.lora.alpha")).toBe(8);
    expect(f.tensors.map((t) => [t.name, t.shape])).toEqual([
      ["blk.0.attn_q.weight.lora_a", [r, 64]],
      ["blk.0.attn_q.weight.lora_b", [64, r]],
      ["blk.1.ffn_down.weight.lora_a", [r, 128]],
      ["blk.1.ffn_down.weight.lora_b", [64, r]],
    ]);
    const b = pairs.get("model.layers.0.self_attn.q_proj.weight")!.b;
    expect(Array.from(f.read("blk.0.attn_q.weight.lora_b"))).toEqual(
      Array.from(permuteRopeRows(asF32(b.data), 64, r, 4)),
    );
    expect(loraAlpha({ scale: 0.5, pairs })).toBe(2); // rsLoRA-style scale s stored as alpha = s * r
    expect(() => loraAlpha({ alpha: 8, scale: 1, pairs })).toThrow(/exactly one/);
    expect(() =>
      loraPairsFromPeft(new Map([["x.lora_A.weight", { shape: [1, 1], data: new Float32Array(1) }]])),
    ).toThrow(/lora_B missing/);
  });
});
