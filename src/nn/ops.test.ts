import { describe, expect, it } from "vitest";
import { SplitMix32 } from "../domain/random.ts";
import { appendGradients } from "./autodiff.ts";
import { matmulInto, RefExecutor } from "./executor-ref.ts";
import { gradCheck } from "./gradcheck.ts";
import { Graph, type HostTensor, numel, type Shape } from "./ir.ts";
import { GraphBuilder, linear, rmsNorm, type Sym } from "./tensor.ts";

/**
 * Each case builds f(params, inputs) and is checked as loss = sum(f * R) for a fixed random R, so every output
 * element's gradient is exercised. Float64 execution, central differences with eps 1e-6: truncation error is
 * O(eps^2 * f''') ~ 1e-12 and rounding ~1e-16/1e-6 = 1e-10, so 1e-6 is a safe tolerance.
 */
interface Case {
  name: string;
  params: Record<string, Shape>;
  /** positive-only params (log/sqrt/div denominators) */
  positive?: string[];
  inputs?: Record<string, HostTensor>;
  f: (p: Record<string, Sym>, b: GraphBuilder) => Sym;
}

const idx = (shape: Shape, values: number[]): HostTensor => ({ shape, data: Int32Array.from(values) });

const cases: Case[] = [
  { name: "add (broadcast)", params: { a: [2, 3, 4], b: [3, 1] }, f: ({ a, b }) => a.add(b) },
  { name: "sub (broadcast)", params: { a: [4], b: [2, 3, 4] }, f: ({ a, b }) => a.sub(b) },
  { name: "mul (broadcast)", params: { a: [2, 1, 4], b: [1, 3, 1] }, f: ({ a, b }) => a.mul(b) },
  { name: "div (broadcast)", params: { a: [2, 3], b: [3] }, positive: ["b"], f: ({ a, b }) => a.div(b) },
  { name: "mul scalar + neg", params: { a: [5] }, f: ({ a }) => a.mul(2.5).neg() },
  { name: "exp", params: { a: [3, 2] }, f: ({ a }) => a.exp() },
  { name: "log", params: { a: [3, 2] }, positive: ["a"], f: ({ a }) => a.log() },
  { name: "sqrt", params: { a: [6] }, positive: ["a"], f: ({ a }) => a.sqrt() },
  { name: "sigmoid", params: { a: [6] }, f: ({ a }) => a.sigmoid() },
  { name: "tanh", params: { a: [6] }, f: ({ a }) => a.tanh() },
  { name: "silu", params: { a: [2, 5] }, f: ({ a }) => a.silu() },
  { name: "logSigmoid", params: { a: [2, 5] }, f: ({ a }) => a.mul(3).logSigmoid() },
  { name: "matmul 2d", params: { a: [3, 4], b: [4, 5] }, f: ({ a, b }) => a.matmul(b) },
  { name: "matmul batched", params: { a: [2, 3, 4], b: [2, 4, 2] }, f: ({ a, b }) => a.matmul(b) },
  { name: "matmul broadcast batch", params: { a: [2, 2, 3, 4], b: [4, 5] }, f: ({ a, b }) => a.matmul(b) },
  { name: "matmul broadcast batch b", params: { a: [3, 4], b: [2, 1, 4, 2] }, f: ({ a, b }) => a.matmul(b) },
  { name: "reshape", params: { a: [2, 6] }, f: ({ a }) => a.reshape([3, 4]).mul(a.reshape([3, 4])) },
  { name: "transpose", params: { a: [2, 3, 4] }, f: ({ a }) => a.transpose([2, 0, 1]) },
  { name: "slice", params: { a: [3, 5] }, f: ({ a }) => a.slice(1, 1, 4) },
  { name: "slice axis 0", params: { a: [4, 2] }, f: ({ a }) => a.slice(0, 0, 2) },
  { name: "concat", params: { a: [2, 3], b: [2, 1] }, f: ({ a, b }) => a.b.concat([a, b, a], 1) },
  { name: "expand", params: { a: [3, 1] }, f: ({ a }) => a.expand([2, 3, 4]) },
  { name: "sum axes", params: { a: [2, 3, 4] }, f: ({ a }) => a.sum([0, 2]) },
  { name: "sum keepdims", params: { a: [2, 3, 4] }, f: ({ a }) => a.sum([1], true) },
  { name: "mean all", params: { a: [2, 3] }, f: ({ a }) => a.mean() },
  { name: "softmax", params: { a: [2, 3, 5] }, f: ({ a }) => a.softmax() },
  { name: "logSoftmax", params: { a: [3, 7] }, f: ({ a }) => a.logSoftmax() },
  {
    name: "gather (embedding, repeated ids)",
    params: { w: [5, 3] },
    inputs: { ids: idx([2, 3], [0, 4, 4, 1, 0, 2]) },
    f: ({ w }, b) => w.gather(b.input("ids", [2, 3], "i32")),
  },
  {
    name: "scatterAdd",
    params: { u: [4, 2] },
    inputs: { ids: idx([4], [1, 1, 0, 2]) },
    f: ({ u }, b) => b.op({ kind: "scatterAdd" }, [u, b.input("ids", [4], "i32")], [3, 2]),
  },
  { name: "rmsNorm", params: { x: [2, 3, 8], w: [8] }, f: ({ x, w }) => rmsNorm(x, w, 1e-5) },
  { name: "linear", params: { x: [2, 3, 4], w: [5, 4] }, f: ({ x, w }) => linear(x, w) },
  {
    name: "masked attention",
    params: { q: [1, 2, 4, 3], k: [1, 2, 4, 3], v: [1, 2, 4, 3] },
    inputs: {
      bias: {
        shape: [1, 1, 4, 4],
        data: Float32Array.from([0, -1e9, -1e9, -1e9, 0, 0, -1e9, -1e9, 0, 0, 0, -1e9, 0, 0, 0, -1e9]),
      },
    },
    f: ({ q, k, v }, b) =>
      q
        .matmul(k.t())
        .mul(1 / Math.sqrt(3))
        .add(b.input("bias", [1, 1, 4, 4]))
        .softmax()
        .matmul(v),
  },
  {
    name: "cross-entropy with ignore mask",
    params: { logits: [6, 5] },
    inputs: {
      flat: idx([6], [0 * 5 + 2, 1 * 5 + 4, 2 * 5 + 0, 0, 4 * 5 + 1, 5 * 5 + 3]),
      w: { shape: [6], data: Float32Array.from([1, 1, 1, 0, 1, 1]) },
    },
    f: ({ logits }, b) => {
      const lp = logits
        .logSoftmax()
        .reshape([30, 1])
        .gather(b.input("flat", [6], "i32"))
        .reshape([6]);
      const w = b.input("w", [6]);
      return lp.mul(w).sum().neg().div(w.sum());
    },
  },
];

describe("finite-difference gradient checks, every op (float64)", () => {
  for (const c of cases) {
    it(c.name, () => {
      const rng = new SplitMix32(7);
      const b = new GraphBuilder(new Graph());
      const inputs = c.inputs ?? {};
      const params: Record<string, Sym> = {};
      const values: Record<string, Float64Array> = {};
      for (const [n, s] of Object.entries(c.params)) {
        params[n] = b.param(n, s);
        const v = new Float64Array(numel(s));
        for (let i = 0; i < v.length; i++) v[i] = c.positive?.includes(n) ? 0.5 + rng.next() : rng.normal();
        values[n] = v;
      }
      const out = c.f(params, b);
      const r = new Float32Array(numel(out.shape));
      for (let i = 0; i < r.length; i++) r[i] = rng.normal();
      const loss = out.mul(b.constant(r, out.shape)).sum();
      const res = gradCheck(b.graph, loss.id, values, inputs);
      expect(res.checked).toBeGreaterThan(0);
      expect(res.maxError, JSON.stringify(res.worst)).toBeLessThan(1e-6);
    });
  }
});

describe("reference executor", () => {
  it("computes a known matmul + broadcast add", async () => {
    const b = new GraphBuilder();
    const x = b.input("x", [2, 2]);
    const y = x.matmul(x).add(b.constant(Float32Array.of(10, 20), [2]));
    const [o] = await new RefExecutor()
      .compile(b.graph, [y.id])
      .run({ x: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) } });
    expect(Array.from(o.data)).toEqual([17, 30, 25, 42]);
  });

  it("names the missing feed and rejects wrong shapes", () => {
    const b = new GraphBuilder();
    const x = b.input("tokens", [2, 3], "i32");
    const w = b.param("w", [4, 2]);
    const y = w.gather(x);
    const c = new RefExecutor().compile(b.graph, [y.id]);
    expect(() => c.runSync({ tokens: { shape: [2, 3], data: new Int32Array(6) } })).toThrow(/missing feed "w"/);
    expect(() =>
      c.runSync({
        tokens: { shape: [3, 2], data: new Int32Array(6) },
        w: { shape: [4, 2], data: new Float32Array(8) },
      }),
    ).toThrow(/feed "tokens": shape \[3, 2\]/);
    expect(() =>
      c.runSync({
        tokens: { shape: [2, 3], data: Int32Array.of(0, 1, 2, 3, 4, 0) },
        w: { shape: [4, 2], data: new Float32Array(8) },
      }),
    ).toThrow(/index 4 out of range/);
  });

  it("rejects bad shapes while recording, with both shapes in the message", () => {
    const b = new GraphBuilder();
    const a = b.param("a", [2, 3]);
    const c = b.param("c", [4, 5]);
    expect(() => a.matmul(c)).toThrow(/inner dims differ: \[2, 3\] x \[4, 5\]/);
    expect(() => a.add(c)).toThrow(/cannot broadcast \[2, 3\] with \[4, 5\]/);
  });

  it("backward graph uses only primitive ops and a gradient of an unused param is zeros", async () => {
    const b = new GraphBuilder();
    const a = b.param("a", [3]);
    const unused = b.param("u", [2]);
    const loss = a.mul(a).sum();
    const [ga, gu] = appendGradients(b.graph, loss.id, [a.id, unused.id]);
    const outs = await new RefExecutor().compile(b.graph, [ga, gu]).run({
      a: { shape: [3], data: Float32Array.of(1, -2, 3) },
      u: { shape: [2], data: Float32Array.of(5, 5) },
    });
    expect(Array.from(outs[0].data)).toEqual([2, -4, 6]);
    expect(Array.from(outs[1].data)).toEqual([0, 0]);
  });
});

describe("composites", () => {
  it("logSigmoid is finite and exact for large |x| where log(sigmoid(x)) underflows", async () => {
    const b = new GraphBuilder();
    const x = b.input("x", [4]);
    const y = x.logSigmoid();
    const [o] = await new RefExecutor()
      .compile(b.graph, [y.id])
      .run({ x: { shape: [4], data: Float32Array.of(-200, -1, 0, 50) } });
    expect(o.data[0]).toBeCloseTo(-200, 4);
    expect(o.data[1]).toBeCloseTo(Math.log(1 / (1 + Math.E)), 6);
    expect(o.data[2]).toBeCloseTo(Math.log(0.5), 6);
    expect(o.data[3]).toBeCloseTo(0, 6);
  });
});

describe("matmul kernel", () => {
  it("matches a naive triple loop for every remainder of m and k (blocking edges)", () => {
    const rng = new SplitMix32(5);
    for (const m of [1, 2, 3, 4, 5, 7, 8]) {
      for (const k of [1, 3, 4, 5, 8, 9]) {
        const n = 6;
        const a = Float64Array.from({ length: m * k }, () => rng.normal());
        const b = Float64Array.from({ length: k * n }, () => rng.normal());
        const c = new Float64Array(m * n);
        matmulInto(a, 0, b, 0, c, 0, m, k, n);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
            expect(c[i * n + j]).toBeCloseTo(s, 12);
          }
        }
      }
    }
  });
});
