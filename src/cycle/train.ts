/**
 * The training data of a round: one round's curated files (stacked rounds) or every round's merged (cumulative).
 * Training itself runs on a backend (src/train/backends/), called by the cycle's train step.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type CurationFiles, curationFiles } from "../curate/io.ts";
import { splitGroup } from "../curate/pipeline.ts";
import type { Conversation, SftExample } from "../domain/types.ts";

const countLines = (file: string): number =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim()).length
    : 0;

type Split = "train" | "validation";
type RowKind = "harmful" | "counter" | "retention";

/** What a merged row is: an SFT row and its DPO pair (the curation writes them as parallel lines). */
interface MergedRow {
  sft: string;
  dpo?: string;
  split: Split;
  kind: RowKind;
  /** Its split group (curate/pipeline.ts splitGroup): the seed ask it came from, else its normalised user text. */
  group: string;
  /** Every round whose curation produced this prompt, in order. */
  rounds: number[];
}

/** How the merge went: rows kept per kind and split, and what the content key removed (data-all/merge.json). */
export interface MergeSummary {
  sources: string[];
  /** Rows read (SFT lines of every round, train and validation). */
  read: number;
  /** Rows kept, by split and by kind. */
  kept: { train: number; validation: number; byKind: Record<string, number> };
  /** Rows whose prompt an earlier round had curated already, by kind (the latest round's row is kept). */
  repeats: Record<string, number>;
  /** Prompts curated in several rounds whose train/validation split differed between rounds (the latest wins). */
  splitChanged: number;
  /** Rows moved to the other split to join the latest row of their seed ask (or of their normalised text). */
  movedWithGroup: number;
  /** Kept rows by the number of rounds that curated their prompt ("1": once, "2": twice ...). */
  byRoundCount: Record<string, number>;
}

/** The prompt of a conversation: up to and including its last user turn; (role, content) pairs, key order fixed. */
function promptKey(conv: Conversation): string {
  let end = conv.length;
  while (end > 0 && conv[end - 1].role === "assistant") end--;
  return JSON.stringify(conv.slice(0, end).map((m) => [m.role, m.content]));
}

function kindOf(technique: unknown): RowKind {
  return technique === "retention" ? "retention" : technique === "counter_data" ? "counter" : "harmful";
}

function readLines(file: string): string[] {
  return existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim())
    : [];
}

function parseLine(file: string, i: number, line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}:${i + 1}: invalid JSON (${(e as Error).message})`);
  }
}

function writeAtomic(file: string, lines: readonly string[]): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, lines.length ? `${lines.join("\n")}\n` : "");
  renameSync(tmp, file);
}

const inc = (rec: Record<string, number>, k: string) => {
  rec[k] = (rec[k] ?? 0) + 1;
};

/**
 * The fix data of several rounds as one set of files, one row per prompt. Every round's curation samples its own
 * counter-data and retention rows, and a finding the next model still fails is curated again, so the same prompt
 * comes back in later rounds with only its provenance (the round number) changed: a line-level dedup kept all
 * copies, and rows curated in rounds 1..3 trained 2-3 times as often as the rest (measured on three demo runs: 82-145
 * of round 3's 1,096-1,201 rows, with their DPO pairs; docs/demo-recipe.md, issue 19). Rules:
 * - one row per prompt (the conversation up to its last user turn): the row of the latest round that curated it
 *   wins (its answer, DPO pair, provenance and split); merge.json lists how many prompts came from several rounds;
 * - a prompt is in train or in validation, never both (each round splits with its own seed, so a round-1 validation
 *   prompt could come back as a round-3 train row, and its eval loss then measured a trained row); and so is a seed
 *   ask under all its wrappings (its split group, as the curation splits): every row of a group goes to the side of
 *   the group's latest row;
 * - the kinds keep the ratios each round's curation set (counter-data and retention per accepted safety row): no
 *   kind is resampled, since all three lose their repeats the same way (measured ratios in docs/demo-recipe.md).
 * Written atomically, idempotent: the same folders give the same files.
 */
export function mergeCurationFiles(dirs: readonly string[], out: string): CurationFiles {
  const files = curationFiles(out);
  mkdirSync(out, { recursive: true });
  const rows = new Map<string, MergedRow>();
  const summary: MergeSummary = {
    sources: dirs.map((d) => path.relative(out, d) || "."),
    read: 0,
    kept: { train: 0, validation: 0, byKind: {} },
    repeats: {},
    splitChanged: 0,
    movedWithGroup: 0,
    byRoundCount: {},
  };
  dirs.forEach((dir, index) => {
    const src = curationFiles(dir);
    for (const [split, sftFile, dpoFile] of [
      ["train", src.sft, src.dpo],
      ["validation", src.sftVal, src.dpoVal],
    ] as const) {
      const sft = readLines(sftFile);
      // DPO pairs by prompt: every pair belongs to an SFT row; an SFT row may have none (a safety-set prompt with no
      // compliant answer to reject is SFT data only).
      const dpoByKey = new Map<string, { line: string; n: number }>();
      readLines(dpoFile).forEach((line, i) => {
        const prompt = parseLine(dpoFile, i, line).prompt as Conversation | undefined;
        if (!Array.isArray(prompt)) throw new Error(`${dpoFile}:${i + 1}: prompt: expected a list of turns`);
        dpoByKey.set(promptKey(prompt), { line, n: i + 1 });
      });
      const sftKeys = new Set<string>();
      sft.forEach((line, i) => {
        summary.read++;
        const row = parseLine(sftFile, i, line);
        const messages = row.messages as Conversation | undefined;
        if (!Array.isArray(messages)) throw new Error(`${sftFile}:${i + 1}: messages: expected a list of turns`);
        const prov = (row.provenance ?? {}) as { round?: number; technique?: string };
        const key = promptKey(messages);
        sftKeys.add(key);
        const before = rows.get(key);
        const kind = kindOf(prov.technique);
        const round = typeof prov.round === "number" ? prov.round : index + 1;
        if (before) {
          inc(summary.repeats, kind);
          if (before.split !== split) summary.splitChanged++;
          rows.delete(key); // re-inserted below: the merged files keep the order of each prompt's latest round
        }
        rows.set(key, {
          sft: line,
          dpo: dpoByKey.get(key)?.line,
          split,
          kind,
          group: splitGroup(row as unknown as SftExample),
          rounds: [...(before?.rounds ?? []), round],
        });
      });
      for (const [k, { n }] of dpoByKey)
        if (!sftKeys.has(k))
          throw new Error(`${dpoFile}:${n}: the pair's prompt is in no row of ${path.basename(sftFile)}`);
    }
  });
  // One side per split group: the side of its latest row (the map keeps rows in the order of their latest round).
  const groupSplit = new Map<string, Split>();
  for (const r of rows.values()) groupSplit.set(r.group, r.split);
  for (const r of rows.values()) {
    const side = groupSplit.get(r.group) ?? r.split;
    if (side !== r.split) summary.movedWithGroup++;
    r.split = side;
  }
  const pick = (split: Split, side: "sft" | "dpo") =>
    [...rows.values()].filter((r) => r.split === split && r[side] !== undefined).map((r) => r[side] as string);
  writeAtomic(files.sft, pick("train", "sft"));
  writeAtomic(files.dpo, pick("train", "dpo"));
  writeAtomic(files.sftVal, pick("validation", "sft"));
  writeAtomic(files.dpoVal, pick("validation", "dpo"));
  for (const r of rows.values()) {
    summary.kept[r.split]++;
    inc(summary.kept.byKind, r.kind);
    inc(summary.byRoundCount, String(new Set(r.rounds).size));
  }
  writeAtomic(path.join(out, "merge.json"), [JSON.stringify(summary, null, 2)]);
  return files;
}

/** The training files of a round from its data folders (one folder: as is; several: merged into mergedDir). */
export function roundTrainingFiles(dataDirs: readonly string[], mergedDir: string) {
  const files = dataDirs.length === 1 ? curationFiles(dataDirs[0]) : mergeCurationFiles(dataDirs, mergedDir);
  return { files, rows: countLines(files.sft), hasVal: countLines(files.sftVal) > 0 };
}
