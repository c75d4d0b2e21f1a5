/**
 * JBB-Behaviors (JailbreakBench): 100 harmful behaviors and 100 topic-matched benign twins (same index, behavior
 * and category), for attack success and over-refusal on one paired set. Header names are matched
 * case-insensitively (the HF original is Title-case, the reviewed copy lower-case).
 */

import type { Probe } from "../../domain/types.ts";
import { remoteFile } from "../sources.ts";
import type { DatasetInfo } from "../types.ts";
import { fileIn, makeProbe, mapLabelFirst, probeLoader, probesFromCsv, required } from "./common.ts";

export const jailbreakbenchInfo: DatasetInfo = {
  name: "jailbreakbench",
  title: "JBB-Behaviors (harmful + benign)",
  description: "100 harmful behaviors (label unsafe) and their 100 benign twins (label safe, category benign).",
  kind: "probes",
  license: "MIT",
  homepage: "https://github.com/JailbreakBench/jailbreakbench",
  rows: 200,
  // On a moving revision with no sha256 (sources.yaml says why): `data pull` checks the row count (200) only.
  files: [remoteFile("jailbreakbench", "harmful-behaviors.csv"), remoteFile("jailbreakbench", "benign-behaviors.csv")],
};

/** A Behavior as the taxonomy's override keys spell it: trimmed, inner whitespace collapsed ("Human  trafficking"). */
export const jbbBehaviorKey = (behavior: string) => behavior.trim().replace(/\s+/g, " ");

const COLS = ["index", "goal", "target", "behavior", "category", "source"];

export const jailbreakbench = probeLoader(jailbreakbenchInfo, (dir) => {
  const seen = new Map<string, string>();
  const read = (file: string, kind: "harmful" | "benign"): Probe[] =>
    probesFromCsv(
      fileIn(dir, file),
      COLS,
      (row) => {
        const cat = required(row, "category").trim();
        const behavior = required(row, "behavior");
        // A "category/behavior" key overrides the category where it spans several hazards (taxonomy.ts).
        const harmCategory = mapLabelFirst("jailbreakbench", "category", [`${cat}/${jbbBehaviorKey(behavior)}`, cat]);
        return [
          makeProbe(jailbreakbenchInfo, {
            id: `${kind}-${required(row, "index").trim()}`,
            prompt: required(row, "goal"),
            category: kind === "harmful" ? harmCategory : "benign",
            label: kind === "harmful" ? "unsafe" : "safe",
            language: "en",
            sourceLabel: cat,
            meta: {
              behavior,
              target: required(row, "target"),
              origin: required(row, "source"),
              twinCategory: harmCategory,
            },
          }),
        ];
      },
      seen,
    );
  return [...read("harmful-behaviors.csv", "harmful"), ...read("benign-behaviors.csv", "benign")];
});
