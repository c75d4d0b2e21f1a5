/**
 * An OpenAI-compatible HTTP server for any ChatModel (hono + @hono/node-server): POST /v1/chat/completions and
 * GET /v1/models, bound to 127.0.0.1 by default, so any OpenAI client or tool can red-team our models. Request
 * bodies are validated (zod) and errors use OpenAI's {"error": {...}} shape. Model output is returned as JSON data
 * only (never rendered). Optional bearer-token auth when a key is configured.
 */
import { serve as serveNode } from "@hono/node-server";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
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
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(16)])
    .optional()
    .nullable(),
  seed: z.number().int().optional(),
  n: z.literal(1).optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).optional().nullable(),
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
  if (body.temperature !== undefined) req.temperature = body.temperature;
  if (body.top_p !== undefined) req.topP = body.top_p;
  if (body.top_k !== undefined) req.topK = body.top_k;
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (max !== undefined) req.maxTokens = max;
  if (body.stop != null) req.stop = typeof body.stop === "string" ? [body.stop] : body.stop;
  if (body.seed !== undefined) req.seed = body.seed;
  if (body.response_format?.type === "json_schema")
    req.jsonSchema = {
      name: body.response_format.json_schema.name,
      schema: body.response_format.json_schema.schema ?? {},
    };
  return req;
}

export function createOpenAIApp(model: ChatModel, opts: ServerOptions): Hono {
  const app = new Hono();
  const slots = new Semaphore(opts.concurrency ?? 16);
  const created = Math.floor(Date.now() / 1000);
  let counter = 0;

  app.use("/v1/*", async (c, next) => {
    if (opts.apiKey && c.req.header("authorization") !== `Bearer ${opts.apiKey}`)
      return c.json(openaiError("invalid or missing API key", "invalid_request_error", "invalid_api_key"), 401);
    await next();
  });

  app.get("/v1/models", (c) =>
    c.json({ object: "list", data: [{ id: opts.modelName, object: "model", created, owned_by: "breakfix" }] }),
  );
  app.get("/health", (c) => c.json({ status: "ok" }));

  app.post("/v1/chat/completions", async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      return c.json(openaiError("request body is not valid JSON", "invalid_request_error"), 400);
    }
    const parsed = chatCompletionRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
      return c.json(openaiError(msg, "invalid_request_error"), 400);
    }
    if (parsed.data.model && parsed.data.model !== opts.modelName)
      return c.json(
        openaiError(
          `model "${parsed.data.model}" not found; this server has "${opts.modelName}"`,
          "invalid_request_error",
          "model_not_found",
        ),
        404,
      );
    const request = toChatRequest(parsed.data, c.req.raw.signal);
    const id = `chatcmpl-${created.toString(36)}-${(counter++).toString(36)}`;
    if (parsed.data.stream) {
      // The answer is generated whole, then sent as OpenAI chat.completion.chunk events (one content delta, one
      // finish chunk, optional usage chunk, [DONE]), so streaming clients work unchanged.
      const includeUsage = parsed.data.stream_options?.include_usage === true;
      return streamSSE(c, async (stream) => {
        const base = {
          id,
          object: "chat.completion.chunk",
          created: Math.floor(Date.now() / 1000),
          model: opts.modelName,
        };
        try {
          const result = await slots.run(() => model.chat(request));
          const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
            stream.writeSSE({ data: JSON.stringify({ ...base, choices, ...extra }) });
          await chunk([{ index: 0, delta: { role: "assistant", content: result.content }, finish_reason: null }]);
          await chunk([{ index: 0, delta: {}, finish_reason: result.finishReason === "length" ? "length" : "stop" }]);
          if (includeUsage)
            await chunk([], {
              usage: {
                prompt_tokens: result.usage.promptTokens,
                completion_tokens: result.usage.completionTokens,
                total_tokens: result.usage.promptTokens + result.usage.completionTokens,
              },
            });
        } catch (err) {
          const e = err instanceof ModelError ? err : new ModelError((err as Error).message ?? String(err), "server");
          await stream.writeSSE({ data: JSON.stringify(openaiError(e.message, "server_error")) });
        }
        await stream.writeSSE({ data: "[DONE]" });
      });
    }
    try {
      const result = await slots.run(() => model.chat(request));
      return c.json({
        id,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: opts.modelName,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: result.content },
            finish_reason: result.finishReason === "length" ? "length" : "stop",
          },
        ],
        usage: {
          prompt_tokens: result.usage.promptTokens,
          completion_tokens: result.usage.completionTokens,
          total_tokens: result.usage.promptTokens + result.usage.completionTokens,
        },
      });
    } catch (err) {
      const e = err instanceof ModelError ? err : new ModelError((err as Error).message ?? String(err), "server");
      const status = e.kind === "client" ? 400 : e.kind === "aborted" ? 499 : e.kind === "rate_limit" ? 429 : 500;
      return c.json(openaiError(e.message, status === 400 ? "invalid_request_error" : "server_error"), status as 400);
    }
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
export function startOpenAIServer(
  model: ChatModel,
  opts: ServerOptions & { port?: number; host?: string },
): Promise<RunningServer> {
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
