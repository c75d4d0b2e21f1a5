/**
 * Eager-looking tensor code that records into a `Graph` (ir.ts). `Sym` is a symbolic tensor: a node id plus its
 * builder; every method appends one node and returns a new `Sym`. Composite ops (silu, rmsNorm, mean, linear ...)
 * are written here from the primitives, so autodiff and every executor only ever see the primitive op set.
 */
import {
  type BinaryKind,
  type DType,
  Graph,
  type NodeId,
  type Op,
  type Shape,
  shapeToString,
  type UnaryKind,
} from "./ir.ts";

export type SymLike = Sym | number;

export class GraphBuilder {
  readonly graph: Graph;
  private readonly scalars = new Map<number, Sym>();

  constructor(graph: Graph = new Graph()) {
    this.graph = graph;
  }

  /** Wrap an existing node id. */
  sym(id: NodeId): Sym {
    return new Sym(this, id);
  }

  input(name: string, shape: Shape, dtype: DType = "f32"): Sym {
    return this.sym(this.graph.add({ kind: "input", name }, [], { shape, dtype }));
  }

  param(name: string, shape: Shape): Sym {
    return this.sym(this.graph.add({ kind: "param", name }, [], { shape, dtype: "f32" }));
  }

  constant(data: Float32Array | Int32Array, shape: Shape): Sym {
    const dtype: DType = data instanceof Int32Array ? "i32" : "f32";
    return this.sym(this.graph.add({ kind: "const", data }, [], { shape, dtype }));
  }

  /** A scalar f32 constant (deduplicated per builder). */
  scalar(v: number): Sym {
    let s = this.scalars.get(v);
    if (!s) {
      s = this.constant(Float32Array.of(v), []);
      this.scalars.set(v, s);
    }
    return s;
  }

  /** zeros of a shape without storing them: expand(0). */
  zeros(shape: Shape): Sym {
    return this.scalar(0).expand(shape);
  }

  op(op: Op, inputs: readonly Sym[], target?: Shape): Sym {
    const id = this.graph.add(
      op,
      inputs.map((s) => s.id),
      target ? { shape: target, dtype: "f32" } : undefined,
    );
    return this.sym(id);
  }

  lift(x: SymLike): Sym {
    return typeof x === "number" ? this.scalar(x) : x;
  }

  concat(xs: readonly Sym[], axis: number): Sym {
    if (xs.length === 1) return xs[0];
    const rank = xs[0].shape.length;
    return this.op({ kind: "concat", axis: axis < 0 ? rank + axis : axis }, xs);
  }
}

export class Sym {
  constructor(
    readonly b: GraphBuilder,
    readonly id: NodeId,
  ) {}

  get shape(): Shape {
    return this.b.graph.nodes[this.id].shape;
  }

  get rank(): number {
    return this.shape.length;
  }

  private bin(kind: BinaryKind, o: SymLike): Sym {
    return this.b.op({ kind }, [this, this.b.lift(o)]);
  }
  private un(kind: UnaryKind): Sym {
    return this.b.op({ kind }, [this]);
  }

  add(o: SymLike): Sym {
    return this.bin("add", o);
  }
  sub(o: SymLike): Sym {
    return this.bin("sub", o);
  }
  mul(o: SymLike): Sym {
    return this.bin("mul", o);
  }
  div(o: SymLike): Sym {
    return this.bin("div", o);
  }
  neg(): Sym {
    return this.un("neg");
  }
  exp(): Sym {
    return this.un("exp");
  }
  log(): Sym {
    return this.un("log");
  }
  sqrt(): Sym {
    return this.un("sqrt");
  }
  sigmoid(): Sym {
    return this.un("sigmoid");
  }
  tanh(): Sym {
    return this.un("tanh");
  }
  matmul(o: Sym): Sym {
    return this.b.op({ kind: "matmul" }, [this, o]);
  }
  softmax(): Sym {
    return this.b.op({ kind: "softmax" }, [this]);
  }
  logSoftmax(): Sym {
    return this.b.op({ kind: "logSoftmax" }, [this]);
  }

  /** Reshape; one dim may be -1. */
  reshape(shape: readonly number[]): Sym {
    const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
    const total = this.shape.reduce((p, d) => p * d, 1);
    const target = shape.map((d) => (d === -1 ? total / known : d));
    if (target.every((d, i) => d === this.shape[i]) && target.length === this.rank) return this;
    return this.b.op({ kind: "reshape" }, [this], target);
  }

  transpose(perm: readonly number[]): Sym {
    if (perm.every((p, i) => p === i)) return this;
    return this.b.op({ kind: "transpose", perm }, [this]);
  }

  /** Swap the last two axes. */
  t(): Sym {
    const r = this.rank;
    const perm = [...Array(r).keys()];
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    return this.transpose(perm);
  }

  slice(axis: number, start: number, end: number): Sym {
    const a = axis < 0 ? this.rank + axis : axis;
    if (start === 0 && end === this.shape[a]) return this;
    return this.b.op({ kind: "slice", axis: a, start, end }, [this]);
  }

  expand(shape: Shape): Sym {
    if (shape.length === this.rank && shape.every((d, i) => d === this.shape[i])) return this;
    return this.b.op({ kind: "expand" }, [this], shape);
  }

  /** Sum over axes (negative allowed); all axes when omitted. */
  sum(axes?: readonly number[], keepDims = false): Sym {
    const r = this.rank;
    const ax = (axes ?? [...Array(r).keys()]).map((a) => (a < 0 ? r + a : a)).sort((x, y) => x - y);
    if (ax.length === 0) return this;
    return this.b.op({ kind: "reduceSum", axes: ax, keepDims }, [this]);
  }

  mean(axes?: readonly number[], keepDims = false): Sym {
    const r = this.rank;
    const ax = (axes ?? [...Array(r).keys()]).map((a) => (a < 0 ? r + a : a));
    const count = ax.reduce((p, a) => p * this.shape[a], 1);
    return this.sum(ax, keepDims).mul(1 / count);
  }

  /** Rows of this table (axis 0) at `indices` (i32). */
  gather(indices: Sym): Sym {
    return this.b.op({ kind: "gather" }, [this, indices]);
  }

  silu(): Sym {
    return this.mul(this.sigmoid());
  }

  /** log(sigmoid(x)) = logSoftmax([x, 0])[0], stable for large |x| (DPO / preference losses). */
  logSigmoid(): Sym {
    const shape = this.shape;
    const col = this.reshape([...shape, 1]);
    const pair = this.b.concat([col, this.b.zeros([...shape, 1])], -1);
    return pair.logSoftmax().slice(-1, 0, 1).reshape(shape);
  }

  square(): Sym {
    return this.mul(this);
  }

  describe(): string {
    return `${this.b.graph.nodes[this.id].op.kind}#${this.id}${shapeToString(this.shape)}`;
  }
}

/** x * w / sqrt(mean(x^2, last) + eps), x: [..., D], w: [D]. */
export function rmsNorm(x: Sym, weight: Sym, eps: number): Sym {
  const ms = x.square().mean([-1], true);
  return x.div(ms.add(eps).sqrt()).mul(weight);
}

/** y = x W^T (+ bias) with W [out, in] (PyTorch nn.Linear layout); x [..., in] -> [..., out]. */
export function linear(x: Sym, weight: Sym, bias?: Sym): Sym {
  const inF = x.shape[x.rank - 1];
  const outF = weight.shape[0];
  if (weight.shape[1] !== inF) {
    throw new Error(`linear: x ${shapeToString(x.shape)} vs weight ${shapeToString(weight.shape)}`);
  }
  const lead = x.shape.slice(0, -1);
  let y = x.reshape([-1, inF]).matmul(weight.t());
  if (bias) y = y.add(bias);
  return y.reshape([...lead, outF]);
}
