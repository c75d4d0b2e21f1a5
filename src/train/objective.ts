/**
 * Training objectives compiled into one graph per batch shape: the Llama forward, the loss (SFT cross-entropy or a
 * preference loss from losses.ts), and the gradients of the trainable parameters (autodiff as a graph transform).
 * Runs on any nn Executor (the reference executor, or the ONNX one).
 */
import { appendGradients } from "../nn/autodiff.ts";
import { RefExecutor } from "../nn/executor-ref.ts";
import type { CompiledGraph, Executor, HostTensor } from "../nn/ir.ts";
import { buildLoss, type LinearHook, type LlamaConfig, lossBatch, type Weights } from "../nn/llama.ts";
import { GraphBuilder } from "../nn/tensor.ts";
import { dpoLoss, dpoSftLoss, ipoLoss, type PreferenceLossKind } from "./losses.ts";

export type Objective = { kind: "sft" } | { kind: "dpo"; loss: PreferenceLossKind; beta: number; sftAlpha: number };

/** One tokenized sequence: labels are -100 where the loss does not count (HF convention, aligned with ids). */
export interface TokenizedSeq {
  ids: number[];
  labels: number[];
}

/** A right-padded batch in the layout nn's lossBatch expects. */
export interface PaddedBatch {
  B: number;
  T: number;
  inputIds: Int32Array;
  attentionMask: Int32Array;
  labels: Int32Array;
  /** Counted label tokens per row (the completion length). */
  tokens: Float32Array;
}

export function padBatch(seqs: readonly TokenizedSeq[], T: number, padId: number): PaddedBatch {
  const B = seqs.length;
  const inputIds = new Int32Array(B * T).fill(padId);
  const attentionMask = new Int32Array(B * T);
  const labels = new Int32Array(B * T).fill(-100);
  const tokens = new Float32Array(B);
  seqs.forEach((s, b) => {
    if (s.ids.length > T) throw new Error(`sequence of ${s.ids.length} tokens does not fit T = ${T}`);
    for (let t = 0; t < s.ids.length; t++) {
      inputIds[b * T + t] = s.ids[t];
      attentionMask[b * T + t] = 1;
      labels[b * T + t] = s.labels[t];
      // a label at t is predicted from position t - 1, so the first position never counts
      if (t > 0 && s.labels[t] !== -100) tokens[b]++;
    }
  });
  return { B, T, inputIds, attentionMask, labels, tokens };
}

export interface ObjectiveResult {
  loss: number;
  /** Per-row summed log-probs of the counted tokens, [B]. */
  sequenceLogps: Float32Array;
  grads: Map<string, Float32Array>;
}

/**
 * Compiles and caches the objective per [B, T]. For DPO a batch holds P pairs as 2P rows: the P chosen rows first,
 * then the P rejected rows in the same order; the reference log-probs come in as the input "ref_logps" [2P].
 */
export class ObjectiveRunner {
  private readonly stepCache = new Map<string, { compiled: CompiledGraph; names: string[]; extra: string[] }>();
  private readonly logpCache = new Map<string, CompiledGraph>();

  constructor(
    readonly model: LlamaConfig,
    readonly objective: Objective,
    readonly trainable: (name: string) => boolean,
    readonly hook?: LinearHook,
    readonly executor: Executor = new RefExecutor(),
  ) {}

  private stepGraph(B: number, T: number) {
    const key = `${B}x${T}`;
    const hit = this.stepCache.get(key);
    if (hit) return hit;
    const b = new GraphBuilder();
    const g = buildLoss(this.model, b, B, T, this.hook);
    let loss = g.loss;
    const extra: string[] = [];
    if (this.objective.kind === "dpo") {
      if (B % 2 !== 0) throw new Error(`DPO batch needs an even number of rows, got ${B}`);
      const P = B / 2;
      const ref = b.input("ref_logps", [B]);
      const tokens = b.input("completion_tokens", [B]);
      extra.push("ref_logps", "completion_tokens");
      const { beta } = this.objective;
      // IPO compares per-token average log-probs (length-robust); sigmoid DPO and RPO use sums, as TRL does.
      const lp = this.objective.loss === "ipo" ? g.sequenceLogps.div(tokens) : g.sequenceLogps;
      const rf = this.objective.loss === "ipo" ? ref.div(tokens) : ref;
      const pc = lp.slice(0, 0, P);
      const pr = lp.slice(0, P, B);
      const rc = rf.slice(0, 0, P);
      const rr = rf.slice(0, P, B);
      loss =
        this.objective.loss === "ipo"
          ? ipoLoss(pc, pr, rc, rr, beta).loss
          : this.objective.loss === "sft_dpo"
            ? dpoSftLoss(pc, pr, rc, rr, beta, this.objective.sftAlpha, tokens.slice(0, 0, P)).loss
            : dpoLoss(pc, pr, rc, rr, beta).loss;
    }
    const names = b.graph
      .leaves()
      .filter((n) => n.op.kind === "param")
      .map((n) => (n.op as { name: string }).name)
      .filter((n) => this.trainable(n));
    if (names.length === 0) throw new Error("no trainable parameters");
    const gradIds = appendGradients(
      b.graph,
      loss.id,
      names.map((n) => b.graph.byName(n)!),
    );
    const entry = { compiled: this.executor.compile(b.graph, [loss.id, g.sequenceLogps.id, ...gradIds]), names, extra };
    this.stepCache.set(key, entry);
    return entry;
  }

  private feeds(weights: Weights, batch: PaddedBatch, extraFeeds: Record<string, HostTensor>) {
    return {
      ...Object.fromEntries(weights),
      ...lossBatch(this.model, batch.B, batch.T, batch.inputIds, batch.attentionMask, batch.labels),
      ...extraFeeds,
    };
  }

  async step(
    weights: Weights,
    batch: PaddedBatch,
    refLogps?: Float32Array,
    extraFeeds: Record<string, HostTensor> = {},
  ): Promise<ObjectiveResult> {
    const { compiled, names, extra } = this.stepGraph(batch.B, batch.T);
    const feeds: Record<string, HostTensor> = this.feeds(weights, batch, extraFeeds);
    if (extra.length) {
      if (!refLogps || refLogps.length !== batch.B) throw new Error(`DPO step needs ${batch.B} reference log-probs`);
      feeds.ref_logps = { shape: [batch.B], data: refLogps };
      feeds.completion_tokens = { shape: [batch.B], data: batch.tokens };
    }
    const outs = await compiled.run(feeds);
    const grads = new Map<string, Float32Array>();
    names.forEach((n, i) => {
      grads.set(n, Float32Array.from(outs[i + 2].data));
    });
    return { loss: outs[0].data[0], sequenceLogps: Float32Array.from(outs[1].data), grads };
  }

  /** Forward only: per-row summed log-probs of the counted tokens (reference log-probs, evaluation). */
  async sequenceLogps(weights: Weights, batch: PaddedBatch, hook?: LinearHook | null): Promise<Float32Array> {
    const useHook = hook === null ? undefined : (hook ?? this.hook);
    const key = `${batch.B}x${batch.T}:${useHook ? "hook" : "plain"}`;
    let c = this.logpCache.get(key);
    if (!c) {
      const b = new GraphBuilder();
      const g = buildLoss(this.model, b, batch.B, batch.T, useHook);
      c = this.executor.compile(b.graph, [g.sequenceLogps.id, g.loss.id]);
      this.logpCache.set(key, c);
    }
    const [lp] = await c.run(this.feeds(weights, batch, {}));
    return Float32Array.from(lp.data);
  }

  async dispose(): Promise<void> {
    for (const e of this.stepCache.values()) await e.compiled.dispose();
    for (const c of this.logpCache.values()) await c.dispose();
  }
}
