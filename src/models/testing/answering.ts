import type { ContentFilter } from "../../domain/types.ts";
import type { ChatModel, ChatRequest } from "../types.ts";

/** A test double that answers each request with `answer(first message's text)`. */
export const answering = (answer: (prompt: string) => string): ChatModel => ({
  id: "double",
  chat: async (r: ChatRequest) => ({
    content: answer(String(r.messages[0].content)),
    finishReason: "stop",
    usage: { promptTokens: 0, completionTokens: 0 },
    model: "double",
  }),
});

/**
 * A test double whose deployment's content filter blocks every request (Azure: finish reason content_filter, no text),
 * naming `filter`'s categories when given.
 */
export const blockedModel = (id: string, filter?: ContentFilter): ChatModel => ({
  id,
  chat: async () => ({
    content: "",
    finishReason: "content_filter",
    ...(filter ? { filter } : {}),
    usage: { promptTokens: 0, completionTokens: 0 },
    model: id,
  }),
});
