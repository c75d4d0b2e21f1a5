/**
 * Model families (families.ts + the options of llama.ts): the real config.json of each family's small checkpoint
 * reads to the right options; every tiny family model round-trips through saveModel / loadModel; the KV-cache decoder
 * (generate.ts) gives the graph's logits at every position, past the sliding window; LoRA and full training steps
 * lower the loss on every family. Numerical parity with PyTorch is in parity.parity.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SplitMix32 } from "../domain/random.ts";
import { DEFAULT_LORA, initLora, loraHook } from "../train/lora.ts";
import { TINY_FAMILIES } from "./family-fixtures.ts";
import { generate, KvDecoder } from "./generate.ts";
import { configFromHf, configToHf, initWeights, type LlamaConfig, type Weights } from "./llama.ts";
import { LlamaRunner, loadModel, saveModel } from "./model.ts";
import { OnnxExecutor } from "./onnx/executor.ts";
import { saveSafetensors } from "./safetensors.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The config.json of each family's small public checkpoint (as published on the Hugging Face Hub). */
const REAL: Record<string, Record<string, unknown>> = {
  "Llama-3.2-1B": {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    head_dim: 64,
    hidden_size: 2048,
    intermediate_size: 8192,
    max_position_embeddings: 131072,
    num_attention_heads: 32,
    num_hidden_layers: 16,
    num_key_value_heads: 8,
    rms_norm_eps: 1e-5,
    rope_scaling: {
      factor: 32.0,
      high_freq_factor: 4.0,
      low_freq_factor: 1.0,
      original_max_position_embeddings: 8192,
      rope_type: "llama3",
    },
    rope_theta: 500000.0,
    tie_word_embeddings: true,
    vocab_size: 128256,
    attention_bias: false,
    mlp_bias: false,
  },
  "SmolLM2-135M": {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: 576,
    intermediate_size: 1536,
    max_position_embeddings: 8192,
    num_attention_heads: 9,
    num_hidden_layers: 30,
    num_key_value_heads: 3,
    rms_norm_eps: 1e-5,
    rope_theta: 100000,
    tie_word_embeddings: true,
    vocab_size: 49152,
  },
  "Mistral-7B-v0.1": {
    architectures: ["MistralForCausalLM"],
    model_type: "mistral",
    hidden_size: 4096,
    intermediate_size: 14336,
    max_position_embeddings: 32768,
    num_attention_heads: 32,
    num_hidden_layers: 32,
    num_key_value_heads: 8,
    rms_norm_eps: 1e-5,
    rope_theta: 10000.0,
    sliding_window: 4096,
    tie_word_embeddings: false,
    vocab_size: 32000,
  },
  "Qwen2.5-0.5B": {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    hidden_size: 896,
    intermediate_size: 4864,
    max_position_embeddings: 32768,
    max_window_layers: 21,
    num_attention_heads: 14,
    num_hidden_layers: 24,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    sliding_window: 32768,
    tie_word_embeddings: true,
    use_sliding_window: false,
    vocab_size: 151936,
  },
  "Qwen3-0.6B": {
    architectures: ["Qwen3ForCausalLM"],
    model_type: "qwen3",
    attention_bias: false,
    head_dim: 128,
    hidden_size: 1024,
    intermediate_size: 3072,
    max_position_embeddings: 40960,
    max_window_layers: 28,
    num_attention_heads: 16,
    num_hidden_layers: 28,
    num_key_value_heads: 8,
    rms_norm_eps: 1e-6,
    rope_scaling: null,
    rope_theta: 1000000,
    sliding_window: null,
    tie_word_embeddings: true,
    use_sliding_window: false,
    vocab_size: 151936,
  },
  "gemma-2-2b": {
    architectures: ["Gemma2ForCausalLM"],
    model_type: "gemma2",
    attn_logit_softcapping: 50.0,
    final_logit_softcapping: 30.0,
    head_dim: 256,
    hidden_act: "gelu_pytorch_tanh",
    hidden_activation: "gelu_pytorch_tanh",
    hidden_size: 2304,
    intermediate_size: 9216,
    max_position_embeddings: 8192,
    num_attention_heads: 8,
    num_hidden_layers: 26,
    num_key_value_heads: 4,
    query_pre_attn_scalar: 256,
    rms_norm_eps: 1e-6,
    rope_theta: 10000.0,
    sliding_window: 4096,
    vocab_size: 256000,
  },
  "gemma-3-1b": {
    architectures: ["Gemma3ForCausalLM"],
    model_type: "gemma3_text",
    attn_logit_softcapping: null,
    final_logit_softcapping: null,
    head_dim: 256,
    hidden_activation: "gelu_pytorch_tanh",
    hidden_size: 1152,
    intermediate_size: 6912,
    max_position_embeddings: 32768,
    num_attention_heads: 4,
    num_hidden_layers: 26,
    num_key_value_heads: 1,
    query_pre_attn_scalar: 256,
    rms_norm_eps: 1e-6,
    rope_local_base_freq: 10000,
    rope_scaling: null,
    rope_theta: 1000000,
    sliding_window: 512,
    sliding_window_pattern: 6,
    vocab_size: 262144,
  },
  "gemma-3-4b (text_config)": {
    architectures: ["Gemma3ForConditionalGeneration"],
    model_type: "gemma3",
    text_config: {
      hidden_size: 2560,
      intermediate_size: 10240,
      model_type: "gemma3_text",
      num_hidden_layers: 34,
      rope_scaling: { factor: 8.0, rope_type: "linear" },
      sliding_window: 1024,
    },
  },
  "Phi-3.5-mini": {
    architectures: ["Phi3ForCausalLM"],
    model_type: "phi3",
    hidden_size: 3072,
    intermediate_size: 8192,
    max_position_embeddings: 131072,
    num_attention_heads: 32,
    num_hidden_layers: 32,
    num_key_value_heads: 32,
    original_max_position_embeddings: 4096,
    rms_norm_eps: 1e-5,
    rope_scaling: {
      long_factor: Array.from({ length: 48 }, (_, i) => 1 + i),
      short_factor: Array.from({ length: 48 }, () => 1),
      type: "longrope",
    },
    rope_theta: 10000.0,
    sliding_window: 262144,
    tie_word_embeddings: false,
    vocab_size: 32064,
  },
};

describe("config.json of each family", () => {
  it("reads the options each family's modeling code implies", () => {
    const c = Object.fromEntries(Object.entries(REAL).map(([k, j]) => [k, configFromHf(j, k)]));
    expect(c["Llama-3.2-1B"]).toMatchObject({ tieWordEmbeddings: true, ropeScaling: { type: "llama3", factor: 32 } });
    expect(c["Llama-3.2-1B"].modelType).toBeUndefined();
    expect(c["SmolLM2-135M"]).toMatchObject({ numHeads: 9, numKvHeads: 3, headDim: 64, tieWordEmbeddings: true });
    expect(c["Mistral-7B-v0.1"]).toMatchObject({ modelType: "mistral", slidingWindow: 4096, tieWordEmbeddings: false });
    expect(c["Mistral-7B-v0.1"].layerTypes).toBeUndefined(); // every layer slides
    expect(c["Qwen2.5-0.5B"]).toMatchObject({ modelType: "qwen2", attentionBias: true, tieWordEmbeddings: true });
    expect(c["Qwen2.5-0.5B"].slidingWindow).toBeUndefined(); // use_sliding_window: false
    expect(c["Qwen3-0.6B"]).toMatchObject({ modelType: "qwen3", qkNorm: true, headDim: 128, numHeads: 16 });
    expect(c["gemma-2-2b"]).toMatchObject({
      modelType: "gemma2",
      normPlusOne: true,
      embedScale: true,
      hiddenAct: "gelu_pytorch_tanh",
      sandwichNorms: true,
      queryPreAttnScalar: 256,
      attnLogitSoftcap: 50,
      finalLogitSoftcap: 30,
      slidingWindow: 4096,
      tieWordEmbeddings: true,
    });
    expect(c["gemma-2-2b"].layerTypes?.slice(0, 4)).toEqual([
      "sliding_attention",
      "full_attention",
      "sliding_attention",
      "full_attention",
    ]);
    const g3 = c["gemma-3-1b"];
    expect(g3).toMatchObject({ modelType: "gemma3_text", qkNorm: true, ropeLocalTheta: 10000, ropeTheta: 1e6 });
    expect(g3.attnLogitSoftcap).toBeUndefined();
    expect(g3.layerTypes?.filter((t) => t === "full_attention").length).toBe(4); // layers 5, 11, 17, 23
    expect(g3.layerTypes?.[5]).toBe("full_attention");
    expect(c["gemma-3-4b (text_config)"]).toMatchObject({
      hiddenSize: 2560,
      numHeads: 8,
      headDim: 256,
      numLayers: 34,
      slidingWindow: 1024,
      ropeScaling: { type: "linear", factor: 8 },
    });
    const phi = c["Phi-3.5-mini"];
    expect(phi).toMatchObject({ modelType: "phi3", slidingWindow: 262144, headDim: 96 });
    if (phi.ropeScaling?.type !== "longrope") throw new Error("expected longrope");
    expect(phi.ropeScaling.originalMaxPositionEmbeddings).toBe(4096);
    // HF: sqrt(1 + ln(131072 / 4096) / ln(4096))
    expect(phi.ropeScaling.attentionFactor).toBeCloseTo(Math.sqrt(1 + Math.log(32) / Math.log(4096)), 12);
    // our config.json reads back to the same options
    for (const [name, cfg] of Object.entries(c)) expect(configFromHf(configToHf(cfg), name)).toEqual(cfg);
  });

  it("loads the language model of a Gemma3ForConditionalGeneration folder (text_config, language_model.* weights)", () => {
    const cfg = TINY_FAMILIES.gemma3;
    const w = familyWeights(cfg, 4);
    const dir = mkdtempSync(join(tmpdir(), "nn-gemma3-mm-"));
    dirs.push(dir);
    const { architectures: _a, model_type: _m, ...text } = configToHf(cfg);
    const prefixed: Weights = new Map([...w].map(([n, t]) => [n.replace(/^model\./, "language_model.model."), t]));
    prefixed.set("vision_tower.vision_model.embeddings.patch_embedding.weight", {
      shape: [2, 2],
      data: new Float32Array(4),
    });
    saveSafetensors(dir, prefixed);
    const json = {
      architectures: ["Gemma3ForConditionalGeneration"],
      model_type: "gemma3",
      text_config: { ...text, model_type: "gemma3_text" },
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(json));
    const back = loadModel(dir);
    expect(back.config).toEqual(cfg);
    expect([...back.weights.keys()].sort()).toEqual([...w.keys()].sort());
    for (const [n, t] of w) expect(maxDiff(back.weights.get(n)!.data, t.data), n).toBe(0);
  });

  it("reads transformers v5's rope_parameters (rope_theta and rope_scaling saved inside it) like the v4 keys", () => {
    // transformers v5 saves a config's RoPE as rope_parameters, with no top-level rope_theta / rope_scaling
    // (PreTrainedConfig.convert_rope_params_to_dict; Gemma3TextConfig nests it by layer type). Read as v4 keys.
    const v5 = (j: Record<string, unknown>, rp: unknown) => {
      const { rope_theta: _t, rope_scaling: _s, rope_local_base_freq: _l, ...rest } = j;
      return { ...rest, rope_parameters: rp };
    };
    const q3 = REAL["Qwen3-0.6B"];
    const q3v5 = configFromHf(v5(q3, { rope_theta: 1000000, rope_type: "default" }), "q3");
    expect(q3v5.ropeTheta).toBe(1e6); // was silently 10000
    expect(q3v5).toEqual(configFromHf(q3, "q3"));
    const llama = REAL["Llama-3.2-1B"];
    const rs = llama.rope_scaling as Record<string, unknown>;
    expect(configFromHf(v5(llama, { ...rs, rope_theta: 500000 }), "l")).toEqual(configFromHf(llama, "l"));
    const phi = REAL["Phi-3.5-mini"];
    const { type: _ty, ...phiRs } = phi.rope_scaling as Record<string, unknown>;
    const { original_max_position_embeddings: _o, ...phiRest } = phi;
    const phiRp = { ...phiRs, rope_type: "longrope", rope_theta: 10000, original_max_position_embeddings: 4096 };
    expect(configFromHf(v5(phiRest, phiRp), "p")).toEqual(configFromHf(phi, "p"));
    // Gemma 3: full_attention is the global RoPE (with its scaling), sliding_attention's theta the local base
    const g3 = REAL["gemma-3-1b"];
    const g3v5 = v5(g3, {
      full_attention: { rope_type: "linear", factor: 8, rope_theta: 2e6 },
      sliding_attention: { rope_type: "default", rope_theta: 20000 },
    });
    expect(configFromHf(g3v5, "g3")).toEqual(
      configFromHf(
        { ...g3, rope_theta: 2e6, rope_local_base_freq: 20000, rope_scaling: { rope_type: "linear", factor: 8 } },
        "g3",
      ),
    );
    const g4 = REAL["gemma-3-4b (text_config)"];
    const { rope_scaling: g4rs, ...g4text } = g4.text_config as Record<string, unknown>;
    const g4v5 = {
      ...g4,
      text_config: { ...g4text, rope_parameters: { full_attention: { ...(g4rs as object), rope_theta: 1e6 } } },
    };
    expect(configFromHf(g4v5, "g4")).toEqual(configFromHf(g4, "g4"));
    // what the decoder cannot run is still refused
    expect(() => configFromHf(v5(q3, { rope_type: "yarn", factor: 4, rope_theta: 1e6 }), "q3")).toThrow(/yarn/);
    expect(() => configFromHf(v5(q3, { rope_type: "default", partial_rotary_factor: 0.5 }), "q3")).toThrow(
      /partial_rotary_factor/,
    );
    const badLocal = { full_attention: {}, sliding_attention: { rope_type: "linear", factor: 2 } };
    expect(() => configFromHf(v5(g3, badLocal), "g3")).toThrow(/sliding_attention rope_type "linear"/);
  });

  it("Qwen2 / Qwen3 sliding layers as configuration_qwen2.py sets them (layer_types, HF defaults)", () => {
    const q: Record<string, unknown> = {
      ...REAL["Qwen2.5-0.5B"],
      num_hidden_layers: 4,
      use_sliding_window: true,
      sliding_window: 16,
    };
    const slide = "sliding_attention" as const;
    const full = "full_attention" as const;
    // layer_types given: it is the pattern (modeling_qwen2: sliding_window if layer_types[i] == "sliding_attention")
    const given = configFromHf({ ...q, max_window_layers: 2, layer_types: [slide, full, slide, full] }, "q");
    expect(given).toMatchObject({ slidingWindow: 16, layerTypes: [slide, full, slide, full] }); // was [f, f, s, s]
    expect(configFromHf(configToHf(given), "q")).toEqual(given);
    // no layer_types: layers >= max_window_layers slide, max_window_layers defaults to 28, sliding_window to 4096
    expect(configFromHf({ ...q, max_window_layers: 3 }, "q").layerTypes).toEqual([full, full, full, slide]);
    const {
      max_window_layers: _m,
      sliding_window: _w,
      ...bare
    }: Record<string, unknown> = { ...q, num_hidden_layers: 30 };
    const d = configFromHf(bare, "q");
    expect(d.slidingWindow).toBe(4096); // was: no window at all
    expect(d.layerTypes?.map((t, i) => (t === slide ? i : -1)).filter((i) => i >= 0)).toEqual([28, 29]); // was none
    // use_sliding_window false or an explicit null window: no layer slides, whatever layer_types says
    expect(
      configFromHf({ ...q, use_sliding_window: false, layer_types: [slide, slide, slide, slide] }, "q").slidingWindow,
    ).toBeUndefined();
    expect(configFromHf({ ...q, sliding_window: null, max_window_layers: 0 }, "q").slidingWindow).toBeUndefined();
  });

  it("a key the config.json leaves out means the family config class's default, not a generic one", () => {
    const drop = (j: Record<string, unknown>, ...keys: string[]) =>
      Object.fromEntries(Object.entries(j).filter(([k]) => !keys.includes(k)));
    // configuration_gemma2.py: head_dim 256, query_pre_attn_scalar 256, soft-caps 50 / 30
    const g2 = { ...REAL["gemma-2-2b"], hidden_size: 1024 }; // hidden / heads = 128, not 256
    const g2min = configFromHf(
      drop(g2, "head_dim", "query_pre_attn_scalar", "attn_logit_softcapping", "final_logit_softcapping"),
      "g2",
    );
    expect(g2min).toMatchObject({ headDim: 256, queryPreAttnScalar: 256, attnLogitSoftcap: 50, finalLogitSoftcap: 30 });
    // an explicit null is HF's None: no soft-capping
    const g2null = configFromHf({ ...g2, attn_logit_softcapping: null, final_logit_softcapping: null }, "g2");
    expect(g2null.attnLogitSoftcap).toBeUndefined();
    expect(g2null.finalLogitSoftcap).toBeUndefined();
    // configuration_qwen3.py: head_dim 128 (hidden / heads would be 64)
    expect(configFromHf(drop(REAL["Qwen3-0.6B"], "head_dim"), "q3").headDim).toBe(128);
    // configuration_mistral.py: sliding_window 4096 (null: none)
    expect(configFromHf(drop(REAL["Mistral-7B-v0.1"], "sliding_window"), "m").slidingWindow).toBe(4096);
    expect(configFromHf({ ...REAL["Mistral-7B-v0.1"], sliding_window: null }, "m").slidingWindow).toBeUndefined();
    // configuration_phi3.py: rms_norm_eps 1e-5; original_max_position_embeddings 4096 sets longrope's attention factor
    const phi = REAL["Phi-3.5-mini"];
    expect(configFromHf(drop(phi, "rms_norm_eps"), "p").rmsNormEps).toBe(1e-5);
    const phiRs = { ...(phi.rope_scaling as object), original_max_position_embeddings: 8192 };
    const p = configFromHf({ ...drop(phi, "original_max_position_embeddings"), rope_scaling: phiRs }, "p");
    expect(p.ropeScaling).toMatchObject({ originalMaxPositionEmbeddings: 4096 }); // the class attribute wins
  });

  it("Gemma 3's config.json carries sliding_window_pattern consistent with layer_types (transformers < 4.53 reads it)", () => {
    // transformers 4.50-4.52 Gemma3TextConfig has no layer_types: layer i slides unless (i + 1) % sliding_window_pattern
    // == 0 (default 6); 4.53+ reads layer_types and derives them from sliding_window_pattern when absent.
    const g3 = configFromHf(REAL["gemma-3-1b"], "g3");
    const out = configToHf(g3);
    expect(out.sliding_window_pattern).toBe(6);
    expect(out.layer_types).toEqual(g3.layerTypes);
    const { layer_types: _lt, ...older } = out; // what a transformers before 4.53 goes by
    expect(configFromHf(older, "older")).toEqual(g3);
    expect(configFromHf(out, "g3")).toEqual(g3);
    // other periods, every layer global (1) and every layer sliding (more than the layers): the same round trip
    const base = REAL["gemma-3-1b"];
    const L = base.num_hidden_layers as number;
    for (const types of [
      Array.from({ length: L }, (_, i) => ((i + 1) % 4 ? "sliding_attention" : "full_attention")),
      Array.from({ length: L }, () => "full_attention"),
      Array.from({ length: L }, () => "sliding_attention"),
    ]) {
      const c = configFromHf({ ...base, layer_types: types }, "g3");
      const { layer_types: _t, ...written } = configToHf(c);
      expect(configFromHf(written, "older")).toEqual(c);
    }
    expect(
      configToHf(configFromHf({ ...base, layer_types: Array(L).fill("full_attention") }, "g")).sliding_window_pattern,
    ).toBe(1);
    // a layer_types no period describes has no sliding_window_pattern: only transformers >= 4.53 can read it
    const odd = Array.from({ length: L }, (_, i) => (i === 0 || i === 7 ? "full_attention" : "sliding_attention"));
    expect(configToHf(configFromHf({ ...base, layer_types: odd }, "g")).sliding_window_pattern).toBeUndefined();
    // Gemma 2 alternates by its modeling code; it has no such key
    expect(configToHf(configFromHf(REAL["gemma-2-2b"], "g2")).sliding_window_pattern).toBeUndefined();
  });

  it('Phi-3 reads rope_scaling "su" and "yarn" as longrope, as configuration_phi3.py does; other families refuse yarn', () => {
    // transformers Phi3Config: 'For backward compatibility if previous version used "su" or "yarn"' -> "longrope"
    const phi = REAL["Phi-3.5-mini"];
    const longrope = configFromHf(phi, "p");
    const { type: _t, ...factors } = phi.rope_scaling as Record<string, unknown>;
    for (const old of ["su", "yarn"]) {
      expect(configFromHf({ ...phi, rope_scaling: { ...factors, type: old } }, "p")).toEqual(longrope);
      // transformers v5's rope_parameters carry it as rope_type
      const { rope_theta: _r, rope_scaling: _s, ...rest } = phi;
      const v5 = { ...rest, rope_parameters: { ...factors, rope_type: old, rope_theta: 10000 } };
      expect(configFromHf(v5, "p")).toEqual(longrope);
    }
    // a Phi-3 "yarn" without the longrope factors is refused as longrope is
    expect(() => configFromHf({ ...phi, rope_scaling: { type: "yarn", factor: 4 } }, "p.json")).toThrow(
      /p\.json: rope_scaling: "short_factor" must be a list of numbers/,
    );
    // elsewhere "yarn" is transformers' YaRN (_compute_yarn_parameters), which is not implemented here; "su" is Phi-3's
    const q3 = REAL["Qwen3-0.6B"];
    expect(() => configFromHf({ ...q3, rope_scaling: { rope_type: "yarn", factor: 4 } }, "q3.json")).toThrow(
      /q3\.json: rope_scaling type "yarn" .*YaRN.* not implemented/,
    );
    expect(() => configFromHf({ ...REAL["Llama-3.2-1B"], rope_scaling: { ...factors, type: "su" } }, "l.json")).toThrow(
      /l\.json: rope_scaling type "su" is Phi-3's name for longrope/,
    );
  });

  it("names the file and key of what it cannot run", () => {
    const q3 = REAL["Qwen3-0.6B"];
    expect(() => configFromHf({ ...q3, attention_bias: true }, "q3.json")).toThrow(/q3\.json: attention_bias/);
    expect(() => configFromHf({ ...q3, rope_scaling: { rope_type: "yarn", factor: 4 } }, "q3.json")).toThrow(/yarn/);
    expect(() => configFromHf({ ...q3, model_type: "gpt2" }, "x.json")).toThrow(/x\.json: model_type "gpt2"/);
    const phi = REAL["Phi-3.5-mini"];
    expect(() => configFromHf({ ...phi, head_dim: 64 }, "p.json")).toThrow(/short_factor has 48 entries, need 32/);
    // EmbeddingGemma (gemma3_text, use_bidirectional_attention: true) attends both ways: not a causal LM
    const g3 = REAL["gemma-3-1b"];
    expect(() => configFromHf({ ...g3, use_bidirectional_attention: true }, "e.json")).toThrow(
      /e\.json: use_bidirectional_attention true/,
    );
    expect(configFromHf({ ...g3, use_bidirectional_attention: false }, "g")).toEqual(configFromHf(g3, "g"));
  });
});

function familyWeights(cfg: LlamaConfig, seed: number): Weights {
  const w = initWeights(cfg, seed, 0.15);
  const rng = new SplitMix32(seed + 1);
  for (const t of w.values())
    if (t.shape.length === 1) for (let i = 0; i < t.data.length; i++) t.data[i] += 0.1 * rng.normal();
  return w;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe.each(Object.keys(TINY_FAMILIES))("%s", (name) => {
  const cfg = TINY_FAMILIES[name];
  const w = familyWeights(cfg, 5);
  const V = cfg.vocabSize;

  it("saves as its own architecture and loads back identically", () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-family-"));
    dirs.push(dir);
    saveModel(dir, cfg, w);
    const json = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(json.model_type).toBe(cfg.modelType ?? "llama");
    const back = loadModel(dir);
    expect(back.config).toEqual(cfg);
    for (const [n, t] of w) expect(maxDiff(back.weights.get(n)!.data, t.data), n).toBe(0);
  });

  it("KV-cache decoding gives the graph's logits at every position (past the sliding window, left padded)", async () => {
    const rng = new SplitMix32(3);
    const seq = Array.from({ length: 20 }, () => rng.int(V));
    const runner = new LlamaRunner(cfg);
    const full = await runner.logits(w, 1, seq.length, seq); // [1,20,V]
    // phi3.5's longrope switches factors with the length (HF semantics): compare it at the full length only
    const prefill = name === "phi3.5" ? 19 : 6;
    // batch of 2: the sequence and a shorter one (left padding)
    const dec = new KvDecoder(cfg, w, 2, 24);
    const other = seq.slice(0, 4);
    const toks = [...seq.slice(0, prefill), ...new Array(prefill - other.length).fill(0), ...other];
    const real = [
      ...new Array(prefill).fill(1),
      ...new Array(prefill - other.length).fill(0),
      ...new Array(other.length).fill(1),
    ];
    let logits = dec.step(toks, prefill, real);
    let worst = maxDiff(logits.subarray(0, V), full.data.subarray((prefill - 1) * V, prefill * V));
    for (let t = prefill; t < seq.length; t++) {
      logits = dec.step([seq[t], 1], 1, [1, 1]);
      worst = Math.max(worst, maxDiff(logits.subarray(0, V), full.data.subarray(t * V, (t + 1) * V)));
    }
    expect(worst).toBeLessThan(1e-4);
    // and the left-padded short sequence got the logits of its own unpadded graph run (longrope: the batch's length
    // picks the factors, as in HF, so phi3.5 is left out here)
    if (name === "phi3.5") return runner.dispose();
    const short = await runner.logits(w, 1, 4, other);
    const dec2 = new KvDecoder(cfg, w, 2, 24);
    const l2 = dec2.step(toks, prefill, real);
    expect(maxDiff(l2.subarray(V, 2 * V), short.data.subarray(3 * V, 4 * V))).toBeLessThan(1e-4);
    await runner.dispose();
  });

  it("generation with the cache equals recomputing every step", () => {
    const prompts = [
      [3, 9, 27, 81 % V, 5, 6, 7, 8, 9, 10],
      [1, 2],
    ];
    const a = generate(cfg, w, prompts, { maxTokens: 6 });
    const b = generate(cfg, w, prompts, { maxTokens: 6, noCache: true });
    if (name !== "phi3.5") expect(a.map((g) => g.tokens)).toEqual(b.map((g) => g.tokens));
    expect(a[0].tokens.length).toBe(6);
  });

  it("LoRA on every linear layer (HF module names) trains: gradients reach all adapters, the loss falls", async () => {
    const lora = { ...DEFAULT_LORA, r: 4, alpha: 8 };
    const adapter = initLora(cfg, lora, 1);
    // q/k/v/o + gate/up/down in each of the 2 layers, A and B each
    expect(adapter.size).toBe(2 * 7 * 2);
    const runner = new LlamaRunner(cfg, undefined, loraHook(cfg, lora, false), (n) => n.includes(".lora_"));
    const all = new Map([...w, ...adapter]);
    const rng = new SplitMix32(8);
    const ids = Array.from({ length: 2 * 12 }, () => rng.int(V));
    const batch = { B: 2, T: 12, inputIds: ids, attentionMask: new Array(24).fill(1), labels: ids };
    const first = await runner.lossAndGrads(all, batch);
    expect(first.grads.size).toBe(adapter.size);
    // B starts at zero, so A's gradient is zero at step 0; B's is not
    for (const [n, g] of first.grads)
      if (n.includes("lora_B")) expect(maxDiff(g, new Float32Array(g.length)), n).toBeGreaterThan(0);
    for (let s = 0; s < 5; s++) {
      const r = await runner.lossAndGrads(all, batch);
      for (const [n, g] of r.grads) {
        const t = all.get(n)!.data as Float32Array;
        for (let i = 0; i < t.length; i++) t[i] -= 0.5 * g[i];
      }
    }
    const last = await runner.lossAndGrads(all, batch);
    expect(last.loss).toBeLessThan(first.loss);
    await runner.dispose();
  });

  it("the ONNX Runtime executor (the trainer's default) gives the reference's loss and gradients", async () => {
    const rng = new SplitMix32(10);
    const ids = Array.from({ length: 2 * 12 }, () => rng.int(V));
    const batch = { B: 2, T: 12, inputIds: ids, attentionMask: new Array(24).fill(1), labels: ids };
    const ref = await new LlamaRunner(cfg).lossAndGrads(w, batch);
    const onnxRunner = new LlamaRunner(cfg, new OnnxExecutor({ threads: 1 }));
    const got = await onnxRunner.lossAndGrads(w, batch);
    await onnxRunner.dispose();
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
    let worst = 0;
    for (const [n, g] of ref.grads) {
      let num = 0;
      let den = 0;
      const o = got.grads.get(n)!;
      for (let i = 0; i < g.length; i++) {
        num += (o[i] - g[i]) ** 2;
        den += g[i] ** 2;
      }
      worst = Math.max(worst, Math.sqrt(num / Math.max(den, 1e-30)));
    }
    expect(worst).toBeLessThan(1e-3);
  });

  it("full fine-tuning reaches every parameter (biases, q/k norms, Gemma's extra norms)", async () => {
    const runner = new LlamaRunner(cfg);
    const rng = new SplitMix32(9);
    const ids = Array.from({ length: 12 }, () => rng.int(V));
    const r = await runner.lossAndGrads(w, {
      B: 1,
      T: 12,
      inputIds: ids,
      attentionMask: new Array(12).fill(1),
      labels: ids,
    });
    expect(r.grads.size).toBe(w.size);
    for (const [n, g] of r.grads) expect(maxDiff(g, new Float32Array(g.length)), n).toBeGreaterThan(0);
    await runner.dispose();
  });
});
