/**
 * MultiJail (Deng et al., ICLR 2024): 315 unsafe prompts, each in English and human-translated into 9 languages
 * (zh, it, vi high-resource; ar, ko, th medium; bn, sw, jv low): 3150 probes. `tags` is a Python-list string of 1-4
 * harm tags in no documented order (SOURCE.md); each tag maps onto the taxonomy (domain/taxonomy.ts) and the probe's
 * category is the mapped category that ranks first in MULTIJAIL_PRECEDENCE (the tag that gave it is the sourceLabel).
 * Every tag is kept in meta.tags, in the file's order, and every category they map to in meta.categories, in
 * precedence order, so a reader can count a row under each of its harms.
 */

import type { CategoryId } from "../../domain/taxonomy.ts";
import { remoteFile } from "../sources.ts";
import type { DatasetInfo } from "../types.ts";
import { fileIn, makeProbe, mapLabel, probeLoader, probesFromCsv, required } from "./common.ts";

export const MULTIJAIL_LANGUAGES = ["en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv"] as const;

export const multijailInfo: DatasetInfo = {
  name: "multijail",
  title: "MultiJail",
  description: "315 unsafe prompts x 10 languages (English + 9 human translations) = 3150 probes.",
  kind: "probes",
  license: "MIT",
  homepage: "https://github.com/DAMO-NLP-SG/multilingual-safety-for-LLMs",
  rows: 3150,
  files: [remoteFile("multijail", "MultiJail.csv")],
};

/**
 * The rule that picks a multi-tag row's category: the most specific, most severe harm first. A row tagged "Child abuse"
 * and "Violence & incitement" is a child-abuse prompt, one tagged "Substance abuse" and "Self-harm" a self-harm prompt.
 *   S4 child sexual exploitation, S3 sex-related crimes (trafficking): the narrowest hazards, the gravest harm;
 *   S11 self-harm: harm to the asker, with its own expected answer (help, not only a refusal);
 *   S1 violent crimes (violence, terrorism, animal abuse): physical harm;
 *   S7 privacy (soliciting personal information): a named harm to a third party;
 *   S10 hate (hate speech, discrimination, bullying);
 *   S12 sexual content (adult content): content, not a crime;
 *   misinformation (conspiracy theories);
 *   S2 non-violent crimes last: MultiJail's catch-all, six tags map to it (theft, fraud, weapons, property crime,
 *   substances, and "non-violent unethical behavior", which names no crime at all), so it is the least specific.
 * It ranks exactly the categories the multijail label map gives (a test holds them equal).
 */
export const MULTIJAIL_PRECEDENCE: readonly CategoryId[] = [
  "S4",
  "S3",
  "S11",
  "S1",
  "S7",
  "S10",
  "S12",
  "misinformation",
  "S2",
];

/** A row's tags -> its primary category (MULTIJAIL_PRECEDENCE; ties: the first such tag) and all its categories. */
export function multijailCategories(tags: readonly string[]): {
  category: CategoryId;
  sourceLabel: string;
  categories: CategoryId[];
} {
  const mapped = tags.map((t) => ({ tag: t, category: mapLabel("multijail", "tags", t) }));
  const rank = (c: CategoryId) => {
    const i = MULTIJAIL_PRECEDENCE.indexOf(c);
    if (i < 0) throw new Error(`multijail: category ${c} has no place in MULTIJAIL_PRECEDENCE`);
    return i;
  };
  // stable: among tags of one category the first in the file's order wins
  const first = mapped.reduce((best, m) => (rank(m.category) < rank(best.category) ? m : best));
  const categories = [...new Set(mapped.map((m) => m.category))].sort((a, b) => rank(a) - rank(b));
  return { category: first.category, sourceLabel: first.tag, categories };
}

/** Parses MultiJail's Python-list tag strings, e.g. "['Theft', 'Weapons']". */
export function parseTags(raw: string): string[] {
  const s = raw.trim();
  if (!s.startsWith("[") || !s.endsWith("]")) throw new Error(`tags '${raw}' is not a list like ['Theft']`);
  const tags: string[] = [];
  const re = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(?:,|$)/gy;
  const inner = s.slice(1, -1);
  re.lastIndex = 0;
  while (re.lastIndex < inner.length) {
    const m = re.exec(inner);
    if (!m) throw new Error(`tags '${raw}' is not a list of quoted strings`);
    tags.push((m[1] ?? m[2]).replace(/\\(.)/g, "$1"));
  }
  if (tags.length === 0) throw new Error("tags is an empty list");
  return tags;
}

export const multijail = probeLoader(multijailInfo, (dir) =>
  probesFromCsv(fileIn(dir, "MultiJail.csv"), ["id", "source", "tags", ...MULTIJAIL_LANGUAGES], (row) => {
    const id = required(row, "id").trim();
    const tags = parseTags(required(row, "tags"));
    const { category, sourceLabel, categories } = multijailCategories(tags);
    return MULTIJAIL_LANGUAGES.map((lang) =>
      makeProbe(multijailInfo, {
        id: `${id}:${lang}`,
        prompt: required(row, lang),
        category,
        label: "unsafe",
        language: lang,
        sourceLabel,
        // group: the dev/test split keeps a prompt and its translations on one side.
        meta: {
          tags: tags.join("; "),
          categories: categories.join("; "),
          origin: required(row, "source"),
          rowId: id,
          group: id,
        },
      }),
    );
  }),
);
