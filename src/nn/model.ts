/**
 * Checkpoint I/O (HF directory: config.json + safetensors) and compiled-graph caching for the Llama model:
 * one compiled (forward | loss+gradients) graph per batch shape [B, T], on any `Executor`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appendGradients } from "./autodiff.ts";
import { RefExecutor } from "./executor-ref.ts";
import type { CompiledGraph, Executor, HostTensor } from "./ir.ts";
import {
  buildForward,
  buildLoss,
  checkWeights,
  configFromHf,
  configToHf,
  forwardBatch,
  type LinearHook,
  type LlamaConfig,
  type LossGraph,
  lossBatch,
  phi3ToLlama,
  type Weights,
} from "./llama.ts";
import { loadSafetensors, saveSafetensors } from "./safetensors.ts";
import { GraphBuilder, type Sym } from "./tensor.ts";

export interface LoadedModel {
  config: LlamaConfig;
  weights: Weights;
  /** the architecture named in config.json */
  architecture: string;
}

/**
 * Load an HF checkpoint directory of a supported family (families.ts): Llama, Mistral, Qwen2, Qwen3, Gemma 2,
 * Gemma 3 (text-only, or the language model of Gemma3ForConditionalGeneration), Phi-3.
 */
export function loadModel(dir: string): LoadedModel {
  const cfgPath = join(dir, "config.json");
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(cfgPath, "utf8"));
  } catch (e) {
    throw new Error(`${cfgPath}: ${(e as Error).message}`);
  }
  const config = configFromHf(json, cfgPath);
  const architecture = Array.isArray(json.architectures) ? String(json.architectures[0]) : "LlamaForCausalLM";
  let weights: Weights = loadSafetensors(dir);
  if (architecture === "Phi3ForCausalLM" || json.model_type === "phi3") weights = phi3ToLlama(config, weights);
  if (json.model_type === "gemma3" && json.text_config) weights = gemma3LanguageModel(weights);
  // tied checkpoints sometimes still store lm_head.weight: drop it (it equals the embedding)
  if (config.tieWordEmbeddings) weights.delete("lm_head.weight");
  checkWeights(config, weights, dir);
  return { config, weights, architecture };
}

/**
 * Gemma3ForConditionalGeneration -> its language model: "language_model.model.*" (transformers < 4.52) or
 * "model.language_model.*" become "model.*", "language_model.lm_head.*" "lm_head.*"; vision tower and projector go.
 */
function gemma3LanguageModel(w: Weights): Weights {
  const out: Weights = new Map();
  for (const [name, t] of w) {
    const m = /^(?:language_model\.model\.|model\.language_model\.)(.+)$/.exec(name);
    if (m) out.set(`model.${m[1]}`, t);
    else if (name.startsWith("language_model.lm_head.")) out.set(name.slice("language_model.".length), t);
    else if (name === "lm_head.weight") out.set(name, t);
  }
  return out;
}

/** Llama layout -> Phi3ForCausalLM's fused qkv_proj [(H+2KV)hd, D] and gate_up_proj [2I, D]. */
function llamaToPhi3(c: LlamaConfig, w: Weights): Weights {
  const out: Weights = new Map(w);
  const cat = (names: string[]): HostTensor => {
    const parts = names.map((n) => w.get(n)!);
    const data = new Float32Array(parts.reduce((a, t) => a + t.data.length, 0));
    let o = 0;
    for (const t of parts) {
      data.set(t.data, o);
      o += t.data.length;
    }
    for (const n of names) out.delete(n);
    return { shape: [parts.reduce((a, t) => a + t.shape[0], 0), parts[0].shape[1]], data };
  };
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    out.set(`${p}.self_attn.qkv_proj.weight`, cat(["q", "k", "v"].map((x) => `${p}.self_attn.${x}_proj.weight`)));
    out.set(`${p}.mlp.gate_up_proj.weight`, cat([`${p}.mlp.gate_proj.weight`, `${p}.mlp.up_proj.weight`]));
  }
  return out;
}

/** Save as an HF directory of the config's family: config.json + model.safetensors (or shards); Phi-3 fused. */
export function saveModel(
  dir: string,
  config: LlamaConfig,
  weights: Weights,
  opts: { dtype?: "F32" | "F16"; maxShardBytes?: number } = {},
): void {
  checkWeights(config, weights, "saveModel");
  saveSafetensors(dir, config.modelType === "phi3" ? llamaToPhi3(config, weights) : weights, opts);
  writeFileSync(
    join(dir, "config.json"),
    `${JSON.stringify({ ...configToHf(config), torch_dtype: opts.dtype === "F16" ? "float16" : "float32" }, null, 2)}\n`,
  );
}

/** A labelled batch: all arrays are [B*T] row-major; labels -100 are ignored (HF convention, shifted inside). */
export interface Batch {
  B: number;
  T: number;
  inputIds: ArrayLike<number>;
  attentionMask: ArrayLike<number>;
  labels: ArrayLike<number>;
}

export interface StepResult {
  loss: number;
  /** per-sequence sum of label log-probs, [B] */
  sequenceLogps: Float32Array;
  /** gradients of `loss` by parameter name (only the `trainable` names) */
  grads: Map<string, Float32Array>;
}

/**
 * A custom training objective recorded on top of the loss graph (which has `sequenceLogps` [B] and `loss`).
 * `key` identifies it in the compiled-graph cache; extra inputs it declares with `b.input(...)` are fed per call.
 */
export interface Objective {
  key: string;
  build(g: LossGraph, b: GraphBuilder): Sym;
}

/**
 * Compiles and caches graphs per shape. `hook` wraps linear layers (LoRA); `extraParams` are the names of parameters
 * the hook creates, fed from the same weight map. `trainable` selects which parameters get gradients (default all).
 */
export class LlamaRunner {
  private readonly lossCache = new Map<string, { compiled: CompiledGraph; names: string[] }>();
  private readonly fwdCache = new Map<string, CompiledGraph>();
  private readonly seqCache = new Map<string, CompiledGraph>();

  constructor(
    readonly config: LlamaConfig,
    readonly executor: Executor = new RefExecutor(),
    readonly hook?: LinearHook,
    readonly trainable?: (name: string) => boolean,
  ) {}

  private lossGraph(B: number, T: number, objective?: Objective) {
    const key = `${B}x${T}:${objective?.key ?? "ce"}`;
    let e = this.lossCache.get(key);
    if (!e) {
      const b = new GraphBuilder();
      const g = buildLoss(this.config, b, B, T, this.hook);
      const target = objective ? objective.build(g, b) : g.loss;
      if (target.shape.length !== 0)
        throw new Error(`objective "${objective?.key}" must be a scalar, got [${target.shape}]`);
      const names = b.graph
        .leaves()
        .filter((n) => n.op.kind === "param")
        .map((n) => (n.op as { name: string }).name)
        .filter((n) => !this.trainable || this.trainable(n));
      const gradIds = appendGradients(
        b.graph,
        target.id,
        names.map((n) => b.graph.byName(n)!),
      );
      e = { compiled: this.executor.compile(b.graph, [target.id, g.sequenceLogps.id, ...gradIds]), names };
      this.lossCache.set(key, e);
    }
    return e;
  }

  private batchFeeds(weights: Weights, batch: Batch, extra?: Record<string, HostTensor>): Record<string, HostTensor> {
    return {
      ...Object.fromEntries(weights),
      ...lossBatch(this.config, batch.B, batch.T, batch.inputIds, batch.attentionMask, batch.labels),
      ...(extra ?? {}),
    };
  }

  /**
   * Loss, per-sequence log-prob sums and gradients for one batch. The loss is the mean token cross-entropy, or a
   * custom `objective` (e.g. DPO) built from the same graph, whose extra inputs come in `feeds`.
   */
  async lossAndGrads(
    weights: Weights,
    batch: Batch,
    opts: { objective?: Objective; feeds?: Record<string, HostTensor> } = {},
  ): Promise<StepResult> {
    const { compiled, names } = this.lossGraph(batch.B, batch.T, opts.objective);
    const outs = await compiled.run(this.batchFeeds(weights, batch, opts.feeds));
    const grads = new Map<string, Float32Array>();
    names.forEach((n, i) => {
      grads.set(n, Float32Array.from(outs[i + 2].data));
    });
    return { loss: outs[0].data[0], sequenceLogps: Float32Array.from(outs[1].data), grads };
  }

  /** Per-sequence sums of label log-probs without gradients (e.g. the DPO reference model), [B]. */
  async sequenceLogps(weights: Weights, batch: Batch): Promise<Float32Array> {
    const key = `${batch.B}x${batch.T}`;
    let c = this.seqCache.get(key);
    if (!c) {
      const b = new GraphBuilder();
      const g = buildLoss(this.config, b, batch.B, batch.T, this.hook);
      c = this.executor.compile(b.graph, [g.sequenceLogps.id]);
      this.seqCache.set(key, c);
    }
    const [out] = await c.run(this.batchFeeds(weights, batch));
    return Float32Array.from(out.data);
  }

  /** Logits [B,T,V] for a (right-padded) batch. */
  async logits(
    weights: Weights,
    B: number,
    T: number,
    inputIds: ArrayLike<number>,
    attentionMask?: ArrayLike<number>,
  ): Promise<HostTensor> {
    const key = `${B}x${T}`;
    let c = this.fwdCache.get(key);
    if (!c) {
      const b = new GraphBuilder();
      const g = buildForward(this.config, b, B, T, this.hook);
      c = this.executor.compile(b.graph, [g.logits.id]);
      this.fwdCache.set(key, c);
    }
    const [out] = await c.run({ ...Object.fromEntries(weights), ...forwardBatch(B, T, inputIds, attentionMask) });
    return out;
  }

  async dispose(): Promise<void> {
    for (const e of this.lossCache.values()) await e.compiled.dispose();
    for (const c of this.fwdCache.values()) await c.dispose();
    for (const c of this.seqCache.values()) await c.dispose();
    this.seqCache.clear();
    this.lossCache.clear();
    this.fwdCache.clear();
  }
}
