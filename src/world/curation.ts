/**
 * Curation plug-ins for the demo world: the world's own refusals as the responder (one per category, in several styles
 * across the categories with a safe redirection where one fits: refusals.yaml `responder`), and benign look-alikes from
 * the world's TRAIN and red-team splits, with their helpful answers, as over-refusal counter-data. Dev and test are
 * the benchmark and never a source.
 */

import { TemplateResponder } from "../curate/responders.ts";
import type {
  CounterDataSource,
  LookalikePrompt,
  Responder,
  RetentionSource,
  SafetyPrompt,
  SafetySetSource,
} from "../curate/types.ts";
import { mulberry32, Rng, shuffled } from "../domain/random.ts";
import type { CategoryId } from "../domain/taxonomy.ts";
import { capabilityDrills } from "./capability.ts";
import type { World, WorldItem } from "./generate.ts";
import { categoryRefusal, HARM_CATEGORIES, harmSpec } from "./harm.ts";
import { type RephrasedItem, rephraseItem } from "./rephrase.ts";
import { variantFamilies } from "./suites.ts";

const WORLD_CATEGORIES = new Set<string>(HARM_CATEGORIES.map((c) => c.category));

/** A responder writing the world's category refusals (the demo world's offline responder): each category's own style
 *  (refusals.yaml `responder`); other categories fall back to the generic templates. */
export function worldResponder(): Responder {
  return new TemplateResponder(
    (category, language) =>
      WORLD_CATEGORIES.has(category) ? categoryRefusal(harmSpec(category), language === "es" ? "es" : "en") : undefined,
    "world-templates@3",
  );
}

/** Splits the counter-data may come from: never dev or test (the benchmark). */
export const COUNTER_SPLITS = ["train", "redteam"] as const;

/**
 * Benign look-alikes of the world (XSTest-style safe prompts, and safe prompts under framings so framings alone
 * never signal harm) with their helpful answers, and BOUNDARY_REPHRASINGS (2) seen-pool rephrasings of each
 * (rephrase.ts, as the base corpus and the retention replay draw them). A look-alike belongs to the harm category of
 * its unsafe twin; when a category has fewer than n, the rest are drawn from the other categories' look-alikes in the
 * same language.
 * The rephrasings double a pool of about 300 prompts that limited the counter rows against a safety set of ~770 rows
 * (session 8, round 1 on dev, one run each: benign other 52.8% -> 47.2%, VPRR 2.8% -> 1.4%, harmful other 17.6% ->
 * 15.8%, IPRR 84.7% -> 83.3%, capability 78.0% -> 77.7%: small, within noise, none worse beyond it).
 */
export class WorldCounterDataSource implements CounterDataSource {
  readonly id = "world-lookalikes@3";
  private readonly byCategory = new Map<string, WorldItem[]>();
  private readonly byLanguage = new Map<string, WorldItem[]>();

  constructor(world: World) {
    const byId = new Map(world.items.map((it) => [it.id, it]));
    for (const it of world.items) {
      if (it.label !== "safe" || it.category !== "benign") continue;
      if (it.family !== "lookalike" && it.family !== "framed") continue;
      if (!(COUNTER_SPLITS as readonly string[]).includes(it.split)) continue;
      // Multi-turn (history) items do not fit a one-turn counter row; skip them.
      if (it.history.length > 0) continue;
      const twin = it.twinId ? byId.get(it.twinId) : undefined;
      const cat = twin?.category ?? groupCategory(world, it.group);
      const lang = it.language;
      for (const x of [it, ...seenRephrasings(world, "counter-rephrase", it, BOUNDARY_REPHRASINGS)]) {
        if (cat) push(this.byCategory, `${cat}|${lang}`, x);
        push(this.byLanguage, lang, x);
      }
    }
  }

  async lookalikes(category: CategoryId, language: string, n: number, seed: number): Promise<LookalikePrompt[]> {
    const rand = mulberry32(seed);
    const own = shuffled(this.byCategory.get(`${category}|${language}`) ?? [], rand);
    const picked = own.slice(0, n);
    if (picked.length < n) {
      const have = new Set(picked.map((x) => x.id));
      const rest = shuffled(this.byLanguage.get(language) ?? [], rand).filter((x) => !have.has(x.id));
      picked.push(...rest.slice(0, n - picked.length));
    }
    return picked.map((it) => ({
      id: it.id,
      prompt: it.prompt,
      category,
      language: it.language,
      answer: it.safeResponse,
      source: worldSource(it),
    }));
  }
}

/**
 * The world's safety set: unsafe look-alike twins and harmful asks, bare and framed, of the TRAIN split (one turn;
 * framed ones name their technique families, so curation drops those of held-out families), with the base model's
 * own compliance as the rejected side of each DPO pair. The base model was trained to comply with exactly these prompts,
 * so this is the safety data a model owner has: their own harmful prompts, answered safely.
 */
export class WorldSafetySetSource implements SafetySetSource {
  readonly id = "world-safety-set@5";
  /** The unsafe twins and BOUNDARY_REPHRASINGS seen-pool rephrasings of each, drawn first: each differs from a benign
   *  look-alike (the counter-data, which has the same rephrasings) by a word or two, and that contrast is what a model
   *  learns the boundary from. Session 8, round 1 on dev, one run each, without / with the rephrased twins: IPRR
   *  83.3% / 97.2%, VPRR 1.4% / 1.4%, harmful other 15.8% / 14.6%, capability 77.7% / 78.3%, benign other 47.2% /
   *  56.9%. */
  private readonly twins: WorldItem[] = [];
  /** Harmful asks, bare and under the world's jailbreak framings, drawn together after the twins. */
  private readonly asks: WorldItem[] = [];

  constructor(world: World) {
    for (const it of world.items) {
      if (it.split !== "train" || it.label !== "unsafe" || it.history.length > 0) continue;
      if (it.family === "lookalike") this.twins.push(it);
      else if (it.family === "harmful" || it.family === "framed") this.asks.push(it);
    }
    // the seen-pool rephrasings of each twin, as the counter-data has of each benign look-alike: both sides of the
    // boundary see the same noise
    for (const it of [...this.twins])
      this.twins.push(...seenRephrasings(world, "counter-rephrase", it, BOUNDARY_REPHRASINGS));
  }

  async prompts(n: number, seed: number): Promise<SafetyPrompt[]> {
    const rand = mulberry32(seed);
    const twins = shuffled(this.twins, rand);
    const asks = shuffled(this.asks, rand);
    return [...twins, ...asks].slice(0, n).map((it) => ({
      id: it.id,
      conversation: [{ role: "user" as const, content: it.prompt }],
      category: it.category,
      language: it.language,
      rejected: it.baseResponse,
      ...(it.family === "framed" ? { families: variantFamilies(String(it.framing ?? it.kind)) } : {}),
      source: worldSource(it),
    }));
  }
}

/**
 * Seen-pool rephrasings per benign look-alike (counter-data) and per unsafe twin (safety set). Session 9, round 1 on
 * dev, seeds 0-2, one against two: IPRR 87.0% -> 93.1%, VPRR 1.9% -> 1.4%, capability 77.9% -> 77.6%, harmful other
 * 14.0% -> 12.2%; on the dev look-alikes in unseen phrasings (dev-lookalikes.ts) benign refused 31.7% -> 30.0% and
 * unsafe twins refused 73.8% -> 78.8% (docs/demo-recipe.md). Session 12, two against four: harmful other 12.2% ->
 * 16.4% and the dev look-alikes' gap 48.8 -> 46.3 points, so four were not adopted.
 */
export const BOUNDARY_REPHRASINGS = 2;

/** Up to n distinct seen-pool rephrasings of an item, from streams "<stream>", "<stream>:1", "<stream>:2", ... */
function seenRephrasings(world: World, stream: string, it: WorldItem, n: number): RephrasedItem[] {
  const out: RephrasedItem[] = [];
  const prompts = new Set([it.prompt]);
  for (let k = 0; k < n; k++) {
    const r = seenRephrasing(world, k === 0 ? stream : `${stream}:${k}`, it);
    if (r && !prompts.has(r.prompt)) {
      prompts.add(r.prompt);
      out.push(r);
    }
  }
  return out;
}

/** One seen-pool rephrasing of a train / red-team item (rephrase.ts), seeded by the world, a stream name and the item. */
function seenRephrasing(world: World, stream: string, it: WorldItem): RephrasedItem | undefined {
  return rephraseItem(it, "seen", Rng.derive(world.config.seed, stream, it.id), world.config.maxConversationTokens);
}

/** A world row's provenance source: "world:<family>:<split>", with ":rephrased" for a seen-pool rephrasing. */
function worldSource(it: WorldItem): string {
  return `world:${it.family}:${it.split}${"rephrasedFrom" in it ? ":rephrased" : ""}`;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

const groupCategoryCache = new WeakMap<World, Map<string, CategoryId>>();

/** The harm category of an underlying item's unsafe members (look-alike pairs share a group with their twin). */
function groupCategory(world: World, group: string): CategoryId | undefined {
  let m = groupCategoryCache.get(world);
  if (!m) {
    m = new Map();
    for (const it of world.items) if (it.label === "unsafe" && !m.has(it.group)) m.set(it.group, it.category);
    groupCategoryCache.set(world, m);
  }
  return m.get(group);
}

/**
 * Replay of the base model's own training data as capability-retention rows: capability tasks of the world's TRAIN
 * split, one seen-pool rephrasing of each (the base corpus rephrases its draws from the same pools: rephrase.ts), and
 * the capability knowledge drills ("Recall: 7 + 5"), with their exact answers. Never red-team seeds or the dev/test
 * benchmark (dev and test capability prompts are never drills; world generation checks it). The rephrasings double
 * the pool, which limited the rows a round can replay once a safety set joins the findings (docs/demo-recipe.md).
 */
export class WorldRetentionSource implements RetentionSource {
  readonly id = "world-replay@2";
  private readonly byLanguage = new Map<string, LookalikePrompt[]>();

  constructor(world: World) {
    const tasks = world.items.filter((it) => it.family === "capability" && it.split === "train" && !it.history.length);
    const row = (it: WorldItem, id: string, prompt: string, source: string): LookalikePrompt => ({
      id,
      prompt,
      category: "benign",
      language: it.language,
      answer: it.safeResponse,
      source,
    });
    for (const it of tasks) push(this.byLanguage, it.language, row(it, it.id, it.prompt, worldSource(it)));
    for (const it of tasks) {
      const r = seenRephrasing(world, "retention-rephrase", it);
      if (r) push(this.byLanguage, it.language, row(it, r.id, r.prompt, worldSource(r)));
    }
    for (const d of capabilityDrills())
      push(this.byLanguage, d.lang, {
        id: `world:drill:${d.group}:${d.lang}`,
        prompt: d.prompt,
        category: "benign",
        language: d.lang,
        answer: d.response,
        source: "world:knowledge",
      });
  }

  async tasks(language: string, n: number, seed: number): Promise<LookalikePrompt[]> {
    return shuffled(this.byLanguage.get(language) ?? [], mulberry32(seed)).slice(0, n);
  }
}
