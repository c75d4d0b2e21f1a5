import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Steps } from "../cycle/steps.ts";
import { mcnemar } from "../domain/stats.ts";
import { Store } from "../store/store.ts";
import { itemOutcomes, pairSeeds, seedResults } from "./paired-dev.ts";

const root = mkdtempSync(path.join(tmpdir(), "paired-dev-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("pairSeeds", () => {
  it("pairs seed i with seed i by item key, pools discordant pairs over seeds, and skips unpaired items", () => {
    const m = (xs: [string, boolean][]) => new Map(xs);
    const a = [
      m([
        ["x", true],
        ["y", true],
        ["z", false],
        ["only-in-a", true],
      ]),
      m([
        ["x", true],
        ["y", false],
      ]),
    ];
    const b = [
      m([
        ["x", true],
        ["y", false],
        ["z", false],
      ]),
      m([
        ["x", false],
        ["y", true],
        ["only-in-b", true],
      ]),
    ];
    const r = pairSeeds(a, b);
    expect(r).toMatchObject({ n: 5, a: 3 / 5, b: 2 / 5, onlyA: 2, onlyB: 1 });
    expect(r.p).toBe(mcnemar(2, 1));
    // seed 0 of A is never paired with seed 1 of B: swapping B's seeds changes the pairs
    expect(pairSeeds(a, [b[1], b[0]]).n).toBe(2 + 2);
    expect(() => pairSeeds(a, [b[0]])).toThrow(/A has 2 seeds, B 1/);
  });
});

describe("itemOutcomes (a real store)", () => {
  it("reads a round's dev records of one suite and label, never another split's, and names what is missing", async () => {
    const store = Store.open(path.join(root, "ws"));
    try {
      await new Steps(store, "run1").run(1, "measure", async () => ({
        dev: { runIds: { "demo-overrefusal@3": "bench-1" } },
      }));
      const rec = (itemKey: string, probeId: string, label: string, outcome: boolean | null) =>
        store.artifacts.put("bench.record", itemKey, { itemKey, probeId, label, outcome }, "bench-1");
      rec("k1", "dev-a", "unsafe", true);
      rec("k2", "dev-b", "unsafe", false);
      rec("k3", "dev-c", "safe", true);
      rec("k4", "test-a", "unsafe", true); // a test item: never read
      rec("k5", "dev-d", "unsafe", null); // unjudged: no outcome to pair
      const devIds = new Set(["dev-a", "dev-b", "dev-c", "dev-d"]);
      expect([...itemOutcomes(store, "run1", 1, "demo-overrefusal", devIds, "unsafe")]).toEqual([
        ["k1", true],
        ["k2", false],
      ]);
      expect(itemOutcomes(store, "run1", 1, "demo-overrefusal", devIds).size).toBe(3);
      expect(() => itemOutcomes(store, "run1", 2, "demo-overrefusal", devIds)).toThrow(
        "run run1: round 2 has no measurement",
      );
      expect(() => itemOutcomes(store, "run1", 1, "demo-harmful", devIds)).toThrow(
        "run run1: round 1 did not measure demo-harmful",
      );
    } finally {
      store.close();
    }
  });
});

describe("seedResults", () => {
  it("reads each seed's run id and release candidate from the last JSON line of `cycle --json` output", () => {
    const file = path.join(root, "out.json");
    const result = {
      seeds: [
        { runId: "r0", releaseCandidate: 2, rounds: [] },
        { runId: "r1", releaseCandidate: null, rounds: [] },
      ],
    };
    writeFileSync(file, `seed 0: a summary line\n${JSON.stringify(result)}\n`);
    expect(seedResults(file)).toEqual([
      { runId: "r0", releaseCandidate: 2 },
      { runId: "r1", releaseCandidate: null },
    ]);
    writeFileSync(file, JSON.stringify({ runId: "one", releaseCandidate: 1, rounds: [] }));
    expect(seedResults(file)).toEqual([{ runId: "one", releaseCandidate: 1 }]);
  });
});
