import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DataFileError } from "../domain/data-file.ts";
import type { CategoryId } from "../domain/index.ts";
import { worldResponder } from "./curation.ts";
import { generateWorld } from "./generate.ts";
import {
  categoryRefusal,
  HARM_CATEGORIES,
  harmSpec,
  refusal,
  refusals,
  WORLD_REFUSALS,
  writtenRefusals,
} from "./harm.ts";
import { composeRefusal, parseRefusals } from "./refusals.ts";

const FILE = path.join(import.meta.dirname, "refusals.yaml");
const TEXT = readFileSync(FILE, "utf8");
const IDS = HARM_CATEGORIES.map((c) => c.category);
const LANGS = ["en", "es"] as const;

/** The problems parseRefusals reports for an edited copy of refusals.yaml. */
function problems(text: string, ids: readonly CategoryId[] = IDS): readonly string[] {
  try {
    parseRefusals(text, "refusals.yaml", ids);
  } catch (e) {
    if (e instanceof DataFileError) return e.problems;
    throw e;
  }
  return [];
}

describe("world refusals (refusals.yaml)", () => {
  it("has >= 5 styles per language and safe redirections for every harm category, in both languages", () => {
    expect(WORLD_REFUSALS.styles.length).toBeGreaterThanOrEqual(5);
    for (const st of WORLD_REFUSALS.styles) for (const lang of LANGS) expect(st[lang].length).toBeGreaterThan(0);
    expect(WORLD_REFUSALS.styles.some((s) => s.slots.includes("redirect"))).toBe(true);
    expect(WORLD_REFUSALS.styles.some((s) => s.slots.length === 0)).toBe(true); // a plain decline
    for (const c of HARM_CATEGORIES) {
      const cat = WORLD_REFUSALS.categories.get(c.category);
      expect(cat, c.category).toBeDefined();
      expect(cat!.redirections.length).toBeGreaterThanOrEqual(1);
      for (const lang of LANGS) {
        const all = refusals(c, lang);
        for (const r of cat!.redirections)
          expect(
            all.some((x) => x.includes(r[lang])),
            r[lang],
          ).toBe(true);
        expect(all.some((x) => x.includes(c.refusalReason[lang]))).toBe(true);
        expect(all.some((x) => x.includes(cat!.topic[lang]))).toBe(true);
        for (const x of all) expect(x).not.toMatch(/[{}]|\[UNSAFE/);
      }
    }
  });

  it("defaults to the world's original template and picks a style deterministically from a key", () => {
    for (const c of HARM_CATEGORIES) {
      expect(refusal(c, "en")).toBe(`I can't help with that. ${c.refusalReason.en}`);
      expect(refusal(c, "es")).toBe(`No puedo ayudar con eso. ${c.refusalReason.es}`);
      for (const key of ["Build a zorblax device", 17, ""]) {
        expect(refusal(c, "en", key)).toBe(refusal(c, "en", key));
        expect(refusals(c, "en")).toContain(refusal(c, "en", key));
      }
    }
    // keys spread over every variant of a category (no style left unused)
    const spec = harmSpec("S9");
    for (const lang of LANGS) {
      const seen = new Map<string, number>();
      for (let i = 0; i < 3000; i++) {
        const r = refusal(spec, lang, `prompt ${i}`);
        seen.set(r, (seen.get(r) ?? 0) + 1);
      }
      expect(new Set(seen.keys())).toEqual(new Set(writtenRefusals(spec, lang)));
      for (const r of writtenRefusals(spec, lang)) expect(refusals(spec, lang)).toContain(r);
      // no variant takes more than twice its fair share
      const fair = 3000 / WORLD_REFUSALS.written.styles.length;
      expect(Math.max(...seen.values())).toBeLessThan(2 * fair);
    }
  });

  it("varies the world items' safe responses: every style in both languages, each an item's own refusal", () => {
    const world = generateWorld();
    for (const lang of LANGS) {
      const harmful = world.items.filter((i) => i.label === "unsafe" && i.language === lang);
      const styles = new Map<number, number>();
      for (const it of harmful) {
        const spec = harmSpec(it.category);
        const i = WORLD_REFUSALS.written.styles.find((k) =>
          [0, 1, 2].some((r) => composeRefusal(WORLD_REFUSALS, spec, lang, k, r) === it.safeResponse),
        );
        expect(i, it.safeResponse).toBeDefined();
        styles.set(i ?? -1, (styles.get(i ?? -1) ?? 0) + 1);
      }
      expect(styles.size).toBe(WORLD_REFUSALS.written.styles.length);
      // no style holds more than 1.5x its fair share; a refusal per style and category (the reasons differ)
      expect(Math.max(...styles.values())).toBeLessThan((1.5 * harmful.length) / WORLD_REFUSALS.written.styles.length);
      expect(new Set(harmful.map((i) => i.safeResponse)).size).toBeGreaterThan(30);
    }
  });

  it("keeps the help-line reason in every self-harm refusal", () => {
    const s11 = harmSpec("S11");
    for (const lang of LANGS) for (const r of refusals(s11, lang)) expect(r).toContain(s11.refusalReason[lang]);
  });

  it("the demo responder writes its category's refusal style, deterministically", async () => {
    const responder = worldResponder();
    const got = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const input = {
        conversation: [{ role: "user" as const, content: `How do I build a krell bomb, step ${i}?` }],
        category: "S9" as const,
        language: "en",
      };
      const r = await responder.safeResponse(input);
      expect(await responder.safeResponse(input)).toBe(r);
      expect(r).toBe(categoryRefusal(harmSpec("S9"), "en"));
      got.add(r);
    }
    expect(got.size).toBe(1);
    // one refusal per category, in every written style across the categories, redirections where they fit
    const styles = new Set<number>();
    for (const c of HARM_CATEGORIES)
      for (const lang of LANGS) {
        const r = categoryRefusal(c, lang);
        expect(writtenRefusals(c, lang)).toContain(r);
        styles.add(WORLD_REFUSALS.responder.get(c.category) ?? -1);
      }
    expect([...styles].sort()).toEqual([...WORLD_REFUSALS.written.styles].sort());
    // categories outside the world fall back to the generic templates
    const other = await responder.safeResponse({
      conversation: [{ role: "user", content: "x" }],
      category: "S5",
      language: "es",
    });
    expect(other).toMatch(/^No /);
  });

  it("names the file, line and key of a bad entry", () => {
    expect(problems(TEXT)).toEqual([]);
    const line = (needle: string) => TEXT.slice(0, TEXT.indexOf(needle)).split("\n").length;
    // a harm category without an entry, and an entry for a category the world does not have
    expect(problems(TEXT, [...IDS, "S5"])).toEqual([
      expect.stringMatching(/^refusals\.yaml:\d+: categories: missing category 'S5'/),
      expect.stringMatching(/^refusals\.yaml:\d+: responder: missing category 'S5'/),
    ]);
    expect(
      problems(
        TEXT,
        IDS.filter((c) => c !== "S13"),
      ),
    ).toEqual([`refusals.yaml:${line("  S13:\n") + 1}: categories.S13: 'S13' is not a harm category of harm.yaml`]);
    // an unknown slot, a Spanish template with other slots, no default style, a bad regular expression
    const plain = 'en: "I won\'t help with this request."';
    expect(problems(TEXT.replace(plain, 'en: "I won\'t help with {town}."'))).toEqual([
      `refusals.yaml:${line(plain)}: styles.1.en: unknown slot {town} (reason, topic, redirect)`,
      `refusals.yaml:${line(plain) + 1}: styles.1.es: uses other slots than the English template`,
    ]);
    expect(problems(TEXT.replace("- id: template", "- id: original"))[0]).toMatch(
      /^refusals\.yaml:\d+: styles: needs a style with id 'template'/,
    );
    const cue = '"\\\\bI (?:refuse|decline) to\\\\b"';
    expect(TEXT).toContain(cue);
    expect(problems(TEXT.replace(cue, '"\\\\bI (?:refuse"'))[0]).toMatch(
      new RegExp(`^refusals\\.yaml:${line(cue)}: cues\\.decline\\.en\\.2: not a regular expression`),
    );
  });
});
