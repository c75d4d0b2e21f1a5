/**
 * Each family's Hugging Face config.json <-> our `LlamaConfig` (one decoder with named options, see llama.ts).
 *
 *   model_type    architecture            what it sets
 *   llama         LlamaForCausalLM        (Llama 2/3.x, SmolLM2) tie_word_embeddings, rope_scaling linear / llama3
 *   mistral       MistralForCausalLM      sliding_window on every layer (null: none)
 *   qwen2         Qwen2ForCausalLM        attentionBias (q/k/v); use_sliding_window for layers >= max_window_layers
 *   qwen3         Qwen3ForCausalLM        qkNorm; the same sliding-window keys as Qwen2
 *   gemma2        Gemma2ForCausalLM       Gemma options; even layers slide (layer_types)
 *   gemma3_text   Gemma3ForCausalLM       Gemma options + qkNorm, rope_local_base_freq, 5 sliding : 1 global
 *   gemma3        Gemma3ForConditionalGeneration: its text_config (the language model only; see model.ts)
 *   phi3          Phi3ForCausalLM         fused projections (split on load), sliding_window, longrope
 *
 * Semantics follow transformers' modeling_{llama,mistral,qwen2,qwen3,gemma2,gemma3,phi3}.py and
 * modeling_rope_utils.py; errors name the file and key. Configs saved by transformers v5 keep RoPE in
 * `rope_parameters` (rope_theta inside it); they read as the v4 keys (legacyRopeKeys).
 */
import { type LayerType, type LlamaConfig, type ModelType, type RopeScaling, validateConfig } from "./llama.ts";

type Json = Record<string, unknown>;

function num(json: Json, key: string, file: string, fallback?: number): number {
  const v = json[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new Error(`${file}: missing number "${key}"`);
  }
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new Error(`${file}: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function optNum(json: Json, key: string, file: string): number | undefined {
  const v = json[key];
  return v === undefined || v === null ? undefined : num(json, key, file);
}

/** transformers' Gemma3TextConfig defaults (keys a Gemma 3 text_config may leave out). */
const GEMMA3_TEXT_DEFAULTS: Json = {
  vocab_size: 262208,
  hidden_size: 2304,
  intermediate_size: 9216,
  num_hidden_layers: 26,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 256,
  rms_norm_eps: 1e-6,
  rope_theta: 1_000_000,
  rope_local_base_freq: 10000,
  query_pre_attn_scalar: 256,
  sliding_window: 4096,
  sliding_window_pattern: 6,
  max_position_embeddings: 131072,
};

/**
 * Where a family's config class defaults a key that changes the math differently from this loader's generic fallback
 * (configuration_{mistral,qwen3,gemma2,phi3}.py): a config.json that leaves the key out means the class default.
 * An explicit null stays null (HF: None).
 */
const FAMILY_DEFAULTS: Partial<Record<string, Json>> = {
  mistral: { sliding_window: 4096 },
  qwen3: { head_dim: 128 },
  gemma2: { head_dim: 256, query_pre_attn_scalar: 256, attn_logit_softcapping: 50.0, final_logit_softcapping: 30.0 },
  phi3: { rms_norm_eps: 1e-5, max_position_embeddings: 4096, original_max_position_embeddings: 4096 },
  gemma3_text: GEMMA3_TEXT_DEFAULTS,
};

const FAMILIES: readonly ModelType[] = ["llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3_text", "phi3"];

const ARCHITECTURE: Record<ModelType, string> = {
  llama: "LlamaForCausalLM",
  mistral: "MistralForCausalLM",
  qwen2: "Qwen2ForCausalLM",
  qwen3: "Qwen3ForCausalLM",
  gemma2: "Gemma2ForCausalLM",
  gemma3_text: "Gemma3ForCausalLM",
  phi3: "Phi3ForCausalLM",
};

/** Read a HF config.json object of a supported family. `file` names the source in errors. */
export function configFromHf(jsonIn: Json, file = "config.json"): LlamaConfig {
  let json = jsonIn;
  let modelType = String(json.model_type ?? "llama");
  if (modelType === "gemma3" && typeof json.text_config === "object" && json.text_config !== null) {
    json = { ...(json.text_config as Json), model_type: "gemma3_text" };
    file = `${file}: text_config`;
    modelType = "gemma3_text";
  }
  // Gemma3ForConditionalGeneration's text_config lists only what differs from Gemma3TextConfig's defaults
  json = { ...FAMILY_DEFAULTS[modelType], ...json };
  if (!FAMILIES.includes(modelType as ModelType)) {
    throw new Error(`${file}: model_type "${modelType}" is not supported (${FAMILIES.join(", ")})`);
  }
  json = legacyRopeKeys(json, modelType, file);
  const mt = modelType as ModelType;
  const gemma = mt === "gemma2" || mt === "gemma3_text";
  const prf = json.partial_rotary_factor;
  if (prf !== undefined && prf !== null && prf !== 1)
    throw new Error(`${file}: partial_rotary_factor ${prf} not supported`);
  if (json.mlp_bias === true) throw new Error(`${file}: mlp_bias is not supported`);
  // Gemma3TextConfig.use_bidirectional_attention (EmbeddingGemma): modeling_gemma3 then attends without the causal mask
  const bidi = json.use_bidirectional_attention;
  if (bidi !== undefined && bidi !== null && bidi !== false)
    throw new Error(
      `${file}: use_bidirectional_attention ${JSON.stringify(bidi)} is not supported (causal decoders only)`,
    );
  if (json.attention_bias === true && mt !== "qwen2")
    throw new Error(`${file}: attention_bias (q/k/v and o_proj biases) is not supported for ${mt}`);
  const act = String(json.hidden_activation ?? json.hidden_act ?? (gemma ? "gelu_pytorch_tanh" : "silu"));
  const wantAct = gemma ? "gelu_pytorch_tanh" : "silu";
  if (act !== wantAct) throw new Error(`${file}: hidden_act "${act}" is not supported for ${mt} (${wantAct})`);
  const hidden = num(json, "hidden_size", file);
  const heads = num(json, "num_attention_heads", file);
  const layers = num(json, "num_hidden_layers", file);
  const cfg: LlamaConfig = {
    vocabSize: num(json, "vocab_size", file),
    hiddenSize: hidden,
    intermediateSize: num(json, "intermediate_size", file),
    numLayers: layers,
    numHeads: heads,
    numKvHeads: num(json, "num_key_value_heads", file, heads),
    headDim: num(json, "head_dim", file, hidden / heads),
    rmsNormEps: num(json, "rms_norm_eps", file, 1e-6),
    ropeTheta: num(json, "rope_theta", file, mt === "gemma3_text" ? 1_000_000 : 10000),
    maxPositionEmbeddings: num(json, "max_position_embeddings", file, 2048),
    tieWordEmbeddings: json.tie_word_embeddings === true || (gemma && json.tie_word_embeddings !== false),
  };
  if (mt !== "llama") cfg.modelType = mt;
  const ropeScaling = parseRopeScaling(json, cfg, file);
  if (ropeScaling) cfg.ropeScaling = ropeScaling;
  if (typeof json.bos_token_id === "number") cfg.bosTokenId = json.bos_token_id;
  if (typeof json.eos_token_id === "number" || Array.isArray(json.eos_token_id)) {
    cfg.eosTokenId = json.eos_token_id as number | number[];
  }
  if (typeof json.pad_token_id === "number") cfg.padTokenId = json.pad_token_id;

  // sliding windows
  const window = optNum(json, "sliding_window", file);
  if (mt === "mistral" || mt === "phi3") {
    if (window !== undefined) cfg.slidingWindow = window;
  } else if (mt === "qwen2" || mt === "qwen3") {
    // configuration_qwen2.py / _qwen3.py: sliding_window (default 4096) only with use_sliding_window; layer_types
    // when given, else layers >= max_window_layers (default 28) slide. An explicit null window: no layer slides.
    const w = json.sliding_window === undefined ? 4096 : window;
    if (json.use_sliding_window === true && w !== undefined) {
      const from = num(json, "max_window_layers", file, 28);
      const types =
        parseLayerTypes(json, file, layers) ??
        Array.from({ length: layers }, (_, i): LayerType => (i >= from ? "sliding_attention" : "full_attention"));
      if (types.includes("sliding_attention")) {
        cfg.slidingWindow = w;
        cfg.layerTypes = types;
      }
    }
  } else if (gemma) {
    cfg.slidingWindow = num(json, "sliding_window", file, 4096);
    const period = mt === "gemma2" ? 2 : num(json, "sliding_window_pattern", file, 6);
    cfg.layerTypes =
      parseLayerTypes(json, file, layers) ??
      Array.from({ length: layers }, (_, i) => ((i + 1) % period ? "sliding_attention" : "full_attention"));
  } else if (window !== undefined) {
    // LlamaForCausalLM has no window; a llama config.json with one (our Phi-3 exports before the window was
    // implemented) is a Mistral: Llama + sliding window
    cfg.modelType = "mistral";
    cfg.slidingWindow = window;
  }
  if (mt === "qwen2") cfg.attentionBias = true;
  if (mt === "qwen3" || mt === "gemma3_text") cfg.qkNorm = true;
  if (gemma) {
    cfg.normPlusOne = true;
    cfg.embedScale = true;
    cfg.hiddenAct = "gelu_pytorch_tanh";
    cfg.sandwichNorms = true;
    cfg.queryPreAttnScalar = num(json, "query_pre_attn_scalar", file, cfg.headDim);
    const attnCap = optNum(json, "attn_logit_softcapping", file);
    const finalCap = optNum(json, "final_logit_softcapping", file);
    if (attnCap !== undefined) cfg.attnLogitSoftcap = attnCap;
    if (finalCap !== undefined) cfg.finalLogitSoftcap = finalCap;
    if (mt === "gemma3_text") cfg.ropeLocalTheta = num(json, "rope_local_base_freq", file, 10000);
  }
  validateConfig(cfg, file);
  return cfg;
}

/**
 * transformers v5 saves RoPE as `rope_parameters` (rope_theta inside, no top-level rope_theta / rope_scaling);
 * returns the config with the v4 keys this loader reads. v5 semantics (PreTrainedConfig.convert_rope_params_to_dict):
 * a legacy `rope_scaling` replaces `rope_parameters` whole, and `rope_parameters.rope_theta` wins over a top-level
 * `rope_theta`. Gemma 3 nests it by layer type (Gemma3TextConfig.convert_rope_params_to_dict): `full_attention` is
 * the global RoPE (rope_scaling merged into it), `sliding_attention`'s theta is rope_local_base_freq.
 */
function legacyRopeKeys(json: Json, modelType: string, file: string): Json {
  const rp = json.rope_parameters;
  if (rp === undefined || rp === null) return json;
  const f = `${file}: rope_parameters`;
  if (typeof rp !== "object" || Array.isArray(rp)) throw new Error(`${f} must be an object`);
  const out: Json = { ...json };
  delete out.rope_parameters;
  const legacy = json.rope_scaling;
  const hasLegacy = legacy !== undefined && legacy !== null;
  const typed = (p: Json): Json => ((p.rope_type ?? p.type) == null ? { ...p, rope_type: "default" } : p);
  const apply = (params: Json, thetaKey: string) => {
    if (params.rope_theta !== undefined && params.rope_theta !== null) out[thetaKey] = num(params, "rope_theta", f);
    const prf = params.partial_rotary_factor;
    if (prf !== undefined && prf !== null) out.partial_rotary_factor = prf;
  };
  const nested = "full_attention" in rp || "sliding_attention" in rp;
  if (nested) {
    if (modelType !== "gemma3_text") throw new Error(`${f}: per-layer-type RoPE is not supported for ${modelType}`);
    const full: Json = { ...((rp as Json).full_attention as Json | undefined), ...(hasLegacy ? (legacy as Json) : {}) };
    const local = ((rp as Json).sliding_attention ?? {}) as Json;
    const localType = String(local.rope_type ?? local.type ?? "default");
    if (localType !== "default")
      throw new Error(`${f}: sliding_attention rope_type "${localType}" is not supported (default)`);
    apply(full, "rope_theta");
    apply(local, "rope_local_base_freq");
    out.rope_scaling = typed(full);
  } else {
    const params = hasLegacy ? (legacy as Json) : (rp as Json);
    apply(params, "rope_theta");
    out.rope_scaling = typed(params);
  }
  return out;
}

function parseLayerTypes(json: Json, file: string, layers: number): LayerType[] | undefined {
  const lt = json.layer_types;
  if (lt === undefined || lt === null) return undefined;
  if (!Array.isArray(lt) || lt.length !== layers || lt.some((t) => t !== "sliding_attention" && t !== "full_attention"))
    throw new Error(
      `${file}: layer_types must list "sliding_attention" / "full_attention" for each of ${layers} layers`,
    );
  return lt as LayerType[];
}

function parseRopeScaling(json: Json, c: LlamaConfig, file: string): RopeScaling | undefined {
  const raw = json.rope_scaling;
  if (raw === undefined || raw === null) return undefined;
  const r = raw as Json;
  const given = String(r.rope_type ?? r.type ?? "");
  // configuration_phi3.py (Phi3Config): 'For backward compatibility if previous version used "su" or "yarn"', both
  // are renamed "longrope" and read as longrope (short/long factors); no other family's config does this.
  const phi3 = c.modelType === "phi3";
  const type = phi3 && (given === "su" || given === "yarn") ? "longrope" : given;
  const f = `${file}: rope_scaling`;
  const key = (k: string) => num(r, k, f);
  if (type === "linear") return { type, factor: key("factor") };
  if (type === "llama3") {
    return {
      type,
      factor: key("factor"),
      lowFreqFactor: key("low_freq_factor"),
      highFreqFactor: key("high_freq_factor"),
      originalMaxPositionEmbeddings: key("original_max_position_embeddings"),
    };
  }
  if (type === "su")
    throw new Error(
      `${file}: rope_scaling type "su" is Phi-3's name for longrope (model_type phi3), not ${c.modelType ?? "llama"}'s`,
    );
  if (type === "longrope") {
    // modeling_rope_utils._compute_longrope_parameters: the top-level original_max_position_embeddings wins
    const orig = optNum(json, "original_max_position_embeddings", file) ?? key("original_max_position_embeddings");
    const factor = c.maxPositionEmbeddings / orig;
    const given = optNum(r, "attention_factor", f);
    const factors = (k: string) => {
      const v = r[k];
      if (!Array.isArray(v) || v.some((x) => typeof x !== "number"))
        throw new Error(`${f}: "${k}" must be a list of numbers`);
      return v as number[];
    };
    return {
      type: "longrope",
      shortFactor: factors("short_factor"),
      longFactor: factors("long_factor"),
      originalMaxPositionEmbeddings: orig,
      attentionFactor: given ?? (factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(orig))),
    };
  }
  if (type === "default") return undefined;
  if (type === "yarn")
    throw new Error(
      `${file}: rope_scaling type "yarn" is transformers' YaRN (modeling_rope_utils._compute_yarn_parameters), ` +
        'which is not implemented here (linear, llama3, longrope; Phi-3 reads "yarn" as longrope)',
    );
  throw new Error(`${file}: rope_scaling type "${type}" is not supported (linear, llama3, longrope)`);
}

function ropeScalingToHf(s: RopeScaling | undefined): Json | null {
  if (!s) return null;
  if (s.type === "linear") return { rope_type: "linear", factor: s.factor };
  if (s.type === "longrope") {
    return {
      rope_type: "longrope",
      short_factor: s.shortFactor,
      long_factor: s.longFactor,
      attention_factor: s.attentionFactor,
    };
  }
  return {
    rope_type: "llama3",
    factor: s.factor,
    low_freq_factor: s.lowFreqFactor,
    high_freq_factor: s.highFreqFactor,
    original_max_position_embeddings: s.originalMaxPositionEmbeddings,
  };
}

/**
 * Gemma 3's sliding_window_pattern for these layer types: transformers' rule (Gemma3TextConfig: 4.50-4.52's
 * `is_sliding = bool((layer_idx + 1) % sliding_window_pattern)`, and 4.53+'s layer_types derived the same way when the
 * file has none) makes layer i global iff (i + 1) % p == 0. p is one more than the first global layer's index (1:
 * every layer global; layers + 1: none), kept only if the rule then gives every layer's type; undefined otherwise
 * (only layer_types, which transformers >= 4.53 reads, can say it).
 */
function gemma3SlidingPattern(types: readonly LayerType[]): number | undefined {
  const first = types.indexOf("full_attention");
  const p = first < 0 ? types.length + 1 : first + 1;
  return types.every((t, i) => (t === "full_attention") === ((i + 1) % p === 0)) ? p : undefined;
}

/** HF config.json of the config's family (transformers loads it as that architecture). */
export function configToHf(c: LlamaConfig): Json {
  const mt = c.modelType ?? "llama";
  const gemma = mt === "gemma2" || mt === "gemma3_text";
  const out: Json = {
    architectures: [ARCHITECTURE[mt]],
    model_type: mt,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    [gemma ? "hidden_activation" : "hidden_act"]: gemma ? "gelu_pytorch_tanh" : "silu",
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: ropeScalingToHf(c.ropeScaling),
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings,
    initializer_range: 0.02,
    torch_dtype: "float32",
  };
  if (mt === "llama") Object.assign(out, { attention_bias: false, mlp_bias: false });
  if (mt === "qwen3") out.attention_bias = false;
  if (c.ropeScaling?.type === "longrope")
    out.original_max_position_embeddings = c.ropeScaling.originalMaxPositionEmbeddings;
  if (mt === "mistral" || mt === "phi3") out.sliding_window = c.slidingWindow ?? null;
  if (mt === "qwen2" || mt === "qwen3") {
    const first = c.layerTypes?.indexOf("sliding_attention") ?? -1;
    out.use_sliding_window = c.slidingWindow !== undefined && first >= 0;
    out.sliding_window = c.slidingWindow ?? null;
    out.max_window_layers = first >= 0 ? first : c.numLayers;
    if (c.layerTypes) out.layer_types = c.layerTypes;
  }
  if (gemma) {
    Object.assign(out, {
      sliding_window: c.slidingWindow ?? null,
      layer_types: c.layerTypes ?? Array.from({ length: c.numLayers }, () => "full_attention"),
      query_pre_attn_scalar: c.queryPreAttnScalar ?? c.headDim,
      attn_logit_softcapping: c.attnLogitSoftcap ?? null,
      final_logit_softcapping: c.finalLogitSoftcap ?? null,
      attention_bias: false,
    });
    if (mt === "gemma3_text") {
      out.rope_local_base_freq = c.ropeLocalTheta ?? 10000;
      // transformers before 4.53 has no layer_types for Gemma 3: it reads sliding_window_pattern (default 6) instead
      const pattern = gemma3SlidingPattern(out.layer_types as LayerType[]);
      if (pattern !== undefined) out.sliding_window_pattern = pattern;
    }
  }
  if (c.bosTokenId !== undefined) out.bos_token_id = c.bosTokenId;
  if (c.eosTokenId !== undefined) out.eos_token_id = c.eosTokenId;
  if (c.padTokenId !== undefined) out.pad_token_id = c.padTokenId;
  return out;
}
