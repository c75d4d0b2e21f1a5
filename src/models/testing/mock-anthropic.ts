/** A minimal local Anthropic Messages API (POST /v1/messages) for provider tests; replies like MockChatServer. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mockReply } from "./mock-server.ts";

export interface AnthropicMockBody {
  model: string;
  max_tokens: number;
  system?: string;
  messages: { role: string; content: string }[];
  output_config?: unknown;
  [k: string]: unknown;
}

export class MockAnthropicServer {
  readonly bodies: AnthropicMockBody[] = [];
  readonly headers: Record<string, string | string[] | undefined>[] = [];
  private server?: Server;
  constructor(private readonly fault: (n: number) => "ok" | "429" | "529" = () => "ok") {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/v1/messages") {
          res.writeHead(404, { "content-type": "application/json" });
          res.end('{"type":"error","error":{"type":"not_found_error","message":"no"}}');
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as AnthropicMockBody;
        const n = this.bodies.length;
        this.bodies.push(body);
        this.headers.push(req.headers);
        // The Messages API's own rule: every message needs non-whitespace content, except a final assistant message
        // (a prefill); otherwise 400 invalid_request_error naming the message.
        const empty = body.messages.findIndex(
          (m, i) => !m.content.trim() && !(i === body.messages.length - 1 && m.role === "assistant"),
        );
        if (empty >= 0) {
          res.writeHead(400, { "content-type": "application/json" });
          res.end(
            `{"type":"error","error":{"type":"invalid_request_error","message":"messages.${empty}: all messages must have non-empty content except for the optional final assistant message"}}`,
          );
          return;
        }
        const f = this.fault(n);
        if (f !== "ok") {
          res.writeHead(Number(f), { "content-type": "application/json", "retry-after": "2" });
          res.end(
            `{"type":"error","error":{"type":"${f === "429" ? "rate_limit_error" : "overloaded_error"}","message":"slow down"}}`,
          );
          return;
        }
        const prompt = [...body.messages].reverse().find((m) => m.role === "user")?.content ?? "";
        let words = mockReply(prompt).split(" ");
        const truncated = words.length > body.max_tokens;
        if (truncated) words = words.slice(0, body.max_tokens);
        const input = [body.system ?? "", ...body.messages.map((m) => m.content)]
          .join(" ")
          .split(/\s+/)
          .filter(Boolean).length;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: `msg_${n}`,
            type: "message",
            role: "assistant",
            model: body.model,
            content: [{ type: "text", text: words.join(" ") }],
            stop_reason: truncated ? "max_tokens" : "end_turn",
            stop_sequence: null,
            usage: { input_tokens: input, output_tokens: words.length },
          }),
        );
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
