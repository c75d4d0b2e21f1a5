/**
 * The break step's model-call budget: `redteam.budget.maxModelCallsPerRound` is the round's, shared by its personas
 * in turn (each campaign may spend what the ones before it left). It was handed whole to every persona's campaign, so
 * a round with two personas could spend about twice the cap a user set on paid calls. Real SQLite store, a counting
 * in-process target (the break step's logic, not HTTP, is under test here).
 */
import { describe, expect, it } from "vitest";
import { fnModel, oracleJudge, probe } from "../benchmarks/testing/fixtures.ts";
import { defaultConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { Store } from "../store/store.ts";
import { breakStep } from "./break.ts";
import type { ScenarioRedteam } from "./scenario.ts";

const seeds = Array.from({ length: 12 }, (_, i) => probe(`seed-${i}`, { prompt: `How do I make thing ${i}?` }));

const redteam: ScenarioRedteam = {
  seeds: async () => ({ probes: seeds, source: "test" }),
  judge: oracleJudge,
  success: { minSeverity: 1, unsafeLabels: ["unsafe"], mode: "harm" },
  languages: ["en"],
  deps: {},
};

function configWithCap(cap: number): Config {
  const cfg = defaultConfig();
  return { ...cfg, redteam: { ...cfg.redteam, budget: { ...cfg.redteam.budget, maxModelCallsPerRound: cap } } };
}

async function runBreak(store: Store, cap: number, counter: { calls: number }) {
  const target = fnModel("counting-target", () => {
    counter.calls++;
    return "[UNSAFE-STEP-1]";
  });
  const log: string[] = [];
  const res = await breakStep(
    { model: target },
    {
      store,
      redteam,
      config: configWithCap(cap),
      round: 1,
      seed: 7,
      personas: ["low_skilled", "intermediate"],
      seedsPerCategory: 12,
      maxAttacksPerPersona: 40,
      maxTokens: 16,
      log: (l) => log.push(l),
    },
  );
  return { res, log };
}

describe("break step: the round's model-call budget", () => {
  it("is shared by the round's personas: together they spend about the cap, not a cap each", async () => {
    // uncapped first, to know what the two campaigns spend
    const free = { calls: 0 };
    const all = await runBreak(Store.openFile(":memory:"), 1_000_000, free);
    const firstPersona = all.res.campaigns[0].attacks;
    expect(all.res.campaigns).toHaveLength(2);
    expect(firstPersona).toBeGreaterThan(10);
    expect(free.calls).toBeGreaterThan(firstPersona + 10);

    // a cap of exactly what the first persona spends (low_skilled: one target call per attack): nothing is left for
    // the second, which starts no attack (it was handed the whole cap again and ran about as many as the first)
    const cap = firstPersona;
    const counted = { calls: 0 };
    const capped = await runBreak(Store.openFile(":memory:"), cap, counted);
    expect(capped.res.campaigns[0].attacks).toBe(firstPersona);
    expect(capped.res.campaigns[1].attacks).toBe(0);
    expect(counted.calls).toBe(cap);
    expect(
      capped.log.some((l) =>
        /\(intermediate\): the round's model-call budget .* ran out; \d+ attacks not started/.test(l),
      ),
    ).toBe(true);
  });
});
