/** The measured splits of a suite's items: the probe's own split, else a stable hash; limits per stratum. */
import { describe, expect, it } from "vitest";
import type { Probe } from "../domain/types.ts";
import { partitionItems, sliceOf, splitOf } from "./partition.ts";
import { probe } from "./testing/fixtures.ts";
import type { SuiteItem } from "./types.ts";

const item = (p: Probe, variant?: string): SuiteItem => ({
  key: `${p.id}/${variant ?? ""}`,
  probe: p,
  conversation: [{ role: "user", content: p.prompt }],
  ...(variant ? { variant } : {}),
});

describe("measured splits", () => {
  it("keep a probe's own dev/test split; hash-assign probes without one (and the world's former 'heldout')", () => {
    expect(splitOf("s", probe("a", { meta: { split: "dev" } }), 0.3)).toBe("dev");
    expect(splitOf("s", probe("a", { meta: { split: "test" } }), 0.99)).toBe("test");
    const ids = Array.from({ length: 4000 }, (_, i) => `p${i}`);
    const dev = ids.filter((id) => splitOf("xstest", probe(id), 0.3) === "dev").length;
    expect(dev / ids.length).toBeGreaterThan(0.27);
    expect(dev / ids.length).toBeLessThan(0.33);
    // stable: the same probe in the same suite always lands on the same side; another suite draws again
    for (const id of ids.slice(0, 50))
      expect(splitOf("xstest", probe(id), 0.3)).toBe(splitOf("xstest", probe(id, { prompt: "changed" }), 0.3));
    const other = ids.filter((id) => splitOf("harmbench", probe(id), 0.3) !== splitOf("xstest", probe(id), 0.3));
    expect(other.length).toBeGreaterThan(500);
    const heldout = ids.filter((id) => splitOf("s", probe(id, { meta: { split: "heldout" } }), 0.3) === "dev").length;
    expect(heldout).toBe(ids.filter((id) => splitOf("s", probe(id), 0.3) === "dev").length);
  });

  it("put every probe of one meta.group on the same side", () => {
    for (let g = 0; g < 40; g++) {
      const sides = new Set(
        Array.from({ length: 6 }, (_, i) => splitOf("s", probe(`g${g}-${i}`, { meta: { group: `g${g}` } }), 0.5)),
      );
      expect(sides.size).toBe(1);
    }
  });

  it("refuse to measure a training or red-team probe, naming the suite", () => {
    expect(() => splitOf("demo-harmful", probe("t1", { meta: { split: "train" } }), 0.3)).toThrow(
      /suite demo-harmful: probe t1 is in the train split, which is never measured/,
    );
    expect(() => partitionItems("mine", [item(probe("r", { meta: { split: "redteam" } }))], { devShare: 0.3 })).toThrow(
      /suite mine: .*redteam split/,
    );
  });

  it("apply the limit per (split, slice) stratum, seeded, keeping the suite's order; variants of a probe stay together", () => {
    const items: SuiteItem[] = [];
    for (let i = 0; i < 300; i++) {
      const split = i % 3 === 0 ? "dev" : "test";
      const slice = ["in-distribution", "out-of-distribution", "rephrased"][i % 5 === 0 ? 2 : i % 2];
      items.push(item(probe(`p${i}`, { meta: { split, slice } })));
    }
    const p = partitionItems("s", items, { devShare: 0.3, limit: 20, seed: 1 });
    const count = new Map<string, number>();
    for (const it of p.items) {
      const st = p.strata.get(it.key);
      const k = `${st?.split}/${st?.slice}`;
      count.set(k, (count.get(k) ?? 0) + 1);
    }
    expect([...count.values()].every((n) => n === 20)).toBe(true);
    expect(count.size).toBe(6);
    expect(p.items.map((x) => items.indexOf(x))).toEqual(
      [...p.items.map((x) => items.indexOf(x))].sort((a, b) => a - b),
    );
    expect(partitionItems("s", items, { devShare: 0.3, limit: 20, seed: 1 }).items).toEqual(p.items);
    expect(sliceOf(items[0].probe)).toBe("rephrased");
    expect(sliceOf(probe("x"))).toBeUndefined();
    // jailbreak variants of one probe share its split
    const jb = Array.from({ length: 50 }, (_, i) => ["a", "b", "c"].map((v) => item(probe(`j${i}`), v))).flat();
    const q = partitionItems("jb", jb, { devShare: 0.3 });
    for (let i = 0; i < 50; i++)
      expect(new Set(jb.slice(3 * i, 3 * i + 3).map((x) => q.strata.get(x.key)?.split)).size).toBe(1);
    expect(q.items).toHaveLength(150);
  });
});
