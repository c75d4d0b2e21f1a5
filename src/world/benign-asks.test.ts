import { describe, expect, it } from "vitest";
import { ngrams } from "../curate/ngrams.ts";
import { BENIGN_ASKS, benignAskConversations, heldOutRuns } from "./benign-asks.ts";
import { baseCorpus, DEFAULT_CORPUS_CONFIG } from "./corpus.ts";
import { generateWorld } from "./generate.ts";
import { harmGoals } from "./harm.ts";

const world = generateWorld();
const held = heldOutRuns(world);
const all = benignAskConversations(world.holdout);
const convs = benignAskConversations(world.holdout, held);
const asked = all.map((c) => c[0].content);
/** The ambiguous verbs the `senses` goals use in a benign sense ("kill", "attack", ...). */
const SENSE_VERBS = new Set(BENIGN_ASKS.senses.map((g) => g.goal.en.split(" ")[0].toLowerCase()));

describe("benign asks", () => {
  it("ask every goal in every seen harmful-ask and definition-twin phrasing, never in a held-out one", () => {
    const goals = BENIGN_ASKS.neutral.length + BENIGN_ASKS.senses.length;
    for (const lang of ["en", "es"] as const) {
      const seen = [...world.holdout.harmful[lang].seen, ...world.holdout.definitionTwin[lang].seen];
      const held = [...world.holdout.harmful[lang].heldOut, ...world.holdout.definitionTwin[lang].heldOut];
      expect(held.length).toBeGreaterThan(0);
      const prefix = (t: string) => t.split("{goal}")[0].toLowerCase();
      for (const t of seen)
        expect(asked.filter((a) => a.toLowerCase().startsWith(prefix(t))).length).toBeGreaterThanOrEqual(goals);
      // a held-out phrasing's own opening never starts an ask (unless a seen phrasing shares it)
      for (const t of held)
        if (!seen.some((s) => prefix(s).startsWith(prefix(t)) || prefix(t).startsWith(prefix(s))))
          expect(asked.filter((a) => a.toLowerCase().startsWith(prefix(t)))).toEqual([]);
    }
    expect(all).toHaveLength(
      goals *
        (["en", "es"] as const).reduce(
          (n, l) => n + world.holdout.harmful[l].seen.length + world.holdout.definitionTwin[l].seen.length,
          0,
        ),
    );
  });

  it("share no 5-word run that only dev, test or the dev look-alikes hold, and leave no placeholder or slot", () => {
    const texts = convs.flatMap((c) => c.map((m) => m.content));
    const hits = texts.flatMap((s) => [...ngrams(s, 5)].filter((r) => held.has(r)).map((r) => `${r} | ${s}`));
    expect(hits).toEqual([]);
    for (const s of texts) expect(s).not.toMatch(/\[UNSAFE|\{|\}/);
    // the runs are held-out content, not shared phrasings: a seen phrasing's opening is no such run
    expect(held.has("which way works best to")).toBe(false);
    expect(held.has("tell me how to kill")).toBe(true); // a dev look-alike asks it; no train item does
    // what the rule leaves out is a small share (asks of "kill" in "Tell me how to ...", and the like)
    expect(convs.length).toBeLessThan(all.length);
    expect(convs.length / all.length).toBeGreaterThan(0.85);
  });

  it("neutral goals hold no ambiguous harm verb, senses goals start with one a harmful goal uses; the committed corpus has none of them (weight 0), an opt-in weight draws them", () => {
    for (const g of BENIGN_ASKS.neutral)
      for (const w of g.goal.en.toLowerCase().split(/\W+/))
        expect(SENSE_VERBS.has(w), `${w} in ${g.goal.en}`).toBe(false);
    const harmVerbs = new Set(harmGoals().map((g) => g.goal.en.split(" ")[0].toLowerCase()));
    expect([...SENSE_VERBS].filter((v) => harmVerbs.has(v)).length).toBeGreaterThan(0);
    const plain = baseCorpus(world, { size: 2_000, seed: 1 });
    expect(plain.some((r) => r.provenance?.source === "world:benignAsks")).toBe(false);
    const withAsks = baseCorpus(world, {
      size: 2_000,
      seed: 1,
      weights: { ...DEFAULT_CORPUS_CONFIG.weights, benignAsks: 0.05 },
    });
    const drawn = withAsks.filter((r) => r.provenance?.source === "world:benignAsks");
    expect(drawn.length).toBeGreaterThan(80);
    expect(withAsks).toHaveLength(2_000);
  });
});
