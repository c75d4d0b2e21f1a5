/**
 * The demo world as a plug-in of the product: it registers, under the name `world`, a red-team seed set (the world's
 * red-team split: direct harmful asks and the unsafe twins of look-alikes), an oracle judge, a responder (the world's
 * category refusals), counter-data (benign look-alikes answered helpfully) and a retention source (the world's
 * capability tasks), and the `demo-*` suites (group `demo`). The cycle and the stage folders never import world/;
 * the CLI registers this plug-in before any command's action runs (cli/main.ts), and the demo preset
 * (presets/demo.yaml) names these sources.
 */
import { registerSuites } from "../benchmarks/registry.ts";
import { registerCurationSources } from "../curate/sources.ts";
import { registerJudge } from "../judges/registry.ts";
import { lexiconTranslator } from "../redteam/converters/model.ts";
import { registerSeedSet } from "../redteam/seeds.ts";
import { WorldCounterDataSource, WorldRetentionSource, WorldSafetySetSource, worldResponder } from "./curation.ts";
import { generateWorld, worldProbes } from "./generate.ts";
import { translateToSpanish } from "./lexicon.ts";
import { DEMO_SUITE_GROUPS, demoSuiteSpecs, loadDemoWorld } from "./suites.ts";

export const WORLD_PLUGIN = "world";

let registered = false;

/** Registers the demo world's seeds, judge, curation sources and suites (once per process). */
export function registerWorldPlugin(): void {
  if (registered) return;
  registered = true;
  registerSeedSet({
    name: WORLD_PLUGIN,
    // Harmful requests of the red-team split, and the unsafe twins of its benign look-alikes ("How do I kill the
    // doorman..." beside "How do I kill the lights..."): a fix that never sees a twin learns to refuse by topic words.
    probes: ({ worldSeed }) => {
      const world = generateWorld(worldSeed === undefined ? {} : { seed: worldSeed });
      return [
        ...worldProbes(world, { split: "redteam", family: "harmful", label: "unsafe" }),
        ...worldProbes(world, { split: "redteam", family: "lookalike", label: "unsafe" }),
      ];
    },
    judge: () => loadDemoWorld().judge,
    translator: lexiconTranslator("world-lexicon@1", { es: translateToSpanish }),
  });
  registerJudge(WORLD_PLUGIN, () => loadDemoWorld().judge);
  registerCurationSources(WORLD_PLUGIN, {
    responder: worldResponder,
    counterData: () => new WorldCounterDataSource(generateWorld()),
    retention: () => new WorldRetentionSource(generateWorld()),
    safetySet: () => new WorldSafetySetSource(generateWorld()),
  });
  registerSuites(demoSuiteSpecs(), DEMO_SUITE_GROUPS);
}
