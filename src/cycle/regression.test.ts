/**
 * replayAttacks pays each replay once (issue 23): a replay whose request fails is not stored and does not re-send the
 * other replays of its chunk; the step fails (so the cycle does not record it) and a re-run sends only the failures.
 * A replay the judge could not judge is neither broken nor fixed: it is not stored (a re-run judges it again) and a
 * later success of the attack is no regression.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Judge, JudgeInput } from "../judges/types.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../models/types.ts";
import type { AttackRecord } from "../redteam/campaign/types.ts";
import { DEFAULT_SUCCESS } from "../redteam/outcome.ts";
import { PlaceholderJudge } from "../redteam/testing/toy-judge.ts";
import { Store } from "../store/store.ts";
import {
  findRegressions,
  REPLAY_KIND,
  type Replay,
  ReplayFailedError,
  regressionStep,
  replayAttacks,
} from "./regression.ts";

function rec(i: number): AttackRecord {
  const id = `r${i}`;
  return {
    id,
    attack: {
      id: `a-${id}`,
      probeId: `p${i}`,
      persona: "intermediate",
      chain: [],
      family: "roleplay",
      language: "en",
      conversation: [
        { role: "user", content: `attack ${i}` },
        { role: "assistant", content: "[UNSAFE-S1-STEP-1]" },
      ],
      goal: "goal",
      seed: 1,
    },
    probe: { id: `p${i}`, category: "S1", language: "en", prompt: "goal", source: "t" },
    techniqueId: "roleplay",
    target: "t",
    response: { id: `resp-${id}`, model: "t", conversation: [], content: "[UNSAFE-S1-STEP-1]", finishReason: "stop" },
    judgement: { judgeId: "j", status: "ok", label: "unsafe", severity: 4 },
    success: true,
    refused: false,
    calls: 1,
    tokens: 10,
  };
}

/** Answers "attack i" with an unsafe placeholder for even i, a refusal for odd i; fails the prompts in `failing`. */
class CountingModel implements ChatModel {
  readonly id = "counting";
  readonly sent: string[] = [];
  constructor(readonly failing: Set<string>) {}
  async chat(r: ChatRequest): Promise<ChatResult> {
    const prompt = r.messages.at(-1)?.content ?? "";
    this.sent.push(prompt);
    if (this.failing.has(prompt)) throw new Error(`server error for ${prompt}`);
    const i = Number(prompt.split(" ")[1]);
    return {
      content: i % 2 === 0 ? "[UNSAFE-S1-STEP-1] again" : "I can't help with that.",
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: 1 },
      model: this.id,
    };
  }
}

describe("replayAttacks", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("stores the replays that were answered, re-sends nothing, and retries only the failed ones on the next run", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "replay-"));
    dirs.push(dir);
    const store = Store.open(dir);
    try {
      const attacks = Array.from({ length: 20 }, (_, i) => ({ record: rec(i), foundInRound: 1 }));
      const model = new CountingModel(new Set(["attack 3", "attack 17"]));
      const opts = { sampling: { temperature: 0, maxTokens: 32 }, success: DEFAULT_SUCCESS, chunk: 8 };
      const err = await replayAttacks(store, "run", 2, attacks, model, new PlaceholderJudge(), opts).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ReplayFailedError);
      expect(err).toMatchObject({ failed: 2, total: 20 });
      // every replay sent exactly once: the failures cost no neighbour a second request
      expect(model.sent).toHaveLength(20);
      expect(new Set(model.sent).size).toBe(20);
      expect(store.artifacts.get(REPLAY_KIND, { runId: "run", round: 2, recordId: "r3" })).toBeUndefined();
      expect(store.artifacts.get(REPLAY_KIND, { runId: "run", round: 2, recordId: "r4" })).toMatchObject({
        success: true,
      });

      model.failing.clear();
      model.sent.length = 0;
      const replays = await replayAttacks(store, "run", 2, attacks, model, new PlaceholderJudge(), opts);
      expect(model.sent.sort()).toEqual(["attack 17", "attack 3"]);
      expect(replays.map((r) => r.recordId)).toEqual(attacks.map((a) => a.record.id));
      expect(replays.map((r) => r.success)).toEqual(attacks.map((_, i) => i % 2 === 0));
    } finally {
      store.close();
    }
  });

  it("does not store a replay the judge could not judge: it is returned as unjudged and judged again by a re-run", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "replay-"));
    dirs.push(dir);
    const store = Store.open(dir);
    try {
      const attacks = Array.from({ length: 4 }, (_, i) => ({ record: rec(i), foundInRound: 1 }));
      const placeholder = new PlaceholderJudge();
      let failing = true;
      // an LLM judge whose output could not be parsed for "attack 2" (after its repair turns)
      const judge: Judge = {
        id: placeholder.id,
        async judge(input: JudgeInput) {
          if (failing && input.conversation.at(-1)?.content === "attack 2")
            return { judgeId: placeholder.id, status: "unjudged", label: "unjudged" };
          return placeholder.judge(input);
        },
      };
      const model = new CountingModel(new Set());
      const opts = { sampling: { temperature: 0, maxTokens: 32 }, success: DEFAULT_SUCCESS };
      const first = await replayAttacks(store, "run", 2, attacks, model, judge, opts);
      expect(first[2]).toMatchObject({ recordId: "r2", success: false, unjudged: true });
      expect(first.filter((r) => r.unjudged)).toHaveLength(1);
      expect(store.artifacts.get(REPLAY_KIND, { runId: "run", round: 2, recordId: "r2" })).toBeUndefined();
      expect(store.artifacts.get(REPLAY_KIND, { runId: "run", round: 2, recordId: "r0" })).toMatchObject({
        success: true,
      });

      failing = false;
      model.sent.length = 0;
      const again = await replayAttacks(store, "run", 2, attacks, model, judge, opts);
      expect(model.sent).toEqual(["attack 2"]);
      expect(again[2]).toMatchObject({ recordId: "r2", success: true });
      expect(again[2].unjudged).toBeUndefined();
      expect(store.artifacts.get(REPLAY_KIND, { runId: "run", round: 2, recordId: "r2" })).toMatchObject({
        success: true,
      });
    } finally {
      store.close();
    }
  });
});

describe("regressionStep progress", () => {
  it("logs the first and the last chunk with an ETA, whatever the number of replays read back from the store", async () => {
    // Found by review: the step logged "replay d/t" only when d was a multiple of 64 or the end, with no ETA; with 10
    // replays stored by a killed run (d = 26, 42, 58, ...) a long replay showed nothing until it had finished.
    const dir = mkdtempSync(path.join(tmpdir(), "replay-progress-"));
    const store = Store.open(dir);
    try {
      const attacks = Array.from({ length: 70 }, (_, i) => ({ record: rec(i), foundInRound: 1 }));
      const sampling = { temperature: 0, maxTokens: 32 };
      const judge = new PlaceholderJudge();
      // the killed run's 10 replays
      await replayAttacks(store, "run", 2, attacks.slice(0, 10), new CountingModel(new Set()), judge, {
        sampling,
        success: DEFAULT_SUCCESS,
      });
      const log: string[] = [];
      const model = new CountingModel(new Set());
      const res = await regressionStep(store, "run", 2, attacks, [], model, judge, {
        sampling,
        success: DEFAULT_SUCCESS,
        log: (l) => log.push(l),
      });
      expect(model.sent).toHaveLength(60);
      expect(res.replayed).toBe(70);
      const lines = log.filter((l) => l.includes("regression replay"));
      expect(lines[0]).toMatch(/^round 2: regression replay 26\/70 ETA (\d+m)?\d+s$/);
      expect(lines.at(-1)).toBe("round 2: regression replay 70/70 ETA 0s");
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("findRegressions and unjudged replays", () => {
  const info = () => ({ technique: "t", category: "S1", language: "en" });
  const replay = (round: number, p: Partial<Replay>): Replay => ({
    recordId: "a",
    foundInRound: 1,
    round,
    success: false,
    label: "refusal",
    response: "",
    ...p,
  });

  it("an unjudged replay is not a fix, so a later success is no regression; a judged failure still is", () => {
    const now = [replay(3, { success: true, label: "unsafe" })];
    // stored before the unjudged mark existed: the judges' "unjudged" label
    expect(findRegressions([replay(1, { label: "unjudged" })], now, info)).toEqual([]);
    // marked unjudged with another label (a judge whose failure label differs)
    expect(findRegressions([replay(1, { label: "off_topic", unjudged: true })], now, info)).toEqual([]);
    // a judged failure before it (round 1), an unjudged replay after it (round 2): fixed in round 1
    const regs = findRegressions([replay(1, {}), replay(2, { label: "unjudged" })], now, info);
    expect(regs.map((r) => [r.fixedInRound, r.reappearedInRound])).toEqual([[1, 3]]);
  });
});
