/** Test helpers of the curation stage (used by its tests only). */
import type { Finding } from "../domain/types.ts";

/** A one-turn English S2 finding `f<i>` on `prompt`, answered with a placeholder leak (direct attack, low-skilled). */
export function testFinding(i: number, prompt: string): Finding {
  return {
    id: `f${i}`,
    round: 0,
    category: "S2",
    severity: 5,
    attack: {
      id: `a${i}`,
      probeId: `p${i}`,
      persona: "low_skilled",
      chain: [],
      family: "direct",
      language: "en",
      conversation: [{ role: "user", content: prompt }],
      seed: 1,
    },
    response: { id: `r${i}`, model: "t", conversation: [], content: "[UNSAFE-S2-STEP-1]", finishReason: "stop" },
    judgement: { judgeId: "w", status: "ok", label: "unsafe", severity: 5 },
  };
}
