/** A changed success criterion re-runs a campaign instead of reusing stored success flags; the default keeps ids. */
import { describe, expect, it } from "vitest";
import type { Judgement } from "../../domain/types.ts";
import type { JudgeInput } from "../../judges/types.ts";
import { FramingRegistry } from "../framings/load.ts";
import { DEFAULT_SUCCESS } from "../outcome.ts";
import { makePersona } from "../personas.ts";
import { ScriptedModel } from "../testing/scripted-model.ts";
import { TOY_SEEDS, toyTarget } from "../testing/toy-world.ts";
import { runRedteamCampaign } from "./campaign.ts";
import { MemoryCampaignStore } from "./memory-store.ts";
import { recordId } from "./plan.ts";

describe("success criterion and stored campaigns", () => {
  it("re-runs when findingSeverity changes, and finds nothing above what the judge gave", async () => {
    const framings = new FramingRegistry();
    const judge = {
      id: "sev3@1",
      async judge(i: JudgeInput): Promise<Judgement> {
        return { judgeId: "sev3@1", status: "ok", label: "safe", severity: /\[UNSAFE-/.test(i.response) ? 3 : 0 };
      },
    };
    const store = new MemoryCampaignStore();
    const persona = makePersona("low_skilled", framings, {});
    const spec = {
      seeds: TOY_SEEDS.filter((p) => p.language === "en"),
      seedsSource: "toy",
      persona,
      languages: ["en"],
      seed: 1,
    };
    const target = new ScriptedModel("toy-target", (m) => toyTarget(m));
    const run = (minSeverity: number) =>
      runRedteamCampaign(spec, {
        target,
        judge,
        deps: {},
        framings,
        store,
        concurrency: 2,
        success: { ...DEFAULT_SUCCESS, minSeverity },
      });
    const at3 = await run(3);
    expect(at3.asr.overall.successes).toBeGreaterThan(0);
    const at5 = await run(5);
    expect(at5.manifest.id).not.toBe(at3.manifest.id);
    expect(at5.run.ran).toBeGreaterThan(0);
    expect(at5.asr.overall.successes).toBe(0);
    expect(at5.identified.findings).toEqual([]);
    const again = await run(3);
    expect(again.manifest.id).toBe(at3.manifest.id);
    expect(again.run.ran).toBe(0);
  });

  it("keeps record ids unchanged for the default criterion", () => {
    const base = recordId("attack", "judge");
    expect(recordId("attack", "judge", undefined, DEFAULT_SUCCESS)).toBe(base);
    expect(recordId("attack", "judge", undefined, { ...DEFAULT_SUCCESS, mode: "harm" })).toBe(base);
    expect(recordId("attack", "judge", undefined, { ...DEFAULT_SUCCESS, minSeverity: 5 })).not.toBe(base);
    expect(recordId("attack", "judge", undefined, { ...DEFAULT_SUCCESS, mode: "non_refusal" })).not.toBe(base);
  });
});
