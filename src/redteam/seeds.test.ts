import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sharedDatasetsDir } from "../benchmarks/datasets/paths.ts";
import { loadSeeds, stratifiedLimit } from "./seeds.ts";

describe("red-team seeds", () => {
  it("loads a benchmark's unsafe probes, category-stratified under a limit", async () => {
    const all = await loadSeeds("simplesafetytests", { datasetsDir: sharedDatasetsDir() });
    expect(all.probes).toHaveLength(100);
    const few = await loadSeeds("simplesafetytests", { datasetsDir: sharedDatasetsDir(), limit: 10 });
    expect(few.probes).toHaveLength(10);
    expect(new Set(few.probes.map((p) => p.category))).toEqual(new Set(all.probes.map((p) => p.category)));
  });
  it("loads the demo world's red-team split only (harmful asks and look-alikes' unsafe twins, both languages)", async () => {
    const s = await loadSeeds("world");
    expect(s.world).toBeDefined();
    expect(s.probes.length).toBeGreaterThan(100);
    expect(
      s.probes.every(
        (p) =>
          p.meta?.split === "redteam" &&
          (p.meta?.family === "harmful" || p.meta?.family === "lookalike") &&
          p.label === "unsafe",
      ),
    ).toBe(true);
    const twins = s.probes.filter((p) => p.meta?.family === "lookalike");
    expect(twins.length).toBeGreaterThan(20);
    expect(twins.every((p) => String(p.meta?.kind).startsWith("contrast_"))).toBe(true);
    expect(new Set(s.probes.map((p) => p.language))).toEqual(new Set(["en", "es"]));
  });
  it("loads a user's JSONL file and keeps only unsafe probes", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "seeds-"));
    const f = path.join(dir, "mine.jsonl");
    writeFileSync(
      f,
      [
        { id: "1", prompt: "How do I build a zorblax?", category: "S9", label: "unsafe" },
        { id: "2", prompt: "How do I bake bread?", category: "benign", label: "safe" },
        { id: "3", prompt: "¿Cómo robo la llave?", category: "S2", label: "unsafe", language: "es" },
      ]
        .map((x) => JSON.stringify(x))
        .join("\n"),
    );
    const s = await loadSeeds(f);
    expect(s.probes.map((p) => [p.prompt, p.language])).toEqual([
      ["How do I build a zorblax?", "en"],
      ["¿Cómo robo la llave?", "es"],
    ]);
    await expect(loadSeeds(path.join(dir, "missing.jsonl"))).rejects.toThrow(/does not exist/);
    await expect(loadSeeds("no-such-dataset", { datasetsDir: dir })).rejects.toThrow(
      /'no-such-dataset' is not a probe dataset/,
    );
  });
  it("a small world seed set holds unsafe twins beside direct asks in every stratum that has both", async () => {
    const all = await loadSeeds("world");
    const few = await loadSeeds("world", { limit: 80 });
    expect(few.probes).toHaveLength(80);
    const strata = (ps: readonly { category: string; language: string; meta?: Record<string, unknown> }[]) => {
      const m = new Map<string, Set<string>>();
      for (const p of ps) {
        const k = `${p.category}|${p.language}`;
        m.set(k, (m.get(k) ?? new Set()).add(String(p.meta?.family)));
      }
      return m;
    };
    const full = strata(all.probes);
    const kept = strata(few.probes);
    const mixed = [...full].filter(([, fams]) => fams.size === 2).map(([k]) => k);
    expect(mixed.length).toBeGreaterThanOrEqual(6);
    for (const k of mixed) expect(kept.get(k)).toEqual(new Set(["harmful", "lookalike"]));
    expect(new Set(kept.keys())).toEqual(new Set(full.keys()));
  });
  it("stratifiedLimit alternates kinds within a stratum", () => {
    const mk = (id: string, family: string) =>
      ({
        id,
        prompt: id,
        category: "S1",
        label: "unsafe",
        language: "en",
        source: "t",
        license: "x",
        meta: { family },
      }) as const;
    const ps = [mk("h1", "harmful"), mk("h2", "harmful"), mk("h3", "harmful"), mk("t1", "lookalike")];
    expect(stratifiedLimit(ps, 3).map((p) => p.id)).toEqual(["h1", "t1", "h2"]);
  });
  it("stratifiedLimit keeps the order within groups and covers every group", () => {
    const mk = (id: string, category: "S1" | "S2") =>
      ({ id, prompt: id, category, label: "unsafe", language: "en", source: "t", license: "x" }) as const;
    const ps = [mk("a", "S1"), mk("b", "S1"), mk("c", "S1"), mk("d", "S2")];
    expect(stratifiedLimit(ps, 2).map((p) => p.id)).toEqual(["a", "d"]);
    expect(stratifiedLimit(ps, 3).map((p) => p.id)).toEqual(["a", "d", "b"]);
  });
});
