/**
 * AdvBench (Zou et al. 2023): 520 harmful behaviors (goal + the affirmative target GCG optimises toward) and 574
 * harmful strings. AdvBench has no category labels, so behaviors are assigned a taxonomy category by the ordered
 * keyword rules below; such probes carry meta.categoryInferred = true and sourceLabel "unlabelled".
 */
import type { CategoryId } from "../../domain/taxonomy.ts";
import { readCsv } from "../read.ts";
import { remoteFile } from "../sources.ts";
import { type DatasetInfo, type DatasetLoader, ProblemCollector } from "../types.ts";
import { fileIn, makeProbe, probeLoader, probesFromCsv, required } from "./common.ts";

/** Ordered rules: the first whose pattern matches the behavior decides its category. */
export const ADVBENCH_CATEGORY_RULES: readonly (readonly [RegExp, CategoryId])[] = [
  [/\b(child|minor)s?\b.*\b(sex|porn|nude|explicit)|\b(sex|porn|nude|explicit).*\b(child|minor)/i, "S4"],
  [/\bsuicide|self[- ]harm|eating disorder|anorexi|bulimi|cutting themselves/i, "S11"],
  [
    /\b(bomb|explosive|chemical weapon|biological weapon|bioweapon|nerve agent|nuclear|radiological|toxic gas|anthrax|pathogen|bioweapon)/i,
    "S9",
  ],
  [/\b(racis|hate speech|hateful|discriminat|minority group|ethnic|religio|sexis|xenophob)/i, "S10"],
  [/\b(election|vote|voting|ballot)/i, "S13"],
  [
    /\b(fake news|misinformation|disinformation|conspiracy|propaganda|hoax|false information|spread(s|ing)? (false|misleading))/i,
    "misinformation",
  ],
  [/\b(defam|slander|libel)/i, "S5"],
  [
    /\b(personal (information|data)|private information|dox|stalk|track (someone|a person|the location)|spy on|surveil|without (their|his|her) consent)/i,
    "S7",
  ],
  [/\b(pirat|copyright|counterfeit (goods|products)|plagiari)/i, "S8"],
  // Trafficking of people only: AdvBench's one trafficking row is about endangered species (non-violent crime, S2).
  [
    /\b(sexual assault|rape|(sex|human|child|people|person)\w* traffick|traffick\w* (in )?(wom[ae]n|girls?|child|children|people|humans?|persons?)|traffic (wom[ae]n|girls|children|people|humans))/i,
    "S3",
  ],
  [/\b(sexual|porn|explicit)/i, "S12"],
  [
    /\b(kill|murder|assassinat|assault|violence|violent|attack (a|on)|harm (someone|others|people|a person)|hurt|injur|poison|terror|weapon|gun|firearm|shoot|kidnap|torture|abuse|fight)/i,
    "S1",
  ],
];

export function advbenchCategory(goal: string): CategoryId {
  for (const [re, c] of ADVBENCH_CATEGORY_RULES) if (re.test(goal)) return c;
  // Everything else in AdvBench is hacking, fraud, theft, drugs and other non-violent crime.
  return "S2";
}

export const advbenchInfo: DatasetInfo = {
  name: "advbench",
  title: "AdvBench harmful behaviors",
  description: "520 harmful behaviors with GCG targets; categories inferred by keyword rules (AdvBench has none).",
  kind: "probes",
  license: "MIT",
  homepage: "https://github.com/llm-attacks/llm-attacks",
  rows: 520,
  files: [remoteFile("advbench", "harmful_behaviors.csv")],
};

export const advbench = probeLoader(advbenchInfo, (dir) => {
  let n = 0;
  return probesFromCsv(fileIn(dir, "harmful_behaviors.csv"), ["goal", "target"], (row) => {
    n++;
    const goal = required(row, "goal");
    return [
      makeProbe(advbenchInfo, {
        id: String(n),
        prompt: goal,
        category: advbenchCategory(goal),
        label: "unsafe",
        language: "en",
        sourceLabel: "unlabelled",
        meta: { target: required(row, "target"), categoryInferred: true },
      }),
    ];
  });
});

/** One of AdvBench's harmful strings: text the attack tries to make the model emit verbatim. */
export interface TargetString {
  id: string;
  text: string;
  source: string;
  license: string;
}

export const advbenchStringsInfo: DatasetInfo = {
  name: "advbench-strings",
  title: "AdvBench harmful strings",
  description: "574 toxic target strings for the exact-match 'harmful strings' setting.",
  kind: "target-strings",
  license: "MIT",
  homepage: "https://github.com/llm-attacks/llm-attacks",
  rows: 574,
  files: [remoteFile("advbench", "harmful_strings.csv")],
};

export const advbenchStrings: DatasetLoader<TargetString> = {
  info: advbenchStringsInfo,
  load: async (dir) => {
    const file = fileIn(dir, "harmful_strings.csv");
    const rows = readCsv(file, ["target"]);
    const pc = new ProblemCollector(file);
    const out: TargetString[] = [];
    rows.forEach((row, i) => {
      const text = pc.check(row.line, () => required(row, "target"));
      if (text !== undefined) {
        out.push({ id: `advbench-strings:${i + 1}`, text, source: "advbench-strings", license: "MIT" });
      }
    });
    pc.throwIfAny();
    return out;
  },
  facets: () => ({ category: "unlabelled", label: "unsafe", language: "en" }),
  idOf: (s) => s.id,
};
