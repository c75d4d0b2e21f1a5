/**
 * A judge that throws on one item costs that item only (issue 23): the others' judgements are kept (and stored), the
 * failure is counted as unjudged with its reason, and a re-run with the store judges only the failed item again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Judgement, RefusalClass } from "../domain/types.ts";
import { Store } from "../store/store.ts";
import { calibrate, type LabelledItem, REFUSAL_CLASSES, runJudge } from "./calibrate.ts";
import type { Judge, JudgeInput } from "./types.ts";

const dir = mkdtempSync(path.join(tmpdir(), "calibrate-failures-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const items: LabelledItem[] = Array.from({ length: 30 }, (_, i) => ({
  id: `x${i}`,
  group: "g",
  gold: REFUSAL_CLASSES[i % 3],
  input: { conversation: [{ role: "user", content: `q${i}` }], response: REFUSAL_CLASSES[i % 3] },
}));

/** Echoes the class in the response; throws on q7 while `broken`; counts calls per item. */
class Flaky implements Judge {
  readonly id = "flaky@1";
  broken = true;
  readonly calls = new Map<string, number>();
  async judge(input: JudgeInput): Promise<Judgement> {
    const q = input.conversation[0].content;
    this.calls.set(q, (this.calls.get(q) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, q === "q7" ? 0 : 3));
    if (this.broken && q === "q7") throw new Error("HTTP 503: judge endpoint down");
    const r = input.response as RefusalClass;
    return { judgeId: this.id, status: "ok", label: r, refusal: r };
  }
}

describe("calibration with a failing judge call", () => {
  it("keeps every other judgement, counts the failure as unjudged, and re-judges only it", async () => {
    const judge = new Flaky();
    const store = Store.open(dir);
    try {
      const js = await runJudge(judge, items, { dataName: "t", concurrency: 4, store });
      expect(js).toHaveLength(30);
      expect(js[7]).toMatchObject({ status: "unjudged", rationale: "judge error: HTTP 503: judge endpoint down" });
      expect([...judge.calls.values()].every((n) => n === 1)).toBe(true);
      const rep = await calibrate(judge, items, { dataName: "t", concurrency: 4, store });
      expect(judge.calls.get("q7")).toBe(2);
      expect(judge.calls.get("q0")).toBe(1); // from the store
      expect(rep).toMatchObject({ n: 30, unjudged: 1 });
      judge.broken = false;
      const again = await calibrate(judge, items, { dataName: "t", concurrency: 4, store });
      expect(again).toMatchObject({ n: 30, unjudged: 0, accuracy: 1 });
      expect(judge.calls.get("q7")).toBe(3);
      expect([...judge.calls.entries()].filter(([q]) => q !== "q7").every(([, n]) => n === 1)).toBe(true);
    } finally {
      store.close();
    }
  });
});
