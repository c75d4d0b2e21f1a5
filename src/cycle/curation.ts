/**
 * The curate step of a round: the break step's findings (less those a reviewer rejected) -> SFT rows and DPO pairs (the scenario's responder, judge,
 * counter-data and retention), decontaminated against every measured suite; the files go in the round's data folder
 * and every row in the store's dataset table.
 */
import type { Config } from "../config/schema.ts";
import { writeCuration } from "../curate/io.ts";
import type { DatasetCard } from "../curate/pipeline.ts";
import { runCuration } from "../curate/run.ts";
import type { Finding } from "../domain/types.ts";
import type { Store } from "../store/store.ts";
import { reviewedFindings } from "../view/reviews.ts";
import type { ScenarioCuration } from "./scenario.ts";

export interface CurateResult {
  /** The round's data folder, relative to the workspace. */
  dataDir: string;
  rows: number;
  train: number;
  validation: number;
  card: DatasetCard;
  decontamination: Record<string, number>;
  missingSets: string[];
  /** Findings left out because a reviewer marked their judgement wrong (breakfix view). */
  rejectedByReview?: number;
}

export interface CurateOptions {
  store: Store;
  runId: string;
  round: number;
  curation: ScenarioCuration;
  config: Config;
  seed: number;
  /** Absolute data folder of the round. */
  dataDir: string;
  rel: (p: string) => string;
}

export async function curateStep(all: readonly Finding[], o: CurateOptions): Promise<CurateResult> {
  // Findings a reviewer marked wrong (the judge called a safe answer unsafe) never become fix data; a near-duplicate
  // success merged into one stands in for it (view/reviews.ts reviewedFindings).
  const { findings, rejected } = reviewedFindings(o.store, all);
  const refs = await o.curation.contamination();
  // Never train on data that could not be checked against a benchmark the config reports.
  if (refs.missing.length)
    throw new Error(
      `curate: benchmark sets to decontaminate against are missing: ${refs.missing.join(", ")} (run \`breakfix data pull\`)`,
    );
  const res = await runCuration(findings, {
    round: o.round,
    responder: o.curation.responder,
    judge: o.curation.judge,
    counterData: o.curation.counterData,
    retention: o.curation.retention,
    safetySet: o.curation.safetySet,
    safetySetSeed: o.config.training.seed,
    contamination: refs.index,
    curation: o.config.curation,
    heldOutFamilies: o.config.cycle.heldOutFamilies,
    seed: o.seed,
  });
  writeCuration(o.dataDir, res);
  const dataset = `cycle:${o.runId.slice(0, 16)}:r${o.round}`;
  const scope = { runId: o.runId, round: o.round };
  o.store.datasetRows.putMany(
    res.rows.flatMap((row, i) => [
      { key: { dataset, kind: "sft", i, row: row.sft }, value: { dataset, kind: "sft", row: row.sft }, scope },
      ...(row.dpo
        ? [{ key: { dataset, kind: "dpo", i, row: row.dpo }, value: { dataset, kind: "dpo", row: row.dpo }, scope }]
        : []),
    ]),
  );
  return {
    dataDir: o.rel(o.dataDir),
    rows: res.rows.length,
    train: res.card.counts.train,
    validation: res.card.counts.validation,
    card: res.card,
    decontamination: refs.sets,
    missingSets: refs.missing,
    rejectedByReview: rejected,
  };
}
