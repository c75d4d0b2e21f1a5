import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { HostTensor } from "./ir.ts";
import { AdamW, clipGradNorm } from "./optim.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const weights = (): Map<string, HostTensor> =>
  new Map<string, HostTensor>([
    ["w", { shape: [2, 2], data: Float32Array.of(0.5, -0.3, 0.2, 0.9) }],
    ["norm", { shape: [2], data: Float32Array.of(1, 1) }],
  ]);
const gradsAt = (t: number) =>
  new Map([
    ["w", Float32Array.of(0.1 * t, -0.2, 0.05, 0.3 / t)],
    ["norm", Float32Array.of(-0.01, 0.02 * t)],
  ]);

describe("AdamW", () => {
  it("follows the AdamW formulas (double-precision reference) with decay on matrices only", () => {
    const opts = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
    const w = weights();
    const opt = new AdamW(opts);
    const ref = new Map([...w].map(([n, t]) => [n, Array.from(t.data)]));
    const m = new Map([...w].map(([n, t]) => [n, new Array(t.data.length).fill(0)]));
    const v = new Map([...w].map(([n, t]) => [n, new Array(t.data.length).fill(0)]));
    for (let t = 1; t <= 3; t++) {
      const g = gradsAt(t);
      opt.update(w, g);
      for (const [n, p] of ref) {
        const decay = n === "w" ? opts.weightDecay : 0;
        for (let i = 0; i < p.length; i++) {
          p[i] *= 1 - opts.lr * decay;
          m.get(n)![i] = opts.beta1 * m.get(n)![i] + (1 - opts.beta1) * g.get(n)![i];
          v.get(n)![i] = opts.beta2 * v.get(n)![i] + (1 - opts.beta2) * g.get(n)![i] ** 2;
          const mh = m.get(n)![i] / (1 - opts.beta1 ** t);
          const vh = v.get(n)![i] / (1 - opts.beta2 ** t);
          p[i] -= (opts.lr * mh) / (Math.sqrt(vh) + opts.eps);
        }
      }
    }
    for (const [n, p] of ref) for (let i = 0; i < p.length; i++) expect(w.get(n)!.data[i]).toBeCloseTo(p[i], 6);
    expect(opt.step).toBe(3);
  });

  it("custom decay mask; zero gradients leave undecayed parameters unchanged", () => {
    const w = weights();
    const opt = new AdamW({ lr: 0.1, weightDecay: 0.5, decay: (n) => n === "norm" });
    opt.update(
      w,
      new Map([
        ["w", new Float32Array(4)],
        ["norm", new Float32Array(2)],
      ]),
    );
    expect(Array.from(w.get("w")!.data)).toEqual(Array.from(weights().get("w")!.data));
    expect(w.get("norm")!.data[0]).toBeCloseTo(0.95, 7);
    expect(() => opt.update(w, new Map([["nope", new Float32Array(1)]]))).toThrow(/unknown parameter "nope"/);
  });

  it("state save -> restore continues bit-identically", () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-optim-"));
    dirs.push(dir);
    const a = weights();
    const opt = new AdamW({ lr: 0.01 });
    opt.update(a, gradsAt(1));
    opt.update(a, gradsAt(2));
    opt.save(join(dir, "optimizer.safetensors"));
    const b = new Map([...a].map(([n, t]) => [n, { shape: t.shape, data: Float32Array.from(t.data) }]));
    const restored = AdamW.load(join(dir, "optimizer.safetensors"));
    expect(restored.step).toBe(2);
    expect(restored.opts).toEqual(opt.opts);
    opt.update(a, gradsAt(3));
    restored.update(b, gradsAt(3));
    for (const [n, t] of a) expect(Array.from(b.get(n)!.data)).toEqual(Array.from(t.data));
  });
});

describe("clipGradNorm", () => {
  it("returns the global norm and scales to max norm only when above it", () => {
    const g = new Map([
      ["a", Float32Array.of(3, 0)],
      ["b", Float32Array.of(0, 4)],
    ]);
    expect(clipGradNorm(g, 10)).toBeCloseTo(5, 6);
    expect(Array.from(g.get("a")!)).toEqual([3, 0]);
    expect(clipGradNorm(g, 1)).toBeCloseTo(5, 6);
    const after = Math.hypot(...g.get("a")!, ...g.get("b")!);
    expect(after).toBeCloseTo(1, 5);
  });
});
