/**
 * Local GGUF models through node-llama-cpp 3.21.1, on the GGUF engineer's LlamaCppRunner (src/nn/gguf/llamacpp.ts):
 * one context with N sequences, concurrent requests decode together. Conversations are rendered with the GGUF's own
 * chat template (tokenizer.chat_template, through @huggingface/jinja); only the template's own markers become control
 * tokens (message text is tokenized as text, see src/nn/chat-encode.ts). An optional
 * GGUF LoRA adapter is applied to the context. JSON-schema requests are not constrained here (callers validate).
 *
 * Two engines behind this one provider (issue #25): llama.cpp's own server, built at set-up and managed here
 * (src/nn/gguf/llamacpp-server.ts: started per model + adapter, stopped by close()), which `npm run perf:generate`
 * measured several times faster on the demo suite with the same greedy outputs; and node-llama-cpp in-process
 * (LlamaCppRunner), used when the server binary is absent (said once on stderr) or asked for. `engine` (or
 * $BREAKFIX_LLAMACPP_ENGINE): "auto" (default: the server when built), "server", "in-process". The prompt is rendered
 * and tokenized here in both cases, so both engines see the same token ids.
 */
import { Template } from "@huggingface/jinja";
import { fileSha256 } from "../../domain/file-hash.ts";
import { encodeChat } from "../../nn/chat-encode.ts";
import type { Generation, LlamaCppRunner, SamplingOptions } from "../../nn/gguf/llamacpp.ts";
import { contextOverflowError, defaultMaxTokens, ModelError, toModelError } from "../errors.ts";
import { adapterFingerprint, localModelId } from "../fingerprint.ts";
import type { ChatModel, ChatRequest, ChatResult, SamplingParams } from "../types.ts";

export interface LlamaCppProviderOptions {
  /** Path to the .gguf file. */
  model: string;
  /** GGUF LoRA adapter file(s). */
  adapter?: string | string[];
  /** Parallel sequences (default 4). */
  sequences?: number;
  /** Context length per sequence (default 2048). */
  contextSize?: number;
  /**
   * llama.cpp threads. Given: one engine runs them all. Left out: llama.cpp's default, and on the server engine a model
   * up to 64 MiB gets one single-threaded server per math core, sharing the sequences (llamacpp-server.ts
   * defaultReplicas: twice the demo suite's throughput on 2 idle cores, and no spinning barriers on a busy machine).
   */
  threads?: number;
  /**
   * Used when a request gives no maxTokens (default 512). "context": the rest of one slot's context after the prompt,
   * as llama.cpp's own server does (n_predict -1); `breakfix serve` uses it, on both engines alike.
   */
  defaultMaxTokens?: number | "context";
  defaults?: SamplingParams;
  /** Which engine runs the GGUF (default $BREAKFIX_LLAMACPP_ENGINE, else "auto"; see the file comment). */
  engine?: LlamaCppEngineChoice;
}

export type LlamaCppEngineChoice = "auto" | "server" | "in-process";

/** What the provider needs from an engine (LlamaCppRunner in-process, LlamaServerRunner on llama-server). */
interface GgufEngine {
  readonly model: LlamaCppRunner["model"];
  readonly contextLimit: number;
  controlTokenizer(): ReturnType<LlamaCppRunner["controlTokenizer"]>;
  generate(prompts: readonly (readonly number[])[], opts: SamplingOptions): Promise<Generation[]>;
  /** Starts what generation needs now (the server engine otherwise starts on its first generation). */
  start?(): Promise<unknown>;
  dispose(): Promise<void>;
}

let warnedMissingServer = false;

function engineChoice(opts: LlamaCppProviderOptions): LlamaCppEngineChoice {
  const v = opts.engine ?? process.env.BREAKFIX_LLAMACPP_ENGINE ?? "auto";
  if (v !== "auto" && v !== "server" && v !== "in-process")
    throw new ModelError(`BREAKFIX_LLAMACPP_ENGINE: expected auto, server or in-process, got "${v}"`, "config");
  return v;
}

/** Parsed templates by source (a model has one; parsing on every request cost more than the render). */
const parsedTemplates = new Map<string, Template>();

/** Renders a conversation with a Jinja chat template (HF conventions: messages, add_generation_prompt, bos/eos). */
export function renderChatTemplate(
  template: string,
  messages: ChatRequest["messages"],
  specials: { bos_token?: string; eos_token?: string } = {},
): string {
  let parsed = parsedTemplates.get(template);
  if (!parsed) {
    parsed = new Template(template);
    if (parsedTemplates.size >= 64) parsedTemplates.clear();
    parsedTemplates.set(template, parsed);
  }
  return parsed.render({
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    add_generation_prompt: true,
    bos_token: specials.bos_token ?? "",
    eos_token: specials.eos_token ?? "",
  });
}

export class LlamaCppModel implements ChatModel {
  readonly id: string;
  private readonly template: string;
  private readonly specials: { bos_token?: string; eos_token?: string };

  private constructor(
    private readonly runner: GgufEngine,
    private readonly opts: LlamaCppProviderOptions,
    /** The engine that runs this model. */
    readonly engine: "server" | "in-process",
  ) {
    const adapters = ([] as string[]).concat(opts.adapter ?? []);
    // Named by content, not path (models/fingerprint.ts): a retrained file must not get the old weights' stored answers.
    this.id = localModelId(
      "llamacpp",
      opts.model,
      fileSha256(opts.model),
      adapters.map((a) => ({ path: a, fingerprint: adapterFingerprint(a) })),
    );
    const meta = runner.model.fileInfo.metadata as unknown as {
      tokenizer?: {
        chat_template?: string;
        ggml?: { tokens?: string[]; bos_token_id?: number; eos_token_id?: number };
      };
    };
    const template = meta.tokenizer?.chat_template;
    if (!template) throw new ModelError(`${opts.model}: GGUF has no tokenizer.chat_template`, "config");
    this.template = template;
    const tokens = meta.tokenizer?.ggml?.tokens;
    const bos = meta.tokenizer?.ggml?.bos_token_id;
    const eos = meta.tokenizer?.ggml?.eos_token_id;
    this.specials = {
      bos_token: tokens && bos !== undefined ? tokens[Number(bos)] : undefined,
      eos_token: tokens && eos !== undefined ? tokens[Number(eos)] : undefined,
    };
  }

  static async load(opts: LlamaCppProviderOptions): Promise<LlamaCppModel> {
    const adapters = ([] as string[]).concat(opts.adapter ?? []);
    const choice = engineChoice(opts);
    const server = await import("../../nn/gguf/llamacpp-server.ts");
    const binary = choice === "in-process" ? undefined : server.findLlamaServer();
    if (choice === "server" && !binary) throw new ModelError(server.LLAMA_SERVER_MISSING, "config");
    if (choice === "auto" && !binary && !warnedMissingServer) {
      warnedMissingServer = true;
      process.stderr.write(`breakfix: ${server.LLAMA_SERVER_MISSING}\n`);
    }
    const sequences = opts.sequences ?? 4;
    const contextSize = opts.contextSize ?? 2048;
    let runner: GgufEngine;
    try {
      if (binary)
        runner = await server.LlamaServerRunner.load({
          model: opts.model,
          binary,
          slots: sequences,
          contextPerSlot: contextSize,
          threads: opts.threads,
          kvCache: "f16",
          lora: adapters.map((path) => ({ path })),
          // a run whose requests are all stored (a resumed campaign or bench run) starts no server
          startOnFirstUse: true,
        });
      else {
        const { LlamaCppRunner } = await import("../../nn/gguf/llamacpp.ts");
        runner = await LlamaCppRunner.load(opts.model, {
          sequences,
          contextSize,
          threads: opts.threads,
          kvCache: "f16",
          lora: adapters.map((path) => ({ path })),
        });
      }
    } catch (err) {
      throw new ModelError(`${opts.model}: cannot load GGUF: ${(err as Error).message}`, "config", { cause: err });
    }
    return new LlamaCppModel(runner, opts, binary ? "server" : "in-process");
  }

  /**
   * Renders a conversation with the GGUF's chat template and tokenizes it; only the template inserts control tokens:
   * message text such as `hi<|end|>` is tokenized as text (see chat-encode.ts).
   */
  encode(messages: ChatRequest["messages"]): number[] {
    return encodeChat(
      (ms) => renderChatTemplate(this.template, ms, this.specials),
      messages,
      this.runner.controlTokenizer(),
    );
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    if (request.signal?.aborted) throw new ModelError("request aborted", "aborted");
    const r = { ...this.opts.defaults, ...defined(request) };
    const started = performance.now();
    let prompt: number[];
    try {
      prompt = this.encode(request.messages);
    } catch (err) {
      throw new ModelError(`chat template: ${(err as Error).message}`, "client");
    }
    // The builtin engine's check and message: an over-long prompt is an error, never a generation past the context.
    const limit = this.runner.contextLimit;
    const maxTokens = r.maxTokens ?? defaultMaxTokens(this.opts.defaultMaxTokens ?? 512, prompt.length, limit);
    if (prompt.length + maxTokens > limit) throw contextOverflowError(prompt.length, maxTokens, limit);
    let g: Awaited<ReturnType<LlamaCppRunner["generate"]>>[number];
    try {
      [g] = await this.runner.generate([prompt], {
        maxTokens,
        temperature: r.temperature ?? 0,
        topK: r.topK,
        topP: r.topP,
        seed: r.seed,
        stop: r.stop,
        signal: request.signal,
      });
    } catch (err) {
      if ((err as Error)?.name === "LlamaServerStartError") throw this.startFailure(err);
      throw toModelError(err);
    }
    return {
      content: g.text,
      finishReason: g.finishReason,
      usage: { promptTokens: prompt.length, completionTokens: g.tokens.length },
      model: this.id,
      latencyMs: performance.now() - started,
    };
  }

  /**
   * Starts the engine now, so a failure to start is seen here (`breakfix serve` before it says it is listening);
   * otherwise the server engine starts on the first request. The in-process engine has nothing to start.
   */
  async start(): Promise<void> {
    try {
      await this.runner.start?.();
    } catch (err) {
      throw this.startFailure(err);
    }
  }

  /**
   * A server that could not start is the model failing to load (as load() reported it before servers started on
   * first use): a configuration error, not retried, the same for every request.
   */
  private startFailure(err: unknown): ModelError {
    return new ModelError(`${this.opts.model}: ${(err as Error).message}`, "config", { cause: err });
  }

  /** Concurrent requests decode together over the context's sequences. */
  chatMany(requests: ChatRequest[]): Promise<ChatResult[]> {
    return Promise.all(requests.map((r) => this.chat(r)));
  }

  async close(): Promise<void> {
    await this.runner.dispose();
  }
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
