/**
 * A minimal ChatModel over the official `openai` client, used by redteam's end-to-end tests so they exercise a real
 * HTTP round trip. (Production code gets its models from src/models/'s registry.)
 */
import OpenAI from "openai";
import type { ChatModel, ChatRequest, ChatResult } from "../../models/types.ts";

export function openaiChatModel(baseUrl: string, model: string): ChatModel {
  const client = new OpenAI({ baseURL: baseUrl, apiKey: "test-no-key", maxRetries: 0 });
  return {
    id: `openai-compatible:${baseUrl}#${model}`,
    async chat(req: ChatRequest): Promise<ChatResult> {
      const c = await client.chat.completions.create(
        {
          model,
          messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
          temperature: req.temperature,
          max_tokens: req.maxTokens,
          seed: req.seed,
          ...(req.jsonSchema
            ? {
                response_format: {
                  type: "json_schema" as const,
                  json_schema: { name: req.jsonSchema.name, schema: req.jsonSchema.schema },
                },
              }
            : {}),
        },
        { signal: req.signal },
      );
      const choice = c.choices[0];
      return {
        content: choice?.message?.content ?? "",
        finishReason: choice?.finish_reason === "length" ? "length" : "stop",
        usage: { promptTokens: c.usage?.prompt_tokens ?? 0, completionTokens: c.usage?.completion_tokens ?? 0 },
        model: c.model,
      };
    },
  };
}
