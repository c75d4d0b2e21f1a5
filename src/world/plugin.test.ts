/** The demo world as a plug-in: the names it registers resolve through the product's registries. */
import { describe, expect, it } from "vitest";
import { resolveSuiteNames } from "../benchmarks/registry.ts";
import { namedCounterData, namedResponder, namedRetention, namedSafetySet } from "../curate/sources.ts";
import { createJudge } from "../judges/registry.ts";
import { loadSeeds } from "../redteam/seeds.ts";
import { registerWorldPlugin } from "./plugin.ts";
import { variantFamilies } from "./suites.ts";

registerWorldPlugin();

describe("the world plug-in", () => {
  it("registers its judge, curation sources and the demo suite group under the name world", () => {
    expect(createJudge("world").id).toMatch(/world/);
    expect(namedResponder("world").id).toBe("world-templates@3");
    expect(namedCounterData("world").id).toBe("world-lookalikes@3");
    expect(namedRetention("world").id).toBe("world-replay@2");
    expect(namedSafetySet("world").id).toBe("world-safety-set@5");
    expect(resolveSuiteNames("demo").map((s) => [s.name, s.role])).toEqual([
      ["demo-harmful", "harmful"],
      ["demo-jailbreak", "jailbreak"],
      ["demo-multiturn", "multiturn"],
      ["demo-overrefusal", "overrefusal"],
      ["demo-capability", "capability"],
    ]);
  });
  it("maps demo jailbreak variants to the red team's families", () => {
    expect(variantFamilies("rot13")).toEqual(["encoding"]);
    expect(variantFamilies("leetspeak")).toEqual(["obfuscation"]);
    expect(variantFamilies("rt:rot13+hypothetical")).toEqual(["encoding", "hypothetical"]);
    expect(variantFamilies("roleplay")).toContain("roleplay");
  });
  it("loads the demo world's red-team split only (harmful asks and look-alikes' unsafe twins, both languages)", async () => {
    const s = await loadSeeds("world");
    expect(s.set?.name).toBe("world");
    expect(s.set?.judge?.().id).toMatch(/world/);
    expect(s.probes.length).toBeGreaterThan(100);
    expect(
      s.probes.every(
        (p) =>
          p.meta?.split === "redteam" &&
          (p.meta?.family === "harmful" || p.meta?.family === "lookalike") &&
          p.label === "unsafe",
      ),
    ).toBe(true);
    const twins = s.probes.filter((p) => p.meta?.family === "lookalike");
    expect(twins.length).toBeGreaterThan(20);
    expect(twins.every((p) => String(p.meta?.kind).startsWith("contrast_"))).toBe(true);
    expect(new Set(s.probes.map((p) => p.language))).toEqual(new Set(["en", "es"]));
  });
  it("a small world seed set holds unsafe twins beside direct asks in every stratum that has both", async () => {
    const all = await loadSeeds("world");
    const few = await loadSeeds("world", { limit: 80 });
    expect(few.probes).toHaveLength(80);
    const strata = (ps: readonly { category: string; language: string; meta?: Record<string, unknown> }[]) => {
      const m = new Map<string, Set<string>>();
      for (const p of ps) {
        const k = `${p.category}|${p.language}`;
        m.set(k, (m.get(k) ?? new Set()).add(String(p.meta?.family)));
      }
      return m;
    };
    const full = strata(all.probes);
    const kept = strata(few.probes);
    const mixed = [...full].filter(([, fams]) => fams.size === 2).map(([k]) => k);
    expect(mixed.length).toBeGreaterThanOrEqual(6);
    for (const k of mixed) expect(kept.get(k)).toEqual(new Set(["harmful", "lookalike"]));
    expect(new Set(kept.keys())).toEqual(new Set(full.keys()));
  });
});
