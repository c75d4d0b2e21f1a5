/**
 * Greedy Coordinate Gradient (Zou et al. 2023, "Universal and Transferable Adversarial Attacks on Aligned Language
 * Models"), on a white-box target run by our engine.
 *
 * One step, for the current suffix x[1..S] and prompts p = 1..P with target answers y_p:
 *   1. token gradients: G_p = d L_p / d onehot(x)   [S,V]   (src/nn/token-grad.ts: our autodiff, not hand-derived),
 *      L_p = mean token cross-entropy of y_p after the chat-templated user turn "prompt_p + suffix";
 *      G = sum_p G_p / ||G_p|| (each prompt's gradient normalised, as the paper's universal variant sums them)
 *   2. top-k: for each position i, the k tokens with the most negative G[i, .] (control tokens, and by default
 *      non-ASCII or unprintable tokens, excluded)
 *   3. candidates: B copies of x, each with ONE position (uniform) replaced by a uniform pick of its top-k
 *   4. filter: drop duplicates, the current suffix, and every candidate whose text does not retokenize to the same ids
 *      inside each prompt's chat template (so what was optimised is what a replay sends)
 *   5. batched evaluation: every candidate's loss sum_p L_p in batched forwards [B_eval, T_p] on the executor
 *   6. x <- the best candidate (even if worse than x: the paper's greedy step); the best suffix ever seen is kept
 *   7. early stop: greedy generation from each prompt + x; success when every completion begins with its target
 *      (or the caller's `isSuccess`, e.g. a judge)
 *
 * Progress is stored after every step (a content-hash run key + step number, insert-or-skip): a killed run resumes
 * at the last finished step with the same candidates (each step's sampling seed derives from the run seed and step).
 */
import { contentHash } from "../../domain/hash.ts";
import { deriveSeed, Rng } from "../../domain/random.ts";
import { generate } from "../../nn/generate.ts";
import type { Executor } from "../../nn/ir.ts";
import { LlamaRunner } from "../../nn/model.ts";
import { TokenGradient } from "../../nn/token-grad.ts";
import type { WhiteBoxTarget } from "./whitebox.ts";

export interface GcgPrompt {
  /** the user request (the suffix is appended to it) */
  prompt: string;
  /** the answer the attack wants the model to begin with */
  target: string;
}

export interface GcgOptions {
  /** most optimisation steps (default 100; the paper: 500) */
  steps?: number;
  /** top-k tokens per position (default 64; the paper: 256 on 32k vocabularies) */
  topK?: number;
  /** candidates sampled per step (default 64; the paper: 512) */
  searchWidth?: number;
  /** candidates per batched forward (default 32; the last chunk is padded to this size: one compiled shape) */
  evalBatch?: number;
  /** initial suffix text (default 10 x " !"; the paper: 20); its token count is the suffix length */
  initSuffix?: string;
  /** allow non-ASCII / unprintable suffix tokens (default false, as the paper's code) */
  allowNonAscii?: boolean;
  /** stop at the first step where the attack succeeds (default true) */
  earlyStop?: boolean;
  /** generation budget for the success check (default: target tokens + 4) */
  checkTokens?: number;
  seed?: number;
}

export interface GcgStepRecord {
  step: number;
  /** loss (sum over prompts) of the suffix chosen at this step */
  loss: number;
  suffixIds: number[];
  bestLoss: number;
  bestSuffixIds: number[];
  /** candidates evaluated this step (after filtering) */
  evaluated: number;
  /** whether every prompt's greedy completion succeeded with this step's suffix */
  success: boolean;
  completions: string[];
  ms: number;
}

/** Where per-step progress goes (the workspace store's artifacts, or memory in tests). */
export interface GcgProgressStore {
  get(runKey: string, step: number): GcgStepRecord | undefined;
  put(runKey: string, record: GcgStepRecord): void;
}

export class MemoryGcgProgress implements GcgProgressStore {
  readonly records = new Map<string, GcgStepRecord>();
  get(runKey: string, step: number) {
    return this.records.get(`${runKey}#${step}`);
  }
  put(runKey: string, r: GcgStepRecord) {
    if (!this.records.has(`${runKey}#${r.step}`)) this.records.set(`${runKey}#${r.step}`, r);
  }
}

export interface GcgResult {
  runKey: string;
  success: boolean;
  /** the step at which it first succeeded (0 = the initial suffix already worked), null when it did not */
  successStep: number | null;
  /** steps run (including resumed ones) */
  steps: number;
  /** the suffix text to append to a prompt (begins with its separator, e.g. a space) */
  suffix: string;
  suffixIds: number[];
  loss: number;
  completions: string[];
  /** candidates evaluated over all steps (the compute budget actually used) */
  evaluated: number;
  /** summed wall time of every step record, resumed ones included */
  computeMs: number;
  /** wall time of this call (resumed steps cost nothing) */
  wallMs: number;
  resumedSteps: number;
}

interface Layout {
  /** ids before the suffix slot, and after it (generation prompt included) */
  before: number[];
  after: number[];
  targetIds: number[];
}

const commonPrefix = (a: readonly number[], b: readonly number[]) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

/** Splits the templated prompt around the suffix: encode(prompt + suffix) = before ++ suffixIds ++ after. */
export function promptLayout(m: WhiteBoxTarget, p: GcgPrompt, suffixIds: readonly number[]): Layout {
  const suffix = m.decode(suffixIds);
  const full = m.encodeUser(p.prompt + suffix);
  const bare = m.encodeUser(p.prompt);
  const pre = commonPrefix(full, bare);
  const before = full.slice(0, pre);
  const after = full.slice(pre + suffixIds.length);
  if (!sameIds(full, [...before, ...suffixIds, ...after]))
    throw new Error(
      `GCG: the suffix ${JSON.stringify(suffix)} does not keep its tokens after ${JSON.stringify(p.prompt)}`,
    );
  const targetIds = m.encodeText(p.target);
  if (targetIds.length === 0) throw new Error("GCG: empty target");
  return { before, after, targetIds };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Sequence ids and HF labels (-100 except the target) for one prompt layout and suffix. */
function sequence(l: Layout, suffixIds: readonly number[]): { ids: number[]; labels: number[] } {
  const ids = [...l.before, ...suffixIds, ...l.after, ...l.targetIds];
  const labels = ids.map((id, i) => (i >= ids.length - l.targetIds.length ? id : -100));
  return { ids, labels };
}

/** Token ids allowed in the suffix: no control tokens; printable ASCII only unless allowNonAscii. */
export function allowedTokens(m: WhiteBoxTarget, allowNonAscii = false): Uint8Array {
  const V = m.config.vocabSize;
  const ok = new Uint8Array(V);
  const control = new Set(m.controlIds);
  for (let v = 0; v < V; v++) {
    if (control.has(v) || m.stopTokens.includes(v)) continue;
    let text: string;
    try {
      text = m.decode([v]);
    } catch {
      continue;
    }
    if (text.length === 0 || text.includes("\uFFFD")) continue;
    if (!allowNonAscii && !/^[\x20-\x7e]+$/.test(text)) continue;
    ok[v] = 1;
  }
  return ok;
}

/** The k allowed tokens with the most negative gradient at each position: [S][k]. */
export function topKTokens(grad: Float32Array, S: number, V: number, k: number, allowed: Uint8Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < S; i++) {
    const ids: number[] = [];
    for (let v = 0; v < V; v++) if (allowed[v]) ids.push(v);
    const row = grad.subarray(i * V, (i + 1) * V);
    ids.sort((a, b) => row[a] - row[b] || a - b);
    out.push(ids.slice(0, k));
  }
  return out;
}

/** B candidates, each the current suffix with one uniformly chosen position set to a uniform pick of its top-k. */
export function sampleCandidates(current: readonly number[], top: number[][], B: number, rng: Rng): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < B; i++) {
    const pos = rng.int(current.length);
    const c = [...current];
    c[pos] = rng.pick(top[pos]);
    out.push(c);
  }
  return out;
}

const DEFAULTS = {
  steps: 100,
  topK: 64,
  searchWidth: 64,
  evalBatch: 32,
  initSuffix: " !".repeat(10),
  allowNonAscii: false,
  earlyStop: true,
  seed: 0,
};

export interface GcgRunArgs {
  target: WhiteBoxTarget;
  prompts: readonly GcgPrompt[];
  options?: GcgOptions;
  executor: Executor;
  progress?: GcgProgressStore;
  /** success test per prompt (default: the completion begins with the target, leading spaces ignored) */
  isSuccess?: (promptIndex: number, completion: string) => boolean | Promise<boolean>;
  onStep?: (r: GcgStepRecord, totalSteps: number) => void;
  signal?: AbortSignal;
}

/** Runs GCG (one prompt: individual; several: one universal suffix for all). */
export async function runGcg(args: GcgRunArgs): Promise<GcgResult> {
  const started = performance.now();
  const { target: m, prompts, executor } = args;
  if (prompts.length === 0) throw new Error("GCG: no prompts");
  const o = { ...DEFAULTS, ...stripUndefined(args.options ?? {}) };
  const progress = args.progress ?? new MemoryGcgProgress();
  const V = m.config.vocabSize;
  const initIds = m.encodeText(o.initSuffix);
  // the step budget and early stop do not change the trajectory: a longer run continues a shorter one
  const { steps: _steps, earlyStop: _earlyStop, ...trajectory } = o;
  const runKey = contentHash({ kind: "gcg@1", model: m.id, prompts, options: trajectory });
  const layouts = prompts.map((p) => promptLayout(m, p, initIds));
  const allowed = allowedTokens(m, o.allowNonAscii);
  const S = initIds.length;
  const grads = new TokenGradient(m.config, executor);
  const runner = new LlamaRunner(m.config, executor);
  const succeeded = async (i: number, text: string) =>
    args.isSuccess ? args.isSuccess(i, text) : text.trimStart().startsWith(prompts[i].target.trimStart());

  const check = async (suffixIds: readonly number[]) => {
    const seqs = layouts.map((l) => [...l.before, ...suffixIds, ...l.after]);
    const completions = seqs.map(
      (s, i) =>
        generate(m.config, m.weights, [s], {
          maxTokens: o.checkTokens ?? layouts[i].targetIds.length + 4,
          stopTokens: m.stopTokens,
        })[0].tokens,
    );
    const texts = completions.map((t) => m.decode(t));
    const ok = await Promise.all(texts.map((t, i) => succeeded(i, t)));
    return { texts, success: ok.every(Boolean) };
  };

  const lossOf = async (cands: readonly (readonly number[])[]): Promise<Float64Array> => {
    const total = new Float64Array(cands.length);
    const chunk = Math.min(o.evalBatch, cands.length);
    for (const l of layouts) {
      for (let s = 0; s < cands.length; s += chunk) {
        const part = cands.slice(s, s + chunk);
        while (part.length < chunk) part.push(part[part.length - 1]); // one compiled shape per prompt
        const seqs = part.map((c) => sequence(l, c));
        const T = seqs[0].ids.length;
        const logps = await runner.sequenceLogps(m.weights, {
          B: chunk,
          T,
          inputIds: seqs.flatMap((x) => x.ids),
          attentionMask: new Array<number>(chunk * T).fill(1),
          labels: seqs.flatMap((x) => x.labels),
        });
        for (let i = 0; i < chunk && s + i < cands.length; i++) total[s + i] += -logps[i] / l.targetIds.length;
      }
    }
    return total;
  };

  // resume
  let current = [...initIds];
  let best = { ids: [...initIds], loss: Number.POSITIVE_INFINITY };
  let evaluated = 0;
  let computeMs = 0;
  let step = 0;
  let last: GcgStepRecord | undefined;
  let resumed = 0;
  for (; step <= o.steps; ) {
    const r = progress.get(runKey, step);
    if (!r) break;
    last = r;
    current = [...r.suffixIds];
    best = { ids: [...r.bestSuffixIds], loss: r.bestLoss };
    evaluated += r.evaluated;
    computeMs += r.ms;
    step++;
    resumed++;
  }

  const finish = (rec: GcgStepRecord | undefined, success: boolean, successStep: number | null): GcgResult => {
    const ids = success && rec ? rec.suffixIds : best.ids;
    return {
      runKey,
      success,
      successStep,
      steps: rec?.step ?? 0,
      suffix: m.decode(ids),
      suffixIds: [...ids],
      loss: success && rec ? rec.loss : best.loss,
      completions: rec?.completions ?? [],
      evaluated,
      computeMs,
      wallMs: performance.now() - started,
      resumedSteps: resumed,
    };
  };

  try {
    if (last?.success && o.earlyStop) return finish(last, true, last.step);
    if (step === 0) {
      // step 0: the initial suffix, evaluated and checked (a model that already complies needs no optimisation)
      const t0 = performance.now();
      const [loss] = await lossOf([current]);
      const c = await check(current);
      best = { ids: [...current], loss };
      last = {
        step: 0,
        loss,
        suffixIds: [...current],
        bestLoss: loss,
        bestSuffixIds: [...current],
        evaluated: 1,
        success: c.success,
        completions: c.texts,
        ms: performance.now() - t0,
      };
      progress.put(runKey, last);
      evaluated += 1;
      computeMs += last.ms;
      step = 1;
      args.onStep?.(last, o.steps);
      if (c.success && o.earlyStop) return finish(last, true, 0);
    }
    for (; step <= o.steps; step++) {
      if (args.signal?.aborted) throw new Error("GCG: aborted");
      const t0 = performance.now();
      // 1. token gradients, normalised per prompt and summed
      const G = new Float32Array(S * V);
      for (const l of layouts) {
        const { ids, labels } = sequence(l, current);
        const { grad } = await grads.run(m.weights, ids, { start: l.before.length, length: S }, labels);
        let norm = 0;
        for (const g of grad) norm += g * g;
        const inv = 1 / Math.max(Math.sqrt(norm), 1e-12);
        for (let i = 0; i < G.length; i++) G[i] += grad[i] * inv;
      }
      // 2-4. top-k, candidates, retokenization filter
      const top = topKTokens(G, S, V, o.topK, allowed);
      const rng = new Rng(deriveSeed(o.seed, "gcg", runKey, step));
      const seen = new Set<string>([current.join(",")]);
      const cands: number[][] = [];
      for (let tries = 0; tries < 4 && cands.length < o.searchWidth; tries++) {
        for (const c of sampleCandidates(current, top, o.searchWidth, rng)) {
          if (cands.length >= o.searchWidth) break;
          const key = c.join(",");
          if (seen.has(key)) continue;
          seen.add(key);
          if (retokenizes(m, prompts, layouts, c)) cands.push(c);
        }
      }
      if (cands.length === 0) throw new Error(`GCG: step ${step}: every candidate changed under retokenization`);
      // 5-6. batched evaluation, greedy choice
      const losses = await lossOf(cands);
      let bi = 0;
      for (let i = 1; i < losses.length; i++) if (losses[i] < losses[bi]) bi = i;
      current = cands[bi];
      if (losses[bi] < best.loss) best = { ids: [...current], loss: losses[bi] };
      evaluated += cands.length;
      // 7. early stop
      const c = await check(current);
      last = {
        step,
        loss: losses[bi],
        suffixIds: [...current],
        bestLoss: best.loss,
        bestSuffixIds: [...best.ids],
        evaluated: cands.length,
        success: c.success,
        completions: c.texts,
        ms: performance.now() - t0,
      };
      progress.put(runKey, last);
      computeMs += last.ms;
      args.onStep?.(last, o.steps);
      if (c.success && o.earlyStop) return finish(last, true, last.step);
    }
    const firstSuccess = last?.success ? last.step : null;
    return finish(last, firstSuccess !== null, firstSuccess);
  } finally {
    await grads.dispose();
    await runner.dispose();
  }
}

/** True when the candidate's text keeps exactly its ids inside every prompt's chat template. */
function retokenizes(
  m: WhiteBoxTarget,
  prompts: readonly GcgPrompt[],
  layouts: readonly Layout[],
  c: number[],
): boolean {
  const text = m.decode(c);
  return prompts.every((p, i) =>
    sameIds(m.encodeUser(p.prompt + text), [...layouts[i].before, ...c, ...layouts[i].after]),
  );
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
