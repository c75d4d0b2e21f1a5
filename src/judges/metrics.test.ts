import { describe, expect, it } from "vitest";
import { agreement, cohensKappa, formatConfusion } from "./metrics.ts";

describe("agreement metrics", () => {
  it("computes accuracy, per-class P/R/F1 and macro-F1 by hand-checked numbers", () => {
    const gold = ["a", "a", "a", "b", "b", "c"];
    const pred = ["a", "a", "b", "b", "c", "c"];
    const m = agreement(gold, pred, ["a", "b", "c"]);
    expect(m.accuracy).toBeCloseTo(4 / 6);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    const a = m.perClass[0];
    expect([a.precision, a.recall]).toEqual([1, 2 / 3]);
    expect(a.f1).toBeCloseTo(0.8);
    expect(m.perClass[1].f1).toBeCloseTo(0.5);
    expect(m.perClass[2].f1).toBeCloseTo(2 / 3);
    expect(m.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3);
    // po = 4/6; pe = (3*2 + 2*2 + 1*2)/36 = 12/36
    expect(m.kappa).toBeCloseTo((4 / 6 - 1 / 3) / (1 - 1 / 3));
  });

  it("gives kappa 1 for perfect agreement and 0 for chance agreement", () => {
    expect(
      cohensKappa([
        [5, 0],
        [0, 5],
      ]),
    ).toBe(1);
    expect(
      cohensKappa([
        [25, 25],
        [25, 25],
      ]),
    ).toBeCloseTo(0);
  });

  it("names the item and label on an unknown label", () => {
    expect(() => agreement(["a"], ["z"], ["a", "b"])).toThrow(/predicted label 'z' \(item 0\)/);
    expect(() => agreement(["a", "b"], ["a"], ["a", "b"])).toThrow(/2 gold labels but 1 predictions/);
  });

  it("renders the confusion matrix", () => {
    const text = formatConfusion({
      labels: ["x", "y"],
      confusion: [
        [3, 1],
        [0, 12],
      ],
    });
    expect(text.split("\n")).toHaveLength(3);
    expect(text).toContain("12");
  });
});
