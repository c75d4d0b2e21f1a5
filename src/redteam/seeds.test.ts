import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sharedDatasetsDir } from "../datasets/paths.ts";
import { loadSeeds, stratifiedLimit } from "./seeds.ts";

describe("red-team seeds", () => {
  it("loads a benchmark's unsafe probes, category-stratified under a limit", async () => {
    const all = await loadSeeds("simplesafetytests", { datasetsDir: sharedDatasetsDir() });
    expect(all.probes).toHaveLength(100);
    const few = await loadSeeds("simplesafetytests", { datasetsDir: sharedDatasetsDir(), limit: 10 });
    expect(few.probes).toHaveLength(10);
    expect(new Set(few.probes.map((p) => p.category))).toEqual(new Set(all.probes.map((p) => p.category)));
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
