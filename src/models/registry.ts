/**
 * createChatModel(options): the one way stages get a ChatModel. Builds the provider named in the config's model
 * section, resolves its API key (env var or secrets file only), and wraps it in the reliability layer (limits,
 * retries, timeouts, cache, usage). Models on one endpoint share one ProviderLimits budget. Local engines are loaded
 * through dynamic imports so node-llama-cpp and the nn engine cost nothing when unused.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { packagePath } from "../domain/package.ts";
import { ModelError } from "./errors.ts";
import { resolveModelSpec } from "./hub.ts";
import type { Pricing, ResponseCache, UsageMeter } from "./reliability/index.ts";
import { type ModelEvent, ProviderLimits, type ReliabilityOptions, ReliableChatModel } from "./reliability/reliable.ts";
import { resolveApiKey } from "./secrets.ts";
import type { ChatModel, ChatRequest, ChatResult, SamplingParams } from "./types.ts";

export type ProviderName = "openai-compatible" | "anthropic" | "llamacpp" | "builtin";

/**
 * The model section of breakfix.yaml (src/config's ModelConfig is assignable to it) plus optional extras that the
 * config may grow: rate limits, adapter, pricing, Azure, structured-output mode, llama.cpp sequences.
 */
export interface ModelOptions {
  provider: ProviderName;
  /** Model name (HTTP providers), .gguf path (llamacpp), HF folder or demo model name (builtin). */
  model: string;
  baseUrl?: string;
  apiKeyEnv?: string;
  secretsFile?: string;
  secretName?: string;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  seed?: number;
  concurrency?: number;
  timeoutMs?: number;
  /** Retries after the first attempt. */
  retries?: number;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  systemPrompt?: string;
  /** LoRA adapter: a PEFT folder (builtin) or a GGUF adapter file (llamacpp). */
  adapter?: string;
  pricing?: Pricing;
  azure?: { endpoint: string; apiVersion: string; deployment?: string };
  structuredOutput?: "json_schema" | "json_object" | "none";
  /** llama.cpp parallel sequences. */
  sequences?: number;
  contextSize?: number;
  headers?: Record<string, string>;
  /**
   * Local engines (builtin, llamacpp): the token limit of a request that gives none; "context" is the rest of the
   * context window after the prompt (what `breakfix serve` uses). Default 256 (builtin) / 512 (llamacpp); the config
   * always sets maxTokens, so runs never rely on it.
   */
  defaultMaxTokens?: number | "context";
}

export interface ModelRuntime {
  cache?: ResponseCache;
  meter?: UsageMeter;
  onEvent?: (e: ModelEvent) => void;
  env?: NodeJS.ProcessEnv;
  /** Shared per-endpoint limits (default: a process-wide registry). */
  limits?: Map<string, ProviderLimits>;
  /** Extra reliability settings (backoff, burst) that are not in the config. */
  reliability?: ReliabilityOptions;
}

const processLimits = new Map<string, ProviderLimits>();

/** The endpoint whose budget a model shares. */
export function endpointKey(o: ModelOptions): string {
  if (o.provider === "openai-compatible")
    return `openai-compatible|${o.azure?.endpoint ?? o.baseUrl ?? "https://api.openai.com/v1"}`;
  if (o.provider === "anthropic") return `anthropic|${o.baseUrl ?? "https://api.anthropic.com"}`;
  return `${o.provider}|${o.model}|${o.adapter ?? ""}`;
}

function defaultConcurrency(o: ModelOptions): number {
  if (o.provider === "llamacpp") return o.sequences ?? 4;
  if (o.provider === "builtin") return 1;
  return 8;
}

/**
 * The demo model organism's folder, as `breakfix world build` writes it: inside the package (not the working
 * directory), so every command finds the committed model from any folder.
 */
export const DEMO_MODEL_DIR = packagePath("artifacts", "demo-world", "model");

/** The demo model organism's GGUF (provider llamacpp), beside its HF folder. */
export const DEMO_GGUF = packagePath("artifacts", "demo-world", "model.gguf");

/** The demo's attacker organism (`breakfix world build --attacker`), beside the target organism. */
export const DEMO_ATTACKER_DIR = packagePath("artifacts", "demo-world", "attacker", "model");

/** The attacker organism's GGUF (provider llamacpp, `model: demo-attacker`). */
export const DEMO_ATTACKER_GGUF = packagePath("artifacts", "demo-world", "attacker", "model.gguf");

/** Model names that mean a committed organism of the package, and the command that builds each. */
const NAMED_BUILTIN: Record<string, { dir: string; build: string }> = {
  demo: { dir: DEMO_MODEL_DIR, build: "breakfix world build" },
  "demo-attacker": { dir: DEMO_ATTACKER_DIR, build: "breakfix world build --attacker" },
};

/**
 * `model: demo` (the config default) means the built demo organism, `model: demo-attacker` the demo's attacker
 * organism, unless a folder of that name exists.
 */
export function resolveBuiltinModel(model: string, cwd: string = process.cwd()): string {
  const named = Object.hasOwn(NAMED_BUILTIN, model) ? NAMED_BUILTIN[model] : undefined;
  if (!named || existsSync(path.resolve(cwd, model, "config.json"))) return model;
  if (!existsSync(path.join(named.dir, "config.json")))
    throw new ModelError(`model "${model}": ${named.dir} has no model yet; build it with \`${named.build}\``, "config");
  return named.dir;
}

/** Builds the bare provider (no reliability layer). */
export async function createProvider(o: ModelOptions, env: NodeJS.ProcessEnv = process.env): Promise<ChatModel> {
  switch (o.provider) {
    case "openai-compatible": {
      const { OpenAICompatibleModel } = await import("./providers/openai-compatible.ts");
      const apiKey = keyOrThrow(o, env);
      return new OpenAICompatibleModel({
        baseUrl: o.baseUrl,
        model: o.model,
        apiKey,
        azure: o.azure,
        structuredOutput: o.structuredOutput,
        headers: o.headers,
      });
    }
    case "anthropic": {
      const { AnthropicModel } = await import("./providers/anthropic.ts");
      const apiKey = keyOrThrow(
        { ...o, apiKeyEnv: o.apiKeyEnv ?? (o.secretsFile ? undefined : "ANTHROPIC_API_KEY") },
        env,
      );
      return new AnthropicModel({
        model: o.model,
        apiKey,
        baseUrl: o.baseUrl,
        headers: o.headers,
        // The Messages API has no JSON mode: json_object, like none, sends no output_config (models without
        // structured outputs answer it with 400); the judge's prompt still asks for the JSON and its parser checks it.
        ...(o.structuredOutput ? { structuredOutput: o.structuredOutput === "json_schema" } : {}),
      });
    }
    case "llamacpp": {
      const { LlamaCppModel } = await import("./providers/llamacpp.ts");
      return LlamaCppModel.load({
        model: o.model === "demo-attacker" ? DEMO_ATTACKER_GGUF : o.model,
        adapter: o.adapter,
        sequences: o.sequences,
        contextSize: o.contextSize,
        defaultMaxTokens: o.defaultMaxTokens,
      });
    }
    case "builtin": {
      const { BuiltinModel } = await import("./providers/builtin.ts");
      const model = resolveBuiltinModel(await resolveModelSpec(o.model)); // hf:ORG/NAME[@REV] -> the cached snapshot
      return BuiltinModel.load({
        model,
        adapter: o.adapter,
        maxBatch: o.sequences,
        defaultMaxTokens: o.defaultMaxTokens,
      });
    }
    default:
      throw new ModelError(
        `unknown provider "${(o as { provider: string }).provider}": expected one of openai-compatible, anthropic, llamacpp, builtin`,
        "config",
      );
  }
}

function keyOrThrow(o: ModelOptions, env: NodeJS.ProcessEnv): string | undefined {
  try {
    return resolveApiKey({ apiKeyEnv: o.apiKeyEnv, secretsFile: o.secretsFile, secretName: o.secretName }, env);
  } catch (err) {
    throw new ModelError(`${o.provider} model ${o.model}: ${(err as Error).message}`, "config");
  }
}

/** Merges the config's sampling defaults and system prompt under every request. */
export class ConfiguredChatModel implements ChatModel {
  readonly id: string;
  constructor(
    private readonly inner: ChatModel,
    private readonly defaults: SamplingParams,
    private readonly systemPrompt?: string,
  ) {
    this.id = inner.id;
  }
  private apply(r: ChatRequest): ChatRequest {
    const out: ChatRequest = { ...r };
    for (const [k, v] of Object.entries(this.defaults) as [keyof SamplingParams, unknown][])
      if (out[k] === undefined && v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
    if (this.systemPrompt && !r.messages.some((m) => m.role === "system"))
      out.messages = [{ role: "system", content: this.systemPrompt }, ...r.messages];
    return out;
  }
  chat(r: ChatRequest): Promise<ChatResult> {
    return this.inner.chat(this.apply(r));
  }
  chatMany(rs: ChatRequest[]): Promise<ChatResult[]> {
    return Promise.all(rs.map((r) => this.chat(r)));
  }
  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

/**
 * The factory: provider + reliability (+ config defaults). The result's id is the provider's id, so cache keys
 * identify the backend, not the wrapper.
 */
export async function createChatModel(o: ModelOptions, rt: ModelRuntime = {}): Promise<ChatModel> {
  const provider = await createProvider(o, rt.env);
  const options: ReliabilityOptions = {
    ...rt.reliability,
    concurrency: o.concurrency ?? rt.reliability?.concurrency ?? defaultConcurrency(o),
    timeoutMs:
      o.timeoutMs ??
      rt.reliability?.timeoutMs ??
      (o.provider === "builtin" || o.provider === "llamacpp" ? 600_000 : 120_000),
    maxRetries: o.retries ?? rt.reliability?.maxRetries,
    requestsPerMinute: o.requestsPerMinute ?? rt.reliability?.requestsPerMinute,
    tokensPerMinute: o.tokensPerMinute ?? rt.reliability?.tokensPerMinute,
  };
  const registry = rt.limits ?? processLimits;
  const key = endpointKey(o);
  let limits = registry.get(key);
  if (!limits) {
    limits = new ProviderLimits(options);
    registry.set(key, limits);
  }
  if (o.pricing) rt.meter?.setPricing(provider.id, o.pricing);
  const reliable = new ReliableChatModel(provider, options, {
    cache: rt.cache,
    meter: rt.meter,
    limits,
    onEvent: rt.onEvent,
  });
  const defaults: SamplingParams = { temperature: o.temperature, maxTokens: o.maxTokens, topP: o.topP, seed: o.seed };
  const hasDefaults = Object.values(defaults).some((v) => v !== undefined) || o.systemPrompt;
  return hasDefaults ? new ConfiguredChatModel(reliable, defaults, o.systemPrompt) : reliable;
}

/** Opens a chat model, runs fn with it and closes it, also when fn throws. */
export async function withChatModel<T>(o: ModelOptions, fn: (model: ChatModel) => Promise<T>): Promise<T> {
  const model = await createChatModel(o);
  try {
    return await fn(model);
  } finally {
    await model.close?.();
  }
}
