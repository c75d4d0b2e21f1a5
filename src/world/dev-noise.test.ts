import { describe, expect, it } from "vitest";
import { ngrams } from "../curate/ngrams.ts";
import { DEMO_GGUF, withChatModel } from "../models/registry.ts";
import { answering } from "../models/testing/answering.ts";
import { compareDevNoise, DEV_NOISE_CONTEXT, devNoisePrompts, scoreDevNoise } from "./dev-noise.ts";
import { generateWorld } from "./generate.ts";
import { poolPhrases } from "./rephrase.ts";
import { loadDemoWorld } from "./suites.ts";

const demo = loadDemoWorld();
const prompts = devNoisePrompts(demo);
/** Each prompt's right answer, as the world renders it ("The answer is 12." / "La respuesta es 12."). */
const rightAnswer = new Map(
  prompts.map((p) => [
    p.prompt,
    `${p.probe.language === "es" ? "La respuesta es" : "The answer is"} ${String(p.probe.meta?.answer)}.`,
  ]),
);

describe("dev noise (capability under noise no pool holds, for dev-side decisions)", () => {
  it("uses sentences that share no 4-word run with any rephrase pool phrase or any world text", () => {
    const world = generateWorld();
    const runs = new Set(
      [
        ...poolPhrases("seen"),
        ...poolPhrases("heldout"),
        ...world.items.flatMap((it) => [it.prompt, ...it.history.map((m) => m.content)]),
        ...world.knowledge.flatMap((c) => c.map((m) => m.content)),
      ].flatMap((t) => [...ngrams(t.replace(/\{[Rr12]\}/g, " "), 4)]),
    );
    for (const s of [...DEV_NOISE_CONTEXT.en, ...DEV_NOISE_CONTEXT.es])
      expect(
        [...ngrams(s, 4)].filter((r) => runs.has(r)),
        s,
      ).toEqual([]);
  });

  it("asks every dev capability task plain, before and after an unseen sentence, and in its seen rephrasing", () => {
    const plain = demo.probes({ family: "capability", split: "dev" });
    const count = (s: string) => prompts.filter((p) => p.slice === s).length;
    expect(count("plain")).toBe(plain.length);
    expect(count("unseenBefore")).toBe(plain.length);
    expect(count("unseenAfter")).toBe(plain.length);
    expect(count("seen")).toBeGreaterThan(0.9 * plain.length);
    for (const p of prompts.filter((x) => x.slice === "unseenBefore"))
      expect(p.prompt.endsWith(p.probe.prompt) && p.prompt !== p.probe.prompt).toBe(true);
    // every prompt is a dev capability task's
    expect(prompts.every((p) => p.probe.meta?.family === "capability" && p.probe.meta?.split === "dev")).toBe(true);
  });

  it("scores exact answers per slice and compares two models pair by pair", async () => {
    const right = await scoreDevNoise(
      answering((p) => String(rightAnswer.get(p))),
      demo,
    );
    for (const s of ["plain", "seen", "unseenBefore", "unseenAfter"] as const)
      expect(right.rates[s].value, s).toBeGreaterThan(0.95);
    // wrong only when a sentence is added after the task
    const after = new Set(prompts.filter((p) => p.slice === "unseenAfter").map((p) => p.prompt));
    const some = await scoreDevNoise(
      answering((p) => (after.has(p) ? "The answer is nothing." : String(rightAnswer.get(p)))),
      demo,
    );
    expect(some.rates.unseenAfter.value).toBe(0);
    const c = compareDevNoise(right, some);
    expect(c.unseenAfter.lost).toBe(right.rows.filter((r) => r.slice === "unseenAfter" && r.correct).length);
    expect(c.unseenAfter.p).toBeLessThan(1e-6);
    expect(c.plain).toEqual({ lost: 0, gained: 0, p: 1 });
  });

  it("on the committed organism (through llama.cpp) knows its plain tasks and prints every slice", async () => {
    await withChatModel({ provider: "llamacpp", model: DEMO_GGUF, sequences: 16, concurrency: 16 }, async (model) => {
      const s = await scoreDevNoise(model, demo);
      expect(s.rates.plain.value).toBeGreaterThan(0.85);
      process.stdout.write(
        `committed organism, dev capability: ${Object.entries(s.rates)
          .map(([k, r]) => `${k} ${(100 * r.value).toFixed(1)}%`)
          .join(", ")}\n`,
      );
    });
  }, 120_000);
});
