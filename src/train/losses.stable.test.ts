/**
 * logSigmoid (the DPO losses' log sigma) is finite with a finite gradient at any float32 margin, on both executors
 * training can run: log sigma(-1000) = -1000 (gradient 1), log sigma(1000) = 0 (gradient 0). The naive
 * -log(1 + exp(-x)) overflowed exp below about -88, so a DPO margin of -880 nats at beta 0.1 gave an infinite loss and
 * NaN gradients (at exactly -880 nats, beta x margin = -88 and exp(88) = 1.7e38 is still below float32's 3.4e38, so
 * the overflow starts just past it, at beta x margin < -88.7; the DPO case below takes -1000 nats).
 */
import { describe, expect, it } from "vitest";
import { appendGradients } from "../nn/autodiff.ts";
import { RefExecutor } from "../nn/executor-ref.ts";
import type { Executor } from "../nn/ir.ts";
import { OnnxExecutor } from "../nn/onnx/executor.ts";
import { GraphBuilder } from "../nn/tensor.ts";
import { dpoLoss, dpoScalars, logSigmoid } from "./losses.ts";

const XS = [-1000, -100, 0, 100, 1000];
// float64 truth: log sigma(x) = min(x, 0) - log1p(exp(-|x|)); d/dx = sigma(-x)
const value = (x: number) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
const grad = (x: number) => 1 / (1 + Math.exp(x));

const executors: [string, () => Executor][] = [
  ["reference", () => new RefExecutor()],
  ["onnxruntime", () => new OnnxExecutor()],
];

describe("logSigmoid at extreme arguments", () => {
  for (const [name, make] of executors) {
    it(`${name}: finite value and gradient at x = ${XS.join(", ")}`, async () => {
      const b = new GraphBuilder();
      const x = b.param("x", [XS.length]); // [5]
      const y = logSigmoid(x); // [5]
      const [gx] = appendGradients(b.graph, y.sum().id, [x.id]);
      const c = make().compile(b.graph, [y.id, gx]);
      const [v, g] = await c.run({ x: { shape: [XS.length], data: Float32Array.from(XS) } });
      await c.dispose();
      XS.forEach((xi, i) => {
        expect(Number.isFinite(v.data[i]), `value at ${xi}`).toBe(true);
        expect(Number.isFinite(g.data[i]), `gradient at ${xi}`).toBe(true);
        expect(v.data[i]).toBeCloseTo(value(xi), 5);
        expect(g.data[i]).toBeCloseTo(grad(xi), 6);
      });
    });

    it(`${name}: DPO at a margin of -1000 nats (beta 0.1) has loss 100 and finite gradients`, async () => {
      const b = new GraphBuilder();
      const pc = b.param("pc", [1]); // [P = 1]
      const pr = b.input("pr", [1]);
      const rc = b.input("rc", [1]);
      const rr = b.input("rr", [1]);
      const { loss } = dpoLoss(pc, pr, rc, rr, 0.1);
      const [gpc] = appendGradients(b.graph, loss.id, [pc.id]);
      const c = make().compile(b.graph, [loss.id, gpc]);
      const f = (v: number) => ({ shape: [1], data: Float32Array.of(v) });
      const [l, g] = await c.run({ pc: f(-1020), pr: f(-20), rc: f(0), rr: f(0) });
      await c.dispose();
      expect(l.data[0]).toBeCloseTo(100, 4);
      // d loss / d pc = -beta sigma(-beta margin) = -0.1
      expect(g.data[0]).toBeCloseTo(-0.1, 6);
    });
  }
});

describe("dpoScalars (the host-side loss evaluation reports)", () => {
  it("is finite where exp(-margin) overflows float64 (margin < -709), and unchanged at ordinary margins", () => {
    // beta 0.1, chosen 10,000 nats below its reference: margin -1000, loss 1000
    expect(dpoScalars(-10_000, 0, 0, 0, 0.1).loss).toBeCloseTo(1000, 9);
    for (const m of [-30, -1, 0, 1, 30])
      expect(dpoScalars(m, 0, 0, 0, 1).loss).toBeCloseTo(Math.log1p(Math.exp(-m)), 12);
  });
});
