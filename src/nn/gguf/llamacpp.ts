/**
 * Inference through llama.cpp (node-llama-cpp 3.21.1) for evaluation and parity checks: load a GGUF (optionally with
 * GGUF LoRA adapters), compute next-token distributions, and generate for several prompts at once (one context with
 * N sequences; node-llama-cpp batches the concurrent sequences into shared decode calls).
 *
 * Binaries: we call getLlama with `build: "never"` so a run never compiles llama.cpp (minutes on 2 cores). It uses
 * the prebuilt `@node-llama-cpp/linux-x64` addon (or a local build someone already made); if neither loads, the
 * error says how to get one.
 *
 * Precision: "fast" (default, for evaluation) is llama.cpp's own setting: F16 KV cache and flash attention where
 * llama.cpp picks it; its CPU flash attention rounds through F16, so next-token probabilities differ from an F32
 * reference by up to ~1e-3 (measured 8e-4; 1e-2 with a strong LoRA). "exact" (parity tests) uses an F32 KV cache and
 * no flash attention: probabilities match our F32 model to ~1e-6.
 *
 * Several sequences: every runner installs the batch guard of llamacpp-batch.ts between node-llama-cpp and llama.cpp.
 * Without it, tokens of concurrent sequences were sometimes sampled from another sequence's logits (a thread-safety
 * bug between node-llama-cpp's parallel sampling and llama.cpp's lazy output reordering, issue #4), and decode steps
 * were split into many small micro-batches. Details there.
 */
import {
  getLlama,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
} from "node-llama-cpp";
import type { ControlTokenizer } from "../chat-encode.ts";
import { type BatchGuardOptions, type BatchGuardStats, installBatchGuard } from "./llamacpp-batch.ts";

let llamaPromise: Promise<Llama> | undefined;

/** llama.cpp's LLAMA_TOKEN_TYPE_CONTROL (gguf.TokenType.CONTROL). */
const CONTROL_TOKEN_TYPE = 3;

/** The shared CPU llama.cpp binding (never compiles; see the file comment). */
export function getCpuLlama(): Promise<Llama> {
  llamaPromise ??= getLlama({
    gpu: false,
    build: "never",
    logLevel: LlamaLogLevel.error,
    progressLogs: false,
  }).catch((err: unknown) => {
    llamaPromise = undefined;
    throw new Error(
      `node-llama-cpp could not load a prebuilt llama.cpp binary (${(err as Error).message}). Reinstall with ` +
        "`npm ci` so the optional package @node-llama-cpp/linux-x64 (or your platform's) is present; breakfix never " +
        "compiles llama.cpp at run time.",
    );
  });
  return llamaPromise;
}

export interface LoraAdapterRef {
  path: string;
  /** Multiplies alpha / r. Default 1. */
  scale?: number;
}

export interface LlamaCppOptions {
  /** Threads for llama.cpp (default: the Llama's default, i.e. the math cores). */
  threads?: number;
  /** Context length per sequence (default 512). */
  contextSize?: number;
  /** Parallel sequences in one context (default 8). */
  sequences?: number;
  /** LoRA adapters applied to every context. */
  lora?: readonly LoraAdapterRef[];
  /** "fast" (default): llama.cpp's defaults; "exact": F32 KV cache, no flash attention (see the file comment). */
  precision?: "fast" | "exact";
  /** Override the KV cache precision of `precision`. */
  kvCache?: "f32" | "f16";
  /** Max tokens in one decode batch (default: node-llama-cpp's, min(contextSize * sequences, 512)). */
  batchSize?: number;
  /** Override the flash-attention setting of `precision` ("auto" lets llama.cpp decide). */
  flashAttention?: boolean | "auto";
  /** The multi-sequence batch guard's fixes (both on by default; switch off only to diagnose, see llamacpp-batch.ts). */
  batchGuard?: BatchGuardOptions;
}

export interface SamplingOptions {
  maxTokens: number;
  /** 0 = greedy (default). */
  temperature?: number;
  /** Undefined or 0: off (node-llama-cpp's own default would be 40). */
  topK?: number;
  /** Undefined or 1: off (node-llama-cpp's own default would be 0.95). */
  topP?: number;
  /** Sampling seed (default 0, so sampled runs are reproducible). */
  seed?: number;
  /** Extra token ids that end a generation (end-of-generation tokens always do). */
  stopTokens?: readonly number[];
  /** Strings that end a generation; the text is cut before the stop string. */
  stop?: readonly string[];
  /**
   * Stops the generation at the next token when aborted (a serve client that went away): generate() then rejects
   * with an AbortError, and the sequence goes back to the pool.
   */
  signal?: AbortSignal;
}

function abortError(): Error {
  const e = new Error("generation aborted");
  e.name = "AbortError";
  return e;
}

export interface Generation {
  tokens: number[];
  text: string;
  finishReason: "stop" | "length";
}

/** A loaded GGUF model with one context of N sequences; sequences are handed out to concurrent requests. */
export class LlamaCppRunner {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiters: ((s: LlamaContextSequence) => void)[] = [];
  /** Decode batches and samples through the batch guard (see llamacpp-batch.ts). */
  readonly batchStats: BatchGuardStats;

  private constructor(
    readonly model: LlamaModel,
    readonly context: LlamaContext,
    batchGuard: BatchGuardOptions,
  ) {
    this.batchStats = installBatchGuard(context, batchGuard);
    for (let i = 0; i < context.totalSequences; i++) this.free.push(context.getSequence());
    this.free.reverse(); // hand out sequence 0 first: batches then tend to arrive in sequence order
  }

  static async load(modelPath: string, opts: LlamaCppOptions = {}): Promise<LlamaCppRunner> {
    const llama = await getCpuLlama();
    const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
    const sequences = opts.sequences ?? 8;
    const contextSize = opts.contextSize ?? 512;
    const exact = opts.precision === "exact";
    const kvType = (opts.kvCache ?? (exact ? "f32" : "f16")) === "f32" ? "F32" : "F16";
    try {
      const context = await model.createContext({
        contextSize,
        sequences,
        batchSize: opts.batchSize,
        threads: opts.threads,
        flashAttention: opts.flashAttention ?? (exact ? false : "auto"),
        experimentalKvCacheKeyType: kvType,
        experimentalKvCacheValueType: kvType,
        lora: opts.lora?.length
          ? { adapters: opts.lora.map((a) => ({ filePath: a.path, scale: a.scale ?? 1 })) }
          : undefined,
      });
      return new LlamaCppRunner(model, context, opts.batchGuard ?? {});
    } catch (err) {
      await model.dispose();
      throw err;
    }
  }

  /** Vocabulary size (length of tokenizer.ggml.tokens). */
  get vocabSize(): number {
    return this.vocab();
  }

  private vocab(): number {
    const tokens: unknown = this.model.fileInfo.metadata?.tokenizer?.ggml?.tokens;
    if (!Array.isArray(tokens)) throw new Error("GGUF has no tokenizer.ggml.tokens");
    return tokens.length;
  }

  private async acquire(): Promise<LlamaContextSequence> {
    const s = this.free.pop();
    if (s) return s;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(s: LlamaContextSequence): void {
    const w = this.waiters.shift();
    if (w) w(s);
    else this.free.push(s);
  }

  private async withSequence<T>(fn: (s: LlamaContextSequence) => Promise<T>): Promise<T> {
    const s = await this.acquire();
    try {
      await s.clearHistory();
      return await fn(s);
    } finally {
      this.release(s);
    }
  }

  /**
   * Token ids of text. With specialTokens (the default) control-token spellings in the text become control tokens:
   * use it only on text the caller wrote. Chat prompts go through controlTokenizer() and chat-encode.ts instead.
   */
  tokenize(text: string, specialTokens = true): number[] {
    return this.model.tokenize(text, specialTokens).map(Number);
  }

  private control?: ControlTokenizer;

  /**
   * The GGUF's control tokens (tokenizer.ggml.token_type CONTROL) and a text encoder that never parses them
   * (llama.cpp's parse_special = false), for chat encoding where only the template inserts control tokens.
   */
  controlTokenizer(): ControlTokenizer {
    this.control ??= controlTokenizerOf(this.model);
    return this.control;
  }

  detokenize(tokens: readonly number[]): string {
    return this.model.detokenize(tokens as never[]);
  }

  /** The full next-token distribution after `prompt` (softmax of the last position's logits), per prompt. */
  async nextTokenProbabilities(prompts: readonly (readonly number[])[]): Promise<Float64Array[]> {
    const vocab = this.vocab();
    return Promise.all(
      prompts.map((prompt) =>
        this.withSequence(async (seq) => {
          const it = seq.evaluateWithMetadata(
            [...prompt] as never[],
            { probabilities: true },
            {
              temperature: 0,
              // without this, an end-of-generation top token ends the generator before it yields the distribution
              yieldEogToken: true,
            },
          );
          try {
            const r = await it.next();
            if (r.done) throw new Error("llama.cpp produced no next token");
            const out = new Float64Array(vocab);
            for (const [tok, p] of r.value.probabilities) out[Number(tok)] = p;
            return out;
          } finally {
            await it.return();
          }
        }),
      ),
    );
  }

  /**
   * Teacher-forced next-token distributions: for each item, the distribution after `prompt + continuation[0..t)` for
   * every t < continuation.length, from ONE evaluation of the whole sequence (outputs at every continuation position).
   */
  async teacherForcedProbabilities(
    items: readonly { prompt: readonly number[]; continuation: readonly number[] }[],
  ): Promise<Float64Array[][]> {
    const vocab = this.vocab();
    return Promise.all(
      items.map(({ prompt, continuation }) => {
        if (prompt.length === 0) throw new Error("teacherForcedProbabilities: empty prompt");
        if (continuation.length === 0) return Promise.resolve([]);
        return this.withSequence(async (seq) => {
          const input = [...prompt, ...continuation.slice(0, -1)];
          const from = prompt.length - 1;
          const out = await seq.controlledEvaluate(
            input.map((t, i) =>
              i < from
                ? (t as never)
                : ([t, { generateNext: { probabilities: true, options: { temperature: 0 } } }] as never),
            ),
          );
          return continuation.map((_, k) => {
            const probs = out[from + k]?.next.probabilities;
            if (!probs) throw new Error(`llama.cpp returned no distribution at position ${from + k}`);
            const dist = new Float64Array(vocab);
            for (const [tok, p] of probs) dist[Number(tok)] = p;
            return dist;
          });
        });
      }),
    );
  }

  /** Generate for every prompt (token ids), concurrently over the context's sequences. */
  async generate(prompts: readonly (readonly number[])[], opts: SamplingOptions): Promise<Generation[]> {
    return Promise.all(
      prompts.map(async (p) => {
        // a request aborted while it waited for a free sequence never takes one
        if (opts.signal?.aborted) throw abortError();
        return this.withSequence((seq) => this.generateOne(seq, p, opts));
      }),
    );
  }

  /**
   * Tokens one sequence can hold: the context per sequence, and no more than the model was trained on (positions
   * past its training context give garbage, not an error).
   */
  get contextLimit(): number {
    const train = this.model.trainContextSize;
    return train > 0 ? Math.min(this.context.contextSize, train) : this.context.contextSize;
  }

  private async generateOne(seq: LlamaContextSequence, prompt: readonly number[], o: SamplingOptions) {
    if (o.signal?.aborted) throw abortError();
    const tokens: number[] = [];
    const stopTokens = new Set(o.stopTokens ?? []);
    let finishReason: Generation["finishReason"] = "length";
    let text = "";
    if (o.maxTokens <= 0) return { tokens, text, finishReason };
    const temperature = o.temperature ?? 0;
    const it = seq.evaluate([...prompt] as never[], {
      temperature,
      // node-llama-cpp defaults to top-k 40 / top-p 0.95 when these are undefined; ours means "off". Greedy
      // decoding passes nothing (a full-vocabulary top-k would only slow the greedy sampler down).
      ...(temperature > 0 ? { topK: o.topK ?? 0, topP: o.topP ?? 1, seed: o.seed ?? 0 } : {}),
      yieldEogToken: true, // otherwise the generator just ends and we cannot tell "stop" from "length"
    });
    try {
      for await (const t of it) {
        if (o.signal?.aborted) throw abortError();
        const tok = Number(t);
        if (this.model.isEogToken(t) || stopTokens.has(tok)) {
          finishReason = "stop";
          break;
        }
        tokens.push(tok);
        if (o.stop?.length) {
          text = this.detokenize(tokens);
          const cut = firstStop(text, o.stop);
          if (cut >= 0) {
            text = text.slice(0, cut);
            finishReason = "stop";
            break;
          }
        }
        if (tokens.length >= o.maxTokens) break;
      }
    } finally {
      await it.return();
    }
    if (!o.stop?.length || finishReason !== "stop" || text === "") text = this.detokenize(tokens);
    if (o.stop?.length) {
      const cut = firstStop(text, o.stop);
      if (cut >= 0) text = text.slice(0, cut);
    }
    return { tokens, text, finishReason };
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}

/** The control tokens of a loaded GGUF and a text encoder that never parses them (see controlTokenizer()). */
export function controlTokenizerOf(model: LlamaModel): ControlTokenizer {
  const ggml = model.fileInfo.metadata?.tokenizer?.ggml as { tokens?: unknown; token_type?: unknown } | undefined;
  const tokens = Array.isArray(ggml?.tokens) ? (ggml.tokens as string[]) : [];
  const types = ggml?.token_type as ArrayLike<number> | undefined;
  const ids = new Map<string, number>();
  if (types)
    for (let i = 0; i < tokens.length; i++)
      if (Number(types[i]) === CONTROL_TOKEN_TYPE && tokens[i] && !ids.has(tokens[i])) ids.set(tokens[i], i);
  return {
    controlTokens: [...ids.keys()],
    controlId: (token) => {
      const id = ids.get(token);
      if (id === undefined) throw new Error(`control token ${JSON.stringify(token)} is not in the GGUF vocabulary`);
      return id;
    },
    encodeText: (text) => model.tokenize(text, false).map(Number),
  };
}

/** Index of the first stop string in text, or -1. */
export function firstStop(text: string, stops: readonly string[]): number {
  let best = -1;
  for (const s of stops) {
    if (!s) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}
