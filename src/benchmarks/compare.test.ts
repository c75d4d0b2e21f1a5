import { describe, expect, it } from "vitest";
import { compareRuns, holm } from "./compare.ts";
import { record } from "./testing/fixtures.ts";

function run(runId: string, outcome: (i: number) => boolean) {
  return Array.from({ length: 60 }, (_, i) =>
    record(`item${i}`, outcome(i), { runId, category: i < 20 ? "S1" : i < 40 ? "S2" : "S10" }),
  );
}

describe("paired comparison", () => {
  it("flags a change confined to one category as significant, overall and in that category", () => {
    const a = run("A", () => true);
    const b = run("B", (i) => i >= 20); // category S1 fixed in B
    const c = compareRuns(a, b);
    expect(c.overall).toMatchObject({ n: 60, aOnly: 20, bOnly: 0, significant: true });
    expect(c.overall.pValue).toBeCloseTo(2 * 0.5 ** 20, 12);
    expect(c.overall.delta).toBeCloseTo(-20 / 60);
    const s1 = c.groups.find((g) => g.by === "category" && g.value === "S1");
    const s2 = c.groups.find((g) => g.by === "category" && g.value === "S2");
    expect(s1?.significant).toBe(true);
    expect(s2).toMatchObject({ aOnly: 0, bOnly: 0, pValue: 1, significant: false });
    expect(c.flips).toHaveLength(20);
    expect(c.flips.every((f) => f.category === "S1" && f.a && !f.b)).toBe(true);
  });

  it("finds no significant change between identical runs", () => {
    const c = compareRuns(
      run("A", (i) => i % 3 === 0),
      run("B", (i) => i % 3 === 0),
    );
    expect(c.overall).toMatchObject({ aOnly: 0, bOnly: 0, pValue: 1, significant: false });
    expect(c.flips).toHaveLength(0);
  });

  it("does not call a few balanced flips significant", () => {
    const c = compareRuns(
      run("A", (i) => i < 3),
      run("B", (i) => i >= 3 && i < 7),
    );
    expect(c.overall).toMatchObject({ aOnly: 3, bOnly: 4, significant: false });
  });

  it("pairs by item and reports unpaired and unjudged items", () => {
    const a = run("A", () => true).slice(0, 50);
    const b = run("B", () => true).slice(5);
    b[10] = { ...b[10], outcome: null };
    const c = compareRuns(a, b);
    expect(c.unpaired).toEqual({ onlyA: 5, onlyB: 10, noOutcome: 1 });
    expect(c.overall.n).toBe(44);
  });

  it("refuses to compare different suites", () => {
    const b = run("B", () => true).map((r) => ({ ...r, suite: "other@v1" }));
    expect(() =>
      compareRuns(
        run("A", () => true),
        b,
      ),
    ).toThrow(/same suite/);
  });

  it("Holm-adjusts a family of p-values", () => {
    const adj = holm([0.01, 0.04, 0.03]);
    expect(adj[0]).toBeCloseTo(0.03);
    expect(adj[1]).toBeCloseTo(0.06);
    expect(adj[2]).toBeCloseTo(0.06);
  });
});

describe("paired comparison of over-refusal runs", () => {
  it("separates safe and unsafe prompts (VPRR vs IPRR items) in the breakdown", () => {
    const mk = (runId: string, refuseSafe: boolean) =>
      Array.from({ length: 40 }, (_, i) =>
        record(`x${i}`, i < 20 ? refuseSafe : true, { runId, label: i < 20 ? "safe" : "unsafe" }),
      );
    const c = compareRuns(mk("A", true), mk("B", false));
    const safe = c.groups.find((g) => g.by === "label" && g.value === "safe");
    const unsafe = c.groups.find((g) => g.by === "label" && g.value === "unsafe");
    expect(safe).toMatchObject({ n: 20, aOnly: 20, significant: true });
    expect(unsafe).toMatchObject({ n: 20, aOnly: 0, bOnly: 0, significant: false });
  });
});

describe("paired comparison with several samples per item", () => {
  it("tests items, not samples: 4 correlated samples of 5 changed items are 5 discordant items", () => {
    const mk = (runId: string, fixed: boolean) =>
      Array.from({ length: 20 }, (_, i) =>
        Array.from({ length: 4 }, (_, s) =>
          record(`x${i}#${s}`, i < 5 ? !fixed : false, { runId, cluster: `x${i}`, sample: s }),
        ),
      ).flat();
    const c = compareRuns(mk("A", false), mk("B", true));
    expect(c.overall).toMatchObject({ n: 80, aOnly: 5, bOnly: 0 });
    // 5 discordant items: p = 2 * 0.5^5 = 0.0625, not significant; 20 discordant samples would give p ~ 2e-6
    expect(c.overall.pValue).toBeCloseTo(0.0625, 10);
    expect(c.overall.significant).toBe(false);
  });
});
