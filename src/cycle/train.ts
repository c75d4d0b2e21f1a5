/**
 * The training data of a round: one round's curated files (stacked rounds) or every round's merged (cumulative).
 * Training itself runs on a backend (src/train/backends/), called by the cycle's train step.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { type CurationFiles, curationFiles } from "../curate/io.ts";

const countLines = (file: string): number =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim()).length
    : 0;

/**
 * The fix data of several rounds as one set of files (rows in round order, exact duplicate lines kept once: the
 * retention sample of two rounds can repeat a row); written atomically, idempotent.
 */
export function mergeCurationFiles(dirs: readonly string[], out: string): CurationFiles {
  const files = curationFiles(out);
  mkdirSync(out, { recursive: true });
  for (const k of ["sft", "dpo", "sftVal", "dpoVal"] as const) {
    const lines = dirs
      .map((d) => curationFiles(d)[k])
      .filter((f) => existsSync(f))
      .flatMap((f) => readFileSync(f, "utf8").split("\n"))
      .filter((l) => l.trim());
    const text = [...new Set(lines)].join("\n");
    const tmp = `${files[k]}.tmp`;
    writeFileSync(tmp, text ? `${text}\n` : "");
    renameSync(tmp, files[k]);
  }
  return files;
}

/** The training files of a round from its data folders (one folder: as is; several: merged into mergedDir). */
export function roundTrainingFiles(dataDirs: readonly string[], mergedDir: string) {
  const files = dataDirs.length === 1 ? curationFiles(dataDirs[0]) : mergeCurationFiles(dataDirs, mergedDir);
  return { files, rows: countLines(files.sft), hasVal: countLines(files.sftVal) > 0 };
}
