import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it, vi } from "vitest";
import { registerWorldCommands } from "../cli/commands/world.ts";
import { type Probe, preferencePairSchema, probeSchema, sftExampleSchema } from "../domain/index.ts";
import { exportWorld } from "./export.ts";
import { generateWorld } from "./generate.ts";

const dir = mkdtempSync(path.join(tmpdir(), "breakfix-world-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const read = (name: string) =>
  readFileSync(path.join(dir, name), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);

describe("world export", () => {
  it("writes valid TRL/Probe JSONL with a manifest, reproducibly, and keeps dev and test probes out of the corpus", () => {
    const world = generateWorld({ seed: 9 });
    const m = exportWorld(world, dir, { size: 800 });
    const corpus = read("base_corpus.jsonl");
    expect(corpus.length).toBe(800);
    for (const r of corpus) expect(sftExampleSchema.safeParse(r).success).toBe(true);
    for (const r of read("safe_sft.train.jsonl")) expect(sftExampleSchema.safeParse(r).success).toBe(true);
    for (const r of read("dpo.train.jsonl")) expect(preferencePairSchema.safeParse(r).success).toBe(true);
    const held = [...read("probes.dev.jsonl"), ...read("probes.test.jsonl")];
    for (const r of held) expect(probeSchema.safeParse(r).success).toBe(true);
    for (const split of ["train", "redteam", "dev", "test"])
      expect(read(`probes.${split}.jsonl`).length).toBe(world.items.filter((i) => i.split === split).length);
    const slices = new Set(held.map((p) => `${(p as Probe).meta?.split}/${(p as Probe).meta?.slice}`));
    expect([...slices].sort()).toEqual(["dev/in-distribution", "test/in-distribution", "test/out-of-distribution"]);
    const heldPrompts = new Set(held.map((p) => (p as { prompt: string }).prompt));
    for (const r of corpus) {
      const msgs = (r as { messages: { role: string; content: string }[] }).messages;
      for (const msg of msgs) if (msg.role === "user") expect(heldPrompts.has(msg.content)).toBe(false);
    }
    const manifest = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8"));
    expect(manifest.files["base_corpus.jsonl"].rows).toBe(800);
    expect(manifest.seed).toBe(9);
    expect(manifest.heldOutTemplates.harmful.en).toEqual(world.holdout.harmful.en.heldOut);
    expect(manifest.heldOutTemplates.lookalike).toEqual([...world.holdout.lookalike].sort());
    // byte-identical on re-run
    expect(exportWorld(generateWorld({ seed: 9 }), dir, { size: 800 }).files).toEqual(m.files);
  });

  it("runs as `world export --quick --json`", async () => {
    const program = new Command().exitOverride();
    registerWorldCommands(program);
    let out = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => {
      out += String(c);
      return true;
    });
    try {
      await program.parseAsync(["world", "export", "--out", dir, "--quick", "--seed", "4", "--json"], { from: "user" });
    } finally {
      spy.mockRestore();
    }
    const m = JSON.parse(out);
    expect(m.seed).toBe(4);
    expect(m.files["base_corpus.jsonl"].rows).toBe(2000);
    expect(read("base_corpus.jsonl").length).toBe(2000);
  });
});
