/**
 * `breakfix cycle` takes the store's run lock: two identical cycles started at once on one workspace (each with its
 * own Store, as two processes have) make the model calls of one run; the second waits for the first to finish, then
 * resumes from its recorded steps and returns the same result.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createHarmfulSuite } from "../benchmarks/suites/harmful.ts";
import { ORACLE_REFUSAL, oracleJudge, probe } from "../benchmarks/testing/fixtures.ts";
import { defaultConfig } from "../config/load.ts";
import { Store } from "../store/store.ts";
import { runCycle } from "./cycle.ts";
import type { Scenario } from "./scenario.ts";
import { oracleScenario } from "./testing.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const harmful = Array.from({ length: 40 }, (_, i) =>
  probe(`h${i}`, { prompt: `HARM request ${i}`, meta: { split: i % 2 ? "test" : "dev" } }),
);

function scenario(counter: { calls: number }): Scenario {
  return oracleScenario({
    test: "cycle-lock",
    suites: [
      {
        role: "harmful",
        suite: createHarmfulSuite({ name: "l-harmful", probes: async () => harmful, judge: oracleJudge }),
      },
    ],
    model: (round) => {
      const id = `double-r${round}`;
      return {
        id,
        async chat() {
          counter.calls++;
          await new Promise((r) => setTimeout(r, 2)); // slow enough that the two runs overlap
          return {
            content: ORACLE_REFUSAL,
            finishReason: "stop",
            usage: { promptTokens: 1, completionTokens: 1 },
            model: id,
          };
        },
      };
    },
  });
}

function run(workspace: string, counter: { calls: number }, log: string[]) {
  return runCycle({
    config: { ...defaultConfig(workspace), workspace },
    scenario: scenario(counter),
    workspace,
    rounds: 1,
    budgets: { seedsPerCategory: 1, maxAttacks: 1, maxTokens: 32, personas: [] },
    log: (l) => log.push(l),
  });
}

describe("two identical cycles on one workspace", () => {
  it("make the model calls of one run; the second waits, resumes, and finishes with the same result", async () => {
    const single = mkdtempSync(path.join(tmpdir(), "breakfix-cycle-lock-one-"));
    const shared = mkdtempSync(path.join(tmpdir(), "breakfix-cycle-lock-two-"));
    dirs.push(single, shared);
    const one = { calls: 0 };
    const alone = await run(single, one, []);
    expect(one.calls).toBeGreaterThan(0);

    const two = { calls: 0 };
    const logs: string[][] = [[], []];
    const [a, b] = await Promise.all([run(shared, two, logs[0]), run(shared, two, logs[1])]);
    expect(two.calls).toBe(one.calls);
    expect(b.runId).toBe(a.runId);
    expect(b.rounds).toEqual(a.rounds);
    expect(a.rounds).toEqual(alone.rounds);
    expect(b.releaseCandidate).toEqual(a.releaseCandidate);
    expect(b.failedGates).toEqual(a.failedGates);
    const waited = logs.filter((l) => l.some((x) => x.includes("an identical cycle")));
    expect(waited).toHaveLength(1);
    const store = Store.open(shared);
    try {
      expect(store.lockHolder(`cycle:${a.runId}`)).toBeUndefined(); // released
    } finally {
      store.close();
    }
  }, 120_000);
});

describe("a cycle that fails", () => {
  it("is recorded as failed (not left running), releases its lock, and its re-run resumes it and says so", async () => {
    // Found by review: runCycle recorded the run's end only on success, so a run stopped by an error (a deploy command
    // that failed, an endpoint down) stayed "running" in the store, in `breakfix view` and in the resume log line.
    const ws = mkdtempSync(path.join(tmpdir(), "breakfix-cycle-failed-"));
    dirs.push(ws);
    const broken: Scenario = oracleScenario({
      test: "cycle-lock",
      suites: scenario({ calls: 0 }).suites,
      model: (round) => ({
        id: `double-r${round}`,
        chat: async () => Promise.reject(new Error("503 from the endpoint")),
      }),
    });
    await expect(
      runCycle({
        config: { ...defaultConfig(ws), workspace: ws },
        scenario: broken,
        workspace: ws,
        rounds: 1,
        budgets: { seedsPerCategory: 1, maxAttacks: 1, maxTokens: 32, personas: [] },
      }),
    ).rejects.toThrow();
    const store = Store.open(ws);
    const [failed] = store.db.prepare("SELECT hash FROM runs WHERE kind = 'cycle'").all() as { hash: string }[];
    expect(store.runState(failed.hash)).toBe("failed");
    expect(store.lockHolder(`cycle:${failed.hash}`)).toBeUndefined();
    store.close();
    const log: string[] = [];
    const ok = await run(ws, { calls: 0 }, log);
    expect(ok.runId).toBe(failed.hash);
    expect(log.some((l) => l.includes("resuming; it was failed"))).toBe(true);
    const after = Store.open(ws);
    expect(after.states.history("run", ok.runId).map((h) => h.state)).toEqual(["running", "failed", "running", "done"]);
    after.close();
  }, 120_000);
});
