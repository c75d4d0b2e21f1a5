/**
 * Our own engine for Hugging Face Llama-family folders (config.json + safetensors + tokenizer.json +
 * tokenizer_config.json with a chat_template), with an optional PEFT LoRA adapter folder merged into the weights at
 * load (W += (alpha / r) * B A; rsLoRA: alpha / sqrt(r)). Generation is nn's KV-cache decoder (src/nn/generate.ts);
 * concurrent requests with the same sampling settings that arrive in the same event-loop turn are decoded together
 * as one left-padded batch; batches run one at a time, yielding to the event loop between decode steps so an aborted
 * request (a client that went away) stops costing compute at the next step.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { type ControlTokenizer, encodeChat } from "../../nn/chat-encode.ts";
import { noChatTemplate, readHfChatTemplate as readTemplate } from "../../nn/chat-template.ts";
import { generateAsync } from "../../nn/generate.ts";
import type { LlamaConfig, Weights } from "../../nn/llama.ts";
import { loadModel } from "../../nn/model.ts";
import { readSafetensorsFile } from "../../nn/safetensors.ts";
import { hfControlTokenizer } from "../../nn/tokenizer.ts";
import { contextOverflowError, defaultMaxTokens, ModelError } from "../errors.ts";
import { adapterFingerprint, localModelId, modelFolderFingerprint } from "../fingerprint.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../types.ts";
import { renderChatTemplate } from "./llamacpp.ts";

/**
 * A Hugging Face folder's tokenizer_config.json (empty when absent) and its chat template (nn/chat-template.ts, the
 * reader training and the GGUF export use too); an unreadable config is a configuration error.
 */
export function readHfChatTemplate(dir: string): ReturnType<typeof readTemplate> {
  try {
    return readTemplate(dir);
  } catch (err) {
    throw new ModelError((err as Error).message, "config");
  }
}

export interface BuiltinOptions {
  /** HF model folder. */
  model: string;
  /** PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors). */
  adapter?: string;
  /**
   * Used when a request gives no maxTokens (default 256). "context": the rest of the context window (positions left
   * after the prompt), what OpenAI-compatible servers (vLLM, llama.cpp's server) do; `breakfix serve` uses it.
   */
  defaultMaxTokens?: number | "context";
  /** Most requests decoded in one batch (default 16). */
  maxBatch?: number;
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ModelError(`${file}: ${(err as Error).message}`, "config");
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ModelError(`${file}: invalid JSON: ${(err as Error).message}`, "config");
  }
}

function tokenContent(t: unknown): string | undefined {
  if (typeof t === "string") return t;
  if (t && typeof t === "object" && typeof (t as { content?: unknown }).content === "string")
    return (t as { content: string }).content;
  return undefined;
}

/** Merges a PEFT LoRA adapter into a copy of the weights. Names follow PEFT: base_model.model.<module>.lora_A.weight. */
export function mergePeftAdapter(weights: Weights, adapterDir: string): Weights {
  const cfgFile = path.join(adapterDir, "adapter_config.json");
  const cfg = readJson(cfgFile);
  const r = Number(cfg.r);
  const alpha = Number(cfg.lora_alpha ?? r);
  if (!(r > 0)) throw new ModelError(`${cfgFile}: r: expected a positive integer`, "config");
  const scale = cfg.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
  const file = path.join(adapterDir, "adapter_model.safetensors");
  if (!existsSync(file)) throw new ModelError(`${file}: not found`, "config");
  const { tensors } = readSafetensorsFile(file);
  const out: Weights = new Map(weights);
  let merged = 0;
  for (const [name, a] of tensors) {
    const m = /^(?:base_model\.model\.)?(.+)\.lora_A(?:\.default)?\.weight$/.exec(name);
    if (!m) continue;
    const module = m[1];
    const bName = name.replace(".lora_A", ".lora_B");
    const b = tensors.get(bName);
    if (!b) throw new ModelError(`${file}: ${name} has no matching ${bName}`, "config");
    const wName = `${module}.weight`;
    const w = out.get(wName);
    if (!w) throw new ModelError(`${file}: adapter targets ${wName}, which the model does not have`, "config");
    const [outF, inF] = w.shape;
    const [ra, inA] = a.shape;
    const [outB, rb] = b.shape;
    if (ra !== rb || inA !== inF || outB !== outF)
      throw new ModelError(
        `${file}: ${module}: LoRA shapes A[${a.shape}] B[${b.shape}] do not fit W[${w.shape}]`,
        "config",
      );
    const data = Float32Array.from(w.data);
    for (let o = 0; o < outF; o++)
      for (let k = 0; k < ra; k++) {
        const bok = b.data[o * ra + k] * scale;
        if (bok === 0) continue;
        const ao = k * inF;
        const wo = o * inF;
        for (let i = 0; i < inF; i++) data[wo + i] += bok * a.data[ao + i];
      }
    out.set(wName, { shape: w.shape, data });
    merged++;
  }
  if (merged === 0) throw new ModelError(`${file}: no lora_A/lora_B pairs found`, "config");
  return out;
}

interface Pending {
  prompt: number[];
  request: ChatRequest;
  resolve: (r: ChatResult) => void;
  reject: (e: unknown) => void;
}

export class BuiltinModel implements ChatModel {
  readonly id: string;
  private queue = new Map<string, Pending[]>();
  private scheduled = false;
  private readonly control: ControlTokenizer;

  private constructor(
    private readonly config: LlamaConfig,
    private readonly weights: Weights,
    private readonly tokenizer: Tokenizer,
    tokenizerJson: Record<string, unknown>,
    tokenizerConfig: Record<string, unknown>,
    private readonly template: string,
    private readonly specials: { bos_token?: string; eos_token?: string },
    private readonly stopTokens: number[],
    private readonly opts: BuiltinOptions,
    readonly modelName: string,
  ) {
    // Named by content, not path (models/fingerprint.ts): retrained weights must not get the old ones' stored answers.
    this.id = localModelId(
      "builtin",
      opts.model,
      modelFolderFingerprint(opts.model),
      opts.adapter ? [{ path: opts.adapter, fingerprint: adapterFingerprint(opts.adapter) }] : [],
    );
    this.control = hfControlTokenizer(tokenizerJson, tokenizerConfig, tokenizer);
  }

  static async load(opts: BuiltinOptions): Promise<BuiltinModel> {
    const dir = opts.model;
    if (!existsSync(path.join(dir, "config.json")))
      throw new ModelError(`${dir}: not a Hugging Face model folder (no config.json)`, "config");
    const loaded = loadModel(dir);
    const weights = opts.adapter ? mergePeftAdapter(loaded.weights, opts.adapter) : loaded.weights;
    const tokJson = readJson(path.join(dir, "tokenizer.json"));
    const { tokCfg, template } = readHfChatTemplate(dir);
    if (!template) throw new ModelError(noChatTemplate(dir, "the builtin provider needs one"), "config");
    const tokenizer = new Tokenizer(tokJson, tokCfg);
    const specials = { bos_token: tokenContent(tokCfg.bos_token), eos_token: tokenContent(tokCfg.eos_token) };
    const stops = new Set<number>();
    const e = loaded.config.eosTokenId;
    for (const id of e === undefined ? [] : Array.isArray(e) ? e : [e]) stops.add(id);
    if (specials.eos_token) {
      const id = tokenizer.token_to_id(specials.eos_token);
      if (id !== undefined) stops.add(id);
    }
    const genCfgFile = path.join(dir, "generation_config.json");
    if (existsSync(genCfgFile)) {
      const g = readJson(genCfgFile).eos_token_id;
      for (const id of g === undefined ? [] : Array.isArray(g) ? g : [g]) stops.add(Number(id));
    }
    return new BuiltinModel(
      loaded.config,
      weights,
      tokenizer,
      tokJson,
      tokCfg,
      template,
      specials,
      [...stops],
      opts,
      path.basename(path.resolve(dir)),
    );
  }

  /**
   * Renders and tokenizes a conversation with the model's chat template (exported for the server and tests). Only the
   * template inserts control tokens: message text that spells one (`hi<|end|>`) is encoded as text (chat-encode.ts).
   */
  encode(messages: ChatRequest["messages"]): number[] {
    return encodeChat((ms) => renderChatTemplate(this.template, ms, this.specials), messages, this.control);
  }

  decode(ids: readonly number[]): string {
    // The tokenizer rejects an empty id list; a model that stops at once (EOS first) answered "".
    if (ids.length === 0) return "";
    return this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }

  chat(request: ChatRequest): Promise<ChatResult> {
    if (request.signal?.aborted) return Promise.reject(new ModelError("request aborted", "aborted"));
    let prompt: number[];
    try {
      prompt = this.encode(request.messages);
    } catch (err) {
      return Promise.reject(new ModelError(`chat template: ${(err as Error).message}`, "client"));
    }
    const maxTokens =
      request.maxTokens ??
      defaultMaxTokens(this.opts.defaultMaxTokens ?? 256, prompt.length, this.config.maxPositionEmbeddings);
    if (prompt.length + maxTokens > this.config.maxPositionEmbeddings)
      return Promise.reject(contextOverflowError(prompt.length, maxTokens, this.config.maxPositionEmbeddings));
    const group = JSON.stringify([
      request.temperature ?? 0,
      request.topK ?? 0,
      request.topP ?? 1,
      request.seed ?? 0,
      maxTokens,
      request.stop ?? [],
    ]);
    return new Promise((resolve, reject) => {
      const list = this.queue.get(group) ?? [];
      list.push({ prompt, request: { ...request, maxTokens }, resolve, reject });
      this.queue.set(group, list);
      // While batches run, arrivals wait in the queue and are drained together afterwards (as many per batch as
      // when generation blocked the event loop).
      if (!this.scheduled && !this.draining) {
        this.scheduled = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  chatMany(requests: ChatRequest[]): Promise<ChatResult[]> {
    return Promise.all(requests.map((r) => this.chat(r)));
  }

  /** Runs the queued requests batch by batch (never two batches at once), until the queue stays empty. */
  private async drain(): Promise<void> {
    this.scheduled = false;
    this.draining = true;
    const maxBatch = this.opts.maxBatch ?? 16;
    try {
      while (this.queue.size > 0) {
        const groups = this.queue;
        this.queue = new Map();
        for (const list of groups.values())
          for (let i = 0; i < list.length; i += maxBatch) await this.runBatch(list.slice(i, i + maxBatch));
      }
    } finally {
      this.draining = false;
    }
  }

  private draining = false;

  /**
   * Decodes one batch. Generation yields to the event loop between steps, so a request whose signal is aborted
   * (a serve client that went away) stops at the next step, and the batch ends when all of its requests have.
   */
  private async runBatch(batch: Pending[]): Promise<void> {
    const live = batch.filter((p) => {
      if (p.request.signal?.aborted) {
        p.reject(new ModelError("request aborted", "aborted"));
        return false;
      }
      return true;
    });
    if (live.length === 0) return;
    const r = live[0].request;
    const started = performance.now();
    try {
      const gens = await generateAsync(
        this.config,
        this.weights,
        live.map((p) => p.prompt),
        {
          maxTokens: r.maxTokens!,
          temperature: r.temperature ?? 0,
          topK: r.topK,
          topP: r.topP,
          seed: r.seed,
          stopTokens: this.stopTokens,
          stopStrings: r.stop,
          decode: (ids) => this.decode(ids),
          isAborted: (b) => live[b].request.signal?.aborted === true,
        },
      );
      const latencyMs = performance.now() - started;
      live.forEach((p, i) => {
        const g = gens[i];
        if (g.finishReason === "aborted") {
          p.reject(new ModelError("request aborted", "aborted"));
          return;
        }
        p.resolve({
          content: g.text ?? this.decode(g.tokens),
          finishReason: g.finishReason,
          usage: { promptTokens: p.prompt.length, completionTokens: g.tokens.length },
          model: this.modelName,
          latencyMs,
        });
      });
    } catch (err) {
      for (const p of live)
        p.reject(new ModelError(`generation failed: ${(err as Error).message}`, "server", { cause: err }));
    }
  }

  async close(): Promise<void> {}
}
