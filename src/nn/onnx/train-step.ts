/**
 * A whole training step as ONE onnxruntime call: forward, backward (the IR's autodiff), optional global-norm gradient
 * clipping and AdamW, lowered together into one ONNX graph per shape bucket. The weights and the AdamW moments live
 * in JS as Float32Arrays and go in and out of each call (no copies on the way in; ORT's outputs become the new state).
 *
 * AdamW is torch.optim.AdamW's (and nn/optim.ts's) update, in float32:
 *   p <- p * (1 - lr * wd)            (only where decay(name, shape); default: matrices)
 *   m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
 *   p <- p - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps),   bc_i = 1 - b_i^t
 * Clipping is torch.nn.utils.clip_grad_norm_: g <- g * min(1, maxNorm / (||g||_2 + 1e-6)) over all trainable grads.
 */

import type * as ort from "onnxruntime-node";
import { appendGradients } from "../autodiff.ts";
import type { Graph, HostTensor, NodeId } from "../ir.ts";
import type { FeedSpec, OnnxCompiled, OnnxExecutor } from "./executor.ts";
import { type HalfDtype, halfInputs } from "./half.ts";
import { attr, declareOutputs, lowerGraph, OnnxType } from "./lower.ts";

export interface TrainStepOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Parameters that get weight decay (default: rank >= 2, as nn/optim.ts). */
  decay?: (name: string, shape: readonly number[]) => boolean;
  /** Clip the global gradient norm to this value (off when undefined). */
  maxGradNorm?: number;
  /**
   * Store the frozen (not trainable) matrices in 16 bits and compute in f32 (half.ts): feed them as float16 ort
   * tensors (`halfTensor`), or as f32 HostTensors, converted once per array. For LoRA: halves the base weights'
   * memory. Trainable weights and the AdamW moments stay f32 (master weights).
   */
  frozenDtype?: "f32" | HalfDtype;
}

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping (NaN when clipping is off). */
  gradNorm: number;
  /** The extra outputs requested at compile time, in order. */
  extra: HostTensor[];
}

const M = (n: string) => `adam.m.${n}`;
const Vn = (n: string) => `adam.v.${n}`;

/**
 * Compile `graph` (which must contain `loss` and the trainable `param` nodes) into a training step. Gradients are
 * appended here, so pass the forward/loss graph only. `trainable` names the params to update (others are fed
 * but frozen, e.g. the base weights under LoRA).
 */
export class OnnxTrainStep {
  private stepCount = 0;
  readonly names: string[];
  private readonly shapes = new Map<string, number[]>();
  private readonly hasClip: boolean;

  private constructor(
    private readonly compiled: OnnxCompiled,
    names: string[],
    shapes: Map<string, number[]>,
    private readonly opts: Required<Omit<TrainStepOptions, "maxGradNorm" | "decay" | "frozenDtype">> & TrainStepOptions,
    private readonly nExtra: number,
  ) {
    this.names = names;
    this.shapes = shapes;
    this.hasClip = opts.maxGradNorm !== undefined;
  }

  static compile(
    executor: OnnxExecutor,
    graph: Graph,
    loss: NodeId,
    trainable: readonly string[],
    options: TrainStepOptions = {},
    extraOutputs: readonly NodeId[] = [],
  ): OnnxTrainStep {
    const opts = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, ...options };
    const decay = options.decay ?? ((_n: string, s: readonly number[]) => s.length >= 2);
    const ids = trainable.map((n) => {
      const id = graph.byName(n);
      if (id === undefined || graph.node(id).op.kind !== "param") throw new Error(`train step: no param "${n}"`);
      return id;
    });
    const grads = appendGradients(graph, loss, ids);
    const lowered = lowerGraph(graph, [loss, ...extraOutputs, ...grads]);
    const b = lowered.builder;
    const lossName = lowered.outputNames[0];
    const extraNames = lowered.outputNames.slice(1, 1 + extraOutputs.length);
    let gNames = lowered.outputNames.slice(1 + extraOutputs.length);
    const shapes = new Map<string, number[]>();
    trainable.forEach((n, i) => {
      shapes.set(n, [...graph.node(ids[i]).shape]);
    });

    // scalars fed per step
    const scalar = (name: string) => {
      b.input(name, OnnxType.FLOAT, []);
      return name;
    };
    const stepSize = scalar("adam.step_size");
    const bc2sqrt = scalar("adam.bc2_sqrt");
    const wdFactor = scalar("adam.wd_factor");
    const feeds: FeedSpec[] = [...lowered.feeds];
    if (options.frozenDtype && options.frozenDtype !== "f32") {
      const keep = new Set(trainable);
      const half = new Map<string, HalfDtype>();
      for (const f of lowered.feeds) {
        const id = graph.byName(f.name);
        if (id !== undefined && graph.node(id).op.kind === "param" && !keep.has(f.name) && f.shape.length >= 2)
          half.set(f.name, options.frozenDtype);
      }
      const halfFeeds = halfInputs(b, half);
      feeds.splice(0, feeds.length, ...feeds.filter((f) => !half.has(f.name)), ...halfFeeds);
    }
    for (const n of ["adam.step_size", "adam.bc2_sqrt", "adam.wd_factor"])
      feeds.push({ name: n, dtype: "f32", shape: [] });

    let normName: string | undefined;
    if (opts.maxGradNorm !== undefined) {
      let total: string | undefined;
      for (const g of gNames) {
        const sq = b.node("ReduceSumSquare", [g], [attr.int("keepdims", 0)]);
        total = total ? b.node("Add", [total, sq]) : sq;
      }
      normName = b.node("Sqrt", [total!], [], "grad_norm");
      const coef = b.node("Min", [
        b.f32(1),
        b.node("Div", [b.f32(opts.maxGradNorm), b.node("Add", [normName, b.f32(1e-6)])]),
      ]);
      gNames = gNames.map((g) => b.node("Mul", [g, coef]));
    }

    const outs: { name: string; dtype: "f32"; shape: number[] }[] = [
      { name: lossName, dtype: "f32", shape: [] },
      ...extraOutputs.map((o, i) => ({ name: extraNames[i], dtype: "f32" as const, shape: [...graph.node(o).shape] })),
    ];
    if (normName) outs.push({ name: normName, dtype: "f32", shape: [] });
    trainable.forEach((n, i) => {
      const shape = shapes.get(n)!;
      b.input(M(n), OnnxType.FLOAT, shape);
      b.input(Vn(n), OnnxType.FLOAT, shape);
      feeds.push({ name: M(n), dtype: "f32", shape }, { name: Vn(n), dtype: "f32", shape });
      const g = gNames[i];
      const p = decay(n, shape) ? b.node("Mul", [n, wdFactor]) : n;
      const m = b.node("Add", [b.node("Mul", [M(n), b.f32(opts.beta1)]), b.node("Mul", [g, b.f32(1 - opts.beta1)])]);
      const g2 = b.node("Mul", [g, g]);
      const v = b.node("Add", [b.node("Mul", [Vn(n), b.f32(opts.beta2)]), b.node("Mul", [g2, b.f32(1 - opts.beta2)])]);
      const denom = b.node("Add", [b.node("Div", [b.node("Sqrt", [v]), bc2sqrt]), b.f32(opts.eps)]);
      const upd = b.node("Mul", [stepSize, b.node("Div", [m, denom])]);
      const pNew = b.node("Sub", [p, upd]);
      outs.push(
        { name: pNew, dtype: "f32", shape },
        { name: m, dtype: "f32", shape },
        { name: v, dtype: "f32", shape },
      );
    });
    const outNames = declareOutputs(b, outs);
    const compiled = executor.compileBuilt(
      b,
      feeds,
      outNames,
      outs.map((o) => o.shape),
    );
    return new OnnxTrainStep(compiled, [...trainable], shapes, { ...opts, decay }, extraOutputs.length);
  }

  get step(): number {
    return this.stepCount;
  }

  /**
   * One step. `weights` holds every param (trainable and frozen) by name and is updated in place (the entries of
   * trainable params are replaced by new arrays); `state` holds the moments and is created on first use.
   */
  async run(
    weights: Map<string, HostTensor | ort.Tensor>,
    state: Map<string, { m: Float32Array; v: Float32Array }>,
    batch: Readonly<Record<string, HostTensor>>,
    lr: number,
  ): Promise<StepResult> {
    const t = this.stepCount + 1;
    const { beta1, beta2, weightDecay } = this.opts;
    const feeds: Record<string, HostTensor | ort.Tensor> = { ...batch };
    for (const [n, w] of weights) feeds[n] = w;
    feeds["adam.step_size"] = { shape: [], data: Float32Array.of(lr / (1 - beta1 ** t)) };
    feeds["adam.bc2_sqrt"] = { shape: [], data: Float32Array.of(Math.sqrt(1 - beta2 ** t)) };
    feeds["adam.wd_factor"] = { shape: [], data: Float32Array.of(Math.fround(1 - lr * weightDecay)) };
    for (const n of this.names) {
      let s = state.get(n);
      if (!s) {
        const size = this.shapes.get(n)!.reduce((a, c) => a * c, 1);
        s = { m: new Float32Array(size), v: new Float32Array(size) };
        state.set(n, s);
      }
      const shape = this.shapes.get(n)!;
      feeds[M(n)] = { shape, data: s.m };
      feeds[Vn(n)] = { shape, data: s.v };
    }
    const out = await this.compiled.run(feeds);
    this.stepCount = t;
    let k = 0;
    const loss = out[k++].data[0];
    const extra = out.slice(k, k + this.nExtra);
    k += this.nExtra;
    const gradNorm = this.hasClip ? out[k++].data[0] : Number.NaN;
    for (const n of this.names) {
      const shape = this.shapes.get(n)!;
      weights.set(n, { shape, data: out[k++].data as Float32Array });
      state.set(n, { m: out[k++].data as Float32Array, v: out[k++].data as Float32Array });
    }
    return { loss, gradNorm, extra };
  }

  /** Resume the bias-correction count (e.g. after restoring optimizer state). */
  setStep(step: number): void {
    if (!Number.isInteger(step) || step < 0) throw new Error(`train step: bad step ${step}`);
    this.stepCount = step;
  }

  /** Stop ORT profiling and write the trace (executor created with `profilePrefix`). */
  endProfiling(): Promise<void> {
    return this.compiled.endProfiling();
  }

  dispose(): Promise<void> {
    return this.compiled.dispose();
  }
}
