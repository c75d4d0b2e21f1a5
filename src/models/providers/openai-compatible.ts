/**
 * OpenAI-compatible chat completions through the official `openai` client (baseURL): vLLM, Ollama, llama.cpp server,
 * LM Studio, OpenAI, and Azure OpenAI (through the client's AzureOpenAI class). The client's own retries are off
 * (maxRetries 0): the reliability wrapper retries, so every attempt is counted and rate-limited once.
 */
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AzureOpenAI,
} from "openai";
import type { ContentFilter } from "../../domain/types.ts";
import { endpointText, kindForStatus, ModelError, parseRetryAfter, toModelError } from "../errors.ts";
import { providerAnswerSettings } from "../reliability/cache.ts";
import { splitEndpointUrl } from "../secrets.ts";
import type { AnswerSettings, ChatModel, ChatRequest, ChatResult, SamplingParams } from "../types.ts";
import { createNodeFetch } from "./node-fetch.ts";

export type StructuredOutputMode = "json_schema" | "json_object" | "none";

export interface OpenAICompatibleOptions {
  /** e.g. "http://127.0.0.1:8080/v1" (default https://api.openai.com/v1). */
  baseUrl?: string;
  /** The model name the server expects. */
  model: string;
  /** Already-resolved API key (see secrets.ts); local servers need none. */
  apiKey?: string;
  /** Azure OpenAI: endpoint + apiVersion (+ deployment, default = model). */
  azure?: { endpoint: string; apiVersion: string; deployment?: string };
  /**
   * How jsonSchema requests are sent: "json_schema" (OpenAI, vLLM, llama.cpp server, Ollama >= 0.5, LM Studio),
   * "json_object" (older servers: JSON mode, schema only in the prompt), "none" (ignore). Default json_schema.
   */
  structuredOutput?: StructuredOutputMode;
  /**
   * The request field of the token limit. Default: max_completion_tokens on OpenAI's own API (api.openai.com), where
   * max_tokens is deprecated and refused by its reasoning models (o-series, GPT-5); max_tokens elsewhere (vLLM,
   * Ollama, llama.cpp server, Azure deployments on older API versions).
   */
  maxTokensField?: "max_tokens" | "max_completion_tokens";
  /** Extra HTTP headers (not secrets: keys go in apiKey). */
  headers?: Record<string, string>;
  /** Sampling defaults merged under every request. */
  defaults?: SamplingParams;
  /**
   * The fetch the SDK uses. Default: createNodeFetch() (node:http keep-alive agents; a fraction of the global
   * fetch's CPU per request). Pass globalThis.fetch for the WHATWG fetch, or your own (proxies, tests).
   */
  fetch?: typeof fetch;
}

interface CompletionBody {
  model: string;
  messages: { role: "system" | "user" | "assistant"; content: string }[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string[];
  seed?: number;
  response_format?: Record<string, unknown>;
}

export class OpenAICompatibleModel implements ChatModel {
  readonly id: string;
  /** The SDK's own per-request timeout enforces ChatRequest.timeoutMs. */
  readonly handlesTimeout = true;
  private readonly client: OpenAI;
  private readonly structured: StructuredOutputMode;
  private readonly maxTokensField: "max_tokens" | "max_completion_tokens";

  constructor(private readonly opts: OpenAICompatibleOptions) {
    if (!opts.model) throw new ModelError("openai-compatible provider: `model` is required", "config");
    // A key written inside the URL (user-info, or any query parameter but api-version) is sent as the API key /
    // query parameter and kept out of the id, which every record stores and every table prints. The client gets the
    // URL without its query (the SDK appends paths to it) and every parameter as its default query.
    const endpoint = splitEndpointUrl(opts.azure?.endpoint ?? opts.baseUrl ?? "https://api.openai.com/v1");
    this.id = `openai-compatible:${endpoint.url.replace(/\/+$/, "")}#${opts.model}`;
    const base = endpoint.base.replace(/\/+$/, "");
    this.structured = opts.structuredOutput ?? "json_schema";
    this.maxTokensField =
      opts.maxTokensField ?? (!opts.azure && isOpenAIApi(base) ? "max_completion_tokens" : "max_tokens");
    const common = {
      // A placeholder so the client never falls back to reading OPENAI_API_KEY on its own: keys come only from
      // the env var / secrets file named in the config.
      apiKey: opts.apiKey ?? endpoint.key ?? "no-key",
      maxRetries: 0,
      timeout: 24 * 3600_000, // the reliability wrapper owns timeouts (per attempt)
      defaultHeaders: opts.headers,
      ...(Object.keys(endpoint.params).length ? { defaultQuery: endpoint.params } : {}),
      fetch: withErrorBodies(opts.fetch ?? createNodeFetch()),
    };
    this.client = opts.azure
      ? new AzureOpenAI({
          ...common,
          endpoint: base,
          apiVersion: opts.azure.apiVersion,
          deployment: opts.azure.deployment ?? opts.model,
        })
      : new OpenAI({ ...common, baseURL: base });
  }

  /**
   * What changes this endpoint's answer beyond the request: the structured-output mode, for a request with a
   * jsonSchema (json_schema constrains the output, json_object only asks for JSON, none sends nothing), and the
   * provider's own sampling defaults a request leaves unset. Nothing for a plain request with no defaults, so its
   * cache key is unchanged. (Headers are left out: they may carry credentials and are not meant to change answers.)
   */
  answerSettings(request: ChatRequest): AnswerSettings | undefined {
    return providerAnswerSettings(request, this.structured, this.opts.defaults);
  }

  /** The request body sent for a ChatRequest (exported for tests). */
  body(request: ChatRequest): CompletionBody {
    const r = { ...this.opts.defaults, ...stripUndefined(request) };
    const body: CompletionBody = {
      model: this.opts.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    };
    if (r.temperature !== undefined) body.temperature = r.temperature;
    if (r.topP !== undefined) body.top_p = r.topP;
    if (r.topK !== undefined) body.top_k = r.topK; // vLLM / llama.cpp / Ollama extension
    if (r.maxTokens !== undefined) body[this.maxTokensField] = r.maxTokens;
    if (r.stop !== undefined && r.stop.length > 0) body.stop = r.stop;
    if (r.seed !== undefined) body.seed = r.seed;
    if (r.jsonSchema && this.structured === "json_schema")
      body.response_format = {
        type: "json_schema",
        json_schema: { name: r.jsonSchema.name, schema: r.jsonSchema.schema, strict: false },
      };
    else if (r.jsonSchema && this.structured === "json_object") body.response_format = { type: "json_object" };
    return body;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const started = performance.now();
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = (await this.client.chat.completions.create(
        this.body(request) as unknown as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming,
        request.timeoutMs ? { signal: request.signal, timeout: request.timeoutMs } : { signal: request.signal },
      )) as OpenAI.Chat.Completions.ChatCompletion;
    } catch (err) {
      // The deployment's content filter refused the prompt: its answer to the attack, not a failure (see FinishReason).
      if (isContentFilterRejection(err)) {
        const filter = rejectionFilter(err);
        return {
          content: "",
          finishReason: "content_filter",
          ...(filter ? { filter } : {}),
          usage: { promptTokens: 0, completionTokens: 0 },
          model: this.opts.model,
          latencyMs: performance.now() - started,
        };
      }
      throw classifyOpenAIError(err);
    }
    const choice = completion?.choices?.[0];
    if (!choice?.message) throw new ModelError("malformed response: no choices[0].message", "malformed");
    const content = answerText(choice.message);
    const filtered = choice.finish_reason === "content_filter";
    // Azure's categories of a withheld choice (choices[0].content_filter_results), kept with the blocked answer
    const filter = filtered
      ? filterCategories((choice as { content_filter_results?: unknown }).content_filter_results)
      : undefined;
    return {
      content,
      finishReason: choice.finish_reason === "length" ? "length" : filtered ? "content_filter" : "stop",
      ...(filter ? { filter } : {}),
      usage: {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
      },
      model: typeof completion.model === "string" && completion.model !== "" ? completion.model : this.opts.model,
      latencyMs: performance.now() - started,
    };
  }

  async close(): Promise<void> {}
}

/**
 * The answer's text. `content` is a string in OpenAI's reference, but some OpenAI-compatible APIs answer with an array
 * of parts (Mistral's reasoning models: `thinking` chunks, then `text` chunks): the text parts are the answer, the
 * reasoning is not. A model that declines under structured outputs answers `content: null` with the text in
 * `refusal`: that text is its answer (an empty string would be judged, and cached, as if the model said nothing).
 */
function answerText(message: { content?: unknown; refusal?: unknown }): string {
  const c = message.content;
  if (typeof c === "string") return c;
  if (Array.isArray(c)) {
    const parts = c
      .filter(
        (p): p is { type: "text"; text: string } =>
          typeof p === "object" && p !== null && p.type === "text" && typeof p.text === "string",
      )
      .map((p) => p.text);
    if (parts.length > 0) return parts.join("");
  }
  return typeof message.refusal === "string" ? message.refusal : "";
}

/**
 * The SDK quotes an error response's `error` member only: an endpoint that answers an error in another JSON shape
 * (vLLM's top-level {"object":"error","message":...}, FastAPI's {"detail":...}, a bare string) reached the user as
 * "400 status code (no body)", its reason lost. Such a body is handed to the SDK as {"error": ...}: the object itself
 * when it has a string `message`, else {"message": BODY TEXT}. OpenAI-shaped bodies, and text that is not JSON (which
 * the SDK quotes itself), pass unchanged; status and headers (Retry-After) are kept.
 */
function withErrorBodies(inner: typeof fetch): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await inner(input, init);
    if (res.status < 400) return res;
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const obj =
      typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
    let body = text;
    if (json !== undefined && !(obj && "error" in obj)) {
      const hasMessage = typeof obj?.message === "string";
      body = JSON.stringify({ error: hasMessage ? json : { message: typeof json === "string" ? json : text } });
    }
    const headers = new Headers(res.headers);
    headers.delete("content-length");
    headers.delete("content-encoding");
    return new Response(body, { status: res.status, statusText: res.statusText, headers });
  }) as typeof fetch;
}

/** True for OpenAI's own API host. */
function isOpenAIApi(url: string): boolean {
  try {
    return new URL(url).hostname.toLowerCase() === "api.openai.com";
  } catch {
    return false;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * Azure OpenAI's rejection of a prompt by its content filter: HTTP 400 with error.code "content_filter" (or an
 * innererror of code ResponsibleAIPolicyViolation). Other 400s stay errors.
 */
export function isContentFilterRejection(err: unknown): boolean {
  if (!(err instanceof APIError) || err.status !== 400) return false;
  const body = err.error as { code?: unknown; innererror?: { code?: unknown } } | undefined;
  return (
    body?.code === "content_filter" ||
    err.code === "content_filter" ||
    body?.innererror?.code === "ResponsibleAIPolicyViolation"
  );
}

/** The filter's categories of a content-filter 400 (Azure: error.innererror.content_filter_result). */
function rejectionFilter(err: unknown): ContentFilter | undefined {
  if (!(err instanceof APIError)) return undefined;
  const inner = (err.error as { innererror?: Record<string, unknown> } | undefined)?.innererror;
  return filterCategories(inner?.content_filter_result ?? inner?.content_filter_results);
}

/** At most this many categories are kept, each name and severity cut to CATEGORY_TEXT characters (provider text). */
const MAX_CATEGORIES = 32;
const CATEGORY_TEXT = 64;

/**
 * The categories Azure OpenAI's content filter filtered on, from its per-category results: the 400's
 * innererror.content_filter_result or a withheld choice's content_filter_results, each category
 * `{ filtered, severity }` (hate, sexual, violence, self_harm: severity safe/low/medium/high) or `{ filtered, detected }`
 * (jailbreak, profanity, protected_material_*; custom_blocklists: { filtered, details: [...] } or a list of
 * { filtered, id }). Only categories with filtered: true are kept, with their severity when it is a string; undefined
 * when none is (or the value is not such an object). Names and severities are provider text: kept as strings, cut,
 * and escaped wherever they are shown.
 */
export function filterCategories(results: unknown): ContentFilter | undefined {
  if (!results || typeof results !== "object" || Array.isArray(results)) return undefined;
  const cut = (s: string) => Array.from(s).slice(0, CATEGORY_TEXT).join("");
  const isFiltered = (v: unknown): boolean =>
    Array.isArray(v)
      ? v.some(isFiltered)
      : typeof v === "object" && v !== null && (v as { filtered?: unknown }).filtered === true;
  const categories: ContentFilter["categories"] = [];
  for (const [name, v] of Object.entries(results)) {
    if (categories.length >= MAX_CATEGORIES) break;
    if (!isFiltered(v)) continue;
    const severity = Array.isArray(v) ? undefined : (v as { severity?: unknown }).severity;
    categories.push({ name: cut(name), ...(typeof severity === "string" ? { severity: cut(severity) } : {}) });
  }
  return categories.length > 0 ? { categories } : undefined;
}

export function classifyOpenAIError(err: unknown): ModelError {
  // what our fetch threw (the response-size cap) reaches us wrapped in the SDK's connection error
  if (err instanceof APIConnectionError && err.cause instanceof ModelError) return err.cause;
  if (err instanceof APIError && typeof err.status === "number") {
    const headers = err.headers;
    const retryAfterMs = headers ? parseRetryAfter((n) => headers.get(n)) : undefined;
    const body = err.error as { message?: string; code?: unknown; type?: unknown } | undefined;
    const detail = body?.message ?? err.message;
    // OpenAI answers an exhausted quota or credit balance with 429 too (code insufficient_quota): a billing state
    // that no retry changes, so it fails at once instead of being retried as a rate limit.
    const quota = err.status === 429 && (body?.code === "insufficient_quota" || body?.type === "insufficient_quota");
    return new ModelError(
      `HTTP ${err.status}: ${endpointText(String(detail))}`,
      quota ? "auth" : kindForStatus(err.status),
      {
        status: err.status,
        retryAfterMs,
      },
    );
  }
  if (err instanceof APIUserAbortError) return new ModelError("request aborted", "aborted");
  if (err instanceof APIConnectionTimeoutError) return new ModelError("request timed out", "timeout");
  if (err instanceof APIConnectionError)
    return new ModelError(`connection error: ${err.message}`, "network", { cause: err });
  return toModelError(err);
}
