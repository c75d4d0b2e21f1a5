import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURE_CHAT_TEMPLATE } from "../../nn/gguf/fixtures.ts";
import { describeChatModelConformance } from "../testing/conformance.ts";
import { writeTinyGguf, writeTinyHfModel } from "../testing/tiny-model.ts";
import { BuiltinModel } from "./builtin.ts";
import { LlamaCppModel, renderChatTemplate } from "./llamacpp.ts";

const root = mkdtempSync(path.join(tmpdir(), "llamacpp-provider-"));
const gguf = writeTinyGguf(path.join(root, "tiny.gguf"));
const hfDir = writeTinyHfModel(path.join(root, "tiny-hf"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeChatModelConformance("llamacpp (node-llama-cpp, tiny GGUF)", async () => {
  const model = await LlamaCppModel.load({ model: gguf, sequences: 4, contextSize: 256 });
  return { model, teardown: () => model.close(), maxTokens: 8 };
});

describe("LlamaCppModel", () => {
  it("renders the GGUF's chat template like the HF tokenizer config", () => {
    const text = renderChatTemplate(FIXTURE_CHAT_TEMPLATE, [
      { role: "system", content: "s" },
      { role: "user", content: "u" },
    ]);
    expect(text).toBe("<|system|>s<|end|><|user|>u<|end|><|assistant|>");
  });

  it("gives the builtin engine's greedy answers on the same weights, several sequences at once", async () => {
    const cpp = await LlamaCppModel.load({ model: gguf, sequences: 4, contextSize: 256 });
    const ours = await BuiltinModel.load({ model: hfDir });
    try {
      const reqs = ["the cat and the dog", "hello world", "is it on", "and the river"].map((content) => ({
        messages: [{ role: "user" as const, content }],
        maxTokens: 8,
        temperature: 0,
      }));
      const a = await cpp.chatMany(reqs);
      const b = await ours.chatMany(reqs);
      expect(a.map((r) => r.usage)).toEqual(b.map((r) => r.usage));
      expect(a.map((r) => r.content)).toEqual(b.map((r) => r.content));
    } finally {
      await cpp.close();
    }
  });
});
