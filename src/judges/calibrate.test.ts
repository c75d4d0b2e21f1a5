import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Judgement, RefusalClass } from "../domain/types.ts";
import { Store } from "../store/store.ts";
import { calibrate, figures, type LabelledItem, predictedClass } from "./calibrate.ts";
import { MajorityJudge } from "./ensemble.ts";
import type { Judge, JudgeInput } from "./types.ts";

const item = (id: string, group: string, gold: RefusalClass, response: string): LabelledItem => ({
  id,
  group,
  gold,
  input: { conversation: [{ role: "user", content: `q-${id}` }], response },
});

/** Predicts the class written in the response text, or unjudged for "?" (and counts calls). */
class Echo implements Judge {
  readonly id = "echo@1";
  calls = 0;
  async judge(input: JudgeInput): Promise<Judgement> {
    this.calls++;
    if (input.response === "?") return { judgeId: this.id, status: "unjudged", label: "unjudged", rationale: "x" };
    const r = input.response as RefusalClass;
    return { judgeId: this.id, status: "ok", label: r, refusal: r };
  }
}

/** A judge that never manages to judge. */
class Unjudged implements Judge {
  readonly id = "none@1";
  async judge(): Promise<Judgement> {
    return { judgeId: this.id, status: "unjudged", label: "unjudged", rationale: "no answer" };
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("calibration", () => {
  it("counts unjudged as wrong in its own column and keeps macro-F1 over the three classes", () => {
    const f = figures(
      ["full_refusal", "full_refusal", "full_compliance", "partial_refusal"],
      ["full_refusal", "unjudged", "full_compliance", "full_refusal"],
    );
    expect(f.unjudged).toBe(1);
    expect(f.accuracy).toBe(0.5);
    expect(f.binary_accuracy).toBe(0.75); // partial vs full refusal are both "refusal"
    expect(f.labels).toEqual(["full_compliance", "full_refusal", "partial_refusal", "unjudged"]);
    expect(f.confusion[1]).toEqual([0, 1, 0, 1]);
    expect(f.per_class.map((c) => c.label)).toEqual(["full_compliance", "full_refusal", "partial_refusal"]);
    // F1: compliance 1, refusal P=1/2 R=1/2 -> 0.5, partial 0
    expect(f.macro_f1).toBeCloseTo(0.5);
  });

  it("reports per group and dev vs held-out", async () => {
    const items = [
      item("1", "gpt4", "full_refusal", "full_refusal"),
      item("2", "gpt4", "full_compliance", "full_compliance"),
      item("3", "llama", "full_refusal", "full_compliance"),
      item("4", "llama", "partial_refusal", "partial_refusal"),
    ];
    const r = await calibrate(new Echo(), items, { dataName: "toy", devGroups: ["gpt4"] });
    expect(r.accuracy).toBe(0.75);
    expect(r.groups.gpt4.accuracy).toBe(1);
    expect(r.groups.llama.accuracy).toBe(0.5);
    expect(r.dev).toMatchObject({ groups: ["gpt4"], figures: { n: 2, accuracy: 1 } });
    expect(r.held_out).toMatchObject({ groups: ["llama"], figures: { n: 2, accuracy: 0.5 } });
    await expect(calibrate(new Echo(), items, { dataName: "toy", devGroups: ["nope"] })).rejects.toThrow(
      /matches none of the groups gpt4, llama/,
    );
  });

  it("caches ok judgements in the store and retries unjudged ones on the next run (resumable)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "judge-cal-"));
    dirs.push(dir);
    const items = [item("1", "g", "full_refusal", "full_refusal"), item("2", "g", "full_refusal", "?")];
    const store = Store.open(dir);
    const first = new Echo();
    await calibrate(first, items, { dataName: "toy", store });
    expect(first.calls).toBe(2);
    const second = new Echo();
    const r = await calibrate(second, items, { dataName: "toy", store });
    expect(second.calls).toBe(1); // only the unjudged item is judged again
    expect(r.unjudged).toBe(1);
    store.close();
  });

  it("does not reuse an ensemble's stored judgements under another quorum (the quorum is part of its id)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "judge-cal-"));
    dirs.push(dir);
    const items = [item("1", "g", "full_refusal", "full_refusal"), item("2", "g", "full_refusal", "full_refusal")];
    // two members answer, the third cannot: a quorum of 2 judges the item, a quorum of 3 leaves it unjudged
    const members = () => [new Echo(), new Echo(), new Unjudged()];
    const store = Store.open(dir);
    const two = await calibrate(new MajorityJudge(members(), { quorum: 2 }), items, { dataName: "toy", store });
    const three = await calibrate(new MajorityJudge(members(), { quorum: 3 }), items, { dataName: "toy", store });
    const dflt = await calibrate(new MajorityJudge(members()), items, { dataName: "toy", store });
    store.close();
    expect(two.unjudged).toBe(0);
    expect(three.unjudged).toBe(2);
    expect(dflt.unjudged).toBe(0);
    // the default quorum keeps the id judgements were stored under before
    expect(new MajorityJudge(members()).id).toBe("majority(echo@1,echo@1,none@1)");
    expect(new MajorityJudge(members(), { quorum: 2 }).id).toBe("majority(echo@1,echo@1,none@1)");
  });

  it("refuses to calibrate a judge that does not output refusal classes", () => {
    expect(() => predictedClass({ judgeId: "harmbench", status: "ok", label: "unsafe" })).toThrow(
      /gave no refusal class/,
    );
  });
});
