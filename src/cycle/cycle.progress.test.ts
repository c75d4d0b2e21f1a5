/**
 * The cycle's progress lines (a step starting or done with the elapsed time and an ETA; measure, break and regression
 * counts with an ETA) go to `progress` when one is given, everything else (the run, round results, failed gates) to
 * `log`: `breakfix cycle --no-progress` passes a progress sink that drops them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createHarmfulSuite } from "../benchmarks/suites/harmful.ts";
import { ORACLE_REFUSAL, oracleJudge, probe } from "../benchmarks/testing/fixtures.ts";
import { defaultConfig } from "../config/load.ts";
import { runCycle } from "./cycle.ts";
import { oracleScenario } from "./testing.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const harmful = Array.from({ length: 20 }, (_, i) =>
  probe(`h${i}`, { prompt: `HARM request ${i}`, meta: { split: i % 2 ? "test" : "dev" } }),
);

function run(workspace: string, sinks: { log: string[]; progress?: string[] }) {
  return runCycle({
    config: { ...defaultConfig(workspace), workspace },
    scenario: oracleScenario({
      test: "cycle-progress",
      suites: [
        {
          role: "harmful",
          suite: createHarmfulSuite({ name: "p-harmful", probes: async () => harmful, judge: oracleJudge }),
        },
      ],
      model: (round) => ({
        id: `double-r${round}`,
        chat: async () => ({
          content: ORACLE_REFUSAL,
          finishReason: "stop",
          usage: { promptTokens: 1, completionTokens: 1 },
          model: `double-r${round}`,
        }),
      }),
    }),
    workspace,
    rounds: 1,
    budgets: { seedsPerCategory: 1, maxAttacks: 1, maxTokens: 32, personas: [] },
    log: (l) => sinks.log.push(l),
    ...(sinks.progress ? { progress: (l: string) => sinks.progress?.push(l) } : {}),
  });
}

describe("cycle progress lines", () => {
  it("go to `progress` when given (log keeps the rest), and to `log` by default", async () => {
    const a = mkdtempSync(path.join(tmpdir(), "breakfix-cycle-progress-"));
    const b = mkdtempSync(path.join(tmpdir(), "breakfix-cycle-progress-"));
    dirs.push(a, b);
    const split = { log: [] as string[], progress: [] as string[] };
    const one = await run(a, split);
    expect(split.progress.some((l) => /^round 0: measure p-harmful \d+\/\d+ ETA /.test(l))).toBe(true);
    expect(split.progress.some((l) => /^round 0: measure done in .* \| ETA /.test(l))).toBe(true);
    expect(split.progress.some((l) => l === "round 0: measure starting")).toBe(true);
    expect(split.log.filter((l) => / ETA |starting$/.test(l))).toEqual([]);
    expect(split.log.some((l) => l.startsWith(`cycle run ${one.runId.slice(0, 16)} (new)`))).toBe(true);

    const merged = { log: [] as string[] };
    const two = await run(b, merged);
    expect(two.rounds).toEqual(one.rounds); // what the cycle computes does not depend on where its lines go
    expect(merged.log.some((l) => /^round 0: measure p-harmful \d+\/\d+ ETA /.test(l))).toBe(true);
    expect(merged.log.some((l) => l === "round 0: measure starting")).toBe(true);
  }, 120_000);
});
