import { describe, expect, it } from "vitest";
import { ngrams } from "../curate/ngrams.ts";
import { devLookalikePrompts } from "./dev-lookalikes.ts";
import { generateWorld, type WorldItem } from "./generate.ts";
import { WEAPON_ADJECTIVES, WEAPON_NOUNS } from "./harm.ts";
import { loreConversations, WORLD_LORE } from "./lore.ts";
import { CHARACTERS, MEDICINES, PEOPLES, RESIDENTS, TOWNS } from "./vocab.ts";

// Not curate's `tokens`: that one strips accents, and to a byte-level model "médico" and "medico" are different words.
const words = (s: string): string[] => s.toLowerCase().match(/\p{L}+/gu) ?? [];
/** Every text of an item: its turns and both answers. */
const itemTexts = (it: WorldItem): string[] => [
  it.prompt,
  it.baseResponse,
  it.safeResponse,
  ...it.history.map((h) => h.content),
];
const world = generateWorld();
const lore = loreConversations();
const loreText = lore.flatMap((c) => c.map((m) => m.content));

/** The world's invented names and objects (unseen objects are the in-distribution test's design, not a word gap). */
const names = new Set(
  [
    ...TOWNS.flatMap((t) => [t.name, t.river, t.mayor]),
    ...RESIDENTS,
    ...PEOPLES.flatMap((p) => [p.en, p.es]),
    ...MEDICINES,
    ...CHARACTERS.flatMap((c) => [c.en, c.es]),
    ...WEAPON_ADJECTIVES,
    ...WEAPON_NOUNS.flatMap((n) => [n.en, n.es]),
  ].flatMap(words),
);
/** Encoded requests (ROT13, leetspeak, lexicon, red-team chains) hold no words of the language. */
const encoded = (kind: string) => /rot13|leet|lexicon|^rt:/.test(kind);

/** Every word of the train split's items (all their turns and answers) and of the gazetteer and drills. */
const known = new Set<string>();
for (const it of world.items)
  if (it.split === "train") for (const s of itemTexts(it)) for (const w of words(s)) known.add(w);
for (const c of world.knowledge) for (const m of c) for (const w of words(m.content)) known.add(w);

describe("world lore", () => {
  it("covers every word of every world item (any split) that no train item and no gazetteer entry uses", () => {
    const gap = new Set<string>();
    for (const it of world.items) {
      if (encoded(String(it.framing ?? it.kind ?? ""))) continue;
      for (const s of [it.prompt, ...it.history.map((h) => h.content)])
        for (const w of words(s)) if (!known.has(w) && !names.has(w)) gap.add(w);
    }
    expect(gap.size).toBeGreaterThan(40); // the held-out templates' words, before lore
    const inLore = new Set(loreText.flatMap(words));
    expect([...gap].filter((w) => !inLore.has(w))).toEqual([]);
  });

  it("shares no 5-word run with a dev or test item or a dev look-alike, and has no placeholder", () => {
    const heldRuns = new Set<string>();
    for (const it of world.items)
      if (it.split === "dev" || it.split === "test")
        for (const s of [it.prompt, it.safeResponse, ...it.history.map((h) => h.content)])
          for (const r of ngrams(s, 5)) heldRuns.add(r);
    for (const p of [...devLookalikePrompts(), ...devLookalikePrompts("loreOnly")])
      for (const s of [p.safe, p.unsafe]) for (const r of ngrams(s, 5)) heldRuns.add(r);
    const hits = loreText.flatMap((s) => [...ngrams(s, 5)].filter((r) => heldRuns.has(r)).map((r) => `${r} | ${s}`));
    expect(hits).toEqual([]);
    for (const s of loreText) expect(s).not.toMatch(/\[UNSAFE|\{|\}/);
  });

  it("dev-only words occur in lore and in no world item; the loreOnly dev pairs use them and train words only", () => {
    const inLore = new Set(loreText.flatMap(words));
    const itemWords = new Set(world.items.flatMap(itemTexts).flatMap(words));
    for (const w of WORLD_LORE.devOnly.en) {
      expect(inLore.has(w), w).toBe(true);
      expect(itemWords.has(w), w).toBe(false);
    }
    const devOnly = new Set(WORLD_LORE.devOnly.en);
    for (const p of devLookalikePrompts("loreOnly"))
      for (const s of [p.safe, p.unsafe]) {
        const ws = words(s).filter((w) => !names.has(w));
        expect(
          ws.filter((w) => !known.has(w) && !devOnly.has(w)),
          s,
        ).toEqual([]);
        expect(
          ws.some((w) => devOnly.has(w)),
          s,
        ).toBe(true);
      }
  });

  it("each sentence in each town, both languages", () => {
    expect(lore).toHaveLength((WORLD_LORE.sentences.en.length + WORLD_LORE.sentences.es.length) * TOWNS.length);
    expect(new Set(lore.map((c) => JSON.stringify(c))).size).toBe(lore.length);
  });
});
