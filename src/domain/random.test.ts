/**
 * The PRNG streams are pinned: the committed demo model organism, the demo world and red-team attack ids depend on
 * them. The expected values were produced by the five PRNGs this module replaced (domain/random.ts, nn/rng.ts,
 * redteam/rng.ts, world/prng.ts, nn/gguf/fixtures.ts) before they were merged; a change here changes committed data.
 */
import { describe, expect, it } from "vitest";
import { deriveSeed, mulberry32, Rng, SplitMix32, seedFrom, shuffled } from "./random.ts";

describe("domain/random streams are unchanged", () => {
  it("mulberry32 (world, curation, red team, benchmark bootstraps)", () => {
    const m = mulberry32(42);
    expect([m(), m(), m()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
    expect(shuffled([1, 2, 3, 4, 5, 6], mulberry32(3))).toEqual([3, 4, 6, 2, 1, 5]);
  });

  it("Rng: the world's derived streams and the red team's draws", () => {
    const w = Rng.derive(1, "split", 3);
    expect(w.next()).toBe(0.8731884881854057);
    expect(w.between(1, 6)).toBe(1);
    expect(w.pick(["a", "b", "c", "d"])).toBe("d");
    expect(w.shuffle([1, 2, 3, 4, 5])).toEqual([3, 5, 2, 4, 1]);
    expect(w.sample([1, 2, 3, 4, 5, 6], 2)).toEqual([4, 5]);
    expect(w.weighted([1, 0, 3])).toBe(0);
    const rt = new Rng(7);
    expect([rt.next(), rt.int(10), rt.pick(["x", "y", "z"]), rt.shuffle([1, 2, 3, 4, 5])]).toEqual([
      0.011704753153026104,
      0,
      "z",
      [5, 1, 2, 3, 4],
    ]);
  });

  it("Rng and mulberry32 are the same stream", () => {
    const a = new Rng(123);
    const b = mulberry32(123);
    for (let i = 0; i < 100; i++) expect(a.next()).toBe(b());
  });

  it("SplitMix32 (weight init, LoRA init, training shuffles) with a savable state", () => {
    const s = new SplitMix32(42);
    expect([s.next(), s.next(), s.normal(), s.normal(), s.int(1000)]).toEqual([
      0.21884025167673826, 0.9193855235353112, 0.3190550617395445, -2.2546477412466257, 122,
    ]);
    const state = s.getState();
    const x = s.next();
    s.setState(state);
    expect(s.next()).toBe(x);
  });

  it("seeds from labels", () => {
    expect([seedFrom("abc"), seedFrom("héllo"), deriveSeed(1, "a", 2)]).toEqual([440920331, 4058363231, 3008934523]);
  });

  it("rejects empty ranges and arrays", () => {
    const r = new Rng(1);
    expect(() => r.int(0)).toThrow(/positive integer/);
    expect(() => r.between(3, 2)).toThrow(/empty range/);
    expect(() => r.pick([])).toThrow(/empty array/);
    expect(() => r.weighted([0, 0])).toThrow(/positive/);
  });
});
