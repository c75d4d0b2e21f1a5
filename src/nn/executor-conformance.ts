/**
 * The shared conformance suite every `Executor` runs (call it from a *.test.ts file):
 *
 *   executorConformance("onnx", () => new OnnxExecutor());
 *
 * Each case records a small graph (every op of the IR, forward and backward) and compares the executor's outputs
 * with the float64 reference executor. Tolerance: |x - ref| <= 1e-4 * max(1, |ref|) (float32 execution of
 * well-conditioned inputs; the reference itself is exact to ~1e-15).
 */
import { describe, expect, it } from "vitest";
import { SplitMix32 } from "../domain/random.ts";
import { appendGradients } from "./autodiff.ts";
import { RefExecutor } from "./executor-ref.ts";
import type { Executor, HostTensor, NodeId } from "./ir.ts";
import { buildLoss, initWeights, type LlamaConfig, lossBatch } from "./llama.ts";
import { GraphBuilder, linear, rmsNorm, type Sym } from "./tensor.ts";

interface ConformanceCase {
  name: string;
  build(b: GraphBuilder, rng: SplitMix32): { outputs: Sym[]; feeds: Record<string, HostTensor> };
}

function randn(rng: SplitMix32, n: number, scale = 1, offset = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * rng.normal();
  return a;
}

/** f(params) plus the gradients of sum(f * R) with respect to every param. */
function withGrads(b: GraphBuilder, rng: SplitMix32, out: Sym, params: Sym[]): Sym[] {
  const r = b.constant(
    randn(
      rng,
      out.shape.reduce((x, y) => x * y, 1),
    ),
    out.shape,
  );
  const loss = out.mul(r).sum();
  const grads = appendGradients(
    b.graph,
    loss.id,
    params.map((p) => p.id),
  );
  return [out, loss, ...grads.map((g: NodeId) => b.sym(g))];
}

function unaryCase(name: string, f: (x: Sym) => Sym, positive = false): ConformanceCase {
  return {
    name,
    build(b, rng) {
      const x = b.param("x", [3, 5]);
      const data = positive ? randn(rng, 15, 0.3, 1.5) : randn(rng, 15);
      return { outputs: withGrads(b, rng, f(x), [x]), feeds: { x: { shape: [3, 5], data } } };
    },
  };
}

function binaryCase(name: string, sa: number[], sb: number[], f: (a: Sym, c: Sym) => Sym): ConformanceCase {
  return {
    name,
    build(b, rng) {
      const a = b.param("a", sa);
      const c = b.param("c", sb);
      const na = sa.reduce((x, y) => x * y, 1);
      const nc = sb.reduce((x, y) => x * y, 1);
      return {
        outputs: withGrads(b, rng, f(a, c), [a, c]),
        feeds: { a: { shape: sa, data: randn(rng, na) }, c: { shape: sb, data: randn(rng, nc, 0.3, 1.5) } },
      };
    },
  };
}

const tinyLlama: LlamaConfig = {
  vocabSize: 19,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 4,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  maxPositionEmbeddings: 32,
  tieWordEmbeddings: false,
};

export const conformanceCases: ConformanceCase[] = [
  binaryCase("add broadcast", [2, 3, 4], [3, 1], (a, c) => a.add(c)),
  binaryCase("sub broadcast", [4], [2, 4], (a, c) => a.sub(c)),
  binaryCase("mul broadcast", [2, 1, 4], [1, 3, 1], (a, c) => a.mul(c)),
  binaryCase("div broadcast", [2, 3], [3], (a, c) => a.div(c)),
  unaryCase("neg", (x) => x.neg()),
  unaryCase("exp", (x) => x.exp()),
  unaryCase("log", (x) => x.log(), true),
  unaryCase("sqrt", (x) => x.sqrt(), true),
  unaryCase("sigmoid / silu", (x) => x.silu()),
  unaryCase("tanh (soft-capping)", (x) => x.mul(0.7).tanh()),
  binaryCase("matmul", [3, 4], [4, 5], (a, c) => a.matmul(c)),
  binaryCase("matmul batched broadcast", [2, 2, 3, 4], [2, 1, 4, 5], (a, c) => a.matmul(c)),
  unaryCase("reshape + transpose", (x) => x.reshape([3, 5, 1]).transpose([1, 2, 0])),
  unaryCase("slice + concat", (x) => x.b.concat([x.slice(1, 1, 3), x.slice(1, 0, 1), x], 1)),
  unaryCase("expand", (x) => x.reshape([3, 1, 5]).expand([3, 2, 5])),
  unaryCase("reduceSum", (x) => x.sum([0])),
  unaryCase("reduceSum keepDims + mean", (x) => x.sum([1], true).add(x.mean())),
  unaryCase("softmax", (x) => x.softmax()),
  unaryCase("logSoftmax", (x) => x.logSoftmax()),
  {
    name: "gather + scatterAdd",
    build(b, rng) {
      const w = b.param("w", [6, 3]);
      const ids = b.input("ids", [2, 4], "i32");
      return {
        outputs: withGrads(b, rng, w.gather(ids), [w]),
        feeds: {
          w: { shape: [6, 3], data: randn(rng, 18) },
          ids: { shape: [2, 4], data: Int32Array.of(0, 5, 5, 2, 1, 0, 3, 3) },
        },
      };
    },
  },
  {
    name: "rmsNorm + linear",
    build(b, rng) {
      const x = b.param("x", [2, 3, 8]);
      const g = b.param("g", [8]);
      const w = b.param("w", [5, 8]);
      return {
        outputs: withGrads(b, rng, linear(rmsNorm(x, g, 1e-5), w), [x, g, w]),
        feeds: {
          x: { shape: [2, 3, 8], data: randn(rng, 48) },
          g: { shape: [8], data: randn(rng, 8, 0.2, 1) },
          w: { shape: [5, 8], data: randn(rng, 40) },
        },
      };
    },
  },
  {
    name: "2-layer Llama: loss, sequence log-probs and every parameter gradient",
    build(b, rng) {
      const B = 2;
      const T = 6;
      const g = buildLoss(tinyLlama, b, B, T);
      const names = [...g.params.keys()];
      const grads = appendGradients(
        b.graph,
        g.loss.id,
        names.map((n) => g.params.get(n)!.id),
      );
      const w = initWeights(tinyLlama, 5, 0.3);
      const ids = Array.from({ length: B * T }, () => rng.int(tinyLlama.vocabSize));
      const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
      const labels = ids.map((t, i) => (mask[i] && i % T > 1 ? t : -100));
      return {
        outputs: [g.loss, g.sequenceLogps, g.logits, ...grads.map((id) => b.sym(id))],
        feeds: { ...Object.fromEntries(w), ...lossBatch(tinyLlama, B, T, ids, mask, labels) },
      };
    },
  },
];

/** Register the conformance tests for one executor. */
export function executorConformance(name: string, make: () => Executor): void {
  describe(`executor conformance: ${name}`, () => {
    for (const c of conformanceCases) {
      it(c.name, async () => {
        const b = new GraphBuilder();
        const { outputs, feeds } = c.build(b, new SplitMix32(99));
        const ids = outputs.map((o) => o.id);
        const ref = new RefExecutor("f64").compile(b.graph, ids).runSync(feeds);
        const ex = make();
        const compiled = ex.compile(b.graph, ids);
        try {
          const got = await compiled.run(feeds);
          expect(got.length).toBe(ref.length);
          got.forEach((g, i) => {
            expect([...g.shape]).toEqual([...ref[i].shape]);
            let worst = 0;
            for (let j = 0; j < g.data.length; j++) {
              const r = ref[i].data[j];
              worst = Math.max(worst, Math.abs(g.data[j] - r) / Math.max(1, Math.abs(r)));
            }
            expect(worst, `output ${i} (node ${ids[i]})`).toBeLessThan(1e-4);
          });
          // a second run with the same compiled graph gives the same answer (no state carried between runs)
          const again = await compiled.run(feeds);
          again.forEach((g, i) => {
            expect(Array.from(g.data.slice(0, 8))).toEqual(Array.from((got as HostTensor[])[i].data.slice(0, 8)));
          });
        } finally {
          await compiled.dispose();
        }
      });
    }
  });
}
