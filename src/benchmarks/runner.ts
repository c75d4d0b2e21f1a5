/**
 * The suite runner: items -> target (batched through the model's own concurrency via chatAllSettled) -> judge -> sink.
 * Resumable: each record is keyed by a content hash of (run, item), and the run id hashes suite@version, target id,
 * sampling and judge id, so a re-run with the same settings skips every finished item and never writes duplicates.
 * Items whose generation failed are not stored (they are retried on the next run) and are reported as failed.
 */
import { contentHash } from "../domain/hash.ts";
import { mulberry32 } from "../domain/random.ts";
import type { Conversation } from "../domain/types.ts";
import { type ChatModel, type ChatRequest, chatAllSettled, type SamplingParams } from "../models/types.ts";
import type {
  ItemRecord,
  ResultsSink,
  RunContext,
  Suite,
  SuiteItem,
  SuiteMetric,
  SuiteRunResult,
  Transcript,
} from "./types.ts";

export const DEFAULT_SAMPLING: SamplingParams = { temperature: 0, maxTokens: 512 };

export interface Progress {
  suite: string;
  done: number;
  total: number;
  resumed: number;
  failed: number;
  elapsedMs: number;
  /** Estimated milliseconds left (null until one chunk has finished). */
  etaMs: number | null;
}

export interface RunOptions {
  sink: ResultsSink;
  sampling?: SamplingParams;
  /** Items per batch: the unit of progress and of crash loss (default 64). */
  chunkSize?: number;
  /** Run a seeded random subset of this many items (smoke runs); the subset is part of nothing else. */
  limit?: number;
  limitSeed?: number;
  /**
   * Chooses the items to run from the suite's full item set instead of `limit` (the cycle's measurement: dev and test
   * strata, partition.ts). The run id stays the full set's, as with `limit`; throwing here fails the run before any call.
   */
  select?: (items: readonly SuiteItem[]) => SuiteItem[];
  /** Concurrent judge calls (default 8; LLM judges have their own provider limits too). */
  judgeConcurrency?: number;
  onProgress?: (p: Progress) => void;
  /** Confidence level of the intervals (default 0.95). */
  level?: number;
  /**
   * Samples per item (default 1). With k > 1 every item is sent k times with seeds seed..seed+k-1 (temperature must
   * be > 0), and every interval becomes a cluster bootstrap over items, since samples of one probe are correlated.
   */
  samples?: number;
  /** Bootstrap resamples for samples > 1 (default 400). */
  bootstrapResamples?: number;
}

export class RunFailedError extends Error {
  constructor(
    message: string,
    readonly result: SuiteRunResult,
    readonly failed: number,
    /** Failure reasons with their counts, most frequent first. */
    readonly reasons: [string, number][],
  ) {
    super(message);
  }
}

/**
 * The run id: suite@version plus a hash of the target, sampling, judge and the suite's full item set (so the same
 * suite on a user's probe file, or on changed dataset files, is a different run; a --limit subset is not).
 */
export function runIdOf(
  suite: Suite,
  targetId: string,
  sampling: SamplingParams,
  itemKeys: readonly string[],
  samples = 1,
): string {
  const h = contentHash({
    ...(samples > 1 ? { samples } : {}),
    suite: suite.name,
    version: suite.version,
    target: targetId,
    sampling,
    judge: suite.judgeId,
    items: contentHash([...itemKeys].sort()),
  }).slice(0, 16);
  return `${suite.name}@v${suite.version}-${h}`;
}

export function recordKey(runId: string, itemKey: string): string {
  return contentHash({ runId, itemKey });
}

/** Item key: content hash of what the item sends, under the suite's name. */
export function itemKeyOf(
  suiteName: string,
  probeId: string,
  conversation: Conversation,
  variant?: string,
  extra?: unknown,
): string {
  return contentHash({ suite: suiteName, probeId, conversation, variant: variant ?? null, extra: extra ?? null });
}

/** Seeded Fisher-Yates prefix: a repeatable random subset that keeps the original order. */
export function sampleItems<T>(items: readonly T[], n: number, seed = 1): T[] {
  if (n >= items.length) return [...items];
  const idx = items.map((_, i) => i);
  const rand = mulberry32(seed);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => items[i]);
}

/** Runs fn over xs with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  xs: readonly T[],
  limit: number,
  fn: (x: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(xs.length);
  let next = 0;
  const worker = async () => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await fn(xs[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, xs.length)) }, worker));
  return out;
}

/**
 * Sends each conversation once and returns the answers in order. Each request settles on its own: a failed item comes
 * back with finishReason "error" and its neighbours' answers are kept, never re-sent (the reliability layer has
 * already retried the failed one; issue 23).
 */
export async function chatEach(
  model: ChatModel,
  conversations: readonly Conversation[],
  sampling: SamplingParams,
): Promise<Transcript[]> {
  const requests: ChatRequest[] = conversations.map((messages) => ({ ...sampling, messages }));
  const settled = await chatAllSettled(model, requests);
  return settled.map((s, i): Transcript => {
    const c = conversations[i];
    if (s.ok)
      return {
        conversation: [...c, { role: "assistant", content: s.result.content }],
        response: s.result.content,
        finishReason: s.result.finishReason,
        ...(s.result.filter ? { filter: s.result.filter } : {}),
        latencyMs: s.result.latencyMs,
      };
    return {
      conversation: [...c],
      response: "",
      finishReason: "error",
      error: s.error instanceof Error ? s.error.message : String(s.error),
    };
  });
}

/** The single-turn executor most suites use. */
export function singleTurnExecute(items: SuiteItem[], ctx: RunContext): Promise<Transcript[]> {
  return chatEach(
    ctx.target,
    items.map((i) => i.conversation),
    ctx.sampling,
  );
}

/**
 * Metrics of records that come in clusters (several samples of one item): point values from all records, intervals
 * from a percentile bootstrap that resamples whole clusters (items), seeded so it is repeatable. A metric missing from
 * a resample (its group was not drawn) is skipped for that resample.
 */
export function clusterBootstrapMetrics(
  suite: Pick<Suite, "metrics">,
  records: readonly ItemRecord[],
  level: number,
  resamples: number,
  seed = 1,
): SuiteMetric[] {
  const point = suite.metrics(records, { level });
  const clusters = new Map<string, ItemRecord[]>();
  for (const r of records) {
    const c = r.cluster ?? r.itemKey;
    const list = clusters.get(c);
    if (list) list.push(r);
    else clusters.set(c, [r]);
  }
  const groups = [...clusters.values()];
  const draws = new Map<string, number[]>();
  const rand = mulberry32(seed);
  for (let b = 0; b < resamples; b++) {
    const sample: ItemRecord[] = [];
    for (let i = 0; i < groups.length; i++) sample.push(...groups[Math.floor(rand() * groups.length)]);
    for (const m of suite.metrics(sample, { level })) {
      if (!Number.isFinite(m.value)) continue;
      const list = draws.get(m.name);
      if (list) list.push(m.value);
      else draws.set(m.name, [m.value]);
    }
  }
  const alpha = (1 - level) / 2;
  return point.map((m) => {
    const d = (draws.get(m.name) ?? []).sort((x, y) => x - y);
    if (d.length === 0) return { ...m, interval: { low: Number.NaN, high: Number.NaN, level, method: "bootstrap" } };
    const lo = d[Math.max(0, Math.floor(alpha * d.length))];
    const hi = d[Math.min(d.length - 1, Math.ceil((1 - alpha) * d.length) - 1)];
    return { ...m, interval: { low: lo, high: hi, level, method: "bootstrap" } };
  });
}

export async function runSuite(suite: Suite, target: ChatModel, opts: RunOptions): Promise<SuiteRunResult> {
  const started = Date.now();
  const sampling = opts.sampling ?? DEFAULT_SAMPLING;
  const chunkSize = Math.max(1, opts.chunkSize ?? 64);
  const all = await suite.items();
  const totalItems = all.length;
  const k = opts.samples ?? 1;
  const runId = runIdOf(
    suite,
    target.id,
    sampling,
    all.map((i) => i.key),
    checkSamples(suite, k, sampling),
  );
  let items = opts.select
    ? opts.select(all)
    : opts.limit !== undefined
      ? sampleItems(all, opts.limit, opts.limitSeed ?? 1)
      : all;
  const samples = withSamples(items, k);
  const { sampleOf, clusterOf } = samples;
  items = samples.items;
  const keys = uniqueKeys(suite, items, runId);
  const stored = await opts.sink.getMany(keys, runId);
  const records: (ItemRecord | undefined)[] = keys.map((k) => stored.get(k));
  const resumed = records.filter(Boolean).length;
  // Chunks never mix samples, so each chunk is sent with one seed.
  const todo = items
    .map((_, i) => i)
    .filter((i) => !records[i])
    .sort((a, b) => (sampleOf.get(items[a]) ?? 0) - (sampleOf.get(items[b]) ?? 0) || a - b);
  let failed = 0;
  const reasons = new Map<string, number>();
  let doneNow = 0;
  const report = () => {
    const elapsedMs = Date.now() - started;
    const etaMs = doneNow === 0 ? null : (elapsedMs / doneNow) * (todo.length - doneNow);
    opts.onProgress?.({
      suite: suite.name,
      done: resumed + doneNow,
      total: items.length,
      resumed,
      failed,
      elapsedMs,
      etaMs,
    });
  };
  report();
  for (const { idx, s0 } of chunks(todo, (i) => sampleOf.get(items[i]) ?? 0, chunkSize)) {
    const chunk = idx.map((i) => items[i]);
    const ctx: RunContext = { target, sampling: k > 1 ? { ...sampling, seed: (sampling.seed ?? 0) + s0 } : sampling };
    const transcripts = await suite.execute(chunk, ctx);
    if (transcripts.length !== chunk.length) {
      throw new Error(`suite ${suite.name}: execute returned ${transcripts.length} transcripts for ${chunk.length}`);
    }
    const graded = await mapLimit(chunk, opts.judgeConcurrency ?? 8, async (item, j) => {
      const r = await gradeItem(suite, item, transcripts[j]);
      if (typeof r === "string") {
        reasons.set(r, (reasons.get(r) ?? 0) + 1);
        return undefined;
      }
      return recordOf(suite, target.id, item, r, {
        key: keys[idx[j]],
        runId,
        sample: k > 1 ? sampleOf.get(item) : undefined,
        cluster: k > 1 ? clusterOf.get(item) : undefined,
      });
    });
    const fresh: ItemRecord[] = [];
    graded.forEach((r, j) => {
      if (r) {
        records[idx[j]] = r;
        fresh.push(r);
      } else failed++;
    });
    await opts.sink.putMany(fresh);
    doneNow += chunk.length;
    report();
  }
  const done = records.filter((r): r is ItemRecord => r !== undefined);
  const result = suiteResult(suite, target.id, opts, {
    runId,
    items: items.length,
    totalItems,
    resumed,
    records: done,
    clustered: k > 1,
    started,
  });

  if (failed > 0) throw runFailed(suite, result, failed, reasons);
  return result;
}

/** Consecutive runs of at most `size` indices that share one sample number (so each chunk is sent with one seed). */
function* chunks(todo: readonly number[], sampleOf: (i: number) => number, size: number) {
  for (let c = 0; c < todo.length; ) {
    const s0 = sampleOf(todo[c]);
    let end = c;
    while (end < todo.length && end - c < size && sampleOf(todo[end]) === s0) end++;
    yield { idx: todo.slice(c, end), s0 };
    c = end;
  }
}

/** k samples per probe: a positive integer, and above 1 only with a temperature > 0 (greedy answers repeat). */
function checkSamples(suite: Suite, k: number, sampling: SamplingParams): number {
  if (!Number.isInteger(k) || k < 1) throw new Error(`samples must be a positive integer, got ${k}`);
  if (k > 1 && !((sampling.temperature ?? 0) > 0)) {
    throw new Error(`suite ${suite.name}: ${k} samples per probe need a temperature > 0 (greedy answers repeat)`);
  }
  return k;
}

/** The run's result: its counts, records and metrics (cluster-bootstrap intervals when it drew several samples). */
function suiteResult(
  suite: Suite,
  target: string,
  opts: RunOptions,
  r: {
    runId: string;
    items: number;
    totalItems: number;
    resumed: number;
    records: ItemRecord[];
    clustered: boolean;
    started: number;
  },
): SuiteRunResult {
  return {
    runId: r.runId,
    suite: `${suite.name}@v${suite.version}`,
    target,
    judge: suite.judgeId,
    items: r.items,
    totalItems: r.totalItems,
    resumed: r.resumed,
    metrics: r.clustered
      ? clusterBootstrapMetrics(suite, r.records, opts.level ?? 0.95, opts.bootstrapResamples ?? 400)
      : suite.metrics(r.records, { level: opts.level }),
    records: r.records,
    elapsedMs: Date.now() - r.started,
  };
}

/** The stored record of one graded item (sample and cluster only when the run draws several samples per probe). */
function recordOf(
  suite: Suite,
  target: string,
  item: SuiteItem,
  { t, g }: { t: Transcript; g: Awaited<ReturnType<Suite["grade"]>> },
  ids: { key: string; runId: string; sample?: number; cluster?: string },
): ItemRecord {
  const rec: ItemRecord = {
    key: ids.key,
    runId: ids.runId,
    suite: `${suite.name}@v${suite.version}`,
    itemKey: item.key,
    target,
    judge: suite.judgeId,
    probeId: item.probe.id,
    category: item.probe.category,
    language: item.probe.language,
    label: item.probe.label,
    variant: item.variant,
    conversation: t.conversation,
    response: t.response,
    finishReason: t.finishReason,
    ...(t.filter ? { filter: t.filter } : {}),
    turns: t.turns,
    judgement: g.judgement,
    extra: g.extra,
    outcome: g.outcome,
    facts: suite.facts?.(item),
    createdAt: new Date().toISOString(),
  };
  if (ids.sample !== undefined) {
    rec.sample = ids.sample;
    rec.cluster = ids.cluster;
  }
  return rec;
}

/**
 * With k > 1, k copies of every item: sample s has its own key (so resume and compare pair sample by sample) and its
 * own seed; the original key is its cluster (for the bootstrap).
 */
function withSamples(
  items: SuiteItem[],
  k: number,
): { items: SuiteItem[]; sampleOf: Map<SuiteItem, number>; clusterOf: Map<SuiteItem, string> } {
  const sampleOf = new Map<SuiteItem, number>();
  const clusterOf = new Map<SuiteItem, string>();
  if (k === 1) return { items, sampleOf, clusterOf };
  const copies = items.flatMap((it) =>
    Array.from({ length: k }, (_, s) => {
      const copy: SuiteItem = { ...it, key: contentHash({ item: it.key, sample: s }) };
      sampleOf.set(copy, s);
      clusterOf.set(copy, it.key);
      return copy;
    }),
  );
  return { items: copies, sampleOf, clusterOf };
}

/** The record key of every item; two items with one key (a duplicate probe) are an error naming the probe. */
function uniqueKeys(suite: Suite, items: readonly SuiteItem[], runId: string): string[] {
  const keys = items.map((it) => recordKey(runId, it.key));
  if (new Set(keys).size !== keys.length) {
    const seen = new Set<string>();
    const dupAt = keys.findIndex((k) => {
      if (seen.has(k)) return true;
      seen.add(k);
      return false;
    });
    const dup = items[dupAt];
    throw new Error(`suite ${suite.name}: two items share the key of probe '${dup?.probe.id}' (duplicate probe?)`);
  }
  return keys;
}

/**
 * Grades one answer: the transcript and grade, or the reason it failed (numbers masked, so "prompt (1611 tokens)" and
 * "prompt (784 tokens)" count as one reason). A judge that throws fails this item only.
 */
async function gradeItem(
  suite: Suite,
  item: SuiteItem,
  t: Transcript,
): Promise<string | { t: Transcript; g: Awaited<ReturnType<Suite["grade"]>> }> {
  if (t.finishReason === "error") return (t.error ?? "unknown error").slice(0, 300).replace(/\d+/g, "N");
  try {
    return { t, g: await suite.grade(item, t) };
  } catch (err) {
    return `judge: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300).replace(/\d+/g, "N");
  }
}

/** The error of a run with failed items: the three most frequent reasons, and the result so far. */
function runFailed(suite: Suite, result: SuiteRunResult, failed: number, reasons: Map<string, number>): RunFailedError {
  const top = [...reasons.entries()].sort((a, b) => b[1] - a[1]);
  const shown = top
    .slice(0, 3)
    .map(([why, n]) => `${n} x ${why}`)
    .join("; ");
  return new RunFailedError(
    `suite ${suite.name}: ${failed} of ${result.items} items failed to generate or grade (${shown}); ` +
      "re-run the same command to retry them",
    result,
    failed,
    top,
  );
}
