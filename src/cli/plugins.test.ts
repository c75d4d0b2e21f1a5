/**
 * The plug-in-free commands (plugins.ts) really resolve no plug-in name: the import graph of each one's action module
 * (static and dynamic imports, read as text) reaches none of the four registries a plug-in registers into, nor the
 * world. A command that starts to resolve names (a suite, a judge, a seed set, a curation source) fails here and must
 * leave PLUGIN_FREE_COMMANDS. And the hook asks for the plug-ins by the top-level command.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { importChain, importClosure } from "../domain/testing/imports.ts";
import { needsPlugins, PLUGIN_FREE_COMMANDS } from "./plugins.ts";
import { buildProgram } from "./program.ts";

const SRC = path.resolve(import.meta.dirname, "..");
/** What a plug-in registers into, and the world itself. */
const REGISTRIES = [
  "redteam/seeds.ts",
  "judges/registry.ts",
  "curate/sources.ts",
  "benchmarks/registry.ts",
  "world/plugin.ts",
].map((f) => path.join(SRC, f));
/** A command's action module: commands/<name>.action.ts, except `init`, whose action lives with `config`'s. */
const actionModule = (name: string) => path.join(SRC, "cli/commands", `${name === "init" ? "config" : name}.action.ts`);

describe("plug-in-free commands", () => {
  it("are top-level commands whose actions import none of the registries a plug-in fills", () => {
    const top = buildProgram().commands.map((c) => c.name());
    const reached: string[] = [];
    for (const name of PLUGIN_FREE_COMMANDS) {
      expect(top, name).toContain(name);
      const file = actionModule(name);
      expect(existsSync(file), file).toBe(true);
      const closure = importClosure(file);
      expect(closure.size, name).toBeGreaterThan(5);
      for (const r of REGISTRIES) if (closure.has(r)) reached.push(importChain(closure, r, SRC));
    }
    expect(reached).toEqual([]);
    // and the check can fail: a command that resolves names reaches them
    const cycle = importClosure(actionModule("cycle"));
    expect(REGISTRIES.filter((r) => cycle.has(r)).length).toBeGreaterThanOrEqual(4);
  });

  it("skip the plug-ins by their top-level command; every other command loads them", () => {
    const program = buildProgram();
    const find = (...names: string[]) =>
      names.reduce((c, n) => {
        const sub = c.commands.find((x) => x.name() === n);
        if (!sub) throw new Error(`no command ${names.join(" ")}`);
        return sub;
      }, program);
    expect(needsPlugins(find("data", "list"))).toBe(false);
    expect(needsPlugins(find("train", "sft"))).toBe(false);
    expect(needsPlugins(find("init"))).toBe(false);
    expect(needsPlugins(find("findings"))).toBe(false);
    expect(needsPlugins(find("cycle"))).toBe(true);
    expect(needsPlugins(find("bench"))).toBe(true);
    expect(needsPlugins(find("world", "show"))).toBe(true);
    expect(needsPlugins(find("judge", "calibrate"))).toBe(true);
  });
});
