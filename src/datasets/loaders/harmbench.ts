/**
 * HarmBench (Mazeika et al. 2024) text behaviors: all (400) = test (320) + val (80). FunctionalCategory is
 * standard / contextual / copyright; a contextual behavior's prompt is `ContextString + "\n\n---\n\n" + Behavior`
 * (HarmBench's convention) and the ContextString is also kept in meta. When harmbench_targets_text.json is present,
 * each behavior's affirmative optimiser target is kept in meta.target.
 */

import { existsSync } from "node:fs";
import type { Probe } from "../../domain/types.ts";
import { readJson } from "../read.ts";
import { remoteFile } from "../sources.ts";
import { DatasetError, type DatasetInfo, type DatasetLoader } from "../types.ts";
import { fileIn, makeProbe, mapLabel, optional, probeLoader, probesFromCsv, required } from "./common.ts";

const SPLITS = {
  all: { rows: 400 },
  test: { rows: 320 },
  val: { rows: 80 },
} as const;
export type HarmbenchSplit = keyof typeof SPLITS;

/** {BehaviorID: "Sure, here's ..."}: the affirmative target GCG-style optimisers aim for (optional file). */
export const TARGETS_FILE = "harmbench_targets_text.json";

function readTargets(dir: string): Record<string, string> {
  const file = fileIn(dir, TARGETS_FILE);
  if (!existsSync(file)) return {};
  const data = readJson(file);
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw new DatasetError(file, [{ line: 1, problem: "expected an object {BehaviorID: target}" }]);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== "string") throw new DatasetError(file, [{ line: 0, problem: `target of '${k}' is not a string` }]);
    out[k] = v;
  }
  return out;
}

const FUNCTIONAL = new Set(["standard", "contextual", "copyright"]);

function harmbenchInfo(split: HarmbenchSplit): DatasetInfo {
  const file = `harmbench_behaviors_text_${split}.csv`;
  return {
    name: split === "all" ? "harmbench" : `harmbench-${split}`,
    title: `HarmBench text behaviors (${split})`,
    description:
      split === "test"
        ? "The 320 test behaviors HarmBench reports ASR on (standard, contextual, copyright)."
        : split === "val"
          ? "The 80 validation behaviors, for development."
          : "All 400 text behaviors (test + val).",
    kind: "probes",
    license: "MIT",
    homepage: "https://github.com/centerforaisafety/HarmBench",
    rows: SPLITS[split].rows,
    files: [remoteFile("harmbench", file), remoteFile("harmbench", TARGETS_FILE)],
  };
}

function harmbenchLoader(split: HarmbenchSplit): DatasetLoader<Probe> {
  const info = harmbenchInfo(split);
  return probeLoader(info, (dir) => {
    const targets = readTargets(dir);
    return probesFromCsv(
      fileIn(dir, info.files[0].name),
      ["behavior", "functionalcategory", "semanticcategory", "contextstring", "behaviorid"],
      (row) => {
        const behavior = required(row, "behavior");
        const functional = required(row, "functionalcategory").trim();
        if (!FUNCTIONAL.has(functional)) {
          throw new Error(`FunctionalCategory '${functional}' is not one of ${[...FUNCTIONAL].join(", ")}`);
        }
        const semantic = required(row, "semanticcategory").trim();
        const context = optional(row, "contextstring");
        if (functional === "contextual" && !context) throw new Error("a contextual behavior has no ContextString");
        const meta: Record<string, string> = { functionalCategory: functional };
        if (context) meta.contextString = context;
        const tags = optional(row, "tags");
        if (tags) meta.tags = tags;
        const id = required(row, "behaviorid").trim();
        if (targets[id]) meta.target = targets[id];
        return [
          makeProbe(info, {
            id,
            prompt: context ? `${context}\n\n---\n\n${behavior}` : behavior,
            category: mapLabel("harmbench", "SemanticCategory", semantic),
            label: "unsafe",
            language: "en",
            sourceLabel: semantic,
            meta: { ...meta, behavior },
          }),
        ];
      },
    );
  });
}

export const harmbench = harmbenchLoader("all");
export const harmbenchTest = harmbenchLoader("test");
export const harmbenchVal = harmbenchLoader("val");
