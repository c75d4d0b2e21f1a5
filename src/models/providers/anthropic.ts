/**
 * Anthropic's Messages API through the official `@anthropic-ai/sdk`. System messages are joined into the `system`
 * field; JSON-schema requests use native structured outputs (`output_config.format`). The SDK's own retries are off:
 * the reliability wrapper retries and honours Retry-After.
 */

import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from "@anthropic-ai/sdk";
import { endpointText, kindForStatus, ModelError, parseRetryAfter, toModelError } from "../errors.ts";
import { providerAnswerSettings } from "../reliability/cache.ts";
import { splitEndpointUrl } from "../secrets.ts";
import type { AnswerSettings, ChatModel, ChatRequest, ChatResult, SamplingParams } from "../types.ts";
import { createNodeFetch } from "./node-fetch.ts";

export interface AnthropicOptions {
  model: string;
  /** Already-resolved API key (see secrets.ts). */
  apiKey?: string;
  /** Default https://api.anthropic.com. */
  baseUrl?: string;
  /** Anthropic requires max_tokens; used when a request gives none (default 1024). */
  defaultMaxTokens?: number;
  /** Send jsonSchema as output_config.format (default true). */
  structuredOutput?: boolean;
  headers?: Record<string, string>;
  defaults?: SamplingParams;
  fetch?: typeof fetch;
}

/**
 * SDK 1.x no longer types the sampling fields (newer Claude models fix them); older models still accept them, so
 * they are sent only when a request sets them.
 */
type AnthropicBody = Anthropic.Messages.MessageCreateParamsNonStreaming & {
  temperature?: number;
  top_p?: number;
  top_k?: number;
};

export class AnthropicModel implements ChatModel {
  readonly id: string;
  /** The SDK's own per-request timeout enforces ChatRequest.timeoutMs. */
  readonly handlesTimeout = true;
  private readonly client: Anthropic;

  constructor(private readonly opts: AnthropicOptions) {
    if (!opts.model) throw new ModelError("anthropic provider: `model` is required", "config");
    // Credentials written inside the URL never reach the id (records, tables), and are sent as written: the
    // user-info key as the API key (unless apiKey is given), query parameters with every request. See splitEndpointUrl.
    const endpoint = splitEndpointUrl(opts.baseUrl ?? "https://api.anthropic.com");
    this.id = `anthropic:${endpoint.url.replace(/\/+$/, "")}#${opts.model}`;
    this.client = new Anthropic({
      // never let the SDK read ANTHROPIC_API_KEY behind the config's back
      apiKey: opts.apiKey ?? endpoint.key ?? "no-key",
      baseURL: endpoint.base.replace(/\/+$/, ""),
      ...(Object.keys(endpoint.params).length ? { defaultQuery: endpoint.params } : {}),
      maxRetries: 0,
      timeout: 24 * 3600_000,
      defaultHeaders: opts.headers,
      fetch: opts.fetch ?? createNodeFetch(),
    });
  }

  /** Whether a jsonSchema is sent as output_config, and the provider's sampling defaults: see ChatModel.answerSettings. */
  answerSettings(request: ChatRequest): AnswerSettings | undefined {
    return providerAnswerSettings(request, this.opts.structuredOutput !== false, this.opts.defaults);
  }

  body(request: ChatRequest): AnthropicBody {
    const r = {
      ...this.opts.defaults,
      ...Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)),
    };
    const system = request.messages
      .filter((m) => m.role === "system")
      .map((m) => m.content)
      .join("\n\n");
    const turns = request.messages.filter((m) => m.role !== "system");
    // The Messages API refuses a message with no non-whitespace text, except a final assistant one (a prefill), with a
    // 400 no retry changes. A multi-turn attack whose target once answered nothing holds such a turn, so every later
    // turn of it failed: an empty turn is left out (nothing was said; consecutive user turns are joined by the API).
    const messages = turns
      .filter((m, i) => m.content.trim() !== "" || (i === turns.length - 1 && m.role === "assistant"))
      .map((m) => ({ role: m.role as "user" | "assistant", content: m.content }));
    const body: AnthropicBody = {
      model: this.opts.model,
      max_tokens: (r.maxTokens as number | undefined) ?? this.opts.defaultMaxTokens ?? 1024,
      messages,
    };
    if (system) body.system = system;
    if (r.temperature !== undefined) body.temperature = r.temperature as number;
    if (r.topP !== undefined) body.top_p = r.topP as number;
    if (r.topK !== undefined) body.top_k = r.topK as number;
    const stop = r.stop as string[] | undefined;
    if (stop && stop.length > 0) body.stop_sequences = stop;
    if (request.jsonSchema && this.opts.structuredOutput !== false)
      body.output_config = { format: { type: "json_schema", schema: request.jsonSchema.schema } };
    return body;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const started = performance.now();
    let msg: Anthropic.Messages.Message;
    try {
      msg = await this.client.messages.create(
        this.body(request),
        request.timeoutMs ? { signal: request.signal, timeout: request.timeoutMs } : { signal: request.signal },
      );
    } catch (err) {
      throw classifyAnthropicError(err);
    }
    if (!msg || !Array.isArray(msg.content)) throw new ModelError("malformed response: no content blocks", "malformed");
    const content = msg.content
      .filter((b): b is Anthropic.Messages.TextBlock => b.type === "text")
      .map((b) => b.text)
      .join("");
    return {
      content,
      // max_tokens and model_context_window_exceeded both mean the answer was cut; "refusal" is the API's safety
      // classifiers stopping the answer (the deployment's own filter, like Azure's content_filter: judges/blocked.ts)
      finishReason:
        msg.stop_reason === "max_tokens" || msg.stop_reason === "model_context_window_exceeded"
          ? "length"
          : msg.stop_reason === "refusal"
            ? "content_filter"
            : "stop",
      usage: { promptTokens: msg.usage?.input_tokens ?? 0, completionTokens: msg.usage?.output_tokens ?? 0 },
      model: msg.model || this.opts.model,
      latencyMs: performance.now() - started,
    };
  }

  async close(): Promise<void> {}
}

export function classifyAnthropicError(err: unknown): ModelError {
  // what our fetch threw (the response-size cap) reaches us wrapped in the SDK's connection error
  if (err instanceof APIConnectionError && err.cause instanceof ModelError) return err.cause;
  if (err instanceof APIError && typeof err.status === "number") {
    const headers = err.headers;
    const retryAfterMs = headers ? parseRetryAfter((n) => headers.get(n)) : undefined;
    // 529 "overloaded" behaves like a rate limit.
    const kind = err.status === 529 ? "rate_limit" : kindForStatus(err.status);
    // the SDK's message is the status and the whole error body the endpoint sent
    return new ModelError(`HTTP ${err.status}: ${endpointText(err.message)}`, kind, {
      status: err.status,
      retryAfterMs,
    });
  }
  if (err instanceof APIUserAbortError) return new ModelError("request aborted", "aborted");
  if (err instanceof APIConnectionTimeoutError) return new ModelError("request timed out", "timeout");
  if (err instanceof APIConnectionError)
    return new ModelError(`connection error: ${err.message}`, "network", { cause: err });
  return toModelError(err);
}
