/**
 * The cycle's curate step leaves out findings whose judgement a reviewer marked wrong (breakfix view reviews), and only
 * what the reviewer rejected: a near-duplicate success merged into a rejected finding takes its place.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../config/load.ts";
import { ContaminationIndex, DEFAULT_HYGIENE } from "../curate/hygiene.ts";
import { TemplateResponder } from "../curate/responders.ts";
import { contentHash } from "../domain/hash.ts";
import { mulberry32 } from "../domain/random.ts";
import { createJudge } from "../judges/registry.ts";
import { SqliteCampaignStore } from "../redteam/campaign/sqlite-store.ts";
import type { AttackRecord } from "../redteam/campaign/types.ts";
import { identify } from "../redteam/identify.ts";
import { Store } from "../store/store.ts";
import { addReview } from "../view/reviews.ts";
import { makeRecord } from "../view/testing/workspace.ts";
import { curateStep } from "./curation.ts";

/** Stores a round-1 campaign of `records` with its identified findings; returns the findings. */
function storeCampaign(store: Store, name: string, records: AttackRecord[]) {
  const cs = new SqliteCampaignStore(store);
  const id = contentHash({ campaign: name });
  cs.putCampaign({
    id,
    createdAt: "2026-12-01T00:00:00Z",
    target: "t",
    judge: "j",
    persona: "low_skilled",
    languages: ["en", "es"],
    seed: 1,
    seedsSource: "test",
    round: 1,
    minSeverity: 3,
    recordIds: records.map((r) => r.id),
    skipped: [],
  });
  for (const r of records) cs.putRecord(r);
  const { findings, vulnerabilities } = identify(records, { round: 1, defaultSeverity: 3 });
  cs.putFindings(id, findings, vulnerabilities);
  return findings;
}

describe("curate step", () => {
  it("drops findings a reviewer rejected, and only those", async () => {
    const store = Store.openFile(":memory:");
    const rand = mulberry32(5);
    const records = Array.from({ length: 30 }, (_, i) => makeRecord({ i, rand }));
    const findings = storeCampaign(store, "curate-step", records);
    expect(findings.length).toBeGreaterThan(2);
    const config = {
      ...defaultConfig(),
      curation: { ...defaultConfig().curation, counterDataRatio: 0, retentionRatio: 0, valFraction: 0 },
    };
    const dir = mkdtempSync(path.join(tmpdir(), "bf-curate-step-"));
    const run = (round: number) =>
      curateStep(findings, {
        store,
        runId: "r",
        round,
        config,
        seed: 1,
        dataDir: path.join(dir, `round-${round}`),
        rel: (p) => p,
        curation: {
          responder: new TemplateResponder(),
          judge: createJudge("refusal-patterns"),
          contamination: async () => ({
            index: new ContaminationIndex([], DEFAULT_HYGIENE),
            sets: {},
            missing: [],
          }),
        },
      });
    const before = await run(1);
    expect(before.rejectedByReview).toBe(0);
    // Which findings each round's fix data came from (row provenance).
    const sources = (round: number) =>
      readFileSync(path.join(dir, `round-${round}`, "sft.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { provenance: { findingId?: string } }).provenance.findingId);
    const victim = findings.find((f) => f.id === sources(1)[0]) as (typeof findings)[number] & { recordId: string };
    addReview(store, {
      targetKind: "redteam.record",
      target: victim.recordId,
      reviewer: "ann",
      verdict: "wrong",
      label: "full_refusal",
      note: "the model refused; the judge misread it",
    });
    const after = await run(2);
    expect(after.rejectedByReview).toBe(1);
    expect(sources(1)).toContain(victim.id);
    expect(sources(2)).not.toContain(victim.id);
    expect(new Set(sources(2))).toEqual(new Set(sources(1).filter((f) => f !== victim.id)));
    store.close();
  });

  it("curation.preferencePairs false curates SFT rows only: no DPO lines, no stored DPO rows", async () => {
    // Found by review: the key was accepted by the schema and read nowhere, so `false` still trained on DPO pairs.
    const store = Store.openFile(":memory:");
    const rand = mulberry32(5);
    const findings = storeCampaign(
      store,
      "curate-pairs",
      Array.from({ length: 30 }, (_, i) => makeRecord({ i, rand })),
    );
    const dir = mkdtempSync(path.join(tmpdir(), "bf-curate-pairs-"));
    const lines = (round: number, file: string) =>
      readFileSync(path.join(dir, `round-${round}`, file), "utf8")
        .split("\n")
        .filter(Boolean);
    const run = (round: number, preferencePairs: boolean) =>
      curateStep(findings, {
        store,
        runId: "r",
        round,
        config: {
          ...defaultConfig(),
          curation: {
            ...defaultConfig().curation,
            counterDataRatio: 1,
            retentionRatio: 0,
            valFraction: 0,
            preferencePairs,
          },
        },
        seed: 1,
        dataDir: path.join(dir, `round-${round}`),
        rel: (p) => p,
        curation: {
          responder: new TemplateResponder(),
          judge: createJudge("refusal-patterns"),
          contamination: async () => ({ index: new ContaminationIndex([], DEFAULT_HYGIENE), sets: {}, missing: [] }),
        },
      });
    const dpoRows = (round: number) => store.datasetRows.count({ dataset: `cycle:r:r${round}`, kind: "dpo" });
    const withPairs = await run(1, true);
    expect(lines(1, "sft.jsonl").length).toBeGreaterThan(2);
    expect(lines(1, "dpo.jsonl").length).toBe(withPairs.card.counts.dpo);
    expect(withPairs.card.counts.dpo).toBeGreaterThan(0);
    expect(dpoRows(1)).toBe(withPairs.card.counts.dpo);
    const without = await run(2, false);
    expect(lines(2, "sft.jsonl")).toEqual(lines(1, "sft.jsonl").map((l) => l.replace('"round":1', '"round":2')));
    expect(lines(2, "dpo.jsonl")).toEqual([]);
    expect(without.card.counts).toMatchObject({ sft: withPairs.card.counts.sft, dpo: 0 });
    expect(dpoRows(2)).toBe(0);
    expect(store.datasetRows.count({ dataset: "cycle:r:r2", kind: "sft" })).toBe(withPairs.rows);
    store.close();
  });

  it("a rejected finding's near-duplicate success (same prompt, its own response) is curated in its place", async () => {
    const store = Store.openFile(":memory:");
    const rand = mulberry32(5);
    // the same attack prompt (a roleplay framing: encoding is held out of curation) sent twice (two targets), both
    // judged successes: identify merges them into one finding
    const records = ["t-a", "t-b"].map((target) => makeRecord({ i: 5, rand, target, outcome: "success" }));
    const findings = storeCampaign(store, "curate-step-duplicates", records);
    expect(findings).toHaveLength(1);
    const [rep] = findings;
    const twin = records.find((r) => r.id !== rep.recordId)!;
    expect(rep.duplicates).toEqual([contentHash({ finding: twin.id })]);
    const dir = mkdtempSync(path.join(tmpdir(), "bf-curate-dup-"));
    const config = {
      ...defaultConfig(),
      curation: { ...defaultConfig().curation, counterDataRatio: 0, retentionRatio: 0, valFraction: 0 },
    };
    const run = (round: number) =>
      curateStep(findings, {
        store,
        runId: "r",
        round,
        config,
        seed: 1,
        dataDir: path.join(dir, `round-${round}`),
        rel: (p) => p,
        curation: {
          responder: new TemplateResponder(),
          judge: createJudge("refusal-patterns"),
          contamination: async () => ({ index: new ContaminationIndex([], DEFAULT_HYGIENE), sets: {}, missing: [] }),
        },
      });
    const rows = (round: number) =>
      readFileSync(path.join(dir, `round-${round}`, "sft.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { provenance: { findingId?: string } });
    const reject = (target: string) =>
      addReview(store, {
        targetKind: "redteam.record",
        target,
        reviewer: "ann",
        verdict: "wrong",
        label: "full_refusal",
      });
    reject(rep.recordId);
    const one = await run(1);
    expect(one.rejectedByReview).toBe(1);
    // the twin's success was never reviewed: it is curated, as the finding identify makes of it
    expect(rows(1).map((r) => r.provenance.findingId)).toEqual([contentHash({ finding: twin.id })]);
    // once the twin is rejected too, nothing of the cluster is curated
    reject(twin.id);
    const both = await run(2);
    expect(both.rejectedByReview).toBe(1);
    expect(rows(2).map((r) => r.provenance.findingId)).toEqual([]);
    store.close();
  });
});
