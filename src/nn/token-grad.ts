/**
 * Gradient of a target loss with respect to one-hot input tokens (GCG, Zou et al. 2023): the tokens of a slot of the
 * input (the adversarial suffix) enter as one-hot rows [S,V] times the embedding table [V,D] instead of a gather, so
 * `appendGradients` gives d(loss)/d(one-hot) [S,V]: for each slot position, the first-order change of the loss when
 * weight moves onto each vocabulary token. The other positions are gathered as usual.
 *
 *   ids [1,T] --gather--> E[ids] [1,T,D] ──┐
 *   onehot [S,V] @ E [V,D] -> [1,S,D] ─────┴─ concat over T (slot replaced) -> Llama -> logits [1,T,V]
 *   loss = mean over target positions of -log p(label)          (labels: HF convention, -100 ignored, shifted)
 */
import { appendGradients } from "./autodiff.ts";
import type { CompiledGraph, Executor, HostTensor } from "./ir.ts";
import { buildForward, type LinearHook, type LlamaConfig, lossBatch, type Weights } from "./llama.ts";
import { GraphBuilder, type Sym } from "./tensor.ts";

/** The positions [start, start + length) of the input that are optimised. */
export interface TokenSlot {
  start: number;
  length: number;
}

export interface TokenGradGraph {
  builder: GraphBuilder;
  /** input "slot_onehot" [S,V] f32 */
  onehot: Sym;
  /** mean token cross-entropy over the counted labels (scalar) */
  loss: Sym;
  /** d(loss)/d(onehot) [S,V] */
  grad: Sym;
}

/**
 * Records the forward + loss for one sequence of length T with the slot fed as one-hot rows, and appends the gradient
 * w.r.t. the one-hot input. Inputs: "input_ids" [1,T] (slot entries are ignored), "key_padding_bias", "slot_onehot"
 * [S,V], "target_index", "target_mask", "loss_scale" (see `lossBatch`).
 */
export function buildTokenGradient(c: LlamaConfig, T: number, slot: TokenSlot, hook?: LinearHook): TokenGradGraph {
  const { start, length: S } = slot;
  if (!Number.isInteger(start) || !Number.isInteger(S) || start < 0 || S < 1 || start + S > T)
    throw new Error(`token slot [${start}, ${start + S}) does not fit a sequence of ${T}`);
  const b = new GraphBuilder();
  const V = c.vocabSize;
  const D = c.hiddenSize;
  const onehot = b.input("slot_onehot", [S, V]);
  const embed = (table: Sym, ids: Sym): Sym => {
    const gathered = table.gather(ids); // [1,T,D]
    const soft = onehot.matmul(table).reshape([1, S, D]); // [1,S,D]
    const parts: Sym[] = [];
    if (start > 0) parts.push(gathered.slice(1, 0, start));
    parts.push(soft);
    if (start + S < T) parts.push(gathered.slice(1, start + S, T));
    return b.concat(parts, 1); // [1,T,D]
  };
  const fwd = buildForward(c, b, 1, T, hook, embed);
  const targetIndex = b.input("target_index", [T], "i32");
  const targetMask = b.input("target_mask", [1, T]);
  const lossScale = b.input("loss_scale", []);
  const logp = fwd.logits.logSoftmax().reshape([T * V, 1]); // [T*V,1]
  const tokenLogp = logp.gather(targetIndex).reshape([1, T]).mul(targetMask); // [1,T]
  const loss = tokenLogp.sum().mul(lossScale).neg(); // []
  const [gradId] = appendGradients(b.graph, loss.id, [onehot.id]);
  return { builder: b, onehot, loss, grad: b.sym(gradId) };
}

/** One-hot rows [S,V] for token ids. */
export function oneHot(ids: readonly number[], V: number): HostTensor {
  const data = new Float32Array(ids.length * V);
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`token id ${id} outside [0, ${V})`);
    data[i * V + id] = 1;
  });
  return { shape: [ids.length, V], data };
}

export interface TokenGradResult {
  /** the target loss at the current tokens (mean token cross-entropy) */
  loss: number;
  /** d(loss)/d(one-hot) [S,V], row-major */
  grad: Float32Array;
}

/** Compiles (per sequence length and slot) and runs `buildTokenGradient` on an executor. */
export class TokenGradient {
  private readonly cache = new Map<string, CompiledGraph>();

  constructor(
    readonly config: LlamaConfig,
    readonly executor: Executor,
    readonly hook?: LinearHook,
  ) {}

  /** `ids` is the whole sequence [T] (the slot holds the current tokens); `labels` [T] in the HF convention. */
  async run(
    weights: Weights,
    ids: readonly number[],
    slot: TokenSlot,
    labels: readonly number[],
  ): Promise<TokenGradResult> {
    const T = ids.length;
    const key = `${T}:${slot.start}:${slot.length}`;
    let compiled = this.cache.get(key);
    if (!compiled) {
      const g = buildTokenGradient(this.config, T, slot, this.hook);
      compiled = this.executor.compile(g.builder.graph, [g.loss.id, g.grad.id]);
      this.cache.set(key, compiled);
    }
    const feeds = tokenGradFeeds(this.config, ids, slot, labels);
    const [loss, grad] = await compiled.run({ ...Object.fromEntries(weights), ...feeds });
    return { loss: loss.data[0], grad: Float32Array.from(grad.data) };
  }

  async dispose(): Promise<void> {
    for (const c of this.cache.values()) await c.dispose();
    this.cache.clear();
  }
}

/** Feeds of `buildTokenGradient` (besides the weights). */
export function tokenGradFeeds(
  c: LlamaConfig,
  ids: readonly number[],
  slot: TokenSlot,
  labels: readonly number[],
): Record<string, HostTensor> {
  const T = ids.length;
  return {
    ...lossBatch(c, 1, T, ids, new Array<number>(T).fill(1), labels),
    slot_onehot: oneHot(ids.slice(slot.start, slot.start + slot.length), c.vocabSize),
  };
}
