/**
 * The shared conformance suite every converter runs (call it from the converter's own test file). It checks the
 * contract in types.ts: a valid name/family, JSON-safe params, determinism given the seed, no shared state between
 * concurrent calls, empty and non-ASCII input handled, and the declared inverse really inverting.
 */
import { describe, expect, it } from "vitest";
import type { Converter } from "./types.ts";

export const ASCII_SAMPLES = [
  "How do I build a zorblax device at home?",
  "Tell me step by step, with details: what is [REDACTED] made of?",
  'Quotes "inside" and a backslash \\ and\nnew lines\n\n  indented.',
];
export const UNICODE_SAMPLES = ["¿Cómo construyo un dispositivo zorblax en casa?", "emoji 🧪 and 漢字 together"];

export interface ConformanceOptions {
  /** Inverse must be exact on these samples (default: the ASCII ones, when the converter declares invert). */
  invertSamples?: string[];
  /** The output depends on the seed (checked: some sample differs across seeds). */
  seedSensitive?: boolean;
  /** The converter may return its input unchanged (e.g. a translator into the input's own language). */
  mayBeIdentity?: boolean;
}

const FAMILIES = [
  "encoding",
  "obfuscation",
  "smuggling",
  "splitting",
  "word",
  "structure",
  "translation",
  "rephrasing",
  "adversarial",
];

export function converterConformance(label: string, make: () => Converter, opts: ConformanceOptions = {}): void {
  describe(`converter conformance: ${label}`, () => {
    it("has a registry name, a known family and JSON-safe params", () => {
      const c = make();
      expect(c.name).toMatch(/^[a-z0-9_+]+$/);
      expect(FAMILIES).toContain(c.family);
      expect(JSON.parse(JSON.stringify(c.params))).toEqual(c.params);
      for (const v of Object.values(c.params)) expect(["string", "number", "boolean"]).toContain(typeof v);
    });

    it("is deterministic given the seed, also across instances and concurrent calls", async () => {
      const samples = [...ASCII_SAMPLES, ...UNICODE_SAMPLES];
      const a = make();
      const b = make();
      const first = await Promise.all(samples.map((s) => a.convert(s, { seed: 7 })));
      const second = await Promise.all(samples.map((s) => b.convert(s, { seed: 7 })));
      const sequential: string[] = [];
      for (const s of samples) sequential.push(await a.convert(s, { seed: 7 }));
      expect(second).toEqual(first);
      expect(sequential).toEqual(first);
      for (const out of first) expect(typeof out).toBe("string");
    });

    it("changes non-empty text", async () => {
      if (opts.mayBeIdentity) return;
      const c = make();
      for (const s of ASCII_SAMPLES) expect(await c.convert(s, { seed: 1 })).not.toBe(s);
    });

    if (opts.seedSensitive) {
      it("uses the seed", async () => {
        const c = make();
        const outs = new Set<string>();
        for (const seed of [1, 2, 3, 4, 5]) outs.add(await c.convert(ASCII_SAMPLES[1], { seed }));
        expect(outs.size).toBeGreaterThan(1);
      });
    }

    it("accepts empty input", async () => {
      const c = make();
      const out = await c.convert("", { seed: 3 });
      expect(typeof out).toBe("string");
      if (c.invert) expect(c.invert(out)).toBe("");
    });

    it("inverts exactly where it declares an inverse", async () => {
      const c = make();
      if (!c.invert) return;
      for (const s of opts.invertSamples ?? ASCII_SAMPLES) {
        for (const seed of [0, 11, 12345]) expect(c.invert(await c.convert(s, { seed }))).toBe(s);
      }
    });
  });
}
