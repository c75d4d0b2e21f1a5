/**
 * A guard around node-llama-cpp 3.21.1's native context binding (`LlamaContext._ctx`, an `AddonContext`) that fixes
 * wrong tokens with several sequences in one context and makes their shared decode batches cheaper.
 *
 * The bug (issue #4): after a decode, llama.cpp keeps the output rows of a batch in the order its micro-batches ran and
 * records the swaps that restore the caller's order (`llama_context::output_swaps`); the first logits access applies
 * them, in place, and clears the list (`output_reorder()`, llama.cpp src/llama-context.cpp). That is not thread-safe,
 * and node-llama-cpp samples every sequence of a batch in its own libuv worker (`AddonContextSampleTokenWorker`), all
 * at once. When the swap list is not empty, two workers swap the same rows concurrently (undoing or half-applying the
 * permutation), and a sequence samples from ANOTHER sequence's logits. The swap list is not empty whenever llama.cpp
 * split the batch into micro-batches out of the caller's order, which its non-unified KV cache (one stream per
 * sequence, what node-llama-cpp configures) does for any batch whose sequence ids are not consecutive and increasing
 * (`llama_batch_allocr::split_equal(n_ubatch, sequential = true)`), e.g. sequences queued in another order than their
 * ids (node-llama-cpp queues them in the order their previous samples finished) or prompts of different lengths.
 * Measured (16 sequences x 32 greedy tokens of a random model, every token teacher-forced on its own; vocabulary 32k,
 * where the swap loop is long enough to race often): without the guard 12 of 60 runs had tokens sampled from another
 * sequence (probability gaps up to 0.36); sorting alone 1 of 60; first-sample serialization alone 0 of 60; both 0 of
 * 60. On the 284-token test fixture the race is rarer (5 of 30 runs failed before the guard).
 *
 * Fix 1 (correctness): after each decode, the first sampleToken runs alone (it applies the swaps on one thread); the
 * others of that batch start once it is done, when the swap list is empty and the workers only read the context
 * (an empty std::vector::clear() stores nothing). Cost: one sampling latency per decode (not measurable in
 * perf:generate).
 *
 * Fix 2 (speed): the tokens of a batch are handed to llama.cpp sorted by sequence id. With the sequential equal split,
 * a decode step of sequences 0..15 is then one micro-batch (one graph run) instead of one per run of consecutive ids in
 * arrival order, and no output reordering is needed. Measured on perf:generate's 5M model: 2.2 micro-batches per
 * decode instead of 6-7, 1,130-1,180 instead of 480-660 tokens/s. node-llama-cpp returns batch logit indexes from
 * `addToBatch` before the batch is complete, so the guard hands out the indexes of the arrival order and maps them to
 * the sorted batch when sampling.
 *
 * It relies on internals of the pinned node-llama-cpp (checked at install time, with an error naming the version).
 * Not compatible with node-llama-cpp's draft-model token predictors (they pass `_ctx` to native code); we use none.
 * An error of the native addToBatch now surfaces when the batch is decoded (rejecting the batch's decodes rather than
 * one); the guard checks capacity and logit indexes itself so that this does not happen in practice. The upstream fix
 * would be one line in node-llama-cpp's AddonContextDecodeBatchWorker::Execute (touch the logits, e.g.
 * llama_get_logits, right after llama_decode, so the reordering happens on the decode thread); drop Fix 1 once a
 * pinned release does that.
 */

/** The part of node-llama-cpp 3.21.1's `AddonContext` the guard wraps (the rest is forwarded untouched). */
export interface NativeBatchApi {
  initBatch(size: number): void;
  addToBatch(sequenceId: number, firstPos: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array;
  decodeBatch(): Promise<void>;
  sampleToken(batchLogitIndex: number, sampler: unknown, ...rest: unknown[]): Promise<unknown>;
}

interface PendingItem {
  sequenceId: number;
  firstPos: number;
  tokens: Uint32Array;
  logitIndexes: Uint32Array;
  /** index of this item's first token in the arrival-order batch */
  offset: number;
}

const METHODS = ["initBatch", "addToBatch", "decodeBatch", "sampleToken"] as const;

/** Statistics of the guard (for tests and benchmarks). */
export interface BatchGuardStats {
  batches: number;
  /** tokens decoded in those batches */
  tokens: number;
  /** batches whose arrival order was not already sorted by sequence id */
  reordered: number;
  samples: number;
}

/** Both fixes are on by default; switching one off exists to diagnose (see .scratch notes in the issue). */
export interface BatchGuardOptions {
  /** Hand batches to llama.cpp sorted by sequence id (default true). */
  sortBySequence?: boolean;
  /** Run the first sampleToken after each decode alone (default true). */
  serializeFirstSample?: boolean;
}

/**
 * Wraps a native batch API: deferred, sequence-sorted batches and serialized first sampling after each decode.
 * Returns the wrapper (all other properties and methods are forwarded to `native`) and its statistics.
 */
export function guardNativeBatch<T extends NativeBatchApi>(
  native: T,
  opts: BatchGuardOptions = {},
): { guarded: T; stats: BatchGuardStats } {
  const sort = opts.sortBySequence ?? true;
  const serialize = opts.serializeFirstSample ?? true;
  for (const m of METHODS) {
    if (typeof (native as unknown as Record<string, unknown>)[m] !== "function")
      throw new Error(
        `node-llama-cpp's native context has no ${m}(); LlamaCppRunner's batch guard is written for node-llama-cpp ` +
          "3.21.1 (pinned in package.json); check src/nn/gguf/llamacpp-batch.ts against the installed version",
      );
  }
  const stats: BatchGuardStats = { batches: 0, tokens: 0, reordered: 0, samples: 0 };
  let capacity = 0;
  let size = 0;
  let items: PendingItem[] = [];
  /** arrival-order batch index -> index in the batch llama.cpp decoded (-1: not an output) */
  let toReal = new Int32Array(0);
  /** set by a decode: the next sampleToken must run alone */
  let firstAfterDecode = false;
  /** settles when the first sampleToken after the last decode has finished */
  let firstDone: Promise<unknown> = Promise.resolve();

  const initBatch = (n: number): void => {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Invalid batch size ${n}`);
    capacity = n;
    size = 0;
    items = [];
  };

  const addToBatch = (sequenceId: number, firstPos: number, tokens: Uint32Array, logitIndexes: Uint32Array) => {
    if (capacity === 0) throw new Error("No batch is initialized");
    if (tokens.length > capacity - size) throw new RangeError("Tokens exceed the initialized batch size");
    const out = new Uint32Array(logitIndexes.length);
    for (let l = 0; l < logitIndexes.length; l++) {
      if (logitIndexes[l] >= tokens.length) throw new RangeError(`logit index ${logitIndexes[l]} is past the tokens`);
      if (l > 0 && logitIndexes[l] <= logitIndexes[l - 1]) throw new RangeError("logit indexes must increase");
      out[l] = size + logitIndexes[l];
    }
    // copies: the caller may reuse its arrays before the batch is decoded
    items.push({ sequenceId, firstPos, tokens: tokens.slice(), logitIndexes: logitIndexes.slice(), offset: size });
    size += tokens.length;
    return out;
  };

  const decodeBatch = async (): Promise<void> => {
    if (capacity === 0 || size === 0) throw new Error("No batch is initialized");
    const sorted = sort ? sortBySequence(items) : items;
    if (sorted.some((it, i) => it !== items[i])) stats.reordered++;
    stats.batches++;
    stats.tokens += size;
    toReal = new Int32Array(size).fill(-1);
    native.initBatch(size);
    for (const it of sorted) {
      const real = native.addToBatch(it.sequenceId, it.firstPos, it.tokens, it.logitIndexes);
      for (let l = 0; l < it.logitIndexes.length; l++) toReal[it.offset + it.logitIndexes[l]] = real[l];
    }
    capacity = 0;
    items = [];
    firstAfterDecode = false;
    await native.decodeBatch();
    firstAfterDecode = true;
  };

  const sampleToken = (index: number, sampler: unknown, ...rest: unknown[]): Promise<unknown> => {
    const real = index >= 0 && index < toReal.length ? toReal[index] : -1;
    if (real < 0) return Promise.reject(new RangeError(`batch logit index ${index} has no output in the last batch`));
    stats.samples++;
    if (!serialize) return native.sampleToken(real, sampler, ...rest);
    if (firstAfterDecode) {
      firstAfterDecode = false;
      const p = native.sampleToken(real, sampler, ...rest);
      firstDone = p.catch(() => undefined);
      return p;
    }
    return firstDone.then(() => native.sampleToken(real, sampler, ...rest));
  };

  const overrides: Record<string, unknown> = { initBatch, addToBatch, decodeBatch, sampleToken };
  const guarded = new Proxy(native, {
    get(target, key) {
      if (typeof key === "string" && key in overrides) return overrides[key];
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { guarded, stats };
}

/** Stable sort of batch items by sequence id (then position), keeping the array itself when already sorted. */
export function sortBySequence<I extends { sequenceId: number; firstPos: number }>(items: readonly I[]): I[] {
  return items
    .map((it, i) => ({ it, i }))
    .sort((a, b) => a.it.sequenceId - b.it.sequenceId || a.it.firstPos - b.it.firstPos || a.i - b.i)
    .map((x) => x.it);
}

/** Installs the guard on a node-llama-cpp LlamaContext (replaces its private `_ctx`). */
export function installBatchGuard(context: object, opts: BatchGuardOptions = {}): BatchGuardStats {
  const holder = context as { _ctx?: NativeBatchApi };
  if (!holder._ctx || typeof holder._ctx !== "object")
    throw new Error(
      "node-llama-cpp's LlamaContext has no native _ctx; LlamaCppRunner's batch guard is written for node-llama-cpp " +
        "3.21.1 (pinned in package.json)",
    );
  const { guarded, stats } = guardNativeBatch(holder._ctx, opts);
  holder._ctx = guarded;
  return stats;
}
