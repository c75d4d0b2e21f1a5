import { describe, expect, it } from "vitest";
import { mcnemar, wilson } from "./stats.ts";

describe("wilson", () => {
  it("matches the textbook values (5/10 -> [0.2366, 0.7634]; 0/10 -> [0, 0.2775])", () => {
    expect(wilson(5, 10).low).toBeCloseTo(0.2366, 4);
    expect(wilson(5, 10).high).toBeCloseTo(0.7634, 4);
    expect(wilson(0, 10).high).toBeCloseTo(0.2775, 4);
  });

  it("ends exactly at 1 when every trial succeeds and at 0 when none does, for every n up to 2000", () => {
    // Rounding made the upper bound of n/n 0.9999999999999999 for most n (e.g. 6/6): an IPRR of 100% was reported
    // with an interval that excludes 100%.
    const off: number[] = [];
    for (let n = 1; n <= 2000; n++) {
      if (wilson(n, n).high !== 1 || wilson(0, n).low !== 0) off.push(n);
    }
    expect(off).toEqual([]);
  });

  it("always contains the point estimate", () => {
    const outside: string[] = [];
    for (let n = 1; n <= 300; n++) {
      for (let s = 0; s <= n; s++) {
        const w = wilson(s, n);
        if (!(w.low <= s / n && s / n <= w.high)) outside.push(`${s}/${n}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it("is the uninformative [0, 1] for n = 0", () => {
    expect(wilson(0, 0)).toMatchObject({ low: 0, high: 1 });
  });
});

describe("mcnemar (exact)", () => {
  it("is the two-sided binomial test on the discordant pairs", () => {
    expect(mcnemar(0, 5)).toBeCloseTo(2 / 32, 12); // 0 of 5 discordant: 2 * (1/2)^5
    expect(mcnemar(1, 9)).toBeCloseTo((2 * (1 + 10)) / 1024, 12);
    expect(mcnemar(3, 3)).toBe(1);
    expect(mcnemar(0, 0)).toBe(1);
  });
});
