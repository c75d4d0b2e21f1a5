/**
 * A dev-side check of an organism's capability under noise (issue #19 item 3), for decisions about the organism: the
 * dev capability tasks plain, with a seen-pool rephrasing (the dev probes of rephrase.ts), and with a context sentence
 * neither pool holds (dev-noise.yaml) added before and after. The test split's rephrasings use the held-out pools
 * only, so dev cannot show held-out noise; the unseen sentences stand in for it without reading test. Scored by the
 * world judge (exact answer). Decisions may read it; it is no published figure.
 *
 *   npx tsx src/world/dev-noise.ts MODEL.gguf [MODEL2.gguf ...] [--verbose]
 */
import path from "node:path";
import { z } from "zod";
import { loadDataFile } from "../domain/data-file.ts";
import { escapeForTerminal } from "../domain/escape.ts";
import { runIfMain } from "../domain/script.ts";
import { mcnemar, wilson } from "../domain/stats.ts";
import type { Interval, Probe } from "../domain/types.ts";
import type { ChatModel } from "../models/types.ts";
import type { Lang } from "./generate.ts";
import { type DemoWorld, loadDemoWorld } from "./suites.ts";

const Sentences = z.array(z.string().min(1)).min(1);
/** dev-noise.yaml `context`: sentences no rephrase pool holds, per language. */
export const DEV_NOISE_CONTEXT: Readonly<Record<Lang, readonly string[]>> = loadDataFile(
  path.join(import.meta.dirname, "dev-noise.yaml"),
  z.object({ context: z.object({ en: Sentences, es: Sentences }).strict() }).strict(),
).context;

export const DEV_NOISE_SLICES = ["plain", "seen", "unseenBefore", "unseenAfter"] as const;
export type DevNoiseSlice = (typeof DEV_NOISE_SLICES)[number];

export interface DevNoisePrompt {
  /** The dev capability probe the prompt asks (its answer is the probe's). */
  probe: Probe;
  slice: DevNoiseSlice;
  prompt: string;
}

/**
 * Every dev capability task plain, its seen-pool rephrasing (where one exists), and with the i-th unseen context
 * sentence of its language (cycling) before and after it.
 */
export function devNoisePrompts(demo: DemoWorld = loadDemoWorld()): DevNoisePrompt[] {
  const all = demo.probes({ family: "capability", split: "dev", rephrased: true });
  const plain = all.filter((p) => p.meta?.slice !== "rephrased");
  const out: DevNoisePrompt[] = [];
  plain.forEach((probe, i) => {
    const ctx = DEV_NOISE_CONTEXT[probe.language === "es" ? "es" : "en"];
    const c = ctx[i % ctx.length];
    out.push({ probe, slice: "plain", prompt: probe.prompt });
    out.push({ probe, slice: "unseenBefore", prompt: `${c} ${probe.prompt}` });
    out.push({ probe, slice: "unseenAfter", prompt: `${probe.prompt} ${c}` });
  });
  const byId = new Map(plain.map((p) => [p.id, p]));
  for (const r of all) {
    const from = byId.get(String(r.meta?.rephrasedFrom));
    if (r.meta?.slice === "rephrased" && from) out.push({ probe: from, slice: "seen", prompt: r.prompt });
  }
  return out;
}

export interface DevNoiseRow extends DevNoisePrompt {
  correct: boolean;
  response: string;
}

export interface DevNoiseScore {
  /** Exact-match capability per slice. */
  rates: Record<DevNoiseSlice, { value: number; n: number; interval: Interval }>;
  rows: DevNoiseRow[];
}

/** Asks the model every prompt (greedy, 64 tokens) and scores each answer against its task's exact answer. */
export async function scoreDevNoise(model: ChatModel, demo: DemoWorld = loadDemoWorld()): Promise<DevNoiseScore> {
  const rows = await Promise.all(
    devNoisePrompts(demo).map(async (x): Promise<DevNoiseRow> => {
      const r = await model.chat({ messages: [{ role: "user", content: x.prompt }], maxTokens: 64, temperature: 0 });
      // judged as the task itself: the added sentence changes how it is asked, not what the answer is
      const j = await demo.judge.judge({
        conversation: [{ role: "user", content: x.probe.prompt }],
        response: r.content,
        probeId: x.probe.id,
      });
      return { ...x, correct: j.label === "helpful", response: r.content };
    }),
  );
  const rate = (slice: DevNoiseSlice) => {
    const xs = rows.filter((r) => r.slice === slice);
    const k = xs.filter((r) => r.correct).length;
    return { value: xs.length ? k / xs.length : Number.NaN, n: xs.length, interval: wilson(k, xs.length) };
  };
  return {
    rates: Object.fromEntries(DEV_NOISE_SLICES.map((s) => [s, rate(s)])) as DevNoiseScore["rates"],
    rows,
  };
}

/** Paired exact McNemar of two scores of the same prompts, per slice: how many went right -> wrong and the reverse. */
export function compareDevNoise(
  a: DevNoiseScore,
  b: DevNoiseScore,
): Record<DevNoiseSlice, { lost: number; gained: number; p: number }> {
  const key = (r: DevNoiseRow) => `${r.slice}\u0000${r.prompt}`;
  const before = new Map(a.rows.map((r) => [key(r), r.correct]));
  const out = {} as Record<DevNoiseSlice, { lost: number; gained: number; p: number }>;
  for (const s of DEV_NOISE_SLICES) {
    let lost = 0;
    let gained = 0;
    for (const r of b.rows.filter((x) => x.slice === s)) {
      const was = before.get(key(r));
      if (was === undefined) continue;
      if (was && !r.correct) lost++;
      if (!was && r.correct) gained++;
    }
    out[s] = { lost, gained, p: mcnemar(lost, gained) };
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const { createChatModel } = await import("../models/registry.ts");
  const models = argv.filter((a) => !a.startsWith("--"));
  if (models.length === 0) throw new Error("usage: dev-noise.ts MODEL.gguf [MODEL2.gguf ...] [--verbose]");
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  let first: DevNoiseScore | undefined;
  for (const gguf of models) {
    const model = await createChatModel({ provider: "llamacpp", model: gguf, sequences: 16, concurrency: 16 });
    const s = await scoreDevNoise(model);
    await model.close?.();
    if (argv.includes("--verbose"))
      for (const r of s.rows.filter((x) => !x.correct))
        process.stdout.write(`${r.slice} ${r.prompt} => ${escapeForTerminal(r.response, { oneLine: true })}\n`);
    const line = DEV_NOISE_SLICES.map(
      (k) => `${k} ${pct(s.rates[k].value)} [${pct(s.rates[k].interval.low)}, ${pct(s.rates[k].interval.high)}]`,
    ).join(" | ");
    process.stdout.write(`${gguf}: dev capability (n=${s.rates.plain.n}) ${line}\n`);
    if (first) {
      const c = compareDevNoise(first, s);
      const paired = DEV_NOISE_SLICES.map(
        (k) => `${k} +${c[k].gained}/-${c[k].lost} (p = ${c[k].p.toPrecision(2)})`,
      ).join(", ");
      process.stdout.write(`  paired against ${models[0]}: ${paired}\n`);
    } else first = s;
  }
}

runIfMain(import.meta.filename, main);
