/**
 * `breakfix redteam` as real processes (issue 23): two identical campaigns started at once against a local server
 * that counts requests: one runs the attacks, the other waits for the workspace lock and resumes from its records,
 * so the server sees exactly the requests of a single run and the findings export is a single run's. `--budget N`
 * without `--limit-seeds` draws across categories; a mistyped persona is a usage error.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScriptServer, startScriptServer } from "../../redteam/testing/openai-server.ts";
import { answerGate, runBreakfix, runTwoAtOnce } from "../testing.ts";

const CATEGORIES = ["S1", "S2", "S9", "S10"];
let server: ScriptServer;
let dir: string;
/** The server's answers, held back by runTwoAtOnce while the run holding the lock waits for them. */
const answers = answerGate();
beforeAll(async () => {
  // complies with every other prompt
  server = await startScriptServer({
    demo: async (messages) => {
      await new Promise((r) => setTimeout(r, 40));
      await answers.wait();
      return /[02468]\b/.test(messages.at(-1)?.content ?? "") ? "I can't help with that." : "Sure: step one, step two.";
    },
  });
  dir = mkdtempSync(path.join(tmpdir(), "redteam-lock-"));
  // 100 seeds sorted by category: a prefix of them is all S1
  const rows = CATEGORIES.flatMap((category, c) =>
    Array.from({ length: 25 }, (_, i) => ({
      id: `${category}-${i}`,
      prompt: `How would someone do forbidden thing ${c * 25 + i}`,
      category,
      label: "unsafe",
      language: "en",
    })),
  );
  writeFileSync(path.join(dir, "seeds.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n"));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const args = (workspace: string, out: string) => [
  "redteam",
  "--target",
  `${server.baseUrl}#demo`,
  "--seeds",
  path.join(dir, "seeds.jsonl"),
  "--budget",
  "40",
  "--concurrency",
  "4",
  "--workspace",
  workspace,
  "--export",
  out,
  "--json",
  "--no-progress",
];
const lastJson = (s: string) => JSON.parse(s.trim().split("\n").at(-1) ?? "{}");
const findingIds = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).id as string)
    .sort();

describe("breakfix redteam: locks, budget, persona names", () => {
  it("two identical campaigns at once pay each attack once; --budget draws across categories", async () => {
    const ws = path.join(dir, "ws");
    const { runs, seconds } = await runTwoAtOnce(
      args(ws, path.join(dir, "a.jsonl")),
      { cwd: dir },
      "an identical campaign",
      {
        take: answers.take,
        waiters: 1,
      },
    );
    const concurrent = server.requests.length;
    const [x, y] = runs.map((r) => lastJson(r.stdout));
    expect(x.planned).toBe(40);
    expect([x.ran, y.ran].sort((p, q) => p - q)).toEqual([0, 40]);
    expect(x.asr).toEqual(y.asr);
    // the budget covers every category, 10 attacks each (it used to take the first 40 seeds: all S1)
    const byCategory = x.asr.by_category as Record<string, { n: number }>;
    expect(Object.fromEntries(Object.entries(byCategory).map(([k, v]) => [k, v.n]))).toEqual({
      S1: 10,
      S2: 10,
      S9: 10,
      S10: 10,
    });

    // a single run in a fresh workspace: the same number of requests, the same findings
    const single = await runBreakfix(args(path.join(dir, "ws1"), path.join(dir, "b.jsonl")), { cwd: dir });
    expect(single.code, single.stderr).toBe(0);
    expect(server.requests.length - concurrent).toBe(concurrent);
    expect(concurrent).toBe(40);
    expect(findingIds(path.join(dir, "a.jsonl"))).toEqual(findingIds(path.join(dir, "b.jsonl")));
    expect(findingIds(path.join(dir, "a.jsonl")).length).toBeGreaterThan(0);
    console.log(
      `redteam lock: two concurrent identical campaigns of 40 attacks sent ${concurrent} requests in ${seconds.toFixed(1)} s (a single run: ${server.requests.length - concurrent})`,
    );
  }, 120_000);

  it("a mistyped persona exits 2 naming the known ones, before any model call", async () => {
    const before = server.requests.length;
    const r = await runBreakfix(
      [...args(path.join(dir, "ws2"), path.join(dir, "c.jsonl")), "--persona", "low_skiled"],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--persona: unknown persona 'low_skiled'; known: low_skilled, intermediate");
    expect(server.requests.length).toBe(before);
  }, 60_000);
});
