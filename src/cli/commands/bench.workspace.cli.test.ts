/**
 * Where `breakfix bench` keeps its runs (real child processes, a real local server, real SQLite): `--workspace DIR`
 * names the workspace as every other command that writes the store does (cycle, redteam, judge calibrate), and `bench
 * show` / `bench compare` read it there. They only read, so a workspace that does not exist is a usage error naming
 * the store, and none is created (before, `bench show` made an empty workspace wherever the config pointed).
 * `--out DIR` (a results folder of its own) and `--workspace` together are a usage error.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScriptedServer, startScriptedServer } from "../../benchmarks/testing/scripted-server.ts";
import { targetScript } from "../../benchmarks/testing/scripts.ts";
import { sharedDatasetsDir } from "../../datasets/paths.ts";
import { runBreakfix } from "../testing.ts";

const hasData = fs.existsSync(sharedDatasetsDir());

let server: ScriptedServer;
let dir: string;
beforeAll(async () => {
  server = await startScriptedServer(targetScript());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-bench-ws-"));
  // a config whose workspace does not exist yet: reading commands must not create it
  fs.writeFileSync(path.join(dir, "breakfix.yaml"), "extends: demo\nworkspace: ./configured\n");
});
afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");

describe("breakfix bench --workspace", () => {
  it("bench show and bench compare on a workspace with no store: exit 2 naming the store, and nothing created", async () => {
    for (const args of [
      ["bench", "show", "abc"],
      ["bench", "compare", "a", "b"],
      ["bench", "--workspace", "elsewhere", "show", "abc"],
      ["bench", "--out", "results", "show", "abc"],
    ]) {
      const run = await runBreakfix(args, { cwd: dir });
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/no bench results: .*breakfix\.db does not exist/);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(["breakfix.yaml"]);
  });

  it("--out and --workspace together are a usage error", async () => {
    const run = await runBreakfix(["bench", "--suite", "harmbench", "--workspace", "w", "--out", "o"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--out and --workspace");
    expect(fs.existsSync(path.join(dir, "w"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "o"))).toBe(false);
  });

  it.skipIf(!hasData)("writes to --workspace's store, and show and compare read the run there", async () => {
    const ws = path.join(dir, "mine");
    const bench = await runBreakfix(
      ["bench", "--suite", "harmbench", "--limit", "6", "--target", server.spec, "--workspace", ws, "--json"],
      { cwd: dir },
    );
    expect(bench.code, bench.stderr).toBe(0);
    const runId = (lastJson(bench.stdout) as { suites: { harmbench: { run: string } } }).suites.harmbench.run;
    expect(fs.existsSync(path.join(ws, "breakfix.db"))).toBe(true);
    expect(fs.readdirSync(path.join(ws, "bench", "runs")).some((f) => f.endsWith(".jsonl"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "configured"))).toBe(false); // not the config's workspace

    const show = await runBreakfix(["bench", "--workspace", ws, "show", runId.slice(0, 8)], { cwd: dir });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`run ${runId}: 6 records`);
    const compare = await runBreakfix(["bench", "--workspace", ws, "compare", runId, runId, "--json"], { cwd: dir });
    expect(compare.code, compare.stderr).toBe(0);
    expect((lastJson(compare.stdout) as { overall: { n: number } }).overall.n).toBe(6);
  });
});
