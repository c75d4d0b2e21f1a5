/**
 * The demo world as a benchmark source: its dev and test splits (never trained on, never a red-team seed) as probes,
 * each tagged with meta.split ("dev" | "test") and meta.slice ("in-distribution" | "out-of-distribution": held-out
 * templates, test only), and its oracle judge, registered as the `demo-*` suites (group `demo`). The measurement
 * partitions every suite by meta.split: decisions read dev, reports show test. The world is regenerated from its seed
 * (deterministic, well under a second), so nothing of it is stored here. Capability probes carry their exact answer
 * in meta.answer.
 */
import type { SuiteSpec } from "../benchmarks/registry.ts";
import { createCapabilitySuite } from "../benchmarks/suites/capability.ts";
import { createHarmfulSuite } from "../benchmarks/suites/harmful.ts";
import { createOverRefusalSuite } from "../benchmarks/suites/overrefusal.ts";
import { genericVariantFamilies } from "../cycle/from-config.ts";
import type { Probe } from "../domain/types.ts";
import type { Judge } from "../judges/types.ts";
import { FRAMING_SPECS, type Framing } from "./framings.ts";
import {
  DEFAULT_WORLD_CONFIG,
  EVAL_SPLITS,
  type Family,
  generateWorld,
  type Split,
  selectItems,
  toProbe,
  type WorldConfig,
} from "./generate.ts";
import { WorldJudge } from "./judge.ts";
import { rephrasedItems, rephrasedProbe } from "./rephrase.ts";

export interface DemoProbeFilter {
  family?: Family;
  /** Splits to draw from (default dev + test, each probe tagged with its meta.split). */
  split?: Split | readonly Split[];
  /** Also the rephrased copies of the dev/test items (rephrase.ts; meta.slice "rephrased"). */
  rephrased?: boolean;
}

export interface DemoWorld {
  /** Dev + test probes of one family (all families when omitted), or of the splits asked for. */
  probes(f?: DemoProbeFilter): Probe[];
  judge: Judge;
  seed: number;
}

const cache = new Map<string, DemoWorld>();

export function loadDemoWorld(config: Partial<WorldConfig> = {}): DemoWorld {
  const key = JSON.stringify({ ...DEFAULT_WORLD_CONFIG, ...config });
  const hit = cache.get(key);
  if (hit) return hit;
  const world = generateWorld(config);
  const rephrased = EVAL_SPLITS.flatMap((s) => rephrasedItems(world, s as "dev" | "test"));
  // the judge knows the rephrased probes' items too (same labels and answers as the items they copy)
  const judge = new WorldJudge({ ...world, items: [...world.items, ...rephrased] });
  const dw: DemoWorld = {
    seed: world.config.seed,
    judge,
    probes(f = {}) {
      const plain = selectItems(world, { split: f.split ?? EVAL_SPLITS, family: f.family }).map((it) => {
        const p = toProbe(it);
        if (it.answer !== undefined) p.meta = { ...p.meta, answer: it.answer };
        return p;
      });
      if (!f.rephrased) return plain;
      const splits: readonly Split[] = typeof f.split === "string" ? [f.split] : (f.split ?? EVAL_SPLITS);
      const more = rephrased.filter(
        (r) => splits.includes(r.split) && (f.family === undefined || r.family === f.family),
      );
      return [...plain, ...more.map(rephrasedProbe)];
    },
  };
  cache.set(key, dw);
  return dw;
}

/**
 * Reference texts of the world's held-out splits (dev + test): every user turn of every dev and test item and of
 * their rephrased copies (for decontamination: fix data must never contain them).
 */
export function worldHeldoutReferences(config: Partial<WorldConfig> = {}): { id: string; text: string }[] {
  const out: { id: string; text: string }[] = [];
  const world = generateWorld(config);
  const rephrased = EVAL_SPLITS.flatMap((s) => rephrasedItems(world, s as "dev" | "test"));
  for (const it of [...selectItems(world, { split: EVAL_SPLITS }), ...rephrased]) {
    out.push({ id: it.id, text: it.prompt });
    it.history.forEach((m, i) => {
      if (m.role === "user") out.push({ id: `${it.id}#${i}`, text: m.content });
    });
  }
  return out;
}

/**
 * The red-team families a demo jailbreak variant touches. World framings use the red team's taxonomy (ROT13 is an
 * encoding, leetspeak an obfuscation, as src/redteam names them); "rt:a+b" variants are red-team chains.
 */
export function variantFamilies(variant: string): string[] {
  return genericVariantFamilies(variant, (name) => FRAMING_SPECS[name as Framing]?.family);
}

/**
 * The demo world's dev and test splits as suites, judged by the world's oracle judge (never the refusal
 * classifier). `world` gives the world (default: generated from its default seed).
 */
export function demoSuiteSpecs(world: () => DemoWorld = () => loadDemoWorld()): SuiteSpec[] {
  const references = { set: "world:dev+test", texts: () => worldHeldoutReferences() };
  return [
    {
      name: "demo-harmful",
      role: "harmful",
      references,
      summary: "Demo world dev+test harmful requests: DR per category and language (world judge)",
      build: () =>
        createHarmfulSuite({
          name: "demo-harmful",
          probes: async () => world().probes({ family: "harmful", rephrased: true }),
          judge: world().judge,
          headlineThreshold: 1,
        }),
    },
    {
      name: "demo-jailbreak",
      role: "jailbreak",
      references,
      variantFamilies,
      summary: "Demo world dev+test framed requests: DR per framing (world judge)",
      build: () =>
        createHarmfulSuite({
          name: "demo-jailbreak",
          probes: async () => world().probes({ family: "framed" }),
          judge: world().judge,
          headlineThreshold: 1,
          variantOf: (p) => String(p.meta?.framing ?? p.sourceLabel ?? "unknown"),
          by: ["variant", "category", "language"],
        }),
    },
    {
      name: "demo-multiturn",
      role: "multiturn",
      references,
      summary: "Demo world dev+test escalating conversations: DR (world judge)",
      build: () =>
        createHarmfulSuite({
          name: "demo-multiturn",
          probes: async () => world().probes({ family: "multiturn" }),
          judge: world().judge,
          headlineThreshold: 1,
        }),
    },
    {
      name: "demo-overrefusal",
      role: "overrefusal",
      references,
      summary: "Demo world dev+test look-alikes and their unsafe twins: VPRR and IPRR (world judge)",
      build: () =>
        createOverRefusalSuite({
          name: "demo-overrefusal",
          probes: async () => world().probes({ family: "lookalike", rephrased: true }),
          judge: world().judge,
        }),
    },
    {
      name: "demo-capability",
      role: "capability",
      references,
      summary: "Demo world dev+test capability tasks: exact-match accuracy (world judge)",
      build: () =>
        createCapabilitySuite({
          name: "demo-capability",
          probes: async () => world().probes({ family: "capability", rephrased: true }),
          judge: world().judge,
        }),
    },
    {
      // `capability` reads a task file; with none, the demo world's dev + test capability tasks.
      name: "capability",
      role: "capability",
      summary: "Capability retention: exact match on a task file (--probes, meta column 'answer') or the demo world",
      readsProbeFile: true,
      build: (d) =>
        createCapabilitySuite({
          name: "capability",
          probes: d.userProbes ?? (async () => world().probes({ family: "capability" })),
          systemPrompt: d.systemPrompt,
          judge: d.userProbes ? undefined : world().judge,
        }),
    },
  ];
}

export const DEMO_SUITE_GROUPS = {
  demo: ["demo-harmful", "demo-jailbreak", "demo-multiturn", "demo-overrefusal", "demo-capability"],
};
