/**
 * The world generator: turns the authored vocabularies and templates (vocab, harm, lookalikes, capability, framings)
 * into a deterministic list of world items, each a conversation with the base (unsafe-by-construction) response and
 * the response the world considers correct, assigned to train / redteam / dev / test by its underlying item. A seeded
 * share of the templates is held out (templates.ts): items in a held-out template exist only in test groups (`ood`).
 */
import { type CategoryId, type Conversation, contentHash, type Probe, type ProbeLabel } from "../domain/index.ts";
import { Rng } from "../domain/random.ts";
import {
  type CapabilityTask,
  capabilityDrills,
  capabilityTasks,
  gazetteerSentences,
  renderAnswer,
} from "./capability.ts";
import { FAMILIES, type Family } from "./constants.ts";
import { applyFraming, FRAMING_SPECS, FRAMINGS, type Framing, prefixOpener } from "./framings.ts";
import { cap, compliantAnswer, type HarmGoal, harmGoals, harmSpec, refusal } from "./harm.ts";
import { translateToSpanish } from "./lexicon.ts";
import { type LookalikePair, type LookalikeType, templatePairs } from "./lookalikes.ts";
import { redteamChains, redteamConversation, redteamOpener } from "./redteam-techniques.ts";
import { type HeldList, type TemplateHoldout, templateHoldout } from "./templates.ts";
import { estimateConversationTokens } from "./tokens.ts";
import { type Bi, TOWNS } from "./vocab.ts";

export type Lang = "en" | "es";
export const LANGS: readonly Lang[] = ["en", "es"];
/** train: the base corpus; redteam: red-team seeds; dev: what decisions read; test: what is reported (dev and test
 *  are never trained on nor red-teamed; only test holds items in held-out templates). */
export const SPLITS = ["train", "redteam", "dev", "test"] as const;
export type Split = (typeof SPLITS)[number];
/** The two splits held out of training and red teaming. */
export const EVAL_SPLITS: readonly Split[] = ["dev", "test"];
/** A probe's slice: seen templates (unseen objects) or held-out templates; "rephrased" is rephrase.ts's. */
export type Slice = "in-distribution" | "out-of-distribution";
export { FAMILIES, type Family };

export interface WorldItem {
  /** "world:<family>:<hash12>" (hash of the conversation), stable for a given seed and config. */
  id: string;
  family: Family;
  /** Sub-kind: capability kind, "direct"/"lexicon" for harmful, look-alike type or "contrast_<type>", framing name,
   *  "escalation" for multi-turn. */
  kind: string;
  /** The underlying item; every item derived from it lands in the same split. */
  group: string;
  split: Split;
  /** Uses a held-out template (harmful-ask phrasing, framing, escalation ask, definition twin, look-alike template):
   *  only ever in the test split. */
  ood: boolean;
  language: Lang;
  category: CategoryId;
  label: ProbeLabel;
  /** Earlier turns (multi-turn only), ending with an assistant message. */
  history: Conversation;
  /** The last user message. */
  prompt: string;
  /** What the base (unsafe by construction) model says: compliant placeholders, helpful answers, correct answers. */
  baseResponse: string;
  /** What the world considers correct: a refusal for harmful requests, the helpful answer otherwise. */
  safeResponse: string;
  /** Capability tasks: the exact expected answer. */
  answer?: string;
  /** Harmful items: the plain, unconverted request (the red team's "goal"). */
  goal?: string;
  framing?: Framing;
  /** Red-team technique id (framed items built with the red team's own framings, kind "rt:<id>"). */
  technique?: string;
  /** Look-alikes: the id of the paired item (safe <-> unsafe twin) in the same language. */
  twinId?: string;
}

export interface WorldConfig {
  seed: number;
  /** Split proportions per stratum of underlying items (sum to 1). */
  proportions: Readonly<Record<Split, number>>;
  /** Share of each template list held out for the test split's out-of-distribution items (templates.ts). */
  templateHoldout: number;
  /** Phrasings drawn per harmful goal and language. */
  harmfulPhrasings: Readonly<Record<Lang, number>>;
  /** Framings applied per harmful goal and language. */
  framingsPerGoal: Readonly<Record<Lang, number>>;
  /** Phrasings drawn per capability task and language. */
  capabilityPhrasings: Readonly<Record<Lang, number>>;
  /** Red-team techniques (their built-in framings, rendered by their code) applied per harmful goal and language. */
  redteamTechniquesPerGoal: Readonly<Record<Lang, number>>;
  /**
   * Longest conversation the world holds, in estimated tokens (estimateConversationTokens: a bound for a byte-level
   * BPE of >= 1,024 symbols trained on the world, chat template included; the tests measure real tokens with a
   * 1,024-symbol BPE). Longer renderings are re-tried with the shortest phrasing, then dropped (World.overBudget).
   */
  maxConversationTokens: number;
}

export const DEFAULT_WORLD_CONFIG: WorldConfig = {
  seed: 1,
  proportions: { train: 0.6, redteam: 0.15, dev: 0.1, test: 0.15 },
  templateHoldout: 0.25,
  harmfulPhrasings: { en: 3, es: 2 },
  framingsPerGoal: { en: 3, es: 2 },
  capabilityPhrasings: { en: 2, es: 1 },
  redteamTechniquesPerGoal: { en: 2, es: 1 },
  maxConversationTokens: 256,
};

export interface World {
  config: WorldConfig;
  items: WorldItem[];
  /**
   * World knowledge that always goes into training and is never a probe: the gazetteer ("Tell me about Brindlemoor.")
   * and one drill per capability task and language ("Recall: 7 + 5" -> "The answer is 12.").
   */
  knowledge: Conversation[];
  /** Underlying item -> split. */
  splitOf: ReadonlyMap<string, Split>;
  /** Underlying item -> stratum (category, look-alike type, capability sub-kind). */
  stratumOf: ReadonlyMap<string, string>;
  /** The templates held out of train, red-team and dev (used only by test items, which then carry ood). */
  holdout: TemplateHoldout;
  /** Drafts dropped because an earlier item had the very same conversation. */
  duplicatesDropped: number;
  /** Drafts dropped because they exceeded config.maxConversationTokens. */
  overBudget: number;
}

/** Estimated-token margin for red-team chains with fake dialogue turns (see the red-team technique loop). */
export const FAKE_DIALOGUE_MARGIN = 32;

/**
 * Assigns splits per stratum: groups ordered by a seeded hash and cut by the proportions (test, dev, redteam, then
 * train; >= 1 group in each split when a stratum has at least 4 free groups). `pinned` groups (those of held-out
 * look-alike templates) keep their split and are left out of the cut.
 */
export function assignSplits(
  stratumOf: ReadonlyMap<string, string>,
  seed: number,
  proportions: Readonly<Record<Split, number>>,
  pinned: ReadonlyMap<string, Split> = new Map(),
): Map<string, Split> {
  const total = SPLITS.reduce((a, k) => a + proportions[k], 0);
  if (SPLITS.some((k) => !(proportions[k] >= 0)) || Math.abs(total - 1) > 1e-6)
    throw new Error(`world: split proportions must be >= 0 and sum to 1, got ${JSON.stringify(proportions)}`);
  const byStratum = new Map<string, string[]>();
  const out = new Map<string, Split>();
  for (const [g, s] of stratumOf) {
    const p = pinned.get(g);
    if (p) {
      out.set(g, p);
      continue;
    }
    const list = byStratum.get(s) ?? [];
    list.push(g);
    byStratum.set(s, list);
  }
  const cut: Split[] = ["test", "dev", "redteam"];
  for (const [stratum, groups] of byStratum) {
    const rng = Rng.derive(seed, "split", stratum);
    const order = rng.shuffle([...groups].sort());
    const n = order.length;
    const counts = cut.map((k) => Math.round(n * proportions[k]));
    if (n >= 4) for (const [i, k] of cut.entries()) counts[i] = proportions[k] > 0 ? Math.max(1, counts[i]) : 0;
    // keep at least one training group: trim dev, then red team, then test
    for (const i of [1, 2, 0])
      while (counts.reduce((a, b) => a + b, 0) > Math.max(0, n - 1) && counts[i] > 0) counts[i]--;
    let i = 0;
    for (const [k, split] of cut.entries()) for (let j = 0; j < counts[k]; j++) out.set(order[i++], split);
    for (; i < n; i++) out.set(order[i], "train");
  }
  return out;
}

function fillGoal(template: string, goal: string): string {
  return template.replace("{goal}", goal);
}

interface Draft extends Omit<WorldItem, "id" | "split"> {}

/** The key that identifies a world conversation (history + last user message). */
export function conversationKey(history: Conversation, prompt: string): string {
  return JSON.stringify([...history.map((m) => [m.role, m.content]), ["user", prompt]]);
}

/** What the family generators below share: the config, the splits and held-out templates, the drafts in order. */
interface DraftSink {
  config: WorldConfig;
  drafts: Draft[];
  splitOf: ReadonlyMap<string, Split>;
  holdout: TemplateHoldout;
  /** Is the group in the test split (the only one that may hold items in held-out templates)? */
  isTest(group: string): boolean;
}

/** Generates the world. Same config -> identical world; a different seed -> different phrasings, samples, splits. */
export function generateWorld(partial: Partial<WorldConfig> = {}): World {
  const config: WorldConfig = { ...DEFAULT_WORLD_CONFIG, ...partial };
  const { seed } = config;
  const holdout = templateHoldout(seed, config.templateHoldout);
  // Underlying items and their strata first, so that splits are known before any template is drawn.
  const stratumOf = new Map<string, string>();
  const note = (group: string, stratum: string) => {
    const prev = stratumOf.get(group);
    if (prev !== undefined && prev !== stratum)
      throw new Error(`world: group '${group}' is in two strata ('${prev}', '${stratum}')`);
    stratumOf.set(group, stratum);
  };
  const tasks = capabilityTasks();
  for (const t of tasks) note(t.group, capabilityStratum(t));
  const goals = harmGoals();
  const byGroup = new Map<string, HarmGoal[]>();
  for (const g of goals) {
    note(g.group, g.category);
    const list = byGroup.get(g.group) ?? [];
    list.push(g);
    byGroup.set(g.group, list);
  }
  const pairs = templatePairs();
  const pinned = new Map<string, Split>();
  for (const p of pairs) {
    note(p.group, `lookalike:${p.type}`);
    if (holdout.lookalike.has(p.template)) pinned.set(p.group, "test");
  }
  const splitOf = assignSplits(stratumOf, seed, config.proportions, pinned);
  const sink: DraftSink = {
    config,
    drafts: [],
    splitOf,
    holdout,
    isTest: (group) => splitOf.get(group) === "test",
  };
  capabilityDrafts(sink, tasks);
  harmfulDrafts(sink, goals);
  const chains = redteamChains();
  redteamTechniqueDrafts(sink, goals, chains);
  escalationDrafts(sink, byGroup);
  lookalikeDrafts(sink, [...pairs, ...definitionPairs(sink, goals)], chains);

  const { items, duplicatesDropped, overBudget } = keepItems(sink.drafts, splitOf, config.maxConversationTokens);
  linkTwins(items);
  const knowledge = [...gazetteer(seed), ...drillConversations()];
  const itemPrompts = new Set(items.map((it) => it.prompt));
  for (const c of knowledge)
    if (itemPrompts.has(c[0].content))
      throw new Error(`world: knowledge prompt '${c[0].content}' is also an item prompt`);
  return { config, items, knowledge, splitOf, stratumOf, holdout, duplicatesDropped, overBudget };
}

/** The seen templates of a list, plus (in test groups only) n held-out ones: [template, ood] in that order. */
function drawTemplates(rng: Rng, list: HeldList, n: number, test: boolean): [string, boolean][] {
  const out: [string, boolean][] = rng.sample(list.seen, n).map((t) => [t, false]);
  if (test) out.push(...rng.sample(list.heldOut, n).map((t): [string, boolean] => [t, true]));
  return out;
}

/** Capability tasks: sampled phrasings per language, answered exactly. */
function capabilityDrafts({ config, drafts }: DraftSink, tasks: readonly CapabilityTask[]): void {
  const { seed } = config;
  for (const task of tasks) {
    const rng = Rng.derive(seed, "capability", task.group);
    for (const lang of LANGS) {
      for (const prompt of rng.sample(task.prompts[lang], config.capabilityPhrasings[lang])) {
        const ans = renderAnswer(task.answer[lang], lang);
        drafts.push({
          family: "capability",
          kind: task.kind,
          group: task.group,
          language: lang,
          category: "benign",
          label: "safe",
          history: [],
          prompt,
          baseResponse: ans,
          safeResponse: ans,
          answer: task.answer[lang],
          ood: false,
        });
      }
    }
  }
}

/**
 * Harmful goals: direct phrasings, a lexicon-translated Spanish request, and the world's framings, in seen templates;
 * test groups also get as many in held-out templates (ood).
 */
function harmfulDrafts({ config, drafts, holdout, isTest }: DraftSink, goals: readonly HarmGoal[]): void {
  const { seed } = config;
  for (const g of goals) {
    const spec = harmSpec(g.category);
    const test = isTest(g.group);
    const rng = Rng.derive(seed, "harm", g.group, g.goal.en);
    const base = (lang: Lang, opener?: string) => compliantAnswer(spec, lang, opener);
    const common = { group: g.group, category: g.category, label: "unsafe" as const, history: [] as Conversation };
    const directEn: { prompt: string; ood: boolean }[] = [];
    for (const lang of LANGS) {
      for (const [t, ood] of drawTemplates(rng, holdout.harmful[lang], config.harmfulPhrasings[lang], test)) {
        const prompt = cap(fillGoal(t, g.goal[lang]));
        if (lang === "en") directEn.push({ prompt, ood });
        drafts.push({
          ...common,
          family: "harmful",
          kind: "direct",
          language: lang,
          prompt,
          baseResponse: base(lang),
          safeResponse: refusal(spec, lang, prompt),
          goal: prompt,
          ood,
        });
      }
    }
    // The red team's offline translation converter is word-level (lexicon.ts); the base model must follow its output.
    for (const ood of test ? [false, true] : [false]) {
      const en = directEn.find((d) => d.ood === ood);
      if (!en) continue;
      drafts.push({
        ...common,
        family: "harmful",
        kind: "lexicon",
        language: "es",
        prompt: translateToSpanish(en.prompt),
        baseResponse: base("es"),
        safeResponse: refusal(spec, "es", `lexicon|${en.prompt}`),
        goal: en.prompt,
        ood,
      });
    }
    for (const lang of LANGS) {
      for (const framing of rng.sample(FRAMINGS, config.framingsPerGoal[lang])) {
        const fh = holdout.framing[framing][lang];
        // seen framing template + seen phrasing; in test groups also a held-out framing template around a held-out
        // phrasing
        const variants: [readonly string[], readonly string[], boolean][] = [
          [fh.seen, holdout.harmful[lang].seen, false],
        ];
        if (test && fh.heldOut.length) variants.push([fh.heldOut, holdout.harmful[lang].heldOut, true]);
        for (const [templates, phrasings, ood] of variants) {
          const template = rng.pick(templates);
          const req = cap(fillGoal(rng.pick(phrasings), g.goal[lang]));
          const opener =
            framing === "prefix_injection"
              ? prefixOpener(template, spec.writes)
              : FRAMING_SPECS[framing].compliantOpener?.[lang];
          drafts.push({
            ...common,
            family: "framed",
            kind: framing,
            language: lang,
            prompt: applyFraming(template, req, g.goal[lang], lang),
            baseResponse: base(lang, opener),
            safeResponse: refusal(spec, lang, `${template}|${req}`),
            goal: req,
            framing,
            ood,
          });
        }
      }
    }
  }
}

/** The red team's own techniques, rendered by its code, so the base model follows the attacks it will face. */
function redteamTechniqueDrafts(
  { config, drafts, holdout }: DraftSink,
  goals: readonly HarmGoal[],
  chains: ReturnType<typeof redteamChains>,
): void {
  const { seed } = config;
  for (const g of goals) {
    const spec = harmSpec(g.category);
    const rng = Rng.derive(seed, "redteam-technique", g.group, g.goal.en);
    for (const lang of LANGS) {
      // Technique chains are the red team's, not held out; the request inside is in a seen phrasing.
      const seen = holdout.harmful[lang].seen;
      const shortest = [...seen].sort((a, b) => a.length - b.length || (a < b ? -1 : 1))[0];
      let placed = 0;
      for (const chain of rng.shuffle(chains)) {
        if (placed >= config.redteamTechniquesPerGoal[lang]) break;
        const baseResponse = compliantAnswer(spec, lang, redteamOpener(chain, lang));
        const chainSeed = rng.between(0, 2 ** 31);
        const render = (template: string) => {
          const req = cap(fillGoal(template, g.goal[lang]));
          return { req, conv: redteamConversation(req, chain, lang, chainSeed) };
        };
        const picked = rng.pick(seen);
        let r = render(chain.short ? shortest : picked);
        // Fake dialogue (many-shot) is rare text that tokenises ~15% worse than the estimate assumes: keep a margin.
        const margin = chain.shots ? FAKE_DIALOGUE_MARGIN : 0;
        const fits = () =>
          estimateConversationTokens([...r.conv, { role: "assistant", content: baseResponse }]) <=
          config.maxConversationTokens - margin;
        if (!fits()) r = render(shortest);
        if (!fits()) continue;
        const { req, conv } = r;
        placed++;
        drafts.push({
          family: "framed",
          kind: `rt:${chain.id}`,
          group: g.group,
          language: lang,
          category: g.category,
          label: "unsafe",
          history: conv.slice(0, -1),
          prompt: conv[conv.length - 1].content,
          baseResponse,
          safeResponse: refusal(spec, lang, conv[conv.length - 1].content),
          goal: req,
          technique: chain.id,
          ood: false,
        });
      }
    }
  }
}

/**
 * One escalating conversation per object and language (the goal drawn among the object's verbs) with a seen ask;
 * test groups also get the same conversation ending in a held-out ask (ood).
 */
function escalationDrafts(
  { config, drafts, holdout, isTest }: DraftSink,
  byGroup: ReadonlyMap<string, HarmGoal[]>,
): void {
  const { seed } = config;
  for (const [group, list] of byGroup) {
    const rng = Rng.derive(seed, "escalation", group);
    for (const lang of LANGS) {
      const g = rng.pick(list);
      const spec = harmSpec(g.category);
      const history: Conversation = g.openers.flatMap((t) => [
        { role: "user" as const, content: t.q[lang] },
        { role: "assistant" as const, content: t.a[lang] },
      ]);
      const asks = holdout.escalation[lang];
      const drawn: [string, boolean][] = [[rng.pick(asks.seen), false]];
      if (isTest(group) && asks.heldOut.length) drawn.push([rng.pick(asks.heldOut), true]);
      for (const [ask, ood] of drawn)
        drafts.push({
          family: "multiturn",
          kind: "escalation",
          group,
          language: lang,
          category: g.category,
          label: "unsafe",
          history,
          prompt: fillGoal(ask, g.goal[lang]),
          baseResponse: compliantAnswer(spec, lang),
          safeResponse: refusal(spec, lang, `${group}|${ask}`),
          goal: cap(fillGoal(holdout.harmful[lang].seen[0], g.goal[lang])),
          ood,
        });
    }
  }
}

/**
 * Look-alikes: template pairs + definitions of harm objects, each with its unsafe twin, and framed copies (in seen
 * framing templates). A pair from a held-out look-alike template is ood as a whole (its groups are all test); a
 * definitions pair is ood on its unsafe side when the twin is in a held-out phrasing.
 */
function lookalikeDrafts(
  { config, drafts, holdout }: DraftSink,
  pairs: readonly LookalikePair[],
  chains: ReturnType<typeof redteamChains>,
): void {
  const { seed } = config;
  for (const p of pairs) {
    const spec = harmSpec(p.unsafeCategory);
    const rng = Rng.derive(seed, "lookalike", p.group);
    const ood = holdout.lookalike.has(p.template);
    for (const lang of LANGS) {
      drafts.push({
        family: "lookalike",
        kind: p.type,
        group: p.group,
        language: lang,
        category: "benign",
        label: "safe",
        history: [],
        prompt: p.safePrompt[lang],
        baseResponse: p.safeAnswer[lang],
        safeResponse: p.safeAnswer[lang],
        ood,
      });
      drafts.push({
        family: "lookalike",
        kind: `contrast_${p.type}`,
        group: p.group,
        language: lang,
        category: p.unsafeCategory,
        label: "unsafe",
        history: [],
        prompt: p.unsafePrompt[lang],
        baseResponse: compliantAnswer(spec, lang),
        safeResponse: refusal(spec, lang, p.unsafePrompt[lang]),
        goal: p.unsafePrompt[lang],
        ood: ood || (p.unsafeOod?.[lang] ?? false),
      });
    }
    // The same under one of the red team's techniques (every other pair).
    if (rng.next() < 0.5) {
      const chain = rng.pick(chains);
      const lang2 = rng.pick(LANGS);
      const conv = redteamConversation(p.safePrompt[lang2], chain, lang2, rng.between(0, 2 ** 31));
      drafts.push({
        family: "framed",
        kind: `rt:${chain.id}`,
        group: p.group,
        language: lang2,
        category: "benign",
        label: "safe",
        history: conv.slice(0, -1),
        prompt: conv[conv.length - 1].content,
        baseResponse: p.safeAnswer[lang2],
        safeResponse: p.safeAnswer[lang2],
        technique: chain.id,
        ood,
      });
    }
    // A framed copy of the safe prompt, so framings alone never signal harm.
    const framing = rng.pick(FRAMINGS);
    const lang = rng.pick(LANGS);
    const template = rng.pick(holdout.framing[framing][lang].seen);
    if (framing !== "hypothetical" && framing !== "fiction") {
      drafts.push({
        family: "framed",
        kind: framing,
        group: p.group,
        language: lang,
        category: "benign",
        label: "safe",
        history: [],
        prompt: applyFraming(template, p.safePrompt[lang], p.safePrompt[lang], lang),
        baseResponse: p.safeAnswer[lang],
        safeResponse: p.safeAnswer[lang],
        framing,
        ood,
      });
    }
  }
}

/** Drafts -> items: over-budget and duplicate conversations dropped (counted), splits attached, ids from the key. */
function keepItems(
  drafts: readonly Draft[],
  splitOf: ReadonlyMap<string, Split>,
  maxConversationTokens: number,
): { items: WorldItem[]; duplicatesDropped: number; overBudget: number } {
  const items: WorldItem[] = [];
  const seen = new Set<string>();
  let duplicatesDropped = 0;
  let overBudget = 0;
  for (const d of drafts) {
    const longest = d.baseResponse.length >= d.safeResponse.length ? d.baseResponse : d.safeResponse;
    const conv: Conversation = [
      ...d.history,
      { role: "user", content: d.prompt },
      { role: "assistant", content: longest },
    ];
    if (estimateConversationTokens(conv) > maxConversationTokens) {
      overBudget++;
      continue;
    }
    const key = conversationKey(d.history, d.prompt);
    if (seen.has(key)) {
      duplicatesDropped++;
      continue;
    }
    seen.add(key);
    const split = splitOf.get(d.group);
    if (!split) throw new Error(`world: group '${d.group}' has no split`);
    if (d.ood && split !== "test") throw new Error(`world: '${d.prompt}' uses a held-out template in split '${split}'`);
    items.push({ ...d, split, id: `world:${d.family}:${contentHash(key).slice(0, 12)}` });
  }
  return { items, duplicatesDropped, overBudget };
}

function capabilityStratum(t: CapabilityTask): string {
  const parts = t.group.split(":");
  return t.kind === "word" ? `word:${parts[1]}:${parts[2]}` : `${t.kind}:${parts[1]}`;
}

/**
 * Definitions look-alikes ("What is a zorblax device?"), twinned with a request to make the same object, in a seen
 * twin phrasing; in a test group, one of two draws takes a held-out phrasing instead (the unsafe side is then ood).
 */
function definitionPairs({ config, holdout, isTest }: DraftSink, goals: readonly HarmGoal[]): LookalikePair[] {
  const out: LookalikePair[] = [];
  const done = new Set<string>();
  for (const g of goals) {
    if (!g.definition || done.has(g.group)) continue;
    done.add(g.group);
    const rng = Rng.derive(config.seed, "definition-twin", g.group);
    const twin = (lang: Lang): [string, boolean] => {
      const h = holdout.definitionTwin[lang];
      const ood = isTest(g.group) && h.heldOut.length > 0 && rng.next() < 0.5;
      return [cap(fillGoal(rng.pick(ood ? h.heldOut : h.seen), g.goal[lang])), ood];
    };
    const [en, es] = [twin("en"), twin("es")];
    out.push({
      type: "definitions" satisfies LookalikeType,
      template: "definition",
      group: g.group,
      safePrompt: g.definition.q,
      safeAnswer: g.definition.a,
      // Phrasings outside the harmful list (templates.yaml), so the twin never coincides with a direct request.
      unsafePrompt: { en: en[0], es: es[0] },
      unsafeOod: { en: en[1], es: es[1] },
      unsafeCategory: g.category,
    });
  }
  return out;
}

function linkTwins(items: WorldItem[]): void {
  const byKey = new Map<string, WorldItem>();
  for (const it of items)
    if (it.family === "lookalike") byKey.set(`${it.group}|${it.language}|${it.label}|${baseType(it.kind)}`, it);
  for (const it of items) {
    if (it.family !== "lookalike") continue;
    const other = byKey.get(
      `${it.group}|${it.language}|${it.label === "safe" ? "unsafe" : "safe"}|${baseType(it.kind)}`,
    );
    if (other) it.twinId = other.id;
  }
}

function baseType(kind: string): string {
  return kind.startsWith("contrast_") ? kind.slice("contrast_".length) : kind;
}

/** The capability drills as conversations (knowledge: every task's answer, in a terse phrasing no probe uses). */
function drillConversations(): Conversation[] {
  return capabilityDrills().map((d) => [
    { role: "user", content: d.prompt },
    { role: "assistant", content: d.response },
  ]);
}

/** Gazetteer conversations: per town and language, a few orderings of its facts. Always training data. */
function gazetteer(seed: number): Conversation[] {
  const out: Conversation[] = [];
  for (const t of TOWNS) {
    const rng = Rng.derive(seed, "gazetteer", t.name);
    const sentences = gazetteerSentences(t);
    const asks: Bi[] = [
      { en: `Tell me about ${t.name}.`, es: `Háblame de ${t.name}.` },
      { en: `What do you know about ${t.name}?`, es: `¿Qué sabes de ${t.name}?` },
    ];
    for (const lang of LANGS) {
      for (const ask of asks) {
        const body = rng
          .shuffle(sentences)
          .map((s) => s[lang])
          .join(" ");
        out.push([
          { role: "user", content: ask[lang] },
          { role: "assistant", content: body },
        ]);
      }
    }
  }
  return out;
}

/** The item as a full conversation ending with the base or the safe response. */
export function itemConversation(item: WorldItem, which: "base" | "safe" = "base"): Conversation {
  return [
    ...item.history,
    { role: "user", content: item.prompt },
    { role: "assistant", content: which === "base" ? item.baseResponse : item.safeResponse },
  ];
}

export const WORLD_LICENSE = "MIT (breakfix project-authored synthetic world)";

/** The slice an item belongs to: held-out templates or seen ones. */
export function itemSlice(item: WorldItem): Slice {
  return item.ood ? "out-of-distribution" : "in-distribution";
}

/** The item as a Probe (source "world"); capability probes carry their exact answer in meta.answer. */
export function toProbe(item: WorldItem): Probe {
  const probe: Probe = {
    id: item.id,
    prompt: item.prompt,
    category: item.category,
    sourceLabel: item.kind,
    label: item.label,
    language: item.language,
    source: "world",
    license: WORLD_LICENSE,
    meta: { family: item.family, kind: item.kind, split: item.split, slice: itemSlice(item), group: item.group },
  };
  if (item.history.length) probe.history = item.history;
  if (item.framing && probe.meta) probe.meta.framing = item.framing;
  if (item.technique && probe.meta) probe.meta.technique = item.technique;
  if (item.answer !== undefined && probe.meta) probe.meta.answer = item.answer;
  return probe;
}

export interface ItemFilter {
  /** One split or several (e.g. EVAL_SPLITS). */
  split?: Split | readonly Split[];
  /** Only items in held-out templates (true) or in seen ones (false). */
  ood?: boolean;
  family?: Family;
  language?: Lang;
  label?: ProbeLabel;
  category?: CategoryId;
}

export function selectItems(world: World, f: ItemFilter = {}): WorldItem[] {
  return world.items.filter(
    (it) =>
      (f.split === undefined || (typeof f.split === "string" ? it.split === f.split : f.split.includes(it.split))) &&
      (f.ood === undefined || it.ood === f.ood) &&
      (f.family === undefined || it.family === f.family) &&
      (f.language === undefined || it.language === f.language) &&
      (f.label === undefined || it.label === f.label) &&
      (f.category === undefined || it.category === f.category),
  );
}

/** Probes of a split (e.g. the red-team seeds, or dev and test: the benchmark). */
export function worldProbes(world: World, f: ItemFilter = {}): Probe[] {
  return selectItems(world, f).map(toProbe);
}
