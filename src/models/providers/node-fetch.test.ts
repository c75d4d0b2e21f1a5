/**
 * createNodeFetch buffers a response whole, so it caps the body's size: against a real local server, an answer that
 * declares too large a content-length is refused before its body is read, one that streams past the cap (chunked, no
 * length) is cut off, and both close the connection and surface through the providers as a non-retryable ModelError
 * naming the limit; answers within the cap pass unchanged.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelError } from "../errors.ts";
import { withReliability } from "../reliability/reliable.ts";
import { AnthropicModel } from "./anthropic.ts";
import { createNodeFetch, DEFAULT_MAX_RESPONSE_BYTES } from "./node-fetch.ts";
import { OpenAICompatibleModel } from "./openai-compatible.ts";

const LIMIT = 64 * 1024;
let base = "";
let arrivals = 0;
/** How each streamed answer ended on the server: "finished", or "closed" when the client hung up first. */
const ends: string[] = [];

/** Writes `total` bytes of a JSON string value in 16 KiB chunks, honouring back-pressure; records how it ended. */
function stream(res: ServerResponse, total: number): void {
  const chunk = "A".repeat(16 * 1024);
  let sent = 0;
  let finished = false;
  res.on("close", () => ends.push(finished ? "finished" : "closed"));
  res.write('{"choices":[{"message":{"role":"assistant","content":"');
  const pump = () => {
    while (sent < total) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once("drain", pump);
        return;
      }
    }
    finished = true;
    res.end('"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1},"model":"m"}');
  };
  pump();
}

const server = createServer((req, res) => {
  arrivals++;
  req.resume();
  req.on("end", () => {
    const path = req.url ?? "";
    if (path.startsWith("/declared")) {
      // claims 300 MB up front (and would send it)
      res.writeHead(200, { "content-type": "application/json", "content-length": String(300 * 1024 * 1024) });
      stream(res, 300 * 1024 * 1024);
    } else if (path.startsWith("/chunked")) {
      res.writeHead(200, { "content-type": "application/json" });
      stream(res, 300 * 1024 * 1024);
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      stream(res, LIMIT / 2);
    }
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("createNodeFetch's response size cap", () => {
  it("defaults to 32 MiB", () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(32 * 1024 * 1024);
  });

  it("passes an answer within the cap", async () => {
    const res = await createNodeFetch({ maxResponseBytes: LIMIT })(`${base}/small`, { method: "POST", body: "{}" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0].message.content).toHaveLength(LIMIT / 2);
  });

  it("refuses a content-length over the cap before reading the body, and hangs up", async () => {
    ends.length = 0;
    const err = await createNodeFetch({ maxResponseBytes: LIMIT })(`${base}/declared`, { method: "POST", body: "{}" })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).kind).toBe("client");
    expect((err as ModelError).retryable).toBe(false);
    expect((err as ModelError).message).toContain(`over the ${LIMIT}-byte limit (maxResponseBytes; content-length`);
    await expect.poll(() => ends).toEqual(["closed"]);
  });

  it("cuts off a chunked answer that streams past the cap, and hangs up", async () => {
    ends.length = 0;
    const err = await createNodeFetch({ maxResponseBytes: LIMIT })(`${base}/chunked`, { method: "POST", body: "{}" })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).kind).toBe("client");
    expect((err as ModelError).message).toContain(`over the ${LIMIT}-byte limit (maxResponseBytes; cut off`);
    await expect.poll(() => ends).toEqual(["closed"]);
  });

  it("reaches callers of both providers as a non-retryable ModelError: sent once, never retried", async () => {
    const models = [
      new OpenAICompatibleModel({
        baseUrl: `${base}/chunked/v1`,
        model: "m",
        fetch: createNodeFetch({ maxResponseBytes: LIMIT }),
      }),
      new AnthropicModel({
        baseUrl: `${base}/declared`,
        model: "m",
        apiKey: "k",
        fetch: createNodeFetch({ maxResponseBytes: LIMIT }),
      }),
    ];
    for (const inner of models) {
      const before = arrivals;
      const m = withReliability(inner, { maxRetries: 3, baseMs: 1 });
      const err = await m.chat({ messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
      expect(err, inner.id).toBeInstanceOf(ModelError);
      expect((err as ModelError).kind).toBe("client");
      expect((err as ModelError).message).toContain(`${LIMIT}-byte limit (maxResponseBytes`);
      expect(arrivals - before).toBe(1);
    }
  });
});
