/**
 * A fault-injecting OpenAI-compatible server for reliability tests (issue 23): a real node:http server on 127.0.0.1
 * whose answer to a request depends on the request's content key (a hash of its messages) and on how often that key
 * has arrived before, so a test knows in advance how many times each request must reach the server: once when it is
 * answered at once, 1 + n when its first n arrivals get faults, and exactly (retries + 1) times when it never
 * succeeds. Any other count means something was re-sent that should not have been (or dropped).
 *
 * Faults: 429 with a Retry-After header, 500, a hang (no answer until the client gives up; dropped by the server after
 * `hangMs` so a test is bounded in time), a 200 with a non-JSON body, a 200 with a truncated JSON body, and a reset
 * connection.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FaultKind = "ok" | "429" | "500" | "hang" | "garbage" | "truncated" | "reset";
export const FAULT_KINDS: readonly Exclude<FaultKind, "ok">[] = ["429", "500", "hang", "garbage", "truncated", "reset"];

export interface FaultChatBody {
  model?: string;
  messages?: { role: string; content: string }[];
  max_tokens?: number;
  [k: string]: unknown;
}

export interface FaultArrival {
  key: string;
  /** 0-based arrival number of this key. */
  attempt: number;
  outcome: FaultKind;
  at: number;
  /** Last user message (for reading test failures). */
  prompt: string;
}

export interface FaultServerOptions {
  /** The outcome of the `attempt`-th arrival (0-based) of a request whose messages hash to `key`. */
  plan: (key: string, attempt: number) => FaultKind;
  /** What the model answers to a request that is not faulted. */
  reply: (body: FaultChatBody) => string;
  /** Retry-After header value sent with 429 (default "0.05": seconds, fractional so tests stay fast). */
  retryAfter?: string;
  /** A hung request's socket is destroyed by the server after this long (default 5000 ms). */
  hangMs?: number;
}

/** The content key of a request: what identifies "the same request" across retries. */
export function requestKey(messages: readonly { role: string; content: string }[]): string {
  return createHash("sha256")
    .update(JSON.stringify(messages.map((m) => [m.role, m.content])))
    .digest("hex")
    .slice(0, 16);
}

/** A number in [0, 1) from a key, for deterministic fault plans. */
export function keyFraction(key: string, salt = ""): number {
  return createHash("sha256").update(`${salt}:${key}`).digest().readUInt32BE(0) / 2 ** 32;
}

export class FaultServer {
  readonly arrivals: FaultArrival[] = [];
  private readonly seen = new Map<string, number>();
  private server?: Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: FaultServerOptions) {}

  async start(): Promise<string> {
    const server = createServer({ keepAlive: true }, (req, res) => this.handle(req, res));
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }

  /** Arrivals per key. */
  countsByKey(): Map<string, FaultArrival[]> {
    const out = new Map<string, FaultArrival[]>();
    for (const a of this.arrivals) {
      const list = out.get(a.key);
      if (list) list.push(a);
      else out.set(a.key, [a]);
    }
    return out;
  }

  count(outcome?: FaultKind): number {
    return outcome ? this.arrivals.filter((a) => a.outcome === outcome).length : this.arrivals.length;
  }

  /** Forget what arrived (the per-key attempt counters continue, so a re-run sees later attempts). */
  clearArrivals(): void {
    this.arrivals.length = 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== "POST" || !/\/chat\/completions(\?|$)/.test(req.url ?? "")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"error":{"message":"not found"}}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: FaultChatBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as FaultChatBody;
      } catch {
        res.writeHead(400, { "content-type": "application/json" });
        res.end('{"error":{"message":"bad json"}}');
        return;
      }
      const messages = body.messages ?? [];
      const key = requestKey(messages);
      const attempt = this.seen.get(key) ?? 0;
      this.seen.set(key, attempt + 1);
      const outcome = this.opts.plan(key, attempt);
      const prompt = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
      this.arrivals.push({ key, attempt, outcome, at: performance.now(), prompt: prompt.slice(0, 200) });
      this.respond(req, res, outcome, body);
    });
  }

  private respond(req: IncomingMessage, res: ServerResponse, outcome: FaultKind, body: FaultChatBody): void {
    switch (outcome) {
      case "hang": {
        // Never answer; the client's timeout must fire. Bounded: the server drops the socket after hangMs.
        const t = setTimeout(() => {
          this.timers.delete(t);
          req.socket.destroy();
        }, this.opts.hangMs ?? 5000);
        this.timers.add(t);
        req.socket.once("close", () => {
          clearTimeout(t);
          this.timers.delete(t);
        });
        return;
      }
      case "reset":
        req.socket.destroy();
        return;
      case "429":
        res.writeHead(429, { "content-type": "application/json", "retry-after": this.opts.retryAfter ?? "0.05" });
        res.end('{"error":{"message":"rate limited","type":"rate_limit"}}');
        return;
      case "500":
        res.writeHead(500, { "content-type": "application/json" });
        res.end('{"error":{"message":"internal error"}}');
        return;
      case "garbage":
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html><body>502 Bad Gateway (from a proxy that answers 200)</body></html>");
        return;
      case "truncated":
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          '{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"tru',
        );
        return;
      case "ok": {
        const content = this.opts.reply(body);
        const completionTokens = content.split(/\s+/).filter(Boolean).length;
        const promptTokens = (body.messages ?? []).reduce((s, m) => s + m.content.split(/\s+/).length, 0);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: "chatcmpl-fault",
            object: "chat.completion",
            created: 0,
            model: body.model ?? "fault",
            choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
            usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: 0 },
          }),
        );
      }
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/**
 * A standard plan: about 68% of keys answered at once; single faults of every kind on about 26% (one fault, then an
 * answer); two faults in a row on 3%; and `deadShare` of keys that fail `deadAttempts` times in a row (every kind in
 * turn) before they would be answered: with deadAttempts = the client's retries + 1 they fail for good in one run and
 * are answered on the next.
 */
export function standardPlan(deadShare: number, deadAttempts: number, salt = "") {
  const kinds = FAULT_KINDS;
  const faultsOf = (key: string): FaultKind[] => {
    const x = keyFraction(key, salt);
    if (x < deadShare) return Array.from({ length: deadAttempts }, (_, i) => kinds[i % kinds.length]);
    const y = (x - deadShare) / (1 - deadShare);
    if (y < 0.26) return [kinds[Math.floor((y / 0.26) * kinds.length)]];
    if (y < 0.29) return ["500", "reset"];
    return [];
  };
  return {
    faultsOf,
    plan: (key: string, attempt: number): FaultKind => faultsOf(key)[attempt] ?? "ok",
  };
}
