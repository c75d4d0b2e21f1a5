import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DataFileError } from "../domain/data-file.ts";
import { contentHash } from "../domain/index.ts";
import { Rng } from "../domain/random.ts";
import { generateWorld, type WorldItem } from "./generate.ts";
import { requiredTerms } from "./judge.ts";
import { WORLD_PROPER_WORDS } from "./lexicon.ts";
import {
  allComposedContexts,
  allowedFamilies,
  composeContext,
  lowerFirst,
  parseRephraseData,
  poolPhrases,
  REPHRASE_DATA,
  REPHRASE_FAMILIES,
  type RephrasedItem,
  rephrasedItems,
  rephrasedProbe,
  rephraseItem,
  WRAP_FAMILIES,
} from "./rephrase.ts";
import { loadDemoWorld, worldHeldoutReferences } from "./suites.ts";
import { estimateConversationTokens } from "./tokens.ts";

const world = generateWorld({ seed: 5 });
const dev = rephrasedItems(world, "dev");
const test = rephrasedItems(world, "test");
/** Seen-pool rephrasings of train items, as the base corpus draws them (three per item). */
const trainRephrased: RephrasedItem[] = world.items
  .filter((it) => it.split === "train" && it.family !== "multiturn")
  .flatMap((it) =>
    [0, 1, 2].map((i) => rephraseItem(it, "seen", Rng.derive(9, it.id, i), world.config.maxConversationTokens)),
  )
  .filter((r): r is RephrasedItem => r !== undefined);
const byId = new Map(world.items.map((it) => [it.id, it]));
const original = (r: RephrasedItem): WorldItem => byId.get(r.rephrasedFrom)!;

const tokens = (s: string): string[] => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

describe("rephrase.yaml", () => {
  it("is validated with errors naming file, line and key; seen and held-out pools are disjoint", () => {
    const file = path.join(import.meta.dirname, "rephrase.yaml");
    const text = readFileSync(file, "utf8");
    expect(parseRephraseData(text, file)).toEqual(REPHRASE_DATA);
    // a held-out phrase that is also seen
    const dup = text.replace('- "Well, {r}"', '- "So, {r}"');
    expect(dup).not.toBe(text);
    const err = (() => {
      try {
        parseRephraseData(dup, "r.yaml");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DataFileError);
    expect(String((err as Error).message)).toMatch(/^r\.yaml:\d+: wraps\.filler\.en\.heldout\.0: also in seen/);
    expect(() => parseRephraseData(text.replace('"Um, {r}"', '"Um, request"'), "r.yaml")).toThrow(
      /r\.yaml:\d+: wraps\.filler\.en\.seen\.1: needs exactly one \{R\} or \{r\}/,
    );
    const seen = new Set(poolPhrases("seen"));
    expect(poolPhrases("heldout").filter((p) => seen.has(p))).toEqual([]);
    expect(() => parseRephraseData(text.replace('"{who} {said} {when}."', '"{who} {sang}."'), "r.yaml")).toThrow(
      /r\.yaml:\d+: composed\.en\.frames\.0: unknown slot \{sang\}/,
    );
  });

  it("composes about 1,700 context sentences per language, none sharing a run of 4 words with a held-out phrase", () => {
    const runs = (s: string) => {
      const w =
        s
          .toLowerCase()
          .replace(/\{r\}/gi, " ")
          .match(/[\p{L}']+/gu) ?? [];
      return w.slice(0, Math.max(0, w.length - 3)).map((_x, i) => w.slice(i, i + 4).join(" "));
    };
    const held = new Set(poolPhrases("heldout").flatMap(runs));
    for (const lang of ["en", "es"] as const) {
      const all = allComposedContexts(lang);
      expect(new Set(all).size).toBeGreaterThan(1500);
      expect(all.filter((s) => runs(s).some((r) => held.has(r)))).toEqual([]);
      const rng = new Rng(7);
      expect(all).toContain(composeContext(lang, rng));
    }
  });
});

describe("rephrased items", () => {
  it("are deterministic, with ids distinct from every world item and from each other", () => {
    const again = generateWorld({ seed: 5 });
    expect(contentHash(rephrasedItems(again, "test"))).toBe(contentHash(test));
    expect(contentHash(rephrasedItems(again, "dev"))).toBe(contentHash(dev));
    const ids = new Set(world.items.map((it) => it.id));
    const all = [...dev, ...test];
    for (const r of all) expect(ids.has(r.id)).toBe(false);
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
    const prompts = new Set(world.items.map((it) => it.prompt));
    for (const r of all) expect(prompts.has(r.prompt)).toBe(false);
  });

  it("copy most of their split's capability, direct harmful and look-alike items, labels and answers kept", () => {
    for (const [split, xs] of [
      ["dev", dev],
      ["test", test],
    ] as const) {
      const src = world.items.filter(
        (it) =>
          it.split === split &&
          (it.family === "capability" ||
            it.family === "lookalike" ||
            (it.family === "harmful" && it.kind === "direct")),
      );
      expect(xs.length).toBeGreaterThan(0.95 * src.length);
      for (const r of xs) {
        const o = original(r);
        expect(o.split).toBe(split);
        expect([
          r.family,
          r.kind,
          r.label,
          r.category,
          r.language,
          r.group,
          r.answer,
          r.baseResponse,
          r.safeResponse,
        ]).toEqual([
          o.family,
          o.kind,
          o.label,
          o.category,
          o.language,
          o.group,
          o.answer,
          o.baseResponse,
          o.safeResponse,
        ]);
        expect(r.prompt).not.toBe(o.prompt);
        expect(r.transforms.length).toBeGreaterThanOrEqual(1);
        expect(r.transforms.length).toBeLessThanOrEqual(3);
      }
      // every family of transforms is used
      const used = new Set(xs.flatMap((r) => r.transforms));
      expect([...REPHRASE_FAMILIES].filter((f) => !used.has(f))).toEqual([]);
      // look-alike twins point at each other
      const ids = new Map(xs.map((r) => [r.id, r]));
      const linked = xs.filter((r) => r.family === "lookalike" && r.twinId);
      expect(linked.length).toBeGreaterThan(0.9 * xs.filter((r) => r.family === "lookalike").length);
      for (const r of linked) expect(ids.get(r.twinId!)?.twinId).toBe(r.id);
    }
  });

  it("as probes carry meta.slice 'rephrased' and their split", () => {
    for (const r of [...dev.slice(0, 50), ...test.slice(0, 50)]) {
      const p = rephrasedProbe(r);
      expect(p.meta?.slice).toBe("rephrased");
      expect(p.meta?.split).toBe(original(r).split);
      expect(p.prompt).toBe(r.prompt);
      expect(p.id).toBe(r.id);
      if (r.answer !== undefined) expect(p.meta?.answer).toBe(r.answer);
    }
    // test probes name the template slice of what they rephrase (a report slice); dev holds seen templates only
    const slices = new Set<unknown>();
    for (const r of test) {
      const p = rephrasedProbe(r);
      expect(p.meta?.reportSlice).toBe(`rephrased/${original(r).ood ? "out-of-distribution" : "in-distribution"}`);
      slices.add(p.meta?.reportSlice);
    }
    expect(slices.size).toBe(2);
    for (const r of dev) expect(rephrasedProbe(r).meta?.reportSlice).toBeUndefined();
  });

  it("keep every capability task answerable: its numbers, quoted words, names and task words are all there", () => {
    const keep = new Set([...REPHRASE_DATA.typos.keep.en, ...REPHRASE_DATA.typos.keep.es].map((w) => w.toLowerCase()));
    const caps = [...dev, ...test, ...trainRephrased].filter((r) => r.family === "capability");
    expect(caps.length).toBeGreaterThan(1000);
    for (const r of caps) {
      const o = original(r);
      const have = new Set(tokens(r.prompt));
      for (const n of o.prompt.match(/\d+/g) ?? []) expect(r.prompt.match(/\d+/g)).toContain(n);
      for (const q of o.prompt.match(/'[^'\s]+'/g) ?? []) expect(r.prompt).toContain(q);
      for (const w of tokens(o.prompt))
        if (WORLD_PROPER_WORDS.has(w) || keep.has(w)) expect(have.has(w), `${w} in ${r.prompt}`).toBe(true);
      for (const w of tokens(r.answer!)) if (tokens(o.prompt).includes(w)) expect(have.has(w)).toBe(true);
    }
  });

  it("keep what the world judge checks in a helpful look-alike answer, and the names of every request", () => {
    const all = [...dev, ...test, ...trainRephrased];
    for (const r of all) {
      const o = original(r);
      if (r.family === "lookalike" && r.label === "safe")
        // the terms a helpful answer must name are all still asked (an added phrase may add one the answer has)
        expect(requiredTerms(r)).toEqual(expect.arrayContaining(requiredTerms(o)));
      const have = new Set(tokens(r.prompt));
      for (const w of tokens(o.prompt))
        if (WORLD_PROPER_WORDS.has(w)) expect(have.has(w), `${w} in ${r.prompt}`).toBe(true);
    }
  });

  it("leave encoded, prefix-injection and red-team-technique requests as written, only adding words around them", () => {
    const fragile = trainRephrased.filter((r) => allowedFamilies(r) === WRAP_FAMILIES);
    expect(fragile.length).toBeGreaterThan(100);
    for (const r of fragile) {
      const o = original(r).prompt;
      expect(r.prompt.includes(o) || r.prompt.includes(lowerFirst(o)), r.prompt).toBe(true);
    }
  });

  it("stay within the world's token budget", () => {
    for (const r of [...dev, ...test, ...trainRephrased]) {
      const longest = r.baseResponse.length >= r.safeResponse.length ? r.baseResponse : r.safeResponse;
      const conv = [
        ...r.history,
        { role: "user" as const, content: r.prompt },
        { role: "assistant" as const, content: longest },
      ];
      expect(estimateConversationTokens(conv)).toBeLessThanOrEqual(world.config.maxConversationTokens);
    }
    // a budget nothing fits gives no rephrasing
    const it0 = world.items.find((it) => it.family === "capability")!;
    expect(rephraseItem(it0, "seen", new Rng(1), 5)).toBeUndefined();
  });

  it("draw test noise from the held-out pools and dev noise from the seen pools", () => {
    const fixed = (pool: "seen" | "heldout") =>
      poolPhrases(pool)
        .flatMap((p) => p.split(/\{[Rr12]\}/))
        .map((s) => s.trim().toLowerCase())
        .filter((s) => s.length >= 12);
    const heldout = fixed("heldout");
    const seen = fixed("seen");
    const hits = (xs: RephrasedItem[], phrases: string[]) =>
      xs.filter((r) => phrases.some((p) => r.prompt.toLowerCase().includes(p))).length;
    expect(hits(dev, heldout)).toBe(0);
    expect(hits(trainRephrased, heldout)).toBe(0);
    expect(hits(test, heldout)).toBeGreaterThan(0.3 * test.length);
    expect(hits(test, seen)).toBe(0);
  });
});

describe("rephrased probes in the demo suites", () => {
  const demo = loadDemoWorld();

  it("come with the harmful, over-refusal and capability probes when asked, tagged by split and slice", () => {
    for (const family of ["harmful", "lookalike", "capability"] as const) {
      const plain = demo.probes({ family });
      const all = demo.probes({ family, rephrased: true });
      const re = all.filter((p) => p.meta?.slice === "rephrased");
      expect(plain.some((p) => p.meta?.slice === "rephrased")).toBe(false);
      expect(all.length).toBe(plain.length + re.length);
      expect(re.length).toBeGreaterThan(0.3 * plain.length);
      expect(new Set(re.map((p) => p.meta?.split))).toEqual(new Set(["dev", "test"]));
      const devOnly = demo.probes({ family, split: "dev", rephrased: true });
      expect(devOnly.every((p) => p.meta?.split === "dev")).toBe(true);
      expect(devOnly.some((p) => p.meta?.slice === "rephrased")).toBe(true);
    }
  });

  it("are graded by the world judge as the items they copy", async () => {
    const w = generateWorld();
    const items = [...rephrasedItems(w, "dev"), ...rephrasedItems(w, "test")];
    const pick = (f: (r: RephrasedItem) => boolean) => items.filter(f).slice(0, 20);
    const judge = async (r: RephrasedItem, response: string) =>
      (
        await demo.judge.judge({
          conversation: [...r.history, { role: "user", content: r.prompt }],
          response,
          probeId: r.id,
        })
      ).label;
    for (const r of pick((x) => x.family === "capability")) {
      expect(await judge(r, r.baseResponse)).toBe("helpful");
      expect(await judge(r, "The answer is 9999.")).toBe("incorrect");
    }
    for (const r of pick((x) => x.family === "lookalike" && x.label === "safe"))
      expect(await judge(r, r.safeResponse)).toBe("helpful");
    for (const r of pick((x) => x.label === "unsafe")) {
      expect(await judge(r, r.baseResponse)).toBe("unsafe");
      expect(await judge(r, r.safeResponse)).toBe("refusal");
    }
  });

  it("are decontamination references", () => {
    const refs = new Set(worldHeldoutReferences().map((r) => r.text));
    const w = generateWorld();
    for (const r of [...rephrasedItems(w, "dev"), ...rephrasedItems(w, "test")]) expect(refs.has(r.prompt)).toBe(true);
  });
});
