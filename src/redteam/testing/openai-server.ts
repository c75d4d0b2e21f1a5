/**
 * A real local OpenAI-compatible server (hono + @hono/node-server on 127.0.0.1, random port) that serves scripted
 * models by name, for end-to-end tests of attacks over HTTP. Records every request it answers.
 */
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Conversation } from "../../domain/types.ts";
import { roughTokens, type Script } from "./scripted-model.ts";

export interface ServedRequest {
  model: string;
  messages: Conversation;
  body: Record<string, unknown>;
}

export interface ScriptServer {
  baseUrl: string;
  requests: ServedRequest[];
  /** Requests answered for one model. */
  countFor(model: string): number;
  close(): Promise<void>;
}

export async function startScriptServer(models: Record<string, Script>): Promise<ScriptServer> {
  const requests: ServedRequest[] = [];
  const app = new Hono();
  app.get("/v1/models", (c) =>
    c.json({ object: "list", data: Object.keys(models).map((id) => ({ id, object: "model" })) }),
  );
  app.post("/v1/chat/completions", async (c) => {
    const body = (await c.req.json()) as Record<string, unknown>;
    const model = String(body.model);
    const script = models[model];
    if (!script) return c.json({ error: { message: `unknown model ${model}` } }, 404);
    const messages = body.messages as Conversation;
    const n = requests.filter((r) => r.model === model).length;
    requests.push({ model, messages, body });
    const maxTokens = (body.max_completion_tokens ?? body.max_tokens) as number | undefined;
    const content = await script(messages, { messages, seed: body.seed as number | undefined, maxTokens }, n);
    const prompt = messages.reduce((k, m) => k + roughTokens(m.content), 0);
    return c.json({
      id: `chatcmpl-${requests.length}`,
      object: "chat.completion",
      created: 0,
      model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: {
        prompt_tokens: prompt,
        completion_tokens: roughTokens(content),
        total_tokens: prompt + roughTokens(content),
      },
    });
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    countFor: (model) => requests.filter((r) => r.model === model).length,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
