/**
 * The nn graph IR: one small, static-shape, ONNX-friendly intermediate representation.
 *
 * How it is used
 * - Model code (llama.ts) is written in an eager style against `GraphBuilder` (see tensor.ts): every call records one
 *   `Node` into a `Graph`. Nothing is computed while recording.
 * - Autodiff (autodiff.ts) is a graph transform: `appendGradients(graph, loss, wrt)` appends the backward nodes to the
 *   SAME graph, using only the ops below. So a backend that can run a forward graph can run a training step too.
 * - Executors (the `Executor` interface at the bottom) compile a graph for a set of output nodes and run it with
 *   feeds. `executor-ref.ts` is the plain-TypeScript reference; `onnx/` lowers the same graph to one ONNX model.
 *
 * Invariants (an executor may rely on them)
 * - `graph.nodes[i].id === i` and every input id of a node is smaller than its own id (the list is topological).
 * - Every node has a fully static shape (`number[]`, `[]` = scalar) and a dtype. Only `input`, `const` and the
 *   index operands of `gather`/`scatterAdd` may be "i32"; every other value is "f32" (an executor may compute floats
 *   in float64: the reference does so for gradient checks).
 * - Graph inputs are `input` (data: token ids, masks) and `param` (trainable weights) nodes, both fed by `name` at run
 *   time. Names are unique within a graph. Parameters carry Hugging Face names ("model.layers.0.mlp.up_proj.weight").
 * - Broadcasting is numpy/ONNX style (right-aligned, size-1 dims stretch) for add/sub/mul/div and matmul batch dims.
 *
 * The op set and its ONNX lowering (opset >= 18)
 *   input, param           -> graph inputs                 const        -> initializer / Constant
 *   add, sub, mul, div     -> Add, Sub, Mul, Div           neg          -> Neg
 *   exp, log, sqrt         -> Exp, Log, Sqrt               sigmoid, tanh -> Sigmoid, Tanh
 *   matmul                 -> MatMul (rank >= 2 both)      reshape      -> Reshape (target = node.shape)
 *   transpose(perm)        -> Transpose                    slice(axis,start,end) -> Slice (step 1)
 *   concat(axis)           -> Concat                       expand       -> Expand (target = node.shape)
 *   reduceSum(axes,keep)   -> ReduceSum                    softmax, logSoftmax (last axis) -> Softmax, LogSoftmax
 *   gather                 -> Gather(axis=0)               scatterAdd   -> ScatterND(reduction="add") into zeros
 */

export type DType = "f32" | "i32";
export type Shape = readonly number[];
export type NodeId = number;

/** Ops with no attributes beyond their kind. */
export type UnaryKind = "neg" | "exp" | "log" | "sqrt" | "sigmoid" | "tanh";
export type BinaryKind = "add" | "sub" | "mul" | "div";

export type Op =
  /** Data fed at run time by `name` (token ids "i32", attention bias / loss weights "f32"). No inputs. */
  | { kind: "input"; name: string }
  /** A trainable parameter fed at run time by `name` (HF tensor name). No inputs. */
  | { kind: "param"; name: string }
  /** A constant baked into the graph (RoPE tables, scalars). `data.length === prod(node.shape)`. No inputs. */
  | { kind: "const"; data: Float32Array | Int32Array }
  /** Elementwise, 1 input. */
  | { kind: UnaryKind }
  /** Elementwise with broadcasting, 2 inputs. */
  | { kind: BinaryKind }
  /** [...batchA, m, k] x [...batchB, k, n] -> [...broadcast(batchA, batchB), m, n]. */
  | { kind: "matmul" }
  /** Same elements, new shape = node.shape (row-major). */
  | { kind: "reshape" }
  /** out.shape[i] = in.shape[perm[i]]. */
  | { kind: "transpose"; perm: readonly number[] }
  /** Keep indices [start, end) of `axis` (non-negative, end <= size), step 1. */
  | { kind: "slice"; axis: number; start: number; end: number }
  /** Concatenate all inputs along `axis` (other dims equal). */
  | { kind: "concat"; axis: number }
  /** Broadcast the input to node.shape (numpy rules). */
  | { kind: "expand" }
  /** Sum over `axes` (sorted, non-negative); `keepDims` keeps them as size 1. */
  | { kind: "reduceSum"; axes: readonly number[]; keepDims: boolean }
  /** Softmax / log-softmax over the last axis. */
  | { kind: "softmax" }
  | { kind: "logSoftmax" }
  /** inputs [table: [V, ...rest] f32, indices: [...I] i32] -> [...I, ...rest]: rows of table (axis 0). */
  | { kind: "gather" }
  /**
   * inputs [updates: [...I, ...rest] f32, indices: [...I] i32] -> zeros(node.shape = [V, ...rest]) with
   * out[indices[i]] += updates[i] (duplicates accumulate). The gradient of gather.
   */
  | { kind: "scatterAdd" };

export type OpKind = Op["kind"];

export interface Node {
  readonly id: NodeId;
  readonly op: Op;
  readonly inputs: readonly NodeId[];
  readonly shape: Shape;
  readonly dtype: DType;
}

/** A host tensor: row-major data with its shape. Float64Array only appears in float64 (gradient-check) runs. */
export interface HostTensor {
  readonly shape: Shape;
  readonly data: Float32Array | Float64Array | Int32Array;
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** numpy broadcasting of two shapes; throws with both shapes on mismatch. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`cannot broadcast ${shapeToString(a)} with ${shapeToString(b)}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * The graph: a topologically ordered node list. Append-only: autodiff adds nodes to the graph it differentiates.
 * `add` validates the op and infers the shape, so every graph in the system satisfies the invariants above.
 */
export class Graph {
  readonly nodes: Node[] = [];
  private readonly names = new Map<string, NodeId>();

  /** Append a node; shape and dtype are inferred (leaf ops take them from `leaf`). */
  add(op: Op, inputs: readonly NodeId[], leaf?: { shape: Shape; dtype: DType }): NodeId {
    for (const i of inputs) {
      if (!Number.isInteger(i) || i < 0 || i >= this.nodes.length) throw new Error(`${op.kind}: bad input id ${i}`);
    }
    const id = this.nodes.length;
    let shape: Shape;
    let dtype: DType;
    if (op.kind === "input" || op.kind === "param" || op.kind === "const") {
      if (!leaf) throw new Error(`${op.kind} node needs a shape and dtype`);
      if (op.kind !== "const") {
        if (this.names.has(op.name)) throw new Error(`duplicate graph input name "${op.name}"`);
        this.names.set(op.name, id);
      } else if (op.data.length !== numel(leaf.shape)) {
        throw new Error(`const: ${op.data.length} values for shape ${shapeToString(leaf.shape)}`);
      }
      shape = [...leaf.shape];
      dtype = op.kind === "param" ? "f32" : leaf.dtype;
    } else {
      shape = inferShape(
        op,
        inputs.map((i) => this.nodes[i]),
        leaf?.shape,
      );
      dtype = "f32";
    }
    this.nodes.push({ id, op, inputs: [...inputs], shape, dtype });
    return id;
  }

  node(id: NodeId): Node {
    const n = this.nodes[id];
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** The node id of an `input`/`param` by name, or undefined. */
  byName(name: string): NodeId | undefined {
    return this.names.get(name);
  }

  /** All `input` and `param` nodes, in graph order. */
  leaves(): Node[] {
    return this.nodes.filter((n) => n.op.kind === "input" || n.op.kind === "param");
  }
}

function expectF32(op: OpKind, n: Node): void {
  if (n.dtype !== "f32") throw new Error(`${op}: input ${n.id} must be f32, is ${n.dtype}`);
}

/** Shape rules of every non-leaf op. `target` is the requested shape for reshape/expand/scatterAdd. */
export function inferShape(op: Op, ins: readonly Node[], target?: Shape): number[] {
  const k = op.kind;
  const arity = (n: number) => {
    if (ins.length !== n) throw new Error(`${k}: expects ${n} inputs, got ${ins.length}`);
  };
  switch (op.kind) {
    case "neg":
    case "exp":
    case "log":
    case "sqrt":
    case "sigmoid":
    case "tanh":
    case "softmax":
    case "logSoftmax":
      arity(1);
      expectF32(k, ins[0]);
      if ((k === "softmax" || k === "logSoftmax") && ins[0].shape.length === 0)
        throw new Error(`${k}: needs rank >= 1`);
      return [...ins[0].shape];
    case "add":
    case "sub":
    case "mul":
    case "div":
      arity(2);
      expectF32(k, ins[0]);
      expectF32(k, ins[1]);
      return broadcastShapes(ins[0].shape, ins[1].shape);
    case "matmul": {
      arity(2);
      const [a, b] = [ins[0].shape, ins[1].shape];
      if (a.length < 2 || b.length < 2)
        throw new Error(`matmul: needs rank >= 2, got ${shapeToString(a)} x ${shapeToString(b)}`);
      const m = a[a.length - 2];
      const ka = a[a.length - 1];
      const kb = b[b.length - 2];
      const n = b[b.length - 1];
      if (ka !== kb) throw new Error(`matmul: inner dims differ: ${shapeToString(a)} x ${shapeToString(b)}`);
      return [...broadcastShapes(a.slice(0, -2), b.slice(0, -2)), m, n];
    }
    case "reshape": {
      arity(1);
      if (!target) throw new Error("reshape: needs a target shape");
      if (numel(target) !== numel(ins[0].shape)) {
        throw new Error(`reshape: ${shapeToString(ins[0].shape)} -> ${shapeToString(target)} changes the size`);
      }
      return [...target];
    }
    case "transpose": {
      arity(1);
      const s = ins[0].shape;
      const seen = new Set(op.perm);
      if (op.perm.length !== s.length || seen.size !== s.length || op.perm.some((p) => p < 0 || p >= s.length)) {
        throw new Error(`transpose: bad perm [${op.perm.join(",")}] for ${shapeToString(s)}`);
      }
      return op.perm.map((p) => s[p]);
    }
    case "slice": {
      arity(1);
      const s = ins[0].shape;
      if (op.axis < 0 || op.axis >= s.length || op.start < 0 || op.end > s[op.axis] || op.start >= op.end) {
        throw new Error(`slice: bad axis/range ${op.axis} [${op.start}, ${op.end}) for ${shapeToString(s)}`);
      }
      const out = [...s];
      out[op.axis] = op.end - op.start;
      return out;
    }
    case "concat": {
      if (ins.length < 1) throw new Error("concat: needs inputs");
      const s0 = ins[0].shape;
      if (op.axis < 0 || op.axis >= s0.length) throw new Error(`concat: bad axis ${op.axis}`);
      const out = [...s0];
      out[op.axis] = 0;
      for (const n of ins) {
        expectF32(k, n);
        if (n.shape.length !== s0.length || n.shape.some((d, i) => i !== op.axis && d !== s0[i])) {
          throw new Error(`concat: ${shapeToString(n.shape)} does not match ${shapeToString(s0)} off axis ${op.axis}`);
        }
        out[op.axis] += n.shape[op.axis];
      }
      return out;
    }
    case "expand": {
      arity(1);
      if (!target) throw new Error("expand: needs a target shape");
      const b = broadcastShapes(ins[0].shape, target);
      if (!sameShape(b, target)) throw new Error(`expand: ${shapeToString(ins[0].shape)} -> ${shapeToString(target)}`);
      return [...target];
    }
    case "reduceSum": {
      arity(1);
      const s = ins[0].shape;
      for (let i = 0; i < op.axes.length; i++) {
        const a = op.axes[i];
        if (a < 0 || a >= s.length || (i > 0 && a <= op.axes[i - 1])) {
          throw new Error(`reduceSum: axes [${op.axes.join(",")}] must be sorted and within ${shapeToString(s)}`);
        }
      }
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (op.axes.includes(i)) {
          if (op.keepDims) out.push(1);
        } else out.push(s[i]);
      }
      return out;
    }
    case "gather": {
      arity(2);
      expectF32(k, ins[0]);
      if (ins[1].dtype !== "i32") throw new Error("gather: indices must be i32");
      if (ins[0].shape.length < 1) throw new Error("gather: table needs rank >= 1");
      return [...ins[1].shape, ...ins[0].shape.slice(1)];
    }
    case "scatterAdd": {
      arity(2);
      if (!target || target.length < 1) throw new Error("scatterAdd: needs a target shape [V, ...rest]");
      if (ins[1].dtype !== "i32") throw new Error("scatterAdd: indices must be i32");
      const want = [...ins[1].shape, ...target.slice(1)];
      if (!sameShape(want, ins[0].shape)) {
        throw new Error(`scatterAdd: updates ${shapeToString(ins[0].shape)}, expected ${shapeToString(want)}`);
      }
      return [...target];
    }
    default:
      throw new Error(`inferShape: leaf op ${k}`);
  }
}

/** A compiled graph: run it with feeds for every `input`/`param` it needs; returns the requested outputs in order. */
export interface CompiledGraph {
  run(feeds: Readonly<Record<string, HostTensor>>): Promise<HostTensor[]>;
  /** Release native resources (sessions); a no-op for the reference executor. */
  dispose(): Promise<void>;
}

/**
 * An executor turns (graph, outputs) into something runnable. Compile once per shape bucket and reuse: feeds must
 * have exactly the shapes recorded in the graph. Outputs are always fresh arrays the caller may keep.
 */
export interface Executor {
  readonly name: string;
  compile(graph: Graph, outputs: readonly NodeId[]): CompiledGraph;
}
