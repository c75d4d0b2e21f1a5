/**
 * A real local HTTP server speaking the OpenAI chat-completions protocol, scripted to answer like a judge model.
 * Tests start it on 127.0.0.1:0, point an OpenAI-compatible ChatModel at it, and inspect the requests it received.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  path: string;
  body: {
    model: string;
    messages: { role: string; content: string }[];
    temperature?: number;
    max_tokens?: number;
    response_format?: Record<string, unknown>;
    seed?: number;
  };
}

/** Returns the text the "judge model" answers, or { status } to fail the request with that HTTP status. */
export type Script = (req: ReceivedRequest, index: number) => string | { status: number };

export class JudgeServer {
  readonly received: ReceivedRequest[] = [];
  private server?: Server;
  constructor(private script: Script) {}

  setScript(script: Script): void {
    this.script = script;
    this.received.length = 0;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        let body: ReceivedRequest["body"];
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          res.writeHead(400, { "content-type": "application/json" }).end('{"error":{"message":"bad json"}}');
          return;
        }
        if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
          res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
          return;
        }
        const rec: ReceivedRequest = { path: req.url, body };
        this.received.push(rec);
        const out = this.script(rec, this.received.length - 1);
        if (typeof out !== "string") {
          res
            .writeHead(out.status, { "content-type": "application/json" })
            .end(`{"error":{"message":"scripted ${out.status}"}}`);
          return;
        }
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            id: `chatcmpl-${this.received.length}`,
            object: "chat.completion",
            created: 0,
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content: out }, finish_reason: "stop" }],
            usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}/v1`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The text between <tag> and </tag> in the last user message of a request. */
export function tagged(req: ReceivedRequest, tag: string): string | undefined {
  const all = req.body.messages.map((m) => m.content).join("\n");
  const m = new RegExp(`<${tag}>\\n([\\s\\S]*?)\\n</${tag}>`).exec(all);
  return m?.[1];
}
