import { describe, expect, it } from "vitest";
import { blockedModel } from "../../models/testing/answering.ts";
import { ask } from "./model.ts";

describe("a converter model whose deployment filters the request", () => {
  it("fails the conversion instead of sending an empty prompt", async () => {
    const filtered = blockedModel("azure-rephraser");
    await expect(ask(filtered, "Rephrase.", "text", { seed: 1 })).rejects.toThrow(/content filter blocked/);
  });
});
