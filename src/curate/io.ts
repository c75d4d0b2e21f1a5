/**
 * Writing a curation result: sft.jsonl and dpo.jsonl (TRL's conversational formats, the trainer reads them), the
 * validation rows in sft.val.jsonl / dpo.val.jsonl, the dataset card (card.md, card.json) and removed.jsonl (every
 * dropped row with its reason). Provenance rides along on every row as an extra column (TRL ignores it).
 * Each file is written to a temporary name and renamed, so a crash never leaves half a file.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Finding } from "../domain/types.ts";
import { findingSchema } from "../redteam/findings-schema.ts";
import { readJsonlFile } from "../train/jsonl.ts";
import type { CurationResult } from "./pipeline.ts";
import { renderCard } from "./pipeline.ts";

export interface CurationFiles {
  sft: string;
  dpo: string;
  sftVal: string;
  dpoVal: string;
  cardMd: string;
  cardJson: string;
  removed: string;
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");

export function curationFiles(dir: string): CurationFiles {
  return {
    sft: join(dir, "sft.jsonl"),
    dpo: join(dir, "dpo.jsonl"),
    sftVal: join(dir, "sft.val.jsonl"),
    dpoVal: join(dir, "dpo.val.jsonl"),
    cardMd: join(dir, "card.md"),
    cardJson: join(dir, "card.json"),
    removed: join(dir, "removed.jsonl"),
  };
}

export function writeCuration(dir: string, res: CurationResult): CurationFiles {
  mkdirSync(dir, { recursive: true });
  const f = curationFiles(dir);
  const train = res.rows.filter((r) => r.split === "train");
  const val = res.rows.filter((r) => r.split === "validation");
  writeAtomic(f.sft, jsonl(train.map((r) => r.sft)));
  writeAtomic(f.dpo, jsonl(train.flatMap((r) => (r.dpo ? [r.dpo] : []))));
  writeAtomic(f.sftVal, jsonl(val.map((r) => r.sft)));
  writeAtomic(f.dpoVal, jsonl(val.flatMap((r) => (r.dpo ? [r.dpo] : []))));
  writeAtomic(f.removed, jsonl(res.dropped));
  writeAtomic(f.cardJson, `${JSON.stringify(res.card, null, 2)}\n`);
  writeAtomic(f.cardMd, renderCard(res.card, res.dropped));
  return f;
}

/**
 * Reads a findings JSONL file (as `breakfix redteam --export` writes it): every bad line is named at once (file:line:
 * problem, train/jsonl.ts's reader), and each finding is kept as written (keys the schema does not name, such as
 * attack.goal, which curation reads, are not dropped).
 */
export function readFindingsJsonl(file: string): Finding[] {
  // the schema checks what curation relies on (a response's conversation and finish reason are not needed)
  return readJsonlFile(file, findingSchema, { asWritten: true }).map((r) => r.row as unknown as Finding);
}
