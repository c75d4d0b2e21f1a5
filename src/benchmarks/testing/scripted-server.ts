/**
 * A real local OpenAI-compatible HTTP server (hono on node:http, bound to 127.0.0.1, random port) whose answers come
 * from a script: a function of the request's messages. Tests use it as the target, the simulated user or an LLM
 * judge until `breakfix serve` and the demo model exist; the client side is the project's real
 * OpenAI-compatible provider, so every call crosses HTTP.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Conversation } from "../../domain/types.ts";

export type Script = (messages: Conversation, model: string) => string;

export interface ScriptedServer {
  baseUrl: string;
  /** Number of chat requests answered. */
  requests(): number;
  close(): Promise<void>;
}

export async function startScriptedServer(script: Script, opts: { model?: string } = {}): Promise<ScriptedServer> {
  const app = new Hono();
  let n = 0;
  const modelName = opts.model ?? "scripted";
  app.get("/v1/models", (c) =>
    c.json({ object: "list", data: [{ id: modelName, object: "model", owned_by: "test" }] }),
  );
  app.post("/v1/chat/completions", async (c) => {
    const body = (await c.req.json()) as { model?: string; messages?: Conversation };
    if (!Array.isArray(body.messages)) return c.json({ error: { message: "messages is required" } }, 400);
    n++;
    const content = script(body.messages, body.model ?? modelName);
    const promptTokens = body.messages.reduce((a, m) => a + Math.ceil(m.content.length / 4), 0);
    return c.json({
      id: `chatcmpl-${n}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? modelName,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: Math.ceil(content.length / 4),
        total_tokens: promptTokens + Math.ceil(content.length / 4),
      },
    });
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests: () => n,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** The last user message of a conversation. */
export function lastUser(messages: Conversation): string {
  return [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
}
