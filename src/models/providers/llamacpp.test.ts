import { chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURE_CHAT_TEMPLATE } from "../../nn/gguf/fixtures.ts";
import { findLlamaServer } from "../../nn/gguf/llamacpp-server.ts";
import { ModelError } from "../errors.ts";
import { describeChatModelConformance } from "../testing/conformance.ts";
import { writeTinyGguf, writeTinyHfModel } from "../testing/tiny-model.ts";
import { BuiltinModel } from "./builtin.ts";
import { LlamaCppModel, renderChatTemplate } from "./llamacpp.ts";

const root = mkdtempSync(path.join(tmpdir(), "llamacpp-provider-"));
const gguf = writeTinyGguf(path.join(root, "tiny.gguf"));
const hfDir = writeTinyHfModel(path.join(root, "tiny-hf"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeChatModelConformance("llamacpp (node-llama-cpp in-process, tiny GGUF)", async () => {
  const model = await LlamaCppModel.load({ model: gguf, sequences: 4, contextSize: 256, engine: "in-process" });
  return { model, teardown: () => model.close(), maxTokens: 8 };
});

const haveServer = findLlamaServer() !== undefined;
if (haveServer)
  describeChatModelConformance("llamacpp (managed llama-server, tiny GGUF)", async () => {
    const model = await LlamaCppModel.load({ model: gguf, sequences: 4, contextSize: 256, engine: "server" });
    return { model, teardown: () => model.close(), maxTokens: 8 };
  });

describe("LlamaCppModel", () => {
  it("a llama-server that cannot start is a configuration error of the model (not retried), at start() or first use", async () => {
    const bad = path.join(root, "not-a-server.sh");
    writeFileSync(bad, "#!/bin/sh\nexit 3\n");
    chmodSync(bad, 0o755);
    const before = process.env.BREAKFIX_LLAMA_SERVER;
    process.env.BREAKFIX_LLAMA_SERVER = bad;
    try {
      const model = await LlamaCppModel.load({ model: gguf, sequences: 2, contextSize: 256, engine: "server" });
      try {
        const err = await model.chat({ messages: [{ role: "user", content: "hi" }], maxTokens: 2 }).catch((e) => e);
        expect(err).toBeInstanceOf(ModelError);
        expect((err as ModelError).kind).toBe("config");
        expect((err as Error).message).toMatch(/tiny\.gguf: cannot start llama-server/);
        await expect(model.start()).rejects.toMatchObject({ kind: "config" });
      } finally {
        await model.close();
      }
    } finally {
      if (before === undefined) delete process.env.BREAKFIX_LLAMA_SERVER;
      else process.env.BREAKFIX_LLAMA_SERVER = before;
    }
  });

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

  it.skipIf(!haveServer)(
    "gives the same answers on llama-server as in-process, multi-turn included",
    async () => {
      const server = await LlamaCppModel.load({ model: gguf, sequences: 4, contextSize: 256, engine: "server" });
      const local = await LlamaCppModel.load({ model: gguf, sequences: 4, contextSize: 256, engine: "in-process" });
      try {
        expect(server.engine).toBe("server");
        expect(local.engine).toBe("in-process");
        const reqs = ["the cat and the dog", "hello <|end|> world", "is it on", "and the river", "one", "two"].map(
          (content, i) => ({
            messages:
              i % 2
                ? [{ role: "user" as const, content }]
                : [
                    { role: "system" as const, content: "be brief" },
                    { role: "user" as const, content: "and the dog" },
                    { role: "assistant" as const, content: "the cat" },
                    { role: "user" as const, content },
                  ],
            maxTokens: 8,
            temperature: 0,
          }),
        );
        const a = await server.chatMany(reqs);
        const b = await local.chatMany(reqs);
        expect(a.map((r) => [r.content, r.finishReason, r.usage])).toEqual(
          b.map((r) => [r.content, r.finishReason, r.usage]),
        );
        expect(server.id).toBe(local.id); // same model, same answers: one cache
        // an over-long prompt is the same context-overflow error on both engines
        const long = { messages: [{ role: "user" as const, content: "x ".repeat(400) }], maxTokens: 8 };
        await expect(server.chat(long)).rejects.toThrow(/context/);
        await expect(local.chat(long)).rejects.toThrow(/context/);
      } finally {
        await server.close();
        await local.close();
      }
    },
    60_000,
  );

  it("is named by the GGUF's content, not its path: a retrain into the same file is another model", async () => {
    const file = writeTinyGguf(path.join(root, "retrain", "model.gguf"));
    const first = await LlamaCppModel.load({ model: file, sequences: 2, contextSize: 128, engine: "in-process" });
    try {
      expect(first.id).toMatch(/^llamacpp:model\.gguf@[0-9a-f]{16}$/);
      const r = await first.chat({ messages: [{ role: "user", content: "the cat" }], maxTokens: 4 });
      expect(r.model).toBe(first.id); // answers name the model by its id, never by a path
    } finally {
      await first.close();
    }
    cpSync(file, path.join(root, "moved.gguf"));
    const moved = await LlamaCppModel.load({ model: path.join(root, "moved.gguf"), sequences: 2, contextSize: 128 });
    await moved.close();
    expect(moved.id.split("@")[1]).toBe(first.id.split("@")[1]); // same weights, same fingerprint
    writeTinyGguf(file, 7);
    const retrained = await LlamaCppModel.load({ model: file, sequences: 2, contextSize: 128, engine: "in-process" });
    await retrained.close();
    expect(retrained.id).not.toBe(first.id);
  });

  it("falls back to in-process with a clear message when the server binary is absent", async () => {
    const prev = process.env.BREAKFIX_LLAMA_SERVER;
    process.env.BREAKFIX_LLAMA_SERVER = path.join(root, "no-such-llama-server");
    try {
      const m = await LlamaCppModel.load({ model: gguf, sequences: 2, contextSize: 128 });
      expect(m.engine).toBe("in-process");
      await m.close();
      await expect(
        LlamaCppModel.load({ model: gguf, sequences: 2, contextSize: 128, engine: "server" }),
      ).rejects.toThrow(/npm run setup:llama/);
    } finally {
      if (prev === undefined) delete process.env.BREAKFIX_LLAMA_SERVER;
      else process.env.BREAKFIX_LLAMA_SERVER = prev;
    }
  });
});
