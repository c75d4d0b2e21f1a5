/**
 * MultiJail (Deng et al., ICLR 2024): 315 unsafe prompts, each in English and human-translated into 9 languages
 * (zh, it, vi high-resource; ar, ko, th medium; bn, sw, jv low): 3150 probes. `tags` is a Python-list string; the
 * first tag decides the category and all tags are kept in meta.
 */

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
    const category = mapLabel("multijail", "tags", tags[0]);
    for (const t of tags.slice(1)) mapLabel("multijail", "tags", t);
    return MULTIJAIL_LANGUAGES.map((lang) =>
      makeProbe(multijailInfo, {
        id: `${id}:${lang}`,
        prompt: required(row, lang),
        category,
        label: "unsafe",
        language: lang,
        sourceLabel: tags[0],
        // group: the dev/test split keeps a prompt and its translations on one side.
        meta: { tags: tags.join("; "), origin: required(row, "source"), rowId: id, group: id },
      }),
    );
  }),
);
