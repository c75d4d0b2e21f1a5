/**
 * Run locks (issue 23). Two identical `breakfix bench` runs started at once (real child processes) against a local
 * server that counts requests: one does the work, the other waits for its lock and then resumes from the store, so
 * each request is paid once and the JSONL export holds each record once, as after a single run. A resume repairs an
 * export doubled by runs from before the lock. The store's lock itself: one holder at a time, a dead holder's lock
 * taken over.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRecordsFile } from "../../benchmarks/sink.ts";
import { type ScriptedServer, startScriptedServer } from "../../benchmarks/testing/scripted-server.ts";
import { targetScript } from "../../benchmarks/testing/scripts.ts";
import { sharedDatasetsDir } from "../../datasets/paths.ts";
import { processAlive } from "../../domain/shell.ts";
import { Store } from "../../store/store.ts";
import { answerGate, runBreakfix, runTwoAtOnce } from "../testing.ts";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const hasData = fs.existsSync(sharedDatasetsDir());
const ITEMS = 320; // harmbench's test split

let server: ScriptedServer;
let dir: string;
/** The server's answers, held back by runTwoAtOnce while the run holding the lock waits for them. */
const answers = answerGate();
beforeAll(async () => {
  server = await startScriptedServer(targetScript(), "slow", { delayMs: 50, gate: answers.wait });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-bench-lock-"));
});
afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const args = (out: string) => [
  "bench",
  "--suite",
  "harmbench",
  "--target",
  server.spec,
  "--concurrency",
  "16",
  "--out",
  out,
  "--json",
  "--no-progress",
];

function exportFile(out: string): string {
  const runs = path.join(out, "runs");
  const f = fs.readdirSync(runs).find((x) => x.endsWith(".jsonl"));
  if (!f) throw new Error(`no export in ${runs}`);
  return path.join(runs, f);
}

/** What an export says, without timestamps and latencies (which differ between any two runs). */
function content(file: string): string[] {
  return fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify([r.key, r.runId, r.response, r.outcome]);
    })
    .sort();
}

const deadPid = (): Promise<number> =>
  new Promise((resolve) => {
    const c = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    c.once("exit", () => resolve(c.pid as number));
  });

describe("run locks in the store", () => {
  it("one holder at a time; released locks and dead holders' locks are taken", async () => {
    const ws = fs.mkdtempSync(path.join(dir ?? os.tmpdir(), "store-"));
    const a = Store.open(ws);
    const b = Store.open(ws);
    try {
      const first = a.tryLock("bench:x", "first");
      expect(first.acquired).toBe(true);
      const second = b.tryLock("bench:x");
      expect(second).toMatchObject({ acquired: false, holder: { pid: process.pid, detail: "first" } });
      expect(b.tryLock("bench:other").acquired).toBe(true);
      if (first.acquired) first.lock.release();
      expect(b.tryLock("bench:x").acquired).toBe(true);

      // a lock whose process is gone (kill -9) is stale and taken over
      const pid = await deadPid();
      expect(processAlive(pid)).toBe(false);
      a.db.prepare("UPDATE locks SET pid = ? WHERE name = ?").run(pid, "bench:x");
      const taken = a.tryLock("bench:x");
      expect(taken).toMatchObject({ acquired: true, lock: { stale: true } });
      let waited = 0;
      const timeout = await b
        .waitLock("bench:x", { pollMs: 10, timeoutMs: 100, onWait: () => waited++ })
        .catch((e: Error) => e.message);
      expect(timeout).toMatch(/lock bench:x is held by pid \d+/);
      expect(waited).toBe(1);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe.skipIf(!hasData)("two identical bench runs at once", () => {
  it("pay each request once and export each record once; a resume repairs a doubled export", async () => {
    const out = path.join(dir, "shared");
    const { runs, waited, seconds } = await runTwoAtOnce(args(out), { cwd: ROOT }, "an identical bench run", {
      take: answers.take,
      waiters: 1,
    });
    expect(server.requests()).toBe(ITEMS);
    const summaries = runs.map((r) => JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}").suites.harmbench);
    expect(summaries.map((s) => s.resumed).sort((x, y) => x - y)).toEqual([0, ITEMS]);
    expect(summaries[0].metrics).toEqual(summaries[1].metrics);
    const file = exportFile(out);
    const lines = content(file);
    expect(lines).toHaveLength(ITEMS);
    expect(new Set(lines).size).toBe(ITEMS);

    // a single run in a fresh folder exports the same records
    const single = path.join(dir, "single");
    const one = await runBreakfix(args(single), { cwd: ROOT });
    expect(one.code, one.stderr).toBe(0);
    expect(content(exportFile(single))).toEqual(lines);
    expect(server.requests()).toBe(2 * ITEMS);
    console.log(
      `bench lock: two concurrent identical runs of ${ITEMS} items sent ${ITEMS} requests in ${seconds.toFixed(1)} s ` +
        `(the run that waited for the lock took ${waited[0].ms} ms in all and resumed all ${ITEMS} from the store); ` +
        `export ${lines.length} lines`,
    );

    // an export doubled by two unlocked runs (what happened before the lock) is repaired by the next resume
    fs.appendFileSync(file, fs.readFileSync(file));
    expect(fs.readFileSync(file, "utf8").trim().split("\n")).toHaveLength(2 * ITEMS);
    expect(readRecordsFile(file)).toHaveLength(ITEMS); // bench compare reads each item once even before the repair
    const again = await runBreakfix(args(out), { cwd: ROOT });
    expect(again.code, again.stderr).toBe(0);
    expect(server.requests()).toBe(2 * ITEMS);
    expect(content(file)).toEqual(lines);
  }, 180_000);
});
