import { describe, expect, it } from "vitest";
import { bernoulliFill, bernoulliFillScalar, simdKernel } from "./bernoulli.ts";
import { SplitMix32 } from "./random.ts";

/** What the fill must equal: the plain `next() < p` loop, and the state it leaves. */
function reference(n: number, seed: number, p: number, hit: number, miss: number) {
  const rng = new SplitMix32(seed);
  rng.next(); // a used stream, not one at its seed
  const start = rng.getState();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() < p ? hit : miss;
  return { start, out, state: rng.getState() };
}

describe("Bernoulli fills on SplitMix32's stream", () => {
  it("has the SIMD kernel on this Node (else the scalar loop would serve, slower)", () => {
    expect(simdKernel()).not.toBeNull();
  });

  // Sizes around the kernel's 4-lane groups and its 2^20-float chunk; probabilities at and between the edges.
  const sizes = [0, 1, 3, 4, 5, 17, 1000, (1 << 20) - 1, 1 << 20, (1 << 20) + 7, 3_000_001];
  const ps = [0, 0.05, 1 / 3, 0.5, 0.999, 1, -0.5, 1.5];
  it("the SIMD fill and the scalar fill each draw exactly what next() < p draws, and leave the same state", () => {
    for (const n of sizes) {
      for (const p of ps) {
        const want = reference(n, 1234 + n, p, 0, 1 / 0.95);
        for (const fill of [bernoulliFill, bernoulliFillScalar]) {
          const got = new Float32Array(n);
          const state = fill(got, want.start, p, 0, 1 / 0.95);
          expect(state, `${fill.name} n=${n} p=${p}`).toBe(want.state);
          let firstDiff = -1;
          for (let i = 0; i < n && firstDiff < 0; i++) if (got[i] !== want.out[i]) firstDiff = i;
          expect(firstDiff, `${fill.name} n=${n} p=${p}`).toBe(-1);
        }
      }
    }
  });

  it("keeps any hit and miss values (as float32) and treats a threshold exactly on a draw as next() < p does", () => {
    const want = reference(4099, 5, 0.25, -2.5, 7.1);
    const got = new Float32Array(4099);
    bernoulliFill(got, want.start, 0.25, -2.5, 7.1);
    expect(got).toEqual(want.out);
    expect(new Set(got)).toEqual(new Set([Math.fround(-2.5), Math.fround(7.1)]));
    // p equal to the first four draws (z / 2^32 exactly): next() < p is false there, so each is a miss.
    const r = new SplitMix32(77);
    const start = r.getState();
    const draws = [r.next(), r.next(), r.next(), r.next()];
    for (const [k, p] of draws.entries()) {
      const out = new Float32Array(4);
      bernoulliFill(out, start, p, 1, 0);
      expect(out[k]).toBe(0);
      expect([...out]).toEqual(draws.map((d) => (d < p ? 1 : 0)));
    }
  });

  it("SplitMix32.fillBernoulli continues the generator's own stream", () => {
    const a = new SplitMix32(42);
    const b = new SplitMix32(42);
    const want = new Float32Array(999);
    for (let i = 0; i < want.length; i++) want[i] = a.next() < 0.1 ? 0 : 2;
    const got = new Float32Array(999);
    b.fillBernoulli(got, 0.1, 0, 2);
    expect(got).toEqual(want);
    expect(b.next()).toBe(a.next());
  });
});
