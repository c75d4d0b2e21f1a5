/**
 * `breakfix serve` without an API key against DNS rebinding, on a real server on 127.0.0.1: a request whose Host
 * header names another site (a page that rebound its DNS name to 127.0.0.1) is refused with 403 before the model
 * runs; requests addressed to the server itself are served; with an API key the key is the check.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningServer, startOpenAIServer } from "./server.ts";
import type { ChatModel } from "./types.ts";

let calls = 0;
const model: ChatModel = {
  id: "stub",
  async chat() {
    calls++;
    return {
      content: "secret model answer",
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: 1 },
      model: "stub",
    };
  },
};

/** POSTs a chat request to the server with the given Host header (and optional bearer key). */
function post(server: RunningServer, host: string, key?: string): Promise<{ status?: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}/chat/completions`,
      {
        method: "POST",
        headers: {
          host,
          origin: `http://${host}`,
          "content-type": "application/json",
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ messages: [{ role: "user", content: "hi" }] }));
  });
}

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("serve: Host header check without an API key (DNS rebinding)", () => {
  it("refuses a request naming another host, and serves ones naming the server", async () => {
    server = await startOpenAIServer(model, { modelName: "t" });
    const port = server.port;
    calls = 0;
    const evil = await post(server, `attacker.example:${port}`);
    expect(evil.status).toBe(403);
    expect(evil.body).not.toContain("secret model answer");
    expect(JSON.parse(evil.body).error.code).toBe("host_not_allowed");
    expect(calls).toBe(0);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const ok = await post(server, host);
      expect(ok.status, host).toBe(200);
      expect(ok.body).toContain("secret model answer");
    }
  });

  it("with an API key, the key is the check: any Host with the key is served", async () => {
    server = await startOpenAIServer(model, { modelName: "t", apiKey: "serve-key-0123456789" });
    expect((await post(server, `gpu-box.internal:${server.port}`)).status).toBe(401);
    expect((await post(server, `gpu-box.internal:${server.port}`, "serve-key-0123456789")).status).toBe(200);
  });
});
