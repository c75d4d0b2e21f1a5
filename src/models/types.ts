/**
 * The chat-model interface every stage talks to (target, attacker, judge, responder), kept apart from its
 * implementations as the Vercel AI SDK keeps its provider spec apart from providers. Providers live beside this file;
 * nothing outside models/ imports a provider directly: they get a ChatModel from the registry.
 */
import type { ContentFilter, Conversation, Usage } from "../domain/types.ts";

export interface SamplingParams {
  /** 0 means greedy. */
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
}

export interface ChatRequest extends SamplingParams {
  messages: Conversation;
  /**
   * Ask for JSON output matching this JSON Schema, where the backend supports constrained output. Backends that do
   * not support it ignore it (callers still parse and validate what comes back).
   */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  /** Abort the request (per-attempt timeouts come from the reliability wrapper, see ReliabilityOptions). */
  signal?: AbortSignal;
  /**
   * Skip the response cache for this request. Note the cache key includes `seed`: to draw N distinct samples of one
   * prompt at temperature > 0 and still be resumable, give each draw its own seed instead of disabling the cache.
   */
  noCache?: boolean;
  /**
   * Deadline for this attempt, ms. Set by the reliability wrapper for providers with `handlesTimeout`; such a
   * provider must reject with a ModelError of kind "timeout" when it passes.
   */
  timeoutMs?: number;
}

/**
 * Why an answer ended. "content_filter": the deployment's own content filter blocked the prompt or withheld the
 * completion (Azure OpenAI's 400 content_filter / ResponsibleAIPolicyViolation, or a choice with finish_reason
 * content_filter; Anthropic's stop_reason "refusal", its safety classifiers stopping the answer). For a red teamer that is the deployment refusing the attack: it is an answer (content "", or the
 * text delivered before the filter cut in), not an error; it is not retried, it is cached, and judging counts it as a
 * refusal (judges/blocked.ts), as PyRIT marks such responses "blocked".
 */
export type FinishReason = "stop" | "length" | "content_filter" | "error";

export interface ChatResult {
  content: string;
  finishReason: FinishReason;
  /** With finishReason "content_filter": the categories the filter filtered on, when the provider names them. */
  filter?: ContentFilter;
  usage: Usage;
  /** The model id the backend reports. */
  model: string;
  /** True when the result came from the persistent response cache. */
  cached?: boolean;
  latencyMs?: number;
}

/** Provider settings that change an answer (see ChatModel.answerSettings). */
export type AnswerSettings = Readonly<Record<string, string | number | boolean | null>>;

export interface ChatModel {
  /** Stable id used in cache keys and records, e.g. "openai-compatible:http://127.0.0.1:8080/v1#demo". */
  readonly id: string;
  /**
   * True when the provider enforces `ChatRequest.timeoutMs` itself (e.g. its SDK's own per-request timeout), so the
   * reliability wrapper need not wrap every attempt in an extra AbortController (a measurable cost at high rates).
   */
  readonly handlesTimeout?: boolean;
  /**
   * Settings of this model that are not in the request (so not in its id or the request) and change its answer to
   * `request`, e.g. how an OpenAI-compatible endpoint is sent a jsonSchema (json_schema, json_object or none). The
   * response cache keys on them too, so two such models never share an answer. Undefined or empty for a request they
   * do not affect: that request's cache key is the one it always had.
   */
  answerSettings?(request: ChatRequest): AnswerSettings | undefined;
  chat(request: ChatRequest): Promise<ChatResult>;
  /**
   * Many independent requests; implementations may run them concurrently or batch them on a local engine.
   * Results are in request order. Callers that must keep the answers of a batch in which one request fails use
   * chatAllSettled, which calls `chat` per request: an engine that batches should batch concurrent `chat` calls (as
   * the builtin engine does), so nothing is lost by it.
   */
  chatMany?(requests: ChatRequest[]): Promise<ChatResult[]>;
  close?(): Promise<void>;
}

/**
 * Sends every request once and reports each outcome on its own, in request order. A failed request never costs its
 * neighbours: the answers already received are kept, and nothing is sent again (issue 23: a bench batch with one
 * failed item used to be re-sent whole, paying every answered prompt twice).
 */
export function chatAllSettled(model: ChatModel, requests: readonly ChatRequest[]): Promise<ChatSettled[]> {
  return Promise.all(
    requests.map((r) =>
      // new Promise: a chat that throws synchronously is one failed request, not a failed batch.
      new Promise<ChatResult>((resolve) => resolve(model.chat(r))).then(
        (result): ChatSettled => ({ ok: true, result }),
        (error: unknown): ChatSettled => ({ ok: false, error }),
      ),
    ),
  );
}

export type ChatSettled = { ok: true; result: ChatResult } | { ok: false; error: unknown };

/**
 * Runs many requests and returns their results in order, or rejects with the first failure. It settles every request
 * before rejecting, so no request is still in flight (and paid for) after the caller has been told the batch failed;
 * callers that want the answers of the others use chatAllSettled.
 */
export async function chatAll(model: ChatModel, requests: ChatRequest[]): Promise<ChatResult[]> {
  const settled = await chatAllSettled(model, requests);
  const out: ChatResult[] = [];
  for (const s of settled) {
    if (!s.ok) throw s.error;
    out.push(s.result);
  }
  return out;
}
