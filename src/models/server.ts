/**
 * An OpenAI-compatible HTTP server for any ChatModel (hono + @hono/node-server): POST /v1/chat/completions,
 * GET /v1/models and /v1/models/{model}, bound to 127.0.0.1 by default, so any OpenAI client or tool can red-team our
 * models. Request bodies are validated (zod) and errors use OpenAI's {"error": {...}} shape. Model output is returned
 * as JSON data only (never rendered). Optional bearer-token auth when a key is configured.
 *
 * Limits (issue 23): JSON bodies only (415 otherwise: a web page cannot post text/plain to it), a body cap (413),
 * fields it does not implement refused (400, see UNSUPPORTED_FIELDS; response_format is accepted, not enforced, and
 * flagged in a response header), prompts that do not fit the model's context
 * refused by the engine (400 naming the limit, the same on builtin and llama.cpp), generation stopped when the client
 * disconnects, and a per-request deadline (504). Without an API key, requests must name the server in their Host
 * header (403 otherwise): a web page that rebinds its DNS name to the server's address cannot use it (DNS rebinding).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { serve as serveNode } from "@hono/node-server";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { type HostCheckOptions, hostAllowed, LOOPBACK_HOSTS } from "../domain/host-header.ts";
import { ModelError } from "./errors.ts";
import { Semaphore } from "./reliability/semaphore.ts";
import type { ChatModel, ChatRequest } from "./types.ts";

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const messageSchema = z.object({
  role: z.enum(["system", "user", "assistant", "developer"]),
  content: z.union([z.string(), z.array(textPart)]),
});

export const chatCompletionRequestSchema = z.object({
  model: z.string().optional(),
  messages: z.array(messageSchema).min(1),
  // null is "not given" wherever the API reference types a field "... or null" (clients send it for unset fields)
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  seed: z.number().int().nullish(),
  n: z.literal(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  response_format: z
    .union([
      z.object({ type: z.literal("text") }),
      z.object({ type: z.literal("json_object") }),
      z.object({
        type: z.literal("json_schema"),
        json_schema: z.object({ name: z.string(), schema: z.record(z.string(), z.unknown()).optional() }),
      }),
    ])
    .optional(),
});

export interface ServerOptions {
  /** The id /v1/models lists and responses report. */
  modelName: string;
  /** Requests handed to the model at once (default 16; the builtin provider batches them). */
  concurrency?: number;
  /** Require `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string;
  /**
   * The interface the server is bound to (default 127.0.0.1). Without apiKey, the Host header of a request must name
   * a loopback name or this host (any IP literal when it is 0.0.0.0 or ::).
   */
  host?: string;
  /** Largest request body accepted, bytes (default 1 MiB); larger ones get 413 before anything is parsed. */
  maxBodyBytes?: number;
  /**
   * Per-request deadline, ms, from arrival to answer, waiting for a slot included (default 10 min): past it the
   * generation is stopped and the client gets 504.
   */
  requestTimeoutMs?: number;
  /**
   * A content fingerprint of the weights served (models/fingerprint.ts), listed as `weights_fingerprint` in the model
   * object of /v1/models: a deploy checks it, so a round is never measured on whatever else answers at the URL (an
   * older server still holding the port).
   */
  weightsFingerprint?: string;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 600_000;

/**
 * Request fields of the OpenAI API this server does not implement. It serves a plain chat model: a request that
 * relies on one of them would get an answer that silently ignores it, so it is refused with 400 instead.
 *
 * `response_format` is the documented exception: it is accepted and NOT enforced (no constrained decoding); the
 * answer is the model's text and the response carries `x-breakfix-response-format: not-enforced`. Clients validate
 * the text, as breakfix's LLM judges do (their parsers never trust the format); refusing it would break every judge
 * or attacker pointed at a served model, since they ask for json_schema by default.
 */
export const UNSUPPORTED_FIELDS: Readonly<Record<string, string>> = {
  tools: "tool calls are not supported",
  tool_choice: "tool calls are not supported",
  parallel_tool_calls: "tool calls are not supported",
  functions: "function calls are not supported",
  function_call: "function calls are not supported",
  logprobs: "log probabilities are not returned",
  top_logprobs: "log probabilities are not returned",
  logit_bias: "logit bias is not supported",
  audio: "audio is not supported",
  modalities: "only text is supported",
  prediction: "predicted outputs are not supported",
  presence_penalty: "presence penalties are not applied",
  frequency_penalty: "frequency penalties are not applied",
};

/** The first unsupported field a request uses, with why; undefined when it uses none. */
export function unsupportedField(raw: unknown): string | undefined {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  for (const [field, why] of Object.entries(UNSUPPORTED_FIELDS)) {
    const v = o[field];
    // null / false / 0 / [] / {} are how clients say "none" (a penalty of 0 is none): not a use of the feature
    if (v === undefined || v === null || v === false || v === 0) continue;
    if (typeof v === "object" && Object.keys(v).length === 0) continue;
    return `${field}: ${why} by this server`;
  }
  return undefined;
}

function openaiError(message: string, type: string, code?: string) {
  return { error: { message, type, code: code ?? null, param: null } };
}

/** Converts a validated OpenAI request to our ChatRequest. */
export function toChatRequest(body: z.infer<typeof chatCompletionRequestSchema>, signal?: AbortSignal): ChatRequest {
  const req: ChatRequest = {
    messages: body.messages.map((m) => ({
      role: m.role === "developer" ? "system" : m.role,
      content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""),
    })),
    signal,
  };
  if (body.temperature != null) req.temperature = body.temperature;
  if (body.top_p != null) req.topP = body.top_p;
  if (body.top_k != null) req.topK = body.top_k;
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (max != null) req.maxTokens = max;
  if (body.stop != null) req.stop = typeof body.stop === "string" ? [body.stop] : body.stop;
  if (body.seed != null) req.seed = body.seed;
  if (body.response_format?.type === "json_schema")
    req.jsonSchema = {
      name: body.response_format.json_schema.name,
      schema: body.response_format.json_schema.schema ?? {},
    };
  return req;
}

/** Which Host headers a server bound to `host` answers to without an API key (see domain/host-header.ts). */
function hostCheckFor(host = "127.0.0.1"): HostCheckOptions {
  const h = host.toLowerCase();
  if (["0.0.0.0", "::", "[::]", ""].includes(h)) return { anyIp: true };
  return { names: [...LOOPBACK_HOSTS, h.includes(":") && !h.startsWith("[") ? `[${h}]` : h] };
}

export function createOpenAIApp(model: ChatModel, opts: ServerOptions): Hono {
  const app = new Hono();
  const slots = new Semaphore(opts.concurrency ?? 16);
  const created = Math.floor(Date.now() / 1000);
  let counter = 0;

  // With a key, the key is the check (and clients may reach the server by any name); without one, a request must at
  // least not come from a page that rebound its DNS name to this address (the dashboard's check, the same helper).
  if (!opts.apiKey) {
    const check = hostCheckFor(opts.host);
    app.use("*", async (c, next) => {
      if (!hostAllowed(c.req.header("host"), new URL(c.req.url).port, check))
        return c.json(
          openaiError(
            "this server answers only to requests addressed to its own host (Host header); serve with an API key to accept others",
            "invalid_request_error",
            "host_not_allowed",
          ),
          403,
        );
      await next();
    });
  }

  const expected = opts.apiKey ? sha256(`Bearer ${opts.apiKey}`) : undefined;
  app.use("/v1/*", async (c, next) => {
    // compared as digests in constant time: the time of a rejection says nothing about how much of the key matched
    if (expected && !timingSafeEqual(sha256(c.req.header("authorization") ?? ""), expected))
      return c.json(openaiError("invalid or missing API key", "invalid_request_error", "invalid_api_key"), 401);
    await next();
  });

  const modelObject = {
    id: opts.modelName,
    object: "model",
    created,
    owned_by: "breakfix",
    ...(opts.weightsFingerprint ? { weights_fingerprint: opts.weightsFingerprint } : {}),
  };
  const modelNotFound = (id: string) =>
    openaiError(
      `model "${id}" not found; this server has "${opts.modelName}"`,
      "invalid_request_error",
      "model_not_found",
    );
  app.get("/v1/models", (c) => c.json({ object: "list", data: [modelObject] }));
  // the reference's "retrieve model" (ids may hold slashes: org/name)
  app.get("/v1/models/:model{.+}", (c) => {
    const id = c.req.param("model");
    if (id === opts.modelName) return c.json(modelObject);
    return c.json(modelNotFound(id), 404);
  });
  app.get("/health", (c) => c.json({ status: "ok" }));

  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const deadlineMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // JSON only: a text/plain or form post is what a web page can send cross-site without a CORS preflight.
  app.post("/v1/chat/completions", async (c, next) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json")
      return c.json(
        openaiError(
          `Content-Type must be application/json (got ${type ? JSON.stringify(type) : "none"})`,
          "invalid_request_error",
          "unsupported_media_type",
        ),
        415,
      );
    await next();
  });
  app.post(
    "/v1/chat/completions",
    bodyLimit({
      maxSize: maxBody,
      onError: (c) => {
        c.header("connection", "close");
        return c.json(
          openaiError(
            `request body is larger than this server's limit of ${maxBody} bytes`,
            "invalid_request_error",
            "request_too_large",
          ),
          413,
        );
      },
    }),
  );

  app.post("/v1/chat/completions", async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      return c.json(openaiError("request body is not valid JSON", "invalid_request_error"), 400);
    }
    const unsupported = unsupportedField(raw);
    if (unsupported) return c.json(openaiError(unsupported, "invalid_request_error", "unsupported_parameter"), 400);
    const parsed = chatCompletionRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
      return c.json(openaiError(msg, "invalid_request_error"), 400);
    }
    if (parsed.data.model && parsed.data.model !== opts.modelName) return c.json(modelNotFound(parsed.data.model), 404);
    // The generation stops when the client goes away (the request's signal) or the deadline passes.
    const stop = new AbortController();
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, deadlineMs);
    const clientSignal = c.req.raw.signal;
    const onClientGone = () => stop.abort();
    if (clientSignal.aborted) stop.abort();
    else clientSignal.addEventListener("abort", onClientGone, { once: true });
    const done = () => {
      clearTimeout(deadline);
      clientSignal.removeEventListener("abort", onClientGone);
    };
    const request = toChatRequest(parsed.data, stop.signal);
    if (parsed.data.response_format && parsed.data.response_format.type !== "text")
      c.header("x-breakfix-response-format", "not-enforced");
    const deadlineError = () =>
      openaiError(`the answer was not ready within this server's ${deadlineMs} ms deadline`, "server_error", "timeout");
    const id = `chatcmpl-${created.toString(36)}-${(counter++).toString(36)}`;
    let result: Awaited<ReturnType<ChatModel["chat"]>>;
    try {
      result = await slots.run(() => model.chat(request)).finally(done);
    } catch (err) {
      // the same status and error for a streamed request: the answer is generated whole before any event is sent
      if (timedOut) return c.json(deadlineError(), 504);
      const e = err instanceof ModelError ? err : new ModelError((err as Error).message ?? String(err), "server");
      // client: the request cannot be served as sent (e.g. the prompt does not fit the context: 400 naming it)
      const status = e.kind === "client" ? 400 : e.kind === "aborted" ? 499 : e.kind === "rate_limit" ? 429 : 500;
      return c.json(openaiError(e.message, status === 400 ? "invalid_request_error" : "server_error"), status as 400);
    }
    const finishReason =
      result.finishReason === "length" || result.finishReason === "content_filter" ? result.finishReason : "stop";
    const usage = {
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
      total_tokens: result.usage.promptTokens + result.usage.completionTokens,
    };
    if (parsed.data.stream) {
      // Sent as OpenAI chat.completion.chunk events (one content delta, one finish chunk, optional usage chunk,
      // [DONE]), so streaming clients work unchanged.
      const includeUsage = parsed.data.stream_options?.include_usage === true;
      return streamSSE(c, async (stream) => {
        const base = {
          id,
          object: "chat.completion.chunk",
          created: Math.floor(Date.now() / 1000),
          model: opts.modelName,
        };
        const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
          stream.writeSSE({ data: JSON.stringify({ ...base, choices, ...extra }) });
        await chunk([{ index: 0, delta: { role: "assistant", content: result.content }, finish_reason: null }]);
        await chunk([{ index: 0, delta: {}, finish_reason: finishReason }]);
        if (includeUsage) await chunk([], { usage });
        await stream.writeSSE({ data: "[DONE]" });
      });
    }
    return c.json({
      id,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: opts.modelName,
      choices: [{ index: 0, message: { role: "assistant", content: result.content }, finish_reason: finishReason }],
      usage,
    });
  });

  app.notFound((c) => c.json(openaiError(`no route ${c.req.method} ${c.req.path}`, "invalid_request_error"), 404));
  return app;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the server; resolves once it is listening (port 0 picks a free port). */
export function startOpenAIServer(model: ChatModel, opts: ServerOptions & { port?: number }): Promise<RunningServer> {
  const app = createOpenAIApp(model, opts);
  const host = opts.host ?? "127.0.0.1";
  return new Promise((resolve, reject) => {
    const server = serveNode({ fetch: app.fetch, port: opts.port ?? 0, hostname: host }, (info) => {
      const h = host.includes(":") ? `[${host}]` : host;
      resolve({
        url: `http://${h}:${info.port}/v1`,
        port: info.port,
        close: () =>
          new Promise<void>((res) => {
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => res());
          }),
      });
    });
    server.once("error", reject);
  });
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
