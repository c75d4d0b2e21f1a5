/**
 * Frozen weights stored in 16 bits (IEEE f16), computed in f32: a rewrite of a lowered ONNX graph (lower.ts) that
 * halves the memory of the weights a LoRA step does not train.
 *
 * Each named graph input (a frozen param) becomes a FLOAT16 input, and EVERY use of it gets its own alias
 * input (`NAME`, `NAME#1`, `NAME#2` ... all fed the same buffer) followed by its own Cast to f32 (and its own copy of
 * the Transpose/Reshape chain between the param and that use). Why one per use: onnxruntime's common-subexpression
 * elimination would merge identical Casts of one input into a single f32 copy that lives from the first forward use to
 * the last backward use, i.e. every frozen weight in f32 at the peak (more memory than no rewrite). With one Cast per
 * use, right before its consumer in the node list, onnxruntime's depth-first topological order runs each Cast just in
 * time and its memory plan frees the f32 copy after its only consumer: at most a few weights are f32 at once.
 * Gathers (the embedding lookup) read the 16-bit table and cast only the gathered rows.
 *
 * Measured (perf:train, LoRA r=16, batch 2 x 128, 2 ORT threads, a shared 2-core machine; f32 -> f16):
 *   135M shape: peak RSS 1520 -> 1405 MB, resident after the step 1213 -> 956 MB, CPU per step 1.32 -> 1.45 s
 *   0.5B shape: peak RSS 3885 -> 3714 MB, resident after the step 3451 -> 2302 MB, CPU per step 3.59 -> 4.20 s
 * The weights held between steps halve, but the peak falls less: it sits at the vocabulary-sized tensors of the
 * head (logits, log-softmax and their gradients, [B*T, V] f32 each) while the tied embedding is cast to f32 for the
 * lm_head matmul (545 MB at the 0.5B shape). Used where weights must stay resident (perf:train's LoRA cases); the
 * next step for the peak is a chunked head + cross-entropy, not the weights' storage.
 */
import * as ort from "onnxruntime-node";
import type { HostTensor } from "../ir.ts";
import { floatToHalf } from "../safetensors.ts";
import { attr, type OnnxGraphBuilder, type OnnxNode } from "./lower.ts";

/**
 * Only IEEE f16: onnxruntime's JavaScript API has no bfloat16 tensors, and ONNX has no bit-cast to widen raw bf16
 * words in the graph. BF16 checkpoints are converted (exact for |w| >= 6.1e-5, f16 has 3 more mantissa bits; smaller
 * weights lose relative precision as f16 subnormals).
 */
export type HalfDtype = "f16";
const ONNX_HALF: Record<HalfDtype, number> = { f16: 10 };
const FLOAT = 1;

/** A graph input fed from another feed's buffer (the alias inputs of a 16-bit weight). */
export interface HalfFeed {
  name: string;
  dtype: HalfDtype;
  shape: number[];
  /** the feed whose tensor this input takes (the param's own name) */
  from: string;
}

const CHAIN = new Set(["Transpose", "Reshape"]);

/**
 * Rewrite `b` so the inputs named in `half` are 16-bit; returns the feeds to declare (the params themselves and their
 * aliases, all `from` the param's name).
 */
export function halfInputs(b: OnnxGraphBuilder, half: ReadonlyMap<string, HalfDtype>): HalfFeed[] {
  if (half.size === 0) return [];
  const producer = new Map<string, OnnxNode>();
  for (const n of b.nodes) for (const o of n.output) producer.set(o, n);
  // value -> [root param, chain nodes from the root to the value]
  const chainMemo = new Map<string, { root: string; chain: OnnxNode[] } | null>();
  const chainOf = (v: string): { root: string; chain: OnnxNode[] } | null => {
    if (chainMemo.has(v)) return chainMemo.get(v)!;
    let r: { root: string; chain: OnnxNode[] } | null = null;
    if (half.has(v)) r = { root: v, chain: [] };
    else {
      const p = producer.get(v);
      if (p && CHAIN.has(p.op_type)) {
        const up = chainOf(p.input[0]);
        if (up) r = { root: up.root, chain: [...up.chain, p] };
      }
    }
    chainMemo.set(v, r);
    return r;
  };
  const shapes = new Map(b.inputs.map((i) => [i.name, i.type.tensor_type.shape.dim.map((d) => d.dim_value)]));
  const feeds: HalfFeed[] = [];
  const uses = new Map<string, number>();
  const alias = (root: string): string => {
    const k = uses.get(root) ?? 0;
    uses.set(root, k + 1);
    const name = k === 0 ? root : `${root}#${k}`;
    feeds.push({ name, dtype: half.get(root)!, shape: shapes.get(root)!, from: root });
    return name;
  };
  const out: OnnxNode[] = [];
  const emit = (
    op: string,
    inputs: string[],
    attrs: OnnxNode["attribute"] = [],
    output = b.fresh(op.toLowerCase()),
  ) => {
    out.push({ op_type: op, input: inputs, output: [output], name: `${op}_${output}`, attribute: attrs });
    return output;
  };
  for (const n of b.nodes) {
    // chain nodes are rebuilt per use below
    if (CHAIN.has(n.op_type) && chainOf(n.output[0])) continue;
    const gatherHalf = n.op_type === "Gather" && half.has(n.input[0]);
    if (gatherHalf) {
      const rows = emit("Gather", [alias(n.input[0]), n.input[1]], n.attribute);
      emit("Cast", [rows], [attr.int("to", FLOAT)], n.output[0]);
      continue;
    }
    const inputs = n.input.map((v) => {
      const c = chainOf(v);
      if (!c) return v;
      let x = emit("Cast", [alias(c.root)], [attr.int("to", FLOAT)]);
      for (const step of c.chain) x = emit(step.op_type, [x, ...step.input.slice(1)], step.attribute);
      return x;
    });
    out.push({ ...n, input: inputs });
  }
  b.nodes.splice(0, b.nodes.length, ...out);
  // declare: the param's own input becomes 16-bit; aliases are new inputs of the same type and shape
  for (const i of b.inputs) if (half.has(i.name)) i.type.tensor_type.elem_type = ONNX_HALF[half.get(i.name)!];
  for (const f of feeds) if (f.name !== f.from) b.input(f.name, ONNX_HALF[f.dtype] as 1, f.shape);
  // a param with no use at all keeps its declared input
  for (const root of half.keys())
    if (!uses.has(root) && shapes.has(root))
      feeds.push({ name: root, dtype: half.get(root)!, shape: shapes.get(root)!, from: root });
  return feeds;
}

/** f32 -> IEEE half bits (round to nearest even). */
export function toF16Bits(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = floatToHalf(src[i]);
  return out;
}

/** A weight as a float16 onnxruntime tensor (what `OnnxTrainStep` takes for frozen weights with `frozenDtype`). */
export function halfTensor(t: HostTensor, _dtype: HalfDtype = "f16"): ort.Tensor {
  return halfTensorFromBits(toF16Bits(t.data), t.shape);
}

/** Raw IEEE half words (e.g. an F16 tensor straight from a safetensors file) as an onnxruntime tensor. */
export function halfTensorFromBits(bits: Uint16Array, shape: readonly number[]): ort.Tensor {
  return new ort.Tensor("float16", bits, [...shape]);
}
