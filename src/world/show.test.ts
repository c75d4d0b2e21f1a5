import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { Command } from "commander";
import { describe, expect, it, vi } from "vitest";
import { registerWorldCommands } from "../cli/commands/world.ts";
import { CliError } from "../cli/errors.ts";
import { FAMILIES, generateWorld } from "./generate.ts";
import { renderWorldSummary, summarizeWorld, type WorldSummary } from "./show.ts";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
const cli = (...args: string[]) => run(process.execPath, [path.join(ROOT, "bin/breakfix.js"), ...args], { cwd: ROOT });

describe("world show", () => {
  it("summarises families, sizes, splits, categories, languages and examples", () => {
    const world = generateWorld({ seed: 2 });
    const s = summarizeWorld(world, 3);
    expect(s.items).toBe(world.items.length);
    expect(s.families.map((f) => f.family)).toEqual([...FAMILIES]);
    expect(s.families.reduce((n, f) => n + f.items, 0)).toBe(world.items.length);
    expect(s.categories.length).toBeGreaterThanOrEqual(8);
    for (const c of s.categories) {
      expect(c.items).toBeGreaterThan(0);
      expect(c.byLanguage.es ?? 0).toBeGreaterThan(0);
      for (const split of ["train", "redteam", "dev", "test"])
        expect(c.bySplit[split] ?? 0, `${c.category}/${split}`).toBeGreaterThan(0);
    }
    // the test split's two slices, and nothing out of distribution elsewhere
    expect(s.slices["test/out-of-distribution"]).toBe(world.items.filter((i) => i.ood).length);
    expect(s.slices["test/out-of-distribution"]).toBeGreaterThan(500);
    expect(Object.keys(s.slices).filter((k) => k.endsWith("out-of-distribution"))).toEqual([
      "test/out-of-distribution",
    ]);
    expect(s.families.reduce((n, f) => n + f.ood, 0)).toBe(s.slices["test/out-of-distribution"]);
    expect(s.templateHoldout.lists["harmful:en"]).toBe("3/10");
    expect(s.templateHoldout.lookalikeTemplates.length).toBeGreaterThan(0);
    expect(s.examples.length).toBe(3 * FAMILIES.length);
    expect(s.languages).toEqual(["en", "es"]);
    const text = renderWorldSummary(s);
    for (const h of [
      "Families",
      "Harm categories",
      "Red-team techniques",
      "Framings",
      "Look-alike types",
      "Template hold-out (share 0.25)",
      "Base corpus",
      "Examples",
      "S9",
      "WEAPONS",
    ])
      expect(text).toContain(h);
  });

  it("world show: text, --family, --examples, --json, and clear errors on bad options (in process)", async () => {
    const out = await runWorldCommand(["world", "show", "--family", "harmful", "--examples", "2"]);
    expect(out).toMatch(/Demo world of Vell \(seed 1\): \d+ items/);
    expect(out).toMatch(/\[harmful\/\w+ \S+ (en|es) (train|redteam|dev|test( ood)?)\]/);
    expect(out).toContain("[UNSAFE-");
    expect(out).not.toContain("[framed/");
    const json = JSON.parse(
      await runWorldCommand(["world", "show", "--seed", "2", "--examples", "1", "--json"]),
    ) as WorldSummary;
    expect(json.seed).toBe(2);
    expect(json.examples.length).toBe(FAMILIES.length);
    await expect(runWorldCommand(["world", "show", "--family", "nope"])).rejects.toThrow(/--family must be one of/);
    await expect(runWorldCommand(["world", "show", "--seed", "-3"])).rejects.toThrow(
      /--seed: expected an integer >= 0, got "-3"/,
    );
    await expect(runWorldCommand(["world", "show", "--examples", "x"])).rejects.toBeInstanceOf(CliError);
  });

  it("runs as `breakfix world show --json` through the real CLI", async () => {
    const json = await cli("world", "show", "--seed", "2", "--examples", "1", "--json");
    const s = JSON.parse(json.stdout.trim().split("\n").at(-1)!) as WorldSummary;
    expect(s.seed).toBe(2);
    expect(s.items).toBe(generateWorld({ seed: 2 }).items.length);
    expect(s.examples.length).toBe(FAMILIES.length);
    expect(s.examples.every((e) => e.baseResponse.length > 0)).toBe(true);
  });
});

/** Runs the world command module in process (commander, stdout captured); rejects with what the action throws. */
async function runWorldCommand(argv: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerWorldCommands(program);
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } finally {
    spy.mockRestore();
  }
  return out;
}
