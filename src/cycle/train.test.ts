import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { curationFiles } from "../curate/io.ts";
import type { PreferencePair, SftExample } from "../domain/types.ts";
import { type MergeSummary, mergeCurationFiles, roundTrainingFiles } from "./train.ts";

interface Row {
  prompt: string;
  answer: string;
  round: number;
  technique: string;
  /** The seed ask (a finding's goal), when the row has one. */
  goal?: string;
}

const sft = (r: Row): SftExample => ({
  messages: [
    { role: "user", content: r.prompt },
    { role: "assistant", content: r.answer },
  ],
  provenance: { round: r.round, technique: r.technique, source: "test", ...(r.goal ? { goal: r.goal } : {}) },
});
const dpo = (r: Row): PreferencePair => ({
  prompt: [{ role: "user", content: r.prompt }],
  chosen: [{ role: "assistant", content: r.answer }],
  rejected: [{ role: "assistant", content: "no" }],
  provenance: { round: r.round, technique: r.technique, source: "test", ...(r.goal ? { goal: r.goal } : {}) },
});
const jsonl = (xs: unknown[]) => xs.map((x) => `${JSON.stringify(x)}\n`).join("");

/** A round's data folder as the curation writes it: parallel SFT and DPO files, train and validation. */
function roundDir(root: string, round: number, train: Omit<Row, "round">[], val: Omit<Row, "round">[] = []): string {
  const dir = path.join(root, `round-${round}`, "data");
  mkdirSync(dir, { recursive: true });
  const f = curationFiles(dir);
  const t = train.map((r) => ({ ...r, round }));
  const v = val.map((r) => ({ ...r, round }));
  writeFileSync(f.sft, jsonl(t.map(sft)));
  writeFileSync(f.dpo, jsonl(t.map(dpo)));
  writeFileSync(f.sftVal, jsonl(v.map(sft)));
  writeFileSync(f.dpoVal, jsonl(v.map(dpo)));
  return dir;
}

const read = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe("mergeCurationFiles (cumulative rounds)", () => {
  it("keeps one row per prompt across rounds (the latest round's), SFT and DPO alike, and says what it merged", () => {
    const root = mkdtempSync(path.join(tmpdir(), "breakfix-merge-"));
    const h = (p: string, a = "refuse") => ({ prompt: p, answer: a, technique: "direct" });
    const ret = (p: string) => ({ prompt: p, answer: `ans ${p}`, technique: "retention" });
    const ctr = (p: string) => ({ prompt: p, answer: `help ${p}`, technique: "counter_data" });
    const dirs = [
      roundDir(root, 1, [h("ask A"), h("ask B"), ctr("twin A"), ret("sum 1"), ret("sum 2")], [ret("sum 3")]),
      // round 2: ask A again (the round-1 model still failed it) with another refusal, a retention row sampled again
      roundDir(root, 2, [h("ask A", "refuse v2"), h("ask C"), ctr("twin C"), ret("sum 2"), ret("sum 4")]),
      // round 3: the round-1 validation prompt comes back as a train row; sum 2 a third time
      roundDir(root, 3, [h("ask D"), ret("sum 3"), ret("sum 2")]),
    ];
    const out = path.join(root, "round-3", "data-all");
    const files = mergeCurationFiles(dirs, out);
    const train = read(files.sft) as SftExample[];
    const prompts = train.map((r) => r.messages[0].content);
    expect(new Set(prompts).size).toBe(prompts.length);
    expect(prompts.sort()).toEqual([
      "ask A",
      "ask B",
      "ask C",
      "ask D",
      "sum 1",
      "sum 2",
      "sum 3",
      "sum 4",
      "twin A",
      "twin C",
    ]);
    // The latest round's row wins: its answer and provenance.
    const askA = train.find((r) => r.messages[0].content === "ask A");
    expect(askA?.messages[1].content).toBe("refuse v2");
    expect(askA?.provenance?.round).toBe(2);
    expect(train.find((r) => r.messages[0].content === "sum 2")?.provenance?.round).toBe(3);
    // DPO pairs follow their SFT rows one to one.
    const pairs = read(files.dpo) as PreferencePair[];
    expect(pairs.map((p) => p.prompt[0].content)).toEqual(train.map((r) => r.messages[0].content));
    expect(pairs.find((p) => p.prompt[0].content === "ask A")?.chosen[0].content).toBe("refuse v2");
    // A prompt is in train or validation, never both: sum 3 (validation in round 1, train in round 3) trains.
    expect(read(files.sftVal)).toEqual([]);
    expect(read(files.dpoVal)).toEqual([]);
    const summary = JSON.parse(readFileSync(path.join(out, "merge.json"), "utf8")) as MergeSummary;
    expect(summary).toMatchObject({
      read: 14,
      kept: { train: 10, validation: 0, byKind: { harmful: 4, counter: 2, retention: 4 } },
      repeats: { harmful: 1, retention: 3 },
      splitChanged: 1,
      byRoundCount: { "1": 7, "2": 2, "3": 1 },
    });
    // Sources relative to the merged folder.
    expect(summary.sources).toEqual(["../../round-1/data", "../../round-2/data", "../data"]);
    // Idempotent, and roundTrainingFiles counts the merged rows.
    const again = roundTrainingFiles(dirs, out);
    expect(read(again.files.sft)).toEqual(read(files.sft));
    expect(again).toMatchObject({ rows: 10, hasVal: false });
  });

  it("a prompt whose latest round put it in validation leaves train", () => {
    const root = mkdtempSync(path.join(tmpdir(), "breakfix-merge-"));
    const r = (p: string) => ({ prompt: p, answer: "a", technique: "retention" });
    const dirs = [roundDir(root, 1, [r("x"), r("y")]), roundDir(root, 2, [r("z")], [r("x")])];
    const files = mergeCurationFiles(dirs, path.join(root, "all"));
    expect((read(files.sft) as SftExample[]).map((x) => x.messages[0].content)).toEqual(["y", "z"]);
    expect((read(files.sftVal) as SftExample[]).map((x) => x.messages[0].content)).toEqual(["x"]);
    expect((read(files.dpoVal) as PreferencePair[]).map((x) => x.prompt[0].content)).toEqual(["x"]);
  });

  it("one folder is used as it is; files out of step are an error naming the file", () => {
    const root = mkdtempSync(path.join(tmpdir(), "breakfix-merge-"));
    const one = roundDir(root, 1, [{ prompt: "p", answer: "a", technique: "direct" }]);
    expect(roundTrainingFiles([one], path.join(root, "all")).files.sft).toBe(curationFiles(one).sft);
    const two = roundDir(root, 2, [{ prompt: "q", answer: "a", technique: "direct" }]);
    writeFileSync(
      curationFiles(two).dpo,
      jsonl([dpo({ prompt: "other", answer: "a", round: 2, technique: "direct" })]),
    );
    expect(() => mergeCurationFiles([one, two], path.join(root, "all"))).toThrow(
      /round-2\/data\/dpo\.jsonl:1: the pair's prompt is in no row of sft\.jsonl/,
    );
  });

  it("an SFT row with no DPO pair (a safety-set prompt with nothing to reject) merges as SFT data only", () => {
    const root = mkdtempSync(path.join(tmpdir(), "breakfix-merge-"));
    const rows = [
      { prompt: "ask A", answer: "refuse", technique: "direct" },
      { prompt: "set B", answer: "refuse", technique: "safety_set" },
      { prompt: "sum 1", answer: "2", technique: "retention" },
    ];
    const one = roundDir(root, 1, rows);
    // the curation writes pairs only for rows that have one: drop set B's
    writeFileSync(
      curationFiles(one).dpo,
      jsonl(rows.filter((r) => r.prompt !== "set B").map((r) => dpo({ ...r, round: 1 }))),
    );
    const two = roundDir(root, 2, [{ prompt: "ask C", answer: "refuse", technique: "direct" }]);
    const files = mergeCurationFiles([one, two], path.join(root, "all"));
    expect((read(files.sft) as SftExample[]).map((x) => x.messages[0].content)).toEqual([
      "ask A",
      "set B",
      "sum 1",
      "ask C",
    ]);
    expect((read(files.dpo) as PreferencePair[]).map((x) => x.prompt[0].content)).toEqual(["ask A", "sum 1", "ask C"]);
  });

  it("a seed ask is in train or validation, never both: its latest row's side wins for every wrapping of it", () => {
    const root = mkdtempSync(path.join(tmpdir(), "breakfix-merge-"));
    const g = (prompt: string, goal: string) => ({ prompt, answer: "refuse", technique: "roleplay", goal });
    const r = (p: string) => ({ prompt: p, answer: "a", technique: "retention" });
    const dirs = [
      // round 1 held ask G out (two wrappings) and trained on ask H
      roundDir(root, 1, [g("H plain", "ask H"), r("sum 1")], [g("G plain", "ask G"), g("G as a play", "ask G")]),
      // round 2 (another split seed) trains on a third wrapping of G and holds out one of H; "Sum 1." is sum 1's text
      roundDir(root, 2, [g("G in base64", "Ask G."), r("sum 2")], [g("H in a story", "ask H"), r("Sum 1.")]),
    ];
    const out = path.join(root, "all");
    const files = mergeCurationFiles(dirs, out);
    const prompts = (f: string) => (read(f) as SftExample[]).map((x) => x.messages[0].content).sort();
    expect(prompts(files.sft)).toEqual(["G as a play", "G in base64", "G plain", "sum 2"]);
    // "sum 1" is another prompt than "Sum 1." (two rows) but the same normalised text: one side.
    expect(prompts(files.sftVal)).toEqual(["H in a story", "H plain", "Sum 1.", "sum 1"]);
    expect((read(files.dpoVal) as PreferencePair[]).map((x) => x.prompt[0].content).sort()).toEqual(
      prompts(files.sftVal),
    );
    const summary = JSON.parse(readFileSync(path.join(out, "merge.json"), "utf8")) as MergeSummary;
    expect(summary).toMatchObject({ kept: { train: 4, validation: 4 }, movedWithGroup: 4 });
  });
});
