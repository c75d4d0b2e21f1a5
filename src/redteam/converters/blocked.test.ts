import { describe, expect, it } from "vitest";
import type { ChatModel } from "../../models/types.ts";
import { ask } from "./model.ts";

describe("a converter model whose deployment filters the request", () => {
  it("fails the conversion instead of sending an empty prompt", async () => {
    const filtered: ChatModel = {
      id: "azure-rephraser",
      chat: async () => ({
        content: "",
        finishReason: "content_filter",
        usage: { promptTokens: 0, completionTokens: 0 },
        model: "azure-rephraser",
      }),
    };
    await expect(ask(filtered, "Rephrase.", "text", { seed: 1 })).rejects.toThrow(/content filter blocked/);
  });
});
