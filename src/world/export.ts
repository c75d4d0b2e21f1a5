/**
 * Writes the world to files other tools read: the base training corpus and the world's safe SFT / DPO data as TRL
 * conversational JSONL, the red-team seeds and the held-out benchmark as Probe JSONL, the tokenizer texts, and a
 * manifest with sizes and content hashes. Every file is written to a temporary name and renamed, so a killed export
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
}

function writeAtomic(file: string, text: string): string {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return createHash("sha256").update(text).digest("hex");
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : "");

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
  };
  writeAtomic(path.join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
