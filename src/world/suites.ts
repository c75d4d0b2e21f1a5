/**
 * The demo world as a benchmark source: its held-out benchmark split (never trained on, never a red-team seed) as
 * probes, and its oracle judge. The world is regenerated from its seed (deterministic, well under a second), so
 * nothing of it is stored here. Capability probes carry their exact answer in meta.answer.
 */
import type { Probe } from "../domain/types.ts";
import type { Judge } from "../judges/types.ts";
import {
  DEFAULT_WORLD_CONFIG,
  type Family,
  generateWorld,
  selectItems,
  toProbe,
  type WorldConfig,
} from "../world/generate.ts";
import { WorldJudge } from "../world/judge.ts";

export interface DemoWorld {
  /** Held-out probes of one family (all families when omitted). */
  probes(f?: { family?: Family }): Probe[];
  judge: Judge;
  seed: number;
}

const cache = new Map<string, DemoWorld>();

export function loadDemoWorld(config: Partial<WorldConfig> = {}): DemoWorld {
  const key = JSON.stringify({ ...DEFAULT_WORLD_CONFIG, ...config });
  const hit = cache.get(key);
  if (hit) return hit;
  const world = generateWorld(config);
  const judge = new WorldJudge(world);
  const dw: DemoWorld = {
    seed: world.config.seed,
    judge,
    probes(f = {}) {
      return selectItems(world, { split: "heldout", family: f.family }).map((it) => {
        const p = toProbe(it);
        if (it.answer !== undefined) p.meta = { ...p.meta, answer: it.answer };
        return p;
      });
    },
  };
  cache.set(key, dw);
  return dw;
}
