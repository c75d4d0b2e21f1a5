/**
 * The CLI's start-up stays light (ARCHITECTURE.md, cli/): `breakfix --version` registers every command, and
 * registering a command loads none of its stage: each action module (commands/X.action.ts) and the stage it uses are
 * imported when that command runs, and the demo world's plug-in before an action runs (not at all for the commands
 * that resolve no plug-in name: plugins.ts). Every CLI spawn of the tests
 * and every user command pays for what start-up loads: it was 742 modules and ~1.9 CPU-seconds before the split,
 * 64 modules and ~0.3 s after (2026-12-07). One spawn, with a module-loader hook that logs each module it loads.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../domain/package.ts";
import { BREAKFIX_BIN } from "./testing.ts";

/** 64 measured (tsx's own modules and node: built-ins included); the margin is for small light modules. */
const MAX_MODULES = 100;

/** Packages and src/ folders that only actions need (the stages, their engines, stores and servers). */
const HEAVY = [
  /\/node_modules\/vega(-lite)?\//,
  /\/node_modules\/d3-geo-projection\//,
  /\/node_modules\/onnxruntime-node\//,
  /\/node_modules\/better-sqlite3\//,
  /\/node_modules\/zod\//,
  /\/node_modules\/hono\//,
  /\/node_modules\/protobufjs\//,
  /\/node_modules\/cli-progress\//,
  /\/src\/(benchmarks|curate|cycle|datasets|nn|report|store|view)\//,
  /\/src\/cli\/commands\/[^/]+\.action\.ts$/,
  /\/src\/(world\/plugin|world\/generate|judges\/registry|config\/schema|models\/registry|train\/run)\.ts$/,
  /\/src\/redteam\/campaign\//,
];

/** Runs the real CLI with a module-loader hook that logs each module it loads; its stdout and the loaded URLs. */
async function loadedBy(args: string[]): Promise<{ stdout: string; loaded: string[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bf-startup-"));
  const log = path.join(dir, "loaded.txt");
  writeFileSync(
    path.join(dir, "hooks.mjs"),
    'import { appendFileSync } from "node:fs";\n' +
      "export async function load(url, context, nextLoad) {\n" +
      '  appendFileSync(process.env.BREAKFIX_LOAD_LOG, url + "\\n");\n' +
      "  return nextLoad(url, context);\n" +
      "}\n",
  );
  writeFileSync(
    path.join(dir, "register.mjs"),
    'import { register } from "node:module";\nregister(new URL("./hooks.mjs", import.meta.url));\n',
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", path.join(dir, "register.mjs"), BREAKFIX_BIN, ...args],
    { cwd: PACKAGE_ROOT, env: { ...process.env, BREAKFIX_LOAD_LOG: log } },
  );
  return { stdout, loaded: readFileSync(log, "utf8").trim().split("\n") };
}

describe("start-up", () => {
  it("`breakfix --version` loads no stage: no action module, no heavy package, few modules", async () => {
    const { stdout, loaded } = await loadedBy(["--version"]);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    // the log works: it saw the command modules being registered
    expect(loaded.some((u) => u.endsWith("/src/cli/commands/bench.ts"))).toBe(true);
    expect(loaded.filter((u) => HEAVY.some((re) => re.test(u)))).toEqual([]);
    expect(loaded.length).toBeLessThanOrEqual(MAX_MODULES);
  });

  it("a plug-in-free command (`data list`) runs its action without loading the demo world (cli/plugins.ts)", async () => {
    const { stdout, loaded } = await loadedBy(["data", "list", "--json"]);
    expect(JSON.parse(stdout).length).toBeGreaterThan(5);
    expect(loaded.some((u) => u.endsWith("/src/cli/commands/data.action.ts"))).toBe(true);
    // (world/constants.ts is the light module the world command's help reads at registration)
    expect(loaded.filter((u) => /\/src\/world\/(?!constants\.ts$)/.test(u))).toEqual([]);
    // nor any of the four registries a plug-in fills (plugins.test.ts checks the same by the import graphs)
    const registries = /\/src\/(judges\/registry|benchmarks\/registry|redteam\/seeds|curate\/sources)\.ts$/;
    expect(loaded.filter((u) => registries.test(u))).toEqual([]);
  });
});
