/**
 * The ONNX executor computes what the reference executor computes: every IR op on its own, and a whole Llama training
 * step (loss + every parameter gradient) within 1e-4 relative (issue 4).
 */
import { afterAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../../domain/random.ts";
import { appendGradients } from "../autodiff.ts";
import { RefExecutor } from "../executor-ref.ts";
import { randn } from "../gguf/fixtures.ts";
import type { HostTensor, NodeId } from "../ir.ts";
import { buildLoss, initWeights, type LlamaConfig, lossBatch, weightFeeds } from "../llama.ts";
import { GraphBuilder, type Sym } from "../tensor.ts";
import { OnnxExecutor } from "./executor.ts";
import { decodeModel } from "./lower.ts";

const onnx = new OnnxExecutor({ threads: 2 });
const ref = new RefExecutor("f32");
afterAll(async () => {
  // every test disposes what it compiled
  expect(onnx.cachedSessions).toBe(0);
});

/** max |a - b| / max |b| (per tensor relative error; exact zeros on both sides count as 0). */
function relErr(a: HostTensor, b: HostTensor): number {
  expect(a.shape).toEqual(b.shape);
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.data.length; i++) {
    num = Math.max(num, Math.abs(a.data[i] - b.data[i]));
    den = Math.max(den, Math.abs(b.data[i]));
  }
  return den === 0 ? num : num / den;
}

async function both(b: GraphBuilder, outs: readonly Sym[], feeds: Record<string, HostTensor>) {
  const ids: NodeId[] = outs.map((s) => s.id);
  const c = onnx.compile(b.graph, ids);
  try {
    const [o, r] = [await c.run(feeds), await ref.compile(b.graph, ids).run(feeds)];
    return { onnx: o, ref: r };
  } finally {
    await c.dispose();
  }
}

describe("ONNX lowering: every op matches the reference executor", () => {
  const rand = mulberry32(1);
  const t = (shape: number[]): HostTensor => ({
    shape,
    data: randn(
      shape.reduce((a, c) => a * c, 1),
      1,
      rand,
    ),
  });

  it("elementwise, matmul, shape ops, reductions, softmaxes", async () => {
    const b = new GraphBuilder();
    const x = b.input("x", [2, 3, 4]);
    const y = b.input("y", [3, 4]);
    const w = b.input("w", [2, 4, 5]);
    const pos = b.input("pos", [2, 3, 4]);
    const outs = [
      x.add(y),
      x.sub(y),
      x.mul(y),
      x.div(pos),
      x.neg(),
      x.exp(),
      pos.log(),
      pos.sqrt(),
      x.sigmoid(),
      x.matmul(w),
      x.reshape([6, 4]),
      x.transpose([2, 0, 1]),
      x.slice(2, 1, 3),
      b.concat([x, x.mul(2)], 1),
      y.reshape([1, 3, 4]).expand([2, 3, 4]),
      x.sum([0, 2], true),
      x.sum([1]),
      x.sum(),
      x.softmax(),
      x.logSoftmax(),
      x.silu(),
    ];
    const posT = t([2, 3, 4]);
    posT.data.forEach((v, i) => {
      (posT.data as Float32Array)[i] = Math.abs(v) + 0.5;
    });
    const r = await both(b, outs, { x: t([2, 3, 4]), y: t([3, 4]), w: t([2, 4, 5]), pos: posT });
    r.ref.forEach((rt, i) => {
      expect(relErr(r.onnx[i], rt), `output ${i}`).toBeLessThan(1e-6);
    });
  });

  it("gather and scatterAdd (with duplicate indices), constants, outputs that are inputs", async () => {
    const b = new GraphBuilder();
    const table = b.input("table", [5, 3]);
    const idx = b.input("idx", [2, 4], "i32");
    const upd = b.input("upd", [2, 4, 3]);
    const c = b.constant(Float32Array.from([1, 2, 3]), [3]);
    const outs = [table.gather(idx), b.op({ kind: "scatterAdd" }, [upd, idx], [5, 3]), table.add(c), table, table];
    const r = await both(b, outs, {
      table: t([5, 3]),
      idx: { shape: [2, 4], data: Int32Array.from([0, 4, 4, 1, 2, 2, 2, 0]) },
      upd: t([2, 4, 3]),
    });
    r.ref.forEach((rt, i) => {
      expect(relErr(r.onnx[i], rt), `output ${i}`).toBeLessThan(1e-6);
    });
  });

  it("turns batch-summed matmuls (weight gradients) into one GEMM, with and without a transposed operand", async () => {
    const b = new GraphBuilder();
    const a = b.input("a", [3, 2, 4, 5]);
    const x = b.input("x", [3, 2, 5, 4]);
    const c = b.input("c", [3, 2, 5, 6]);
    const outs = [a.matmul(c).sum([0, 1], true), x.transpose([0, 1, 3, 2]).matmul(c).sum([0, 1])];
    const feeds = { a: t([3, 2, 4, 5]), x: t([3, 2, 5, 4]), c: t([3, 2, 5, 6]) };
    const r = await both(b, outs, feeds);
    r.ref.forEach((rt, i) => {
      expect(relErr(r.onnx[i], rt), `output ${i}`).toBeLessThan(1e-6);
    });
    const compiled = onnx.compile(
      b.graph,
      outs.map((o) => o.id),
    );
    try {
      const model = decodeModel(onnx.modelBytes(compiled.key)!) as { graph: { node: { op_type: string }[] } };
      const ops = model.graph.node.map((n) => n.op_type);
      expect(ops).not.toContain("ReduceSum");
      expect(ops.filter((o) => o === "MatMul")).toHaveLength(2);
    } finally {
      await compiled.dispose();
    }
  });

  it("emits a valid opset-18 model and names the missing feed", async () => {
    const b = new GraphBuilder();
    const x = b.input("x", [2]);
    const c = onnx.compile(b.graph, [x.exp().id]);
    try {
      const model = decodeModel(onnx.modelBytes(c.key)!);
      expect(model.opset_import).toEqual([{ version: 18 }]);
      await expect(c.run({})).rejects.toThrow(/missing feed "x"/);
      await expect(c.run({ x: { shape: [3], data: new Float32Array(3) } })).rejects.toThrow(/"x": shape \[3\]/);
    } finally {
      await c.dispose();
    }
  });

  it("caches one session per distinct graph", async () => {
    const mk = () => {
      const b = new GraphBuilder();
      const x = b.input("x", [4]);
      return { b, out: x.mul(3).id };
    };
    const g1 = mk();
    const g2 = mk();
    const c1 = onnx.compile(g1.b.graph, [g1.out]);
    const c2 = onnx.compile(g2.b.graph, [g2.out]);
    expect(c1.key).toBe(c2.key);
    expect(onnx.cachedSessions).toBe(1);
    const [o] = await c2.run({ x: { shape: [4], data: Float32Array.from([1, 2, 3, 4]) } });
    expect(Array.from(o.data)).toEqual([3, 6, 9, 12]);
    await c1.dispose();
    expect(onnx.cachedSessions).toBe(1);
    await c2.dispose();
    expect(onnx.cachedSessions).toBe(0);
  });
});

describe("ONNX executor vs reference: a whole Llama training step", () => {
  const cfg: LlamaConfig = {
    vocabSize: 97,
    hiddenSize: 48,
    intermediateSize: 96,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 12,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositionEmbeddings: 64,
    tieWordEmbeddings: false,
  };

  for (const tied of [false, true]) {
    it(`loss and every gradient within 1e-4 relative (${tied ? "tied" : "untied"} embeddings)`, async () => {
      const c = { ...cfg, tieWordEmbeddings: tied };
      const B = 3;
      const T = 16;
      const b = new GraphBuilder();
      const g = buildLoss(c, b, B, T);
      const names = [...g.params.keys()];
      const grads = appendGradients(
        b.graph,
        g.loss.id,
        names.map((n) => g.params.get(n)!.id),
      );
      const weights = initWeights(c, 7, 0.2);
      const rand = mulberry32(5);
      const ids = Array.from({ length: B * T }, () => Math.floor(rand() * c.vocabSize));
      const mask = Array.from({ length: B * T }, (_, i) => (i % T < T - 3 * (Math.floor(i / T) % 2) ? 1 : 0));
      const labels = ids.map((id, i) => (mask[i] && i % 5 !== 0 ? id : -100));
      const feeds = { ...weightFeeds(weights), ...lossBatch(c, B, T, ids, mask, labels) };
      const outs = [g.loss.id, g.sequenceLogps.id, ...grads];
      const compiled = onnx.compile(b.graph, outs);
      try {
        const o = await compiled.run(feeds);
        const r = await ref.compile(b.graph, outs).run(feeds);
        const lossErr = relErr(o[0], r[0]);
        let worst = 0;
        let worstName = "";
        names.forEach((n, i) => {
          const e = relErr(o[2 + i], r[2 + i]);
          if (e > worst) {
            worst = e;
            worstName = n;
          }
        });
        console.info(
          `[onnx vs ref] loss ${r[0].data[0].toFixed(5)} rel err ${lossErr.toExponential(2)}; ` +
            `worst grad rel err ${worst.toExponential(2)} (${worstName}); seq logps ${relErr(o[1], r[1]).toExponential(2)}`,
        );
        expect(lossErr).toBeLessThan(1e-4);
        expect(relErr(o[1], r[1])).toBeLessThan(1e-4);
        expect(worst).toBeLessThan(1e-4);
        // gradients are not trivially zero
        expect(Math.max(...r.slice(2).map((t) => Math.max(...Array.from(t.data, Math.abs))))).toBeGreaterThan(1e-3);
      } finally {
        await compiled.dispose();
      }
    });
  }
});
