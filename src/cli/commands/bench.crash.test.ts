/**
 * `breakfix bench` killed with SIGKILL mid-run (a real child process) and run again with the same command: the run
 * finishes from where it stopped, with no duplicate records (in the store and in its JSONL export), and ends with the
 * same metrics as an uninterrupted run.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRecordsFile } from "../../benchmarks/sink.ts";
import { BENCH_RECORD_KIND } from "../../benchmarks/store-sink.ts";
import { type ScriptedServer, startScriptedServer } from "../../benchmarks/testing/scripted-server.ts";
import { targetScript } from "../../benchmarks/testing/scripts.ts";
import { sharedDatasetsDir } from "../../datasets/paths.ts";
import { Store } from "../../store/store.ts";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../../..");
const BIN = path.join(ROOT, "bin/breakfix.js");
const hasData = fs.existsSync(sharedDatasetsDir());

let server: ScriptedServer;
let dir: string;
beforeAll(async () => {
  server = await startScriptedServer(targetScript(), "slow", { delayMs: 25 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-bench-crash-"));
});
afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const args = (out: string, concurrency = 16) => [
  BIN,
  "bench",
  "--suite",
  "harmbench",
  "--target",
  server.spec,
  "--concurrency",
  String(concurrency),
  "--out",
  out,
  "--json",
  "--no-progress",
];

async function lastJson(out: string): Promise<{ run: string; resumed: number; metrics: unknown }> {
  const { stdout } = await run(process.execPath, args(out), { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}").suites.harmbench;
}

describe.skipIf(!hasData)("bench after SIGKILL", () => {
  it("resumes to the same result with no duplicate records", async () => {
    const out = path.join(dir, "killed");
    const runsDir = path.join(out, "runs");
    const child = spawn(process.execPath, args(out, 2), { cwd: ROOT, stdio: "ignore" });
    // kill once some (not all) chunks are stored
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 90_000;
      const poll = setInterval(() => {
        const files = fs.existsSync(runsDir) ? fs.readdirSync(runsDir).filter((f) => f.endsWith(".jsonl")) : [];
        const lines = files.length ? fs.readFileSync(path.join(runsDir, files[0]), "utf8").split("\n").length - 1 : 0;
        if (lines >= 64 || Date.now() > deadline) {
          clearInterval(poll);
          child.kill("SIGKILL");
          if (lines >= 64) resolve();
          else reject(new Error("no records before the deadline"));
        }
      }, 20);
    });
    await new Promise((r) => child.once("exit", r));
    const file = fs.readdirSync(runsDir).find((f) => f.endsWith(".jsonl")) as string;
    const partial = readRecordsFile(path.join(runsDir, file)).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(320);

    const resumed = await lastJson(out);
    expect(resumed.resumed).toBeGreaterThanOrEqual(partial);
    const records = readRecordsFile(path.join(runsDir, file));
    expect(records).toHaveLength(320);
    expect(new Set(records.map((r) => r.key)).size).toBe(320);
    // the store (the primary copy; the JSONL file is its export) holds the same 320 records, once each
    const store = Store.open(out, { readonly: true });
    try {
      const stored = store.artifacts.list<{ key: string }>(BENCH_RECORD_KIND, resumed.run);
      expect(stored).toHaveLength(320);
      expect(new Set(stored.map((r) => r.value.key))).toEqual(new Set(records.map((r) => r.key)));
    } finally {
      store.close();
    }

    const clean = await lastJson(path.join(dir, "clean"));
    expect(clean.run).toBe(resumed.run);
    expect(resumed.metrics).toEqual(clean.metrics);
  });
});
