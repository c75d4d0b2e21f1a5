/**
 * A scripted model behind the project's real OpenAI-compatible server (`startOpenAIServer`, what `breakfix serve`
 * runs), on 127.0.0.1 at a random port. Tests use it as the target, the simulated user or an LLM grader until the
 * demo model is committed; the client side is the project's OpenAI-compatible provider, so every call crosses HTTP.
 */
import type { Conversation } from "../../domain/types.ts";
import { OpenAICompatibleModel } from "../../models/providers/openai-compatible.ts";
import { withReliability } from "../../models/reliability/reliable.ts";
import { startOpenAIServer } from "../../models/server.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../../models/types.ts";

export type Script = (messages: Conversation, request: ChatRequest) => string;

export interface ScriptedServer {
  baseUrl: string;
  modelName: string;
  /** `URL#model`, as `breakfix bench --target` takes it. */
  spec: string;
  /** Chat requests the script answered. */
  requests(): number;
  /** A client for this server through the project's OpenAI-compatible provider (with concurrency limits). */
  client(concurrency?: number): ChatModel;
  close(): Promise<void>;
}

export async function startScriptedServer(
  script: Script,
  modelName = "scripted",
  /** delayMs: before each answer; gate: each answer waits for it (a test holding the answers back). */
  opts: { delayMs?: number; gate?: () => Promise<void> } = {},
): Promise<ScriptedServer> {
  let n = 0;
  const model: ChatModel = {
    id: `scripted:${modelName}`,
    async chat(request: ChatRequest): Promise<ChatResult> {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      await opts.gate?.();
      n++;
      const content = script(request.messages, request);
      return {
        content,
        finishReason: "stop",
        usage: { promptTokens: 1, completionTokens: Math.ceil(content.length / 4) },
        model: modelName,
      };
    },
  };
  const server = await startOpenAIServer(model, { modelName, concurrency: 64 });
  return {
    baseUrl: server.url,
    modelName,
    spec: `${server.url}#${modelName}`,
    requests: () => n,
    client: (concurrency = 16) =>
      withReliability(new OpenAICompatibleModel({ baseUrl: server.url, model: modelName }), {
        concurrency,
        maxRetries: 1,
      }),
    close: () => server.close(),
  };
}

/** The last user message of a conversation. */
export function lastUser(messages: Conversation): string {
  return [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
}
