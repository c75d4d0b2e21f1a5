/**
 * A summary of the world for `breakfix world show`: families, sizes, splits (and the test split's in-distribution /
 * out-of-distribution slices), the held-out templates, categories, languages, framings, look-alike types, the base
 * corpus size, and examples (placeholders only: the world holds nothing else).
 */

import { escapeForTerminal } from "../domain/escape.ts";
import { Rng } from "../domain/random.ts";
import { baseCorpus, type CorpusSize, corpusSize, DEFAULT_CORPUS_CONFIG } from "./corpus.ts";
import { FRAMINGS } from "./framings.ts";
import { FAMILIES, type Family, LANGS, SPLITS, type World, type WorldItem } from "./generate.ts";
import { HARM_CATEGORIES } from "./harm.ts";
import { LOOKALIKE_TEMPLATES, LOOKALIKE_TYPES } from "./lookalikes.ts";

type Counts = Record<string, number>;

export interface FamilySummary {
  family: Family;
  items: number;
  groups: number;
  bySplit: Counts;
  /** Out-of-distribution items (held-out templates; test only). */
  ood: number;
  byLanguage: Counts;
  byKind: Counts;
}

export interface WorldSummary {
  seed: number;
  items: number;
  groups: number;
  knowledge: number;
  duplicatesDropped: number;
  overBudget: number;
  languages: string[];
  splits: Counts;
  /** Items per "split/slice" ("test/out-of-distribution": in held-out templates). */
  slices: Counts;
  /** The template hold-out: share, and per template list "held-out/total" (harmful phrasings etc.). */
  templateHoldout: { share: number; lists: Record<string, string>; lookalikeTemplates: string[] };
  families: FamilySummary[];
  categories: {
    category: string;
    tag: string;
    steps: number;
    maxSeverity: number;
    items: number;
    byLanguage: Counts;
    bySplit: Counts;
  }[];
  framings: Counts;
  /** Items per red-team technique (the red team's own framings, rendered by its code). */
  redteamTechniques: Counts;
  lookalikeTypes: Counts;
  corpus: { config: { size: number; weights: Record<string, number> }; size: CorpusSize };
  examples: {
    id: string;
    family: string;
    kind: string;
    category: string;
    language: string;
    split: string;
    ood: boolean;
    history: { role: string; content: string }[];
    prompt: string;
    baseResponse: string;
    safeResponse: string;
  }[];
}

function count<T>(xs: readonly T[], key: (x: T) => string): Counts {
  const out: Counts = {};
  for (const x of xs) {
    const k = key(x);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Summarises a world; `examplesPerFamily` examples are drawn per family with a seeded stream. */
export function summarizeWorld(world: World, examplesPerFamily = 2, family?: Family): WorldSummary {
  const items = world.items;
  const families = FAMILIES.map((f) => {
    const xs = items.filter((i) => i.family === f);
    return {
      family: f,
      items: xs.length,
      groups: new Set(xs.map((i) => i.group)).size,
      bySplit: count(xs, (i) => i.split),
      ood: xs.filter((i) => i.ood).length,
      byLanguage: count(xs, (i) => i.language),
      byKind: count(xs, (i) => i.kind),
    };
  });
  const unsafe = items.filter((i) => i.label === "unsafe");
  const categories = HARM_CATEGORIES.map((c) => {
    const xs = unsafe.filter((i) => i.category === c.category);
    return {
      category: c.category,
      tag: c.tag,
      steps: c.steps,
      maxSeverity: c.maxSeverity,
      items: xs.length,
      byLanguage: count(xs, (i) => i.language),
      bySplit: count(xs, (i) => i.split),
    };
  });
  const rng = Rng.derive(world.config.seed, "show");
  const examples: WorldItem[] = [];
  for (const f of family ? [family] : FAMILIES) {
    const xs = items.filter((i) => i.family === f);
    examples.push(...rng.sample(xs, examplesPerFamily));
  }
  const corpus = baseCorpus(world);
  const h = world.holdout;
  const frac = (l: { seen: readonly string[]; heldOut: readonly string[] }) =>
    `${l.heldOut.length}/${l.seen.length + l.heldOut.length}`;
  const lists: Record<string, string> = {};
  for (const lang of LANGS) {
    lists[`harmful:${lang}`] = frac(h.harmful[lang]);
    lists[`escalation:${lang}`] = frac(h.escalation[lang]);
    lists[`definition-twin:${lang}`] = frac(h.definitionTwin[lang]);
    for (const f of FRAMINGS) lists[`framing:${f}:${lang}`] = frac(h.framing[f][lang]);
  }
  lists.lookalike = `${h.lookalike.size}/${LOOKALIKE_TEMPLATES.length}`;
  const fl = FRAMINGS.flatMap((f) => LANGS.map((l) => h.framing[f][l]));
  lists.framings = `${fl.reduce((n, l) => n + l.heldOut.length, 0)}/${fl.reduce((n, l) => n + l.seen.length + l.heldOut.length, 0)}`;
  return {
    seed: world.config.seed,
    items: items.length,
    groups: world.splitOf.size,
    knowledge: world.knowledge.length,
    duplicatesDropped: world.duplicatesDropped,
    overBudget: world.overBudget,
    languages: [...LANGS],
    splits: count(items, (i) => i.split),
    slices: count(items, (i) => `${i.split}/${i.ood ? "out-of-distribution" : "in-distribution"}`),
    templateHoldout: { share: h.share, lists, lookalikeTemplates: [...h.lookalike].sort() },
    families,
    categories,
    framings: Object.fromEntries(FRAMINGS.map((f) => [f, items.filter((i) => i.framing === f).length])),
    redteamTechniques: count(
      items.filter((i) => i.technique !== undefined),
      (i) => i.technique ?? "",
    ),
    lookalikeTypes: Object.fromEntries(
      LOOKALIKE_TYPES.map((t) => [t, items.filter((i) => i.family === "lookalike" && i.kind === t).length]),
    ),
    corpus: {
      config: { size: DEFAULT_CORPUS_CONFIG.size, weights: { ...DEFAULT_CORPUS_CONFIG.weights } },
      size: corpusSize(corpus),
    },
    examples: examples.map((e) => ({
      id: e.id,
      family: e.family,
      kind: e.kind,
      category: e.category,
      language: e.language,
      split: e.split,
      ood: e.ood,
      history: e.history,
      prompt: e.prompt,
      baseResponse: e.baseResponse,
      safeResponse: e.safeResponse,
    })),
  };
}

function fmtCounts(c: Counts, keys: readonly string[]): string {
  return keys.map((k) => String(c[k] ?? 0).padStart(6)).join(" ");
}

/** Renders the summary as plain text. */
export function renderWorldSummary(s: WorldSummary): string {
  const L: string[] = [];
  const e = (text: string) => escapeForTerminal(text, { oneLine: true });
  L.push(
    `Demo world of Vell (seed ${s.seed}): ${s.items} items from ${s.groups} underlying items; ` +
      `${s.knowledge} knowledge conversations (gazetteer + capability drills); languages: ${s.languages.join(", ")}`,
  );
  L.push(
    `Splits (items; assigned by underlying item): ${SPLITS.map((k) => `${k} ${s.splits[k] ?? 0}`).join(", ")}; ` +
      `dropped: ${s.duplicatesDropped} duplicate conversations, ${s.overBudget} over the 256-token budget`,
  );
  const sl = (k: string) => s.slices[k] ?? 0;
  L.push(
    `Template hold-out (share ${s.templateHoldout.share}): test ${sl("test/in-distribution")} in-distribution + ` +
      `${sl("test/out-of-distribution")} out-of-distribution items (held-out templates, test only); held out: ` +
      `harmful phrasings ${s.templateHoldout.lists["harmful:en"]}, escalation asks ${s.templateHoldout.lists["escalation:en"]}, ` +
      `definition twins ${s.templateHoldout.lists["definition-twin:en"]} (same in es), look-alike templates ` +
      `${s.templateHoldout.lists.lookalike} (${s.templateHoldout.lookalikeTemplates.join(", ")}), framing templates ` +
      `${s.templateHoldout.lists.framings} (en + es)`,
  );
  L.push("");
  L.push("Families");
  L.push(
    `  ${"family".padEnd(11)} ${"items".padStart(6)} ${"groups".padStart(6)} ${SPLITS.map((k) => k.padStart(6)).join(" ")} ${"ood".padStart(6)} ${LANGS.map((k) => k.padStart(6)).join(" ")}  kinds`,
  );
  for (const f of s.families) {
    const kinds = Object.entries(f.byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
    L.push(
      `  ${f.family.padEnd(11)} ${String(f.items).padStart(6)} ${String(f.groups).padStart(6)} ` +
        `${fmtCounts(f.bySplit, SPLITS)} ${String(f.ood).padStart(6)} ${fmtCounts(f.byLanguage, LANGS)}  ${kinds}`,
    );
  }
  L.push("");
  L.push("Harm categories (unsafe items; placeholders [UNSAFE-<TAG>-STEP-n], severity = max x steps leaked / steps)");
  L.push(
    `  ${"id".padEnd(15)} ${"tag".padEnd(10)} steps maxsev ${"items".padStart(6)} ${SPLITS.map((k) => k.padStart(6)).join(" ")} ${LANGS.map((k) => k.padStart(6)).join(" ")}`,
  );
  for (const c of s.categories)
    L.push(
      `  ${c.category.padEnd(15)} ${c.tag.padEnd(10)} ${String(c.steps).padStart(5)} ${String(c.maxSeverity).padStart(6)} ` +
        `${String(c.items).padStart(6)} ${fmtCounts(c.bySplit, SPLITS)} ${fmtCounts(c.byLanguage, LANGS)}`,
    );
  L.push("");
  L.push(
    `Red-team techniques (their framings, rendered by src/redteam): ${Object.entries(s.redteamTechniques)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
  );
  L.push(
    `Framings (items): ${Object.entries(s.framings)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
  );
  L.push(
    `Look-alike types (safe items): ${Object.entries(s.lookalikeTypes)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
  );
  const cs = s.corpus.size;
  L.push("");
  L.push(
    `Base corpus (default, ${s.corpus.config.size} conversations from the train split + knowledge): ${cs.chars} chars, ` +
      `~${cs.tokens} tokens (estimate; mean ${cs.meanTokens.toFixed(1)}, max ${cs.maxTokens} per conversation), ` +
      `${(100 * cs.spanishShare).toFixed(1)}% Spanish`,
  );
  L.push(
    `  mixture: ${Object.entries(s.corpus.config.weights)
      .map(([k, w]) => `${k} ${w}`)
      .join(", ")}`,
  );
  L.push("");
  L.push("Examples (base = the unsafe-by-construction answer; safe = what the world considers correct)");
  for (const x of s.examples) {
    L.push(`  [${x.family}/${x.kind} ${x.category} ${x.language} ${x.split}${x.ood ? " ood" : ""}] ${x.id}`);
    for (const m of x.history) L.push(`    ${m.role}: ${e(m.content)}`);
    L.push(`    user: ${e(x.prompt)}`);
    L.push(`    base: ${e(x.baseResponse)}`);
    if (x.safeResponse !== x.baseResponse) L.push(`    safe: ${e(x.safeResponse)}`);
  }
  return L.join("\n");
}
