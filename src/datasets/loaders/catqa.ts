/**
 * CatQA / CategoricalHarmfulQA (Bhardwaj et al. 2024): nested JSON {category: {subcategory: [question, ...]}},
 * 11 categories x 5 subcategories x 10 questions = 550 per language, in English, Chinese and Vietnamese.
 * Subcategory keys end with ":" in the en/zh files but not in vi; the trailing ":" is dropped.
 */
import type { Probe } from "../../domain/types.ts";
import { readJson, readText } from "../read.ts";
import { remoteFile } from "../sources.ts";
import { DatasetError, type DatasetInfo, ProblemCollector } from "../types.ts";
import { fileIn, makeProbe, mapLabelFirst, probeLoader } from "./common.ts";

export const CATQA_LANGUAGES = { english: "en", chinese: "zh", vietnamese: "vi" } as const;

export const catqaInfo: DatasetInfo = {
  name: "catqa",
  title: "CatQA (CategoricalHarmfulQA)",
  description: "550 harmful questions per language (11 categories x 5 subcategories x 10) in en, zh, vi.",
  kind: "probes",
  license: "Apache-2.0",
  homepage: "https://github.com/declare-lab/red-instruct",
  rows: 1650,
  files: Object.keys(CATQA_LANGUAGES).map((l) => remoteFile("catqa", `catqa_${l}.json`)),
};

/** 1-based line of the first occurrence of a JSON string value in the file text (for error messages). */
function lineOfString(text: string, value: string, from = 0): number {
  const idx = text.indexOf(JSON.stringify(value).slice(1, -1), from);
  if (idx < 0) return 0;
  let line = 1;
  for (let i = 0; i < idx; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function readLanguage(dir: string, langName: keyof typeof CATQA_LANGUAGES): Probe[] {
  const file = fileIn(dir, `catqa_${langName}.json`);
  const data = readJson(file);
  const lang = CATQA_LANGUAGES[langName];
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw new DatasetError(file, [{ line: 1, problem: "expected an object {category: {subcategory: [questions]}}" }]);
  }
  const text = readText(file);
  const pc = new ProblemCollector(file);
  const out: Probe[] = [];
  for (const [cat, subs] of Object.entries(data as Record<string, unknown>)) {
    const catLine = lineOfString(text, cat);
    if (!subs || typeof subs !== "object" || Array.isArray(subs)) {
      pc.add(catLine, `category '${cat}': expected an object of subcategories`);
      continue;
    }
    let si = 0;
    for (const [subRaw, questions] of Object.entries(subs as Record<string, unknown>)) {
      si++;
      const sub = subRaw.trim().replace(/:$/, "").trim();
      const subLine = lineOfString(text, subRaw);
      if (!Array.isArray(questions)) {
        pc.add(subLine, `'${cat}' / '${subRaw}': expected a list of questions`);
        continue;
      }
      questions.forEach((q, qi) => {
        const p = pc.check(subLine, () => {
          if (typeof q !== "string" || !q.trim())
            throw new Error(`'${cat}' / '${subRaw}' item ${qi + 1}: expected a non-empty string`);
          return makeProbe(catqaInfo, {
            id: `${lang}:${cat}:${si}:${qi + 1}`,
            prompt: q,
            category: mapLabelFirst("catqa", "category", [`${cat}/${sub}`, cat]),
            label: "unsafe",
            language: lang,
            sourceLabel: `${cat}/${sub}`,
            // group: the slot (category, subcategory, question), so the split keeps a question's translations together.
            meta: { category: cat, subcategory: sub, group: `${cat}:${si}:${qi + 1}` },
          });
        });
        if (p) out.push(p);
      });
    }
  }
  pc.throwIfAny();
  return out;
}

export const catqa = probeLoader(catqaInfo, (dir) =>
  (Object.keys(CATQA_LANGUAGES) as (keyof typeof CATQA_LANGUAGES)[]).flatMap((l) => readLanguage(dir, l)),
);
