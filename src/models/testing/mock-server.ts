/**
 * A real local OpenAI-compatible HTTP server for tests and benchmarks (node:http, no framework, so its own cost is
 * negligible): answers /v1/chat/completions after a fixed latency with a deterministic reply derived from the
 * request, and can inject faults per request (429 with Retry-After, 500, a hung connection, malformed JSON).
 * It records every request it received (arrival time, outcome) so tests can check accounting and rate limits.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * "content_filter": Azure OpenAI's 400 for a prompt its content filter blocks (error.code content_filter, innererror
 * ResponsibleAIPolicyViolation with the categories); "filtered": Azure's 200 whose completion the filter withheld
 * (finish_reason content_filter, content null).
 */
export type Fault = "ok" | "429" | "500" | "400" | "hang" | "malformed" | "content_filter" | "filtered";

export interface MockServerOptions {
  /** Fixed delay before answering, ms (default 0). */
  latencyMs?: number;
  /** Decide the outcome of the n-th request (0-based, arrival order) with the given body. Default: always ok. */
  fault?: (n: number, body: MockChatBody) => Fault;
  /** Retry-After seconds sent with 429 (default "1"); may be fractional for tests via retry-after-ms. */
  retryAfter?: { header: "retry-after" | "retry-after-ms"; value: string };
  /** Require this bearer token (401 otherwise). */
  apiKey?: string;
  port?: number;
  /** Simulate a careless proxy that echoes the Authorization header in 4xx/5xx error bodies (secret-leak tests). */
  echoAuthOnError?: boolean;
}

export interface MockChatBody {
  model?: string;
  messages?: { role: string; content: string }[];
  max_tokens?: number;
  [k: string]: unknown;
}

export interface ArrivalRecord {
  n: number;
  at: number;
  outcome: Fault;
  /** Last user message of the request. */
  prompt: string;
  /** Request path with query string. */
  url: string;
  /** Credential headers as sent (tests of key plumbing only). */
  auth: { authorization?: string; apiKey?: string };
}

/** The deterministic reply the mock gives a prompt (tests compare cached answers against it). */
export function mockReply(prompt: string): string {
  let h = 2166136261;
  for (let i = 0; i < prompt.length; i++) h = Math.imul(h ^ prompt.charCodeAt(i), 16777619) >>> 0;
  return `reply ${h.toString(16)} to: ${prompt}`;
}

export class MockChatServer {
  readonly arrivals: ArrivalRecord[] = [];
  private server?: Server;
  private n = 0;
  constructor(private readonly opts: MockServerOptions = {}) {}

  async start(): Promise<string> {
    const server = createServer({ keepAlive: true }, (req, res) => this.handle(req, res));
    server.keepAliveTimeout = 600_000; // longer than any bench phase: no idle-close race with pooled client sockets
    server.headersTimeout = 0;
    server.requestTimeout = 0;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.opts.port ?? 0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }

  count(outcome?: Fault): number {
    return outcome ? this.arrivals.filter((a) => a.outcome === outcome).length : this.arrivals.length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === "GET" && req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "mock", object: "model", owned_by: "breakfix" }] }));
      return;
    }
    // /v1/chat/completions, or Azure's /openai/deployments/{name}/chat/completions?api-version=...
    if (req.method !== "POST" || !/\/chat\/completions(\?|$)/.test(req.url ?? "")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"error":{"message":"not found"}}');
      return;
    }
    if (this.opts.apiKey && req.headers.authorization !== `Bearer ${this.opts.apiKey}`) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end('{"error":{"message":"bad key"}}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: MockChatBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as MockChatBody;
      } catch {
        res.writeHead(400, { "content-type": "application/json" });
        res.end('{"error":{"message":"bad json"}}');
        return;
      }
      const n = this.n++;
      const messages = body.messages ?? [];
      const prompt = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
      const outcome = this.opts.fault ? this.opts.fault(n, body) : "ok";
      this.arrivals.push({
        n,
        at: performance.now(),
        outcome,
        prompt,
        url: req.url ?? "",
        auth: { authorization: req.headers.authorization, apiKey: req.headers["api-key"] as string | undefined },
      });
      const auth = this.opts.echoAuthOnError ? ` (auth: ${req.headers.authorization ?? "none"})` : "";
      const respond = () => this.respond(res, outcome, body, prompt, auth);
      const latency = this.opts.latencyMs ?? 0;
      if (latency > 0) setTimeout(respond, latency);
      else respond();
    });
  }

  private respond(res: ServerResponse, outcome: Fault, body: MockChatBody, prompt: string, auth: string): void {
    switch (outcome) {
      case "hang":
        return; // never answer; the client's timeout must fire
      case "429": {
        const ra = this.opts.retryAfter ?? { header: "retry-after", value: "1" };
        res.writeHead(429, { "content-type": "application/json", [ra.header]: ra.value });
        res.end('{"error":{"message":"rate limited","type":"rate_limit"}}');
        return;
      }
      case "500":
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `internal error${auth}` } }));
        return;
      case "400":
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `bad request${auth}`, type: "invalid_request_error" } }));
        return;
      case "content_filter":
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: {
              message:
                "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
              type: null,
              param: "prompt",
              code: "content_filter",
              status: 400,
              innererror: {
                code: "ResponsibleAIPolicyViolation",
                content_filter_result: {
                  hate: { filtered: false, severity: "safe" },
                  jailbreak: { filtered: true, detected: true },
                  self_harm: { filtered: false, severity: "safe" },
                  sexual: { filtered: false, severity: "safe" },
                  violence: { filtered: true, severity: "medium" },
                },
              },
            },
          }),
        );
        return;
      case "filtered":
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          completion(
            body.model,
            {
              message: { role: "assistant", content: null },
              finish_reason: "content_filter",
              content_filter_results: { violence: { filtered: true, severity: "high" } },
            },
            5,
            0,
          ),
        );
        return;
      case "malformed":
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"id":"x","choices":[{"message":{"role":"assistant","content":"tru');
        return;
      case "ok": {
        // One "token" per space-separated word; max_tokens truncates like a real server.
        let words = mockReply(prompt).split(" ");
        const max = typeof body.max_tokens === "number" ? body.max_tokens : Number.POSITIVE_INFINITY;
        const truncated = words.length > max;
        if (truncated) words = words.slice(0, max);
        const content = words.join(" ");
        const promptTokens = (body.messages ?? []).reduce((s, m) => s + m.content.split(/\s+/).length, 0);
        const completionTokens = words.length;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          completion(
            body.model,
            { message: { role: "assistant", content }, finish_reason: truncated ? "length" : "stop" },
            promptTokens,
            completionTokens,
          ),
        );
      }
    }
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A chat.completion body with one choice (index 0) and its usage, as an OpenAI-compatible server sends it. */
function completion(
  model: string | undefined,
  choice: Record<string, unknown>,
  promptTokens: number,
  completionTokens: number,
): string {
  return JSON.stringify({
    id: "chatcmpl-mock",
    object: "chat.completion",
    created: 0,
    model: model ?? "mock",
    choices: [{ index: 0, ...choice }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  });
}
