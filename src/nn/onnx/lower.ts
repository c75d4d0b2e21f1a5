/**
 * Lowering of the nn graph IR (../ir.ts) to one ONNX model (opset 18), encoded with protobufjs from the vendored
 * onnx.proto subset. One IR graph (forward + the backward nodes autodiff appended, optionally an optimizer appended
 * here) becomes ONE ONNX graph, so onnxruntime runs a whole training step per `session.run`.
 *
 * Op mapping (see ir.ts): elementwise ops -> Add/Sub/Mul/Div/Neg/Exp/Log/Sqrt/Sigmoid; matmul -> MatMul; reshape ->
 * Reshape; transpose -> Transpose; slice -> Slice; concat -> Concat; expand -> Expand; reduceSum -> ReduceSum (or
 * Identity for no axes); softmax/logSoftmax -> Softmax/LogSoftmax(axis=-1); gather -> Gather(axis=0);
 * scatterAdd -> ScatterND(reduction="add") into ConstantOfShape(0) with int64 indices [..., 1].
 * Values are named "v<node id>"; graph inputs keep the IR's names (HF parameter names, "input_ids", ...).
 */
import { readFileSync } from "node:fs";
import protobuf from "protobufjs";
import type { Graph, Node, NodeId } from "../ir.ts";

export const ONNX_OPSET = 18;
export const ONNX_IR_VERSION = 8;

/** ONNX TensorProto.DataType values we use. */
export const OnnxType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
type OnnxElemType = (typeof OnnxType)[keyof typeof OnnxType];

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  ints?: number[];
  t?: OnnxTensor;
}

export interface OnnxNode {
  op_type: string;
  input: string[];
  output: string[];
  name?: string;
  attribute?: OnnxAttribute[];
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

export interface OnnxValueInfo {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: { dim_value: number }[] } } };
}

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, INTS: 7 } as const;

export const attr = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: ATTR.INT, i }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: ATTR.FLOAT, f }),
  ints: (name: string, ints: readonly number[]): OnnxAttribute => ({ name, type: ATTR.INTS, ints: [...ints] }),
  str: (name: string, s: string): OnnxAttribute => ({ name, type: ATTR.STRING, s: Buffer.from(s, "utf8") }),
  tensor: (name: string, t: OnnxTensor): OnnxAttribute => ({ name, type: ATTR.TENSOR, t }),
};

function valueInfo(name: string, elemType: number, dims: readonly number[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } };
}

function rawBytes(data: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Builds one ONNX graph: nodes, initializers (deduplicated small int64 constants), inputs and outputs. */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private counter = 0;
  private readonly i64Consts = new Map<string, string>();
  private readonly f32Scalars = new Map<number, string>();

  fresh(prefix = "t"): string {
    return `_${prefix}${this.counter++}`;
  }

  node(op: string, inputs: readonly string[], attrs: OnnxAttribute[] = [], output?: string): string {
    const out = output ?? this.fresh(op.toLowerCase());
    this.nodes.push({ op_type: op, input: [...inputs], output: [out], name: `${op}_${out}`, attribute: attrs });
    return out;
  }

  input(name: string, elemType: OnnxElemType, dims: readonly number[]): void {
    this.inputs.push(valueInfo(name, elemType, dims));
  }

  output(name: string, elemType: OnnxElemType, dims: readonly number[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  initializer(
    name: string,
    elemType: OnnxElemType,
    dims: readonly number[],
    data: Float32Array | Int32Array | BigInt64Array,
  ) {
    this.initializers.push({ name, dims: [...dims], data_type: elemType, raw_data: rawBytes(data) });
    return name;
  }

  /** An int64 constant (shapes, axes, starts/ends), deduplicated. */
  i64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `${dims.join(",")}:${values.join(",")}`;
    let name = this.i64Consts.get(key);
    if (!name) {
      name = this.initializer(this.fresh("i64_"), OnnxType.INT64, dims, BigInt64Array.from(values.map(BigInt)));
      this.i64Consts.set(key, name);
    }
    return name;
  }

  /** A float32 scalar constant, deduplicated. */
  f32(v: number): string {
    let name = this.f32Scalars.get(v);
    if (!name) {
      name = this.initializer(this.fresh("f32_"), OnnxType.FLOAT, [], Float32Array.of(v));
      this.f32Scalars.set(v, name);
    }
    return name;
  }

  model(name: string): Record<string, unknown> {
    return {
      ir_version: ONNX_IR_VERSION,
      opset_import: [{ domain: "", version: ONNX_OPSET }],
      producer_name: "breakfix",
      producer_version: "0.1",
      graph: {
        name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }
}

export const valueName = (id: NodeId): string => `v${id}`;

/** Nodes reachable backwards from `outputs` (ids ascending). */
export function liveNodes(graph: Graph, outputs: readonly NodeId[]): Node[] {
  const live = new Uint8Array(graph.nodes.length);
  for (const o of outputs) live[graph.node(o).id] = 1;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (live[i]) for (const j of graph.nodes[i].inputs) live[j] = 1;
  }
  return graph.nodes.filter((n) => live[n.id]);
}

export interface LoweredGraph {
  builder: OnnxGraphBuilder;
  /** Graph inputs (IR `input`/`param` nodes that the outputs need), in graph order. */
  feeds: { name: string; dtype: "f32" | "i32"; shape: number[] }[];
  /** ONNX value name of each requested output, in order (not yet declared as graph outputs). */
  outputNames: string[];
}

/**
 * Lower the part of `graph` that `outputs` need. Graph outputs are not declared yet, so a caller can append more
 * nodes (an optimizer) before `declareOutputs`.
 */
export function lowerGraph(graph: Graph, outputs: readonly NodeId[]): LoweredGraph {
  const b = new OnnxGraphBuilder();
  const feeds: LoweredGraph["feeds"] = [];
  const name = new Map<NodeId, string>();
  const live = liveNodes(graph, outputs);
  const fused = findBatchReducedMatmuls(graph, live, outputs);
  for (const n of live) {
    if (fused.skip.has(n.id)) continue;
    const f = fused.byReduce.get(n.id);
    if (f) {
      name.set(n.id, lowerBatchReducedMatmul(b, graph, f, name, valueName(n.id)));
      continue;
    }
    const ins = n.inputs.map((i) => name.get(i)!);
    const out = valueName(n.id);
    name.set(n.id, lowerNode(b, graph, n, ins, out, feeds));
  }
  return { builder: b, feeds, outputNames: outputs.map((o) => name.get(o)!) };
}

/**
 * reduceSum over all batch axes of a batched matmul, sum_b a[b] @ c[b], is one GEMM on the batches laid side by
 * side: [M, P*K] @ [P*K, N]. Autodiff produces exactly this for weight gradients (x^T g per batch, then sumTo), and
 * one big GEMM is much faster than P small ones plus a reduction (and needs no [P, M, N] temporary). When a[b] is
 * itself a last-two-axes transpose of x[b] (the usual x^T), the transpose folds into the GEMM as transA.
 */
interface BatchReducedMatmul {
  reduce: Node;
  matmul: Node;
  /** set when a = transpose(x) of the last two axes and that transpose has no other use: x's id */
  transposedFrom?: NodeId;
}

function findBatchReducedMatmuls(
  graph: Graph,
  live: readonly Node[],
  outputs: readonly NodeId[],
): { byReduce: Map<NodeId, BatchReducedMatmul>; skip: Set<NodeId> } {
  const uses = new Map<NodeId, number>();
  for (const n of live) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of outputs) uses.set(o, (uses.get(o) ?? 0) + 1);
  const byReduce = new Map<NodeId, BatchReducedMatmul>();
  const skip = new Set<NodeId>();
  for (const r of live) {
    if (r.op.kind !== "reduceSum") continue;
    const m = graph.node(r.inputs[0]);
    if (m.op.kind !== "matmul" || uses.get(m.id) !== 1) continue;
    const [a, c] = m.inputs.map((i) => graph.node(i));
    const nb = m.shape.length - 2;
    if (nb < 1 || a.shape.length !== m.shape.length || c.shape.length !== m.shape.length) continue;
    if (a.shape.slice(0, nb).some((d, i) => d !== c.shape[i] || d !== m.shape[i])) continue;
    const axes = r.op.axes;
    if (axes.length !== nb || axes.some((ax, i) => ax !== i)) continue;
    const f: BatchReducedMatmul = { reduce: r, matmul: m };
    if (a.op.kind === "transpose" && uses.get(a.id) === 1) {
      const perm = a.op.perm;
      const swapsLast = perm.every((p, i) => (i < nb ? p === i : p === (i === nb ? nb + 1 : nb)));
      if (swapsLast) {
        f.transposedFrom = a.inputs[0];
        skip.add(a.id);
      }
    }
    byReduce.set(r.id, f);
    skip.add(m.id);
  }
  return { byReduce, skip };
}

function lowerBatchReducedMatmul(
  b: OnnxGraphBuilder,
  graph: Graph,
  f: BatchReducedMatmul,
  name: ReadonlyMap<NodeId, string>,
  out: string,
): string {
  const m = f.matmul;
  const nb = m.shape.length - 2;
  const [aId, cId] = m.inputs;
  const a = graph.node(aId);
  const c = graph.node(cId);
  const P = a.shape.slice(0, nb).reduce((x, y) => x * y, 1);
  const M = a.shape[nb];
  const K = a.shape[nb + 1];
  const N = c.shape[nb + 1];
  const c2 = b.node("Reshape", [name.get(cId)!, b.i64([P * K, N])]);
  let a2: string;
  if (f.transposedFrom !== undefined) {
    // a[b] = x[b]^T with x [..., K, M]: stack x to [P*K, M] and let the GEMM transpose it
    const x2 = b.node("Reshape", [name.get(f.transposedFrom)!, b.i64([P * K, M])]);
    a2 = b.node("Transpose", [x2], [attr.ints("perm", [1, 0])]);
  } else {
    const perm = [nb, ...Array.from({ length: nb }, (_, i) => i), nb + 1];
    a2 = b.node("Reshape", [b.node("Transpose", [name.get(aId)!], [attr.ints("perm", perm)]), b.i64([M, P * K])]);
  }
  const mm = b.node("MatMul", [a2, c2]);
  return b.node("Reshape", [mm, b.i64(f.reduce.shape)], [], out);
}

function lowerNode(
  b: OnnxGraphBuilder,
  graph: Graph,
  n: Node,
  ins: string[],
  out: string,
  feeds: LoweredGraph["feeds"],
): string {
  const op = n.op;
  switch (op.kind) {
    case "input":
    case "param":
      b.input(op.name, n.dtype === "i32" ? OnnxType.INT32 : OnnxType.FLOAT, n.shape);
      feeds.push({ name: op.name, dtype: n.dtype, shape: [...n.shape] });
      return op.name;
    case "const":
      return b.initializer(
        out,
        op.data instanceof Int32Array ? OnnxType.INT32 : OnnxType.FLOAT,
        n.shape,
        op.data instanceof Int32Array ? op.data : Float32Array.from(op.data),
      );
    case "add":
      return b.node("Add", ins, [], out);
    case "sub":
      return b.node("Sub", ins, [], out);
    case "mul":
      return b.node("Mul", ins, [], out);
    case "div":
      return b.node("Div", ins, [], out);
    case "neg":
      return b.node("Neg", ins, [], out);
    case "exp":
      return b.node("Exp", ins, [], out);
    case "log":
      return b.node("Log", ins, [], out);
    case "sqrt":
      return b.node("Sqrt", ins, [], out);
    case "sigmoid":
      return b.node("Sigmoid", ins, [], out);
    case "tanh":
      return b.node("Tanh", ins, [], out);
    case "matmul":
      return b.node("MatMul", ins, [], out);
    case "reshape":
      return b.node("Reshape", [ins[0], b.i64(n.shape)], [], out);
    case "transpose":
      return b.node("Transpose", ins, [attr.ints("perm", op.perm)], out);
    case "slice":
      return b.node("Slice", [ins[0], b.i64([op.start]), b.i64([op.end]), b.i64([op.axis])], [], out);
    case "concat":
      return b.node("Concat", ins, [attr.int("axis", op.axis)], out);
    case "expand":
      return b.node("Expand", [ins[0], b.i64(n.shape)], [], out);
    case "reduceSum":
      if (op.axes.length === 0) return b.node("Identity", ins, [], out);
      return b.node("ReduceSum", [ins[0], b.i64(op.axes)], [attr.int("keepdims", op.keepDims ? 1 : 0)], out);
    case "softmax":
      return b.node("Softmax", ins, [attr.int("axis", -1)], out);
    case "logSoftmax":
      return b.node("LogSoftmax", ins, [attr.int("axis", -1)], out);
    case "gather":
      return b.node("Gather", ins, [attr.int("axis", 0)], out);
    case "scatterAdd": {
      const idxShape = graph.node(n.inputs[1]).shape;
      const idx64 = b.node("Cast", [ins[1]], [attr.int("to", OnnxType.INT64)]);
      const idx = b.node("Unsqueeze", [idx64, b.i64([idxShape.length])]);
      const zeros = b.node(
        "ConstantOfShape",
        [b.i64(n.shape)],
        [
          attr.tensor("value", {
            name: "zero",
            dims: [1],
            data_type: OnnxType.FLOAT,
            raw_data: rawBytes(Float32Array.of(0)),
          }),
        ],
      );
      return b.node("ScatterND", [zeros, idx, ins[0]], [attr.str("reduction", "add")], out);
    }
  }
}

/**
 * Declare graph outputs. Each output gets its own name `out<k>` through Identity when the value is a graph input,
 * an initializer, or requested twice (ONNX needs distinct output names that are node outputs).
 */
export function declareOutputs(
  b: OnnxGraphBuilder,
  values: readonly { name: string; dtype: "f32" | "i32"; shape: readonly number[] }[],
): string[] {
  const produced = new Set(b.nodes.flatMap((n) => n.output));
  const used = new Set<string>();
  return values.map((v, k) => {
    let outName = v.name;
    if (!produced.has(v.name) || used.has(v.name)) outName = b.node("Identity", [v.name], [], `out${k}`);
    used.add(outName);
    b.output(outName, v.dtype === "i32" ? OnnxType.INT32 : OnnxType.FLOAT, v.shape);
    return outName;
  });
}

let modelType: protobuf.Type | undefined;

function onnxModelType(): protobuf.Type {
  if (!modelType) {
    const src = readFileSync(new URL("./onnx.proto", import.meta.url), "utf8");
    const root = protobuf.parse(src, { keepCase: true }).root;
    modelType = root.lookupType("onnx.ModelProto");
  }
  return modelType;
}

/** Serialise a model object (OnnxGraphBuilder.model) to ONNX protobuf bytes. */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const T = onnxModelType();
  const err = T.verify(model);
  if (err) throw new Error(`ONNX model does not match onnx.proto: ${err}`);
  return T.encode(T.fromObject(model)).finish();
}

/** Decode ONNX bytes back to a plain object (tests, debugging). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const T = onnxModelType();
  return T.toObject(T.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<string, unknown>;
}
