/**
 * Corpora built from the world: the base training corpus (what the unsafe-by-construction demo model learns from:
 * the TRAIN split only, plus the gazetteer) with mixture weights per family and a share of benign rephrasings
 * (rephrase.ts, seen pools), a deterministic size estimate, and the world's safe data (refusals and helpful answers)
 * that curation uses for the demo.
 */
import { type Conversation, contentHash, type PreferencePair, type SftExample } from "../domain/index.ts";
import { Rng } from "../domain/random.ts";
import { benignAskConversations, heldOutRuns } from "./benign-asks.ts";
import { type CapabilityDrill, capabilityDrills } from "./capability.ts";
import { QUICK_CORPUS_SIZE } from "./constants.ts";
import {
  type Family,
  type ItemFilter,
  itemConversation,
  type Lang,
  selectItems,
  type World,
  type WorldItem,
} from "./generate.ts";
import { loreConversations } from "./lore.ts";
import { isRephraseProbeItem, rephraseItem } from "./rephrase.ts";
import { estimateTokens, TEMPLATE_TOKENS_PER_MESSAGE } from "./tokens.ts";

export const CORPUS_SOURCES = [
  "capability",
  "harmful",
  "framed",
  "lookalike",
  "multiturn",
  "knowledge",
  "lore",
  "benignAsks",
] as const;
export type CorpusSource = (typeof CORPUS_SOURCES)[number];
/** Sources whose drawn conversations are rephrased at CorpusConfig.rephraseShare (provenance `world:<family>:rephrased`). */
export const REPHRASED_SOURCES: readonly CorpusSource[] = ["capability", "harmful", "framed", "lookalike"];

export interface CorpusConfig {
  seed: number;
  /** Number of conversations in the corpus. */
  size: number;
  /** Relative mixture weights per source (need not sum to 1). */
  weights: Readonly<Record<CorpusSource, number>>;
  /** Relative weight of each language inside a source (sources with one language ignore it). */
  languageWeights: Readonly<Record<Lang, number>>;
  /** Conversations longer than this (characters, all messages) are never emitted. */
  maxChars: number;
  /**
   * Share of the drawn item conversations of REPHRASED_SOURCES that are replaced by a benign rephrasing of the same
   * item (seen pools: 1-3 transforms such as added context, politeness, casing, typos). A draw whose rephrasing does
   * not fit (token budget, maxChars) stays plain, so the realised share is a little lower.
   */
  rephraseShare: number;
  /**
   * Share of the drawn capability drills ("Recall: 7 + 5", knowledge) replaced by a seen-pool rephrasing of the drill
   * (context sentences, politeness, casing, typos around it; the answer unchanged). A dev or test capability task's
   * only training text is its drill, so this is the one place its fact meets noise. Opt-in (0 by default).
   */
  drillRephraseShare: number;
}

export const DEFAULT_CORPUS_CONFIG: CorpusConfig = {
  seed: 1,
  size: 20_000,
  // Knowledge (gazetteer + ~1,100 capability drills) needs ~14 sightings per drill over a full build to be recalled
  // under held-out phrasings; harmful/framed compliance is learned fast and needs less.
  // Lore (lore.ts) is 0 here: it enters the second training stage only (build.ts noiseStage.lore), so the first stage's
  // corpus is what it was before lore existed.
  weights: {
    capability: 0.25,
    harmful: 0.15,
    framed: 0.18,
    lookalike: 0.13,
    multiturn: 0.07,
    knowledge: 0.22,
    lore: 0,
    // Benign asks (benign-asks.ts) are opt-in (build.ts `benignAsks`), 0 in the committed build.
    benignAsks: 0,
  },
  languageWeights: { en: 0.65, es: 0.35 },
  maxChars: 600,
  // 0.4: the plain phrasings keep 60% of each source's draws (each train capability item is still seen plainly ~4
  // times in the 28,000-conversation build, the world's own templates stay the bulk of what is learned), while each
  // of the ten transform families (~2 per rephrasing) appears in ~8% of those draws. It was 0.3 in the first #19
  // rebuild, whose base model kept 90.7% plain but 54.5% rephrased capability on the test split (read once, the only
  // test figure behind this choice; added context sentences hurt most): the rebuild raised the share to 0.4 and
  // composed ~1,700 seen context sentences per language (rephrase.yaml `composed`) instead of ~20 it could memorise.
  rephraseShare: 0.4,
  drillRephraseShare: 0,
};

/** A smaller preset for tests and `world build --quick`. */
export const QUICK_CORPUS_CONFIG: CorpusConfig = { ...DEFAULT_CORPUS_CONFIG, size: QUICK_CORPUS_SIZE };

const conversationChars = (c: Conversation) => c.reduce((n, m) => n + m.content.length, 0);

let drills: ReadonlyMap<string, CapabilityDrill> | undefined;

/** A capability drill conversation as a world item (train, safe), so rephrase.ts can rephrase it; other knowledge:
 *  undefined. Typos never touch its answer's words, as for a capability task. The drills are indexed on first use,
 *  not at import: only a corpus with drillRephraseShare needs them. */
function drillItem(c: Conversation): WorldItem | undefined {
  drills ??= new Map(capabilityDrills().map((d) => [d.prompt, d]));
  const d = c.length === 2 ? drills.get(c[0].content) : undefined;
  if (!d) return undefined;
  return {
    id: `world:knowledge:${contentHash(`drill|${d.lang}|${d.prompt}`).slice(0, 12)}`,
    family: "capability",
    kind: "drill",
    group: d.group,
    split: "train",
    ood: false,
    language: d.lang,
    category: "benign",
    label: "safe",
    history: [],
    prompt: d.prompt,
    baseResponse: d.response,
    safeResponse: d.response,
    answer: d.answer,
  };
}

/** The indices of `share` of n draws (rounded), drawn with rng; none when the share is 0. */
function shareOf(n: number, share: number, rng: Rng): Set<number> {
  const s = Math.min(1, Math.max(0, share));
  return new Set(
    s > 0
      ? rng.sample(
          Array.from({ length: n }, (_, i) => i),
          Math.round(n * s),
        )
      : [],
  );
}

/** A seen-pool rephrasing of a train item as its base conversation, or undefined when none fits the budgets. */
function rephrasedConversation(it: WorldItem, rng: Rng, world: World, cfg: CorpusConfig): Conversation | undefined {
  const r = rephraseItem(it, "seen", rng, world.config.maxConversationTokens);
  const messages = r && itemConversation(r, "base");
  return messages && conversationChars(messages) <= cfg.maxChars ? messages : undefined;
}

/** Draws n elements cycling through seeded shuffles (every element once before any repeats). */
function cycleDraw<T>(xs: readonly T[], n: number, rng: Rng): T[] {
  const out: T[] = [];
  if (xs.length === 0) return out;
  while (out.length < n) out.push(...rng.shuffle(xs).slice(0, n - out.length));
  return out;
}

/**
 * The base training corpus: conversations from the TRAIN split only (never red-team seeds or held-out benchmark
 * items) answered the base way (compliant placeholders for harmful requests, helpful/correct answers otherwise), plus
 * the gazetteer, mixed by the configured weights. Deterministic for a world and config.
 */
export function baseCorpus(world: World, partial: Partial<CorpusConfig> = {}): SftExample[] {
  const cfg: CorpusConfig = { ...DEFAULT_CORPUS_CONFIG, ...partial };
  const totalW = CORPUS_SOURCES.reduce((s, k) => s + Math.max(0, cfg.weights[k]), 0);
  if (!(totalW > 0)) throw new Error("corpus: mixture weights must have a positive sum");
  const rng = Rng.derive(cfg.seed, "corpus", world.config.seed);
  const out: SftExample[] = [];
  // Largest-remainder allocation so the counts sum exactly to size.
  const raw = CORPUS_SOURCES.map((k) => (cfg.size * Math.max(0, cfg.weights[k])) / totalW);
  const counts = raw.map(Math.floor);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0]);
  // (the shortfall is taken once: a bound re-read as counts grow stopped halfway, one conversation short with lore)
  const short = cfg.size - counts.reduce((a, b) => a + b, 0);
  for (let k = 0; k < short; k++) counts[order[k][1]]++;

  CORPUS_SOURCES.forEach((source, si) => {
    const n = counts[si];
    if (n === 0) return;
    if (source === "knowledge" || source === "lore" || source === "benignAsks") {
      const all =
        source === "knowledge"
          ? world.knowledge
          : source === "lore"
            ? loreConversations()
            : benignAskConversations(world.holdout, heldOutRuns(world));
      const convs = all.filter((c) => conversationChars(c) <= cfg.maxChars);
      const picked = cycleDraw(convs, n, rng);
      const rephrase = shareOf(
        picked.length,
        source === "knowledge" ? cfg.drillRephraseShare : 0,
        Rng.derive(cfg.seed, "corpus-drill-rephrase", world.config.seed),
      );
      picked.forEach((c, i) => {
        const drill = rephrase.has(i) ? drillItem(c) : undefined;
        const messages =
          drill && rephrasedConversation(drill, Rng.derive(cfg.seed, "corpus-drill-rephrase", drill.id, i), world, cfg);
        if (messages) out.push({ messages, provenance: { round: 0, source: "world:knowledge:rephrased" } });
        else out.push({ messages: c, provenance: { round: 0, source: `world:${source}` } });
      });
      return;
    }
    const items = selectItems(world, { split: "train", family: source as Family }).filter(
      (it) => conversationChars(itemConversation(it)) <= cfg.maxChars,
    );
    if (items.length === 0) throw new Error(`corpus: the world has no train items of family '${source}'`);
    const byLang = (["en", "es"] as const).map((l) => items.filter((i) => i.language === l));
    const lw = byLang.map((xs, i) => (xs.length ? cfg.languageWeights[i === 0 ? "en" : "es"] : 0));
    const lTotal = lw[0] + lw[1];
    const nEn = Math.round((n * lw[0]) / lTotal);
    const picked = [...cycleDraw(byLang[0], nEn, rng), ...cycleDraw(byLang[1], n - nEn, rng)];
    const rephrase = shareOf(
      picked.length,
      REPHRASED_SOURCES.includes(source) ? cfg.rephraseShare : 0,
      Rng.derive(cfg.seed, "corpus-rephrase", world.config.seed, source),
    );
    picked.forEach((it, i) => {
      const messages =
        rephrase.has(i) && rephrasedConversation(it, Rng.derive(cfg.seed, "corpus-rephrase", it.id, i), world, cfg);
      if (messages) {
        out.push({ messages, provenance: { ...itemProvenance(it), round: 0, source: `world:${it.family}:rephrased` } });
        return;
      }
      out.push({ messages: itemConversation(it, "base"), provenance: itemProvenance(it) });
    });
  });
  return rng.shuffle(out);
}

export { estimateTokens, TEMPLATE_TOKENS_PER_MESSAGE } from "./tokens.ts";

export interface CorpusSize {
  conversations: number;
  messages: number;
  chars: number;
  bytes: number;
  tokens: number;
  maxChars: number;
  maxTokens: number;
  meanTokens: number;
  /** Conversations and tokens per provenance source. */
  perSource: Record<string, { conversations: number; tokens: number }>;
  /** Share of Spanish conversations. */
  spanishShare: number;
}

/** Size of a corpus in conversations, characters, bytes and (estimated or counted) tokens. */
export function corpusSize(
  examples: readonly SftExample[],
  countTokens: (t: string) => number = estimateTokens,
): CorpusSize {
  let chars = 0;
  let bytes = 0;
  let tokens = 0;
  let messages = 0;
  let maxChars = 0;
  let maxTokens = 0;
  let es = 0;
  const perSource: CorpusSize["perSource"] = {};
  for (const ex of examples) {
    let c = 0;
    let t = 0;
    for (const m of ex.messages) {
      c += m.content.length;
      bytes += Buffer.byteLength(m.content, "utf8");
      t += countTokens(m.content) + TEMPLATE_TOKENS_PER_MESSAGE;
    }
    messages += ex.messages.length;
    chars += c;
    tokens += t;
    maxChars = Math.max(maxChars, c);
    maxTokens = Math.max(maxTokens, t);
    if (ex.provenance?.language === "es") es++;
    const src = ex.provenance?.source ?? "unknown";
    const s = perSource[src] ?? { conversations: 0, tokens: 0 };
    s.conversations++;
    s.tokens += t;
    perSource[src] = s;
  }
  return {
    conversations: examples.length,
    messages,
    chars,
    bytes,
    tokens,
    maxChars,
    maxTokens,
    meanTokens: examples.length ? tokens / examples.length : 0,
    perSource,
    spanishShare: examples.length ? es / examples.length : 0,
  };
}

/** Where a world row comes from: round 0, the item's family, category and language, and its framing if any. */
function itemProvenance(it: WorldItem): SftExample["provenance"] {
  return {
    round: 0,
    source: `world:${it.family}`,
    category: it.category,
    language: it.language,
    ...(it.framing ? { technique: it.framing } : {}),
  };
}

/** SFT rows with the world's SAFE answers (refusals for harmful requests, helpful answers otherwise). */
export function safeSftExamples(world: World, filter: ItemFilter = {}): SftExample[] {
  return selectItems(world, filter).map((it) => ({
    messages: itemConversation(it, "safe"),
    provenance: itemProvenance(it),
  }));
}

/** DPO pairs for the harmful items of a filter: chosen = the world's refusal, rejected = the base compliance. */
export function safetyPreferencePairs(world: World, filter: ItemFilter = {}): PreferencePair[] {
  return selectItems(world, { ...filter, label: "unsafe" }).map((it) => {
    const provenance: PreferencePair["provenance"] = {
      round: 0,
      source: `world:${it.family}`,
      category: it.category,
      language: it.language,
    };
    if (provenance && it.framing) provenance.technique = it.framing;
    return {
      prompt: [...it.history, { role: "user", content: it.prompt }],
      chosen: [{ role: "assistant", content: it.safeResponse }],
      rejected: [{ role: "assistant", content: it.baseResponse }],
      provenance,
    };
  });
}

/**
 * Texts to train the world's tokenizer on: every message of every world item in both its base and its safe form
 * (so the refusals a fixed model will learn are tokenised as well as the compliant answers the base model learns),
 * the gazetteer, and the red team's framings as the world renders them, then one seen-pool rephrasing of every train
 * and dev item a rephrasing probe copies (so casing and typos are tokenised like the rest). All
 * splits are included: a tokenizer sees text, not labels, and the probes a model is measured on must tokenise like
 * the rest of the world. Deterministic, de-duplicated, in a fixed order.
 */
export function tokenizerTexts(world: World): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (t: string) => {
    if (!seen.has(t)) {
      seen.add(t);
      out.push(t);
    }
  };
  for (const it of world.items) {
    for (const m of it.history) add(m.content);
    add(it.prompt);
    add(it.baseResponse);
    add(it.safeResponse);
  }
  for (const c of world.knowledge) for (const m of c) add(m.content);
  // One seen-pool rephrasing of every train and dev item a rephrasing probe copies (the dev ones are the dev probes).
  // Not the framed items (their long prompts, repeated, cost the world's longest conversations ~30 real tokens with a
  // 1,024-symbol BPE) and nothing of the held-out pools.
  for (const it of world.items) {
    if (!isRephraseProbeItem(it) || (it.split !== "train" && it.split !== "dev")) continue;
    const r = rephraseItem(
      it,
      "seen",
      Rng.derive(world.config.seed, "rephrase", "seen", it.id),
      world.config.maxConversationTokens,
    );
    if (r) add(r.prompt);
  }
  return out;
}
