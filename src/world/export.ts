/**
 * Writes the world to files other tools read: the base training corpus and the world's safe SFT / DPO data as TRL
 * conversational JSONL, the probes of every split (train, red-team seeds, dev and test; each probe's meta carries its
 * split and slice) as Probe JSONL, the tokenizer texts, and a manifest with sizes, content hashes and the held-out
 * templates. Every file is written to a temporary name and renamed, so a killed export
 * never leaves a half-written file behind, and a re-run gives byte-identical files.
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  baseCorpus,
  type CorpusConfig,
  corpusSize,
  safeSftExamples,
  safetyPreferencePairs,
  tokenizerTexts,
} from "./corpus.ts";
import { SPLITS, type World, worldProbes } from "./generate.ts";

export interface ExportManifest {
  seed: number;
  worldConfig: World["config"];
  corpusConfig: Partial<CorpusConfig>;
  files: Record<string, { rows: number; sha256: string }>;
  corpus: ReturnType<typeof corpusSize>;
  /** The templates held out of train, red-team and dev (only test items use them; meta.slice "out-of-distribution"). */
  heldOutTemplates: {
    harmful: Record<string, readonly string[]>;
    escalation: Record<string, readonly string[]>;
    definitionTwin: Record<string, readonly string[]>;
    framing: Record<string, Record<string, readonly string[]>>;
    lookalike: string[];
  };
}

function writeAtomic(file: string, text: string): string {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return createHash("sha256").update(text).digest("hex");
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : "");

function heldOutTemplates(world: World): ExportManifest["heldOutTemplates"] {
  const h = world.holdout;
  const per = (x: Record<string, { heldOut: readonly string[] }>) =>
    Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.heldOut]));
  return {
    harmful: per(h.harmful),
    escalation: per(h.escalation),
    definitionTwin: per(h.definitionTwin),
    framing: Object.fromEntries(Object.entries(h.framing).map(([f, v]) => [f, per(v)])),
    lookalike: [...h.lookalike].sort(),
  };
}

/** Exports the world into `dir` (created if missing) and returns the manifest it wrote. */
export function exportWorld(world: World, dir: string, corpusConfig: Partial<CorpusConfig> = {}): ExportManifest {
  mkdirSync(dir, { recursive: true });
  const corpus = baseCorpus(world, corpusConfig);
  const files: ExportManifest["files"] = {};
  const put = (name: string, rows: readonly unknown[]) => {
    files[name] = { rows: rows.length, sha256: writeAtomic(path.join(dir, name), jsonl(rows)) };
  };
  put("base_corpus.jsonl", corpus);
  put("safe_sft.train.jsonl", safeSftExamples(world, { split: "train" }));
  put("dpo.train.jsonl", safetyPreferencePairs(world, { split: "train" }));
  for (const split of SPLITS) put(`probes.${split}.jsonl`, worldProbes(world, { split }));
  put("tokenizer_texts.jsonl", tokenizerTexts(world));
  const manifest: ExportManifest = {
    seed: world.config.seed,
    worldConfig: world.config,
    corpusConfig,
    files,
    corpus: corpusSize(corpus),
    heldOutTemplates: heldOutTemplates(world),
  };
  writeAtomic(path.join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
