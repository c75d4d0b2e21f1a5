/**
 * The reference executor: interprets a Graph node by node in plain TypeScript over Float32Array (or Float64Array
 * for gradient checks). Simple loops, no per-element closures; matmul is i-k-j. Buffers are released after their
 * last use, so a training step holds only what the backward pass still needs.
 */
import {
  type CompiledGraph,
  type Executor,
  type Graph,
  type HostTensor,
  type Node,
  type NodeId,
  numel,
  type Shape,
  shapeToString,
} from "./ir.ts";

export type Precision = "f32" | "f64";
type FBuf = Float32Array | Float64Array;
type Buf = FBuf | Int32Array;

function strides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Strides of `inShape` seen through a broadcast to `outShape` (0 on stretched / missing axes). */
function bcastStrides(inShape: Shape, outShape: Shape): number[] {
  const st = strides(inShape);
  const lead = outShape.length - inShape.length;
  return outShape.map((_d, i) => (i < lead || inShape[i - lead] === 1 ? 0 : st[i - lead]));
}

/**
 * For iterating `shape` row by row (all axes but the last): the offset of each row in a buffer with strides `st`.
 * Rank-0 shapes are one row of one element.
 */
function rowOffsets(shape: Shape, st: readonly number[]): Int32Array {
  const r = shape.length;
  if (r <= 1) return Int32Array.of(0);
  const rows = numel(shape) / shape[r - 1];
  const out = new Int32Array(rows);
  const idx = new Array<number>(r - 1).fill(0);
  let off = 0;
  for (let row = 0; row < rows; row++) {
    out[row] = off;
    for (let a = r - 2; a >= 0; a--) {
      idx[a]++;
      off += st[a];
      if (idx[a] < shape[a]) break;
      off -= st[a] * shape[a];
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * c[m,n] += a[m,k] b[k,n] (row-major, offsets in elements). i-k-j order, register-blocked 4 rows of c x 4 rows of
 * b: each streaming pass over j reads 4 rows of b once and updates 4 rows of c (3-4x the plain i-k-j loop in V8:
 * about 4 GFLOP/s on one core here).
 */
export function matmulInto(
  a: FBuf,
  aOff: number,
  b: FBuf,
  bOff: number,
  c: FBuf,
  cOff: number,
  m: number,
  k: number,
  n: number,
): void {
  const k4 = k - (k % 4);
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const c0 = cOff + i * n;
    const c1 = c0 + n;
    const c2 = c1 + n;
    const c3 = c2 + n;
    const a0 = aOff + i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    for (let p = 0; p < k4; p += 4) {
      const x0 = a[a0 + p];
      const x1 = a[a0 + p + 1];
      const x2 = a[a0 + p + 2];
      const x3 = a[a0 + p + 3];
      const y0 = a[a1 + p];
      const y1 = a[a1 + p + 1];
      const y2 = a[a1 + p + 2];
      const y3 = a[a1 + p + 3];
      const z0 = a[a2 + p];
      const z1 = a[a2 + p + 1];
      const z2 = a[a2 + p + 2];
      const z3 = a[a2 + p + 3];
      const w0 = a[a3 + p];
      const w1 = a[a3 + p + 1];
      const w2 = a[a3 + p + 2];
      const w3 = a[a3 + p + 3];
      const b0 = bOff + p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        const u0 = b[b0 + j];
        const u1 = b[b1 + j];
        const u2 = b[b2 + j];
        const u3 = b[b3 + j];
        c[c0 + j] += x0 * u0 + x1 * u1 + x2 * u2 + x3 * u3;
        c[c1 + j] += y0 * u0 + y1 * u1 + y2 * u2 + y3 * u3;
        c[c2 + j] += z0 * u0 + z1 * u1 + z2 * u2 + z3 * u3;
        c[c3 + j] += w0 * u0 + w1 * u1 + w2 * u2 + w3 * u3;
      }
    }
    for (let p = k4; p < k; p++) {
      const x = a[a0 + p];
      const y = a[a1 + p];
      const z = a[a2 + p];
      const w = a[a3 + p];
      const bp = bOff + p * n;
      for (let j = 0; j < n; j++) {
        const u = b[bp + j];
        c[c0 + j] += x * u;
        c[c1 + j] += y * u;
        c[c2 + j] += z * u;
        c[c3 + j] += w * u;
      }
    }
  }
  for (; i < m; i++) {
    const ci = cOff + i * n;
    const ai = aOff + i * k;
    let p = 0;
    for (; p < k4; p += 4) {
      const x0 = a[ai + p];
      const x1 = a[ai + p + 1];
      const x2 = a[ai + p + 2];
      const x3 = a[ai + p + 3];
      const b0 = bOff + p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) c[ci + j] += x0 * b[b0 + j] + x1 * b[b1 + j] + x2 * b[b2 + j] + x3 * b[b3 + j];
    }
    for (; p < k; p++) {
      const av = a[ai + p];
      const bp = bOff + p * n;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
    }
  }
}

export class RefExecutor implements Executor {
  readonly name: string;
  constructor(readonly precision: Precision = "f32") {
    this.name = `reference-${precision}`;
  }

  compile(graph: Graph, outputs: readonly NodeId[]): RefCompiled {
    return new RefCompiled(graph, outputs, this.precision);
  }
}

export class RefCompiled implements CompiledGraph {
  private readonly order: NodeId[];
  /** lastUse[i]: the last position in `order` that reads node i (outputs: never freed). */
  private readonly lastUse = new Map<NodeId, number>();

  constructor(
    private readonly graph: Graph,
    private readonly outputs: readonly NodeId[],
    private readonly precision: Precision,
  ) {
    const live = new Uint8Array(graph.nodes.length);
    for (const o of outputs) live[graph.node(o).id] = 1;
    for (let i = graph.nodes.length - 1; i >= 0; i--) {
      if (live[i]) for (const j of graph.nodes[i].inputs) live[j] = 1;
    }
    this.order = [];
    for (let i = 0; i < graph.nodes.length; i++) if (live[i]) this.order.push(i);
    this.order.forEach((id, pos) => {
      for (const j of graph.nodes[id].inputs) this.lastUse.set(j, pos);
    });
    for (const o of outputs) this.lastUse.set(o, Number.POSITIVE_INFINITY);
  }

  async run(feeds: Readonly<Record<string, HostTensor>>): Promise<HostTensor[]> {
    return this.runSync(feeds);
  }

  async dispose(): Promise<void> {}

  /** Seconds spent per op kind, accumulated over runs when `profile` is set. */
  readonly profile = new Map<string, number>();
  profiling = false;

  runSync(feeds: Readonly<Record<string, HostTensor>>): HostTensor[] {
    const vals = new Map<NodeId, Buf>();
    const F = this.precision === "f64" ? Float64Array : Float32Array;
    this.order.forEach((id, pos) => {
      const node = this.graph.nodes[id];
      const t0 = this.profiling ? performance.now() : 0;
      vals.set(id, evalNode(node, this.graph, vals, feeds, F));
      if (this.profiling) {
        const k = node.op.kind;
        this.profile.set(k, (this.profile.get(k) ?? 0) + (performance.now() - t0) / 1000);
      }
      for (const j of node.inputs) if (this.lastUse.get(j) === pos) vals.delete(j);
      if (this.lastUse.get(id) === undefined) vals.delete(id);
    });
    return this.outputs.map((o) => {
      const v = vals.get(o)!;
      return { shape: [...this.graph.nodes[o].shape], data: v.slice() };
    });
  }
}

type FCtor = Float32ArrayConstructor | Float64ArrayConstructor;

function evalNode(
  node: Node,
  graph: Graph,
  vals: Map<NodeId, Buf>,
  feeds: Readonly<Record<string, HostTensor>>,
  F: FCtor,
): Buf {
  const op = node.op;
  const ins = node.inputs.map((i) => vals.get(i)!);
  const inShapes = node.inputs.map((i) => graph.nodes[i].shape);
  const size = numel(node.shape);
  switch (op.kind) {
    case "input":
    case "param": {
      const t = feeds[op.name];
      if (!t) throw new Error(`missing feed "${op.name}" (${op.kind} ${shapeToString(node.shape)})`);
      if (t.shape.length !== node.shape.length || t.shape.some((d, i) => d !== node.shape[i])) {
        throw new Error(
          `feed "${op.name}": shape ${shapeToString(t.shape)}, graph expects ${shapeToString(node.shape)}`,
        );
      }
      if (node.dtype === "i32") {
        if (!(t.data instanceof Int32Array)) throw new Error(`feed "${op.name}" must be Int32Array`);
        return t.data;
      }
      if (t.data instanceof Int32Array) throw new Error(`feed "${op.name}" must be a float array`);
      return t.data instanceof F ? t.data : F.from(t.data);
    }
    case "const":
      return op.data instanceof Int32Array ? op.data : F.from(op.data);
    case "neg":
    case "exp":
    case "log":
    case "sqrt":
    case "sigmoid":
    case "tanh": {
      const x = ins[0] as FBuf;
      const o = new F(size);
      if (op.kind === "neg") for (let i = 0; i < size; i++) o[i] = -x[i];
      else if (op.kind === "exp") for (let i = 0; i < size; i++) o[i] = Math.exp(x[i]);
      else if (op.kind === "log") for (let i = 0; i < size; i++) o[i] = Math.log(x[i]);
      else if (op.kind === "sqrt") for (let i = 0; i < size; i++) o[i] = Math.sqrt(x[i]);
      else if (op.kind === "tanh") for (let i = 0; i < size; i++) o[i] = Math.tanh(x[i]);
      else for (let i = 0; i < size; i++) o[i] = 1 / (1 + Math.exp(-x[i]));
      return o;
    }
    case "add":
    case "sub":
    case "mul":
    case "div":
      return binary(op.kind, ins[0] as FBuf, inShapes[0], ins[1] as FBuf, inShapes[1], node.shape, F);
    case "expand": {
      const o = new F(size);
      const x = ins[0] as FBuf;
      const sh = node.shape;
      const last = sh.length ? sh[sh.length - 1] : 1;
      const st = bcastStrides(inShapes[0], sh);
      const ls = sh.length ? st[st.length - 1] : 0;
      const rows = rowOffsets(sh, st);
      for (let r = 0; r < rows.length; r++) {
        const base = rows[r];
        const ob = r * last;
        for (let j = 0; j < last; j++) o[ob + j] = x[base + j * ls];
      }
      return o;
    }
    case "matmul":
      return matmul(ins[0] as FBuf, inShapes[0], ins[1] as FBuf, inShapes[1], node.shape, F);
    case "reshape":
      return ins[0];
    case "transpose": {
      const x = ins[0] as FBuf;
      const inSt = strides(inShapes[0]);
      const st = op.perm.map((p) => inSt[p]);
      const sh = node.shape;
      const last = sh[sh.length - 1];
      const ls = st[st.length - 1];
      const rows = rowOffsets(sh, st);
      const o = new F(size);
      for (let r = 0; r < rows.length; r++) {
        const base = rows[r];
        const ob = r * last;
        for (let j = 0; j < last; j++) o[ob + j] = x[base + j * ls];
      }
      return o;
    }
    case "slice": {
      const x = ins[0] as FBuf;
      const s = inShapes[0];
      const outer = numel(s.slice(0, op.axis));
      const inner = numel(s.slice(op.axis + 1));
      const len = (op.end - op.start) * inner;
      const o = new F(size);
      for (let r = 0; r < outer; r++) {
        const src = r * s[op.axis] * inner + op.start * inner;
        o.set(x.subarray(src, src + len), r * len);
      }
      return o;
    }
    case "concat": {
      const o = new F(size);
      const outer = numel(node.shape.slice(0, op.axis));
      const inner = numel(node.shape.slice(op.axis + 1));
      const rowLen = node.shape[op.axis] * inner;
      let off = 0;
      ins.forEach((x, i) => {
        const len = inShapes[i][op.axis] * inner;
        for (let r = 0; r < outer; r++) o.set((x as FBuf).subarray(r * len, (r + 1) * len), r * rowLen + off);
        off += len;
      });
      return o;
    }
    case "reduceSum":
      return reduceSum(ins[0] as FBuf, inShapes[0], op.axes, size, F);
    case "softmax":
    case "logSoftmax": {
      const x = ins[0] as FBuf;
      const s = inShapes[0];
      const n = s[s.length - 1];
      const rows = size / n;
      const o = new F(size);
      const log = op.kind === "logSoftmax";
      for (let r = 0; r < rows; r++) {
        const b = r * n;
        let mx = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < n; j++) if (x[b + j] > mx) mx = x[b + j];
        let sum = 0;
        for (let j = 0; j < n; j++) sum += Math.exp(x[b + j] - mx);
        if (log) {
          const lse = mx + Math.log(sum);
          for (let j = 0; j < n; j++) o[b + j] = x[b + j] - lse;
        } else {
          const inv = 1 / sum;
          for (let j = 0; j < n; j++) o[b + j] = Math.exp(x[b + j] - mx) * inv;
        }
      }
      return o;
    }
    case "gather": {
      const table = ins[0] as FBuf;
      const idx = ins[1] as Int32Array;
      const V = inShapes[0][0];
      const row = numel(inShapes[0].slice(1));
      const o = new F(size);
      for (let i = 0; i < idx.length; i++) {
        const t = idx[i];
        if (t < 0 || t >= V) throw new Error(`gather: index ${t} out of range [0, ${V}) at position ${i}`);
        o.set(table.subarray(t * row, (t + 1) * row), i * row);
      }
      return o;
    }
    case "scatterAdd": {
      const upd = ins[0] as FBuf;
      const idx = ins[1] as Int32Array;
      const V = node.shape[0];
      const row = numel(node.shape.slice(1));
      const o = new F(size);
      for (let i = 0; i < idx.length; i++) {
        const t = idx[i];
        if (t < 0 || t >= V) throw new Error(`scatterAdd: index ${t} out of range [0, ${V}) at position ${i}`);
        const ob = t * row;
        const ub = i * row;
        for (let j = 0; j < row; j++) o[ob + j] += upd[ub + j];
      }
      return o;
    }
    default: {
      const never: never = op;
      throw new Error(`reference executor: unknown op ${JSON.stringify(never)}`);
    }
  }
}

function binary(
  kind: "add" | "sub" | "mul" | "div",
  a: FBuf,
  as: Shape,
  b: FBuf,
  bs: Shape,
  os: Shape,
  F: FCtor,
): FBuf {
  const size = numel(os);
  const o = new F(size);
  const kindId = kind === "add" ? 0 : kind === "sub" ? 1 : kind === "mul" ? 2 : 3;
  if (a.length === size && b.length === size) {
    if (kindId === 0) for (let i = 0; i < size; i++) o[i] = a[i] + b[i];
    else if (kindId === 1) for (let i = 0; i < size; i++) o[i] = a[i] - b[i];
    else if (kindId === 2) for (let i = 0; i < size; i++) o[i] = a[i] * b[i];
    else for (let i = 0; i < size; i++) o[i] = a[i] / b[i];
    return o;
  }
  const sa = bcastStrides(as, os);
  const sb = bcastStrides(bs, os);
  const last = os.length ? os[os.length - 1] : 1;
  const la = os.length ? sa[sa.length - 1] : 0;
  const lb = os.length ? sb[sb.length - 1] : 0;
  const ra = rowOffsets(os, sa);
  const rb = rowOffsets(os, sb);
  for (let r = 0; r < ra.length; r++) {
    const pa = ra[r];
    const pb = rb[r];
    const ob = r * last;
    if (kindId === 0) for (let j = 0; j < last; j++) o[ob + j] = a[pa + j * la] + b[pb + j * lb];
    else if (kindId === 1) for (let j = 0; j < last; j++) o[ob + j] = a[pa + j * la] - b[pb + j * lb];
    else if (kindId === 2) for (let j = 0; j < last; j++) o[ob + j] = a[pa + j * la] * b[pb + j * lb];
    else for (let j = 0; j < last; j++) o[ob + j] = a[pa + j * la] / b[pb + j * lb];
  }
  return o;
}

function matmul(a: FBuf, as: Shape, b: FBuf, bs: Shape, os: Shape, F: FCtor): FBuf {
  const r = os.length;
  const m = os[r - 2];
  const n = os[r - 1];
  const k = as[as.length - 1];
  const o = new F(numel(os));
  const batchShape = os.slice(0, -2);
  const batches = numel(batchShape);
  // batch offsets via broadcasting of the batch dims (in units of matrices)
  const aB = bcastStrides(as.slice(0, -2), batchShape);
  const bB = bcastStrides(bs.slice(0, -2), batchShape);
  const idx = new Array<number>(batchShape.length).fill(0);
  for (let t = 0; t < batches; t++) {
    let ao = 0;
    let bo = 0;
    for (let d = 0; d < idx.length; d++) {
      ao += idx[d] * aB[d];
      bo += idx[d] * bB[d];
    }
    matmulInto(a, ao * m * k, b, bo * k * n, o, t * m * n, m, k, n);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < batchShape[d]) break;
      idx[d] = 0;
    }
  }
  return o;
}

function reduceSum(x: FBuf, s: Shape, axes: readonly number[], outSize: number, F: FCtor): FBuf {
  const o = new F(outSize);
  const r = s.length;
  // fast path: only the last axis
  if (axes.length === 1 && axes[0] === r - 1) {
    const n = s[r - 1];
    for (let row = 0; row < outSize; row++) {
      let acc = 0;
      const b = row * n;
      for (let j = 0; j < n; j++) acc += x[b + j];
      o[row] = acc;
    }
    return o;
  }
  // general: walk the input, adding into the output through strides with 0 on reduced axes
  const keptShape = s.map((d, i) => (axes.includes(i) ? 1 : d));
  const st = bcastStrides(keptShape, s);
  const last = r ? s[r - 1] : 1;
  const ls = r ? st[r - 1] : 0;
  const rows = rowOffsets(s, st);
  for (let row = 0; row < rows.length; row++) {
    const ob = rows[row];
    const ib = row * last;
    if (ls === 0) {
      let acc = 0;
      for (let j = 0; j < last; j++) acc += x[ib + j];
      o[ob] += acc;
    } else for (let j = 0; j < last; j++) o[ob + j] += x[ib + j];
  }
  return o;
}
