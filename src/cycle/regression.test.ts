/**
 * replayAttacks pays each replay once (issue 23): a replay whose request fails is not stored and does not re-send the
 * other replays of its chunk; the step fails (so the cycle does not record it) and a re-run sends only the failures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatModel, ChatRequest, ChatResult } from "../models/types.ts";
import type { AttackRecord } from "../redteam/campaign/types.ts";
import { DEFAULT_SUCCESS } from "../redteam/outcome.ts";
import { PlaceholderJudge } from "../redteam/testing/toy-judge.ts";
import { Store } from "../store/store.ts";
import { REPLAY_KIND, ReplayFailedError, replayAttacks } from "./regression.ts";

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
});
