/**
 * `breakfix serve` without max_tokens: like vLLM and llama.cpp's own server, both engines generate up to the rest of
 * the context (per slot on llama.cpp), the same on each; the old defaults were 256 (builtin) and 512 (llama.cpp).
 * Real HTTP, the tiny fixture model (256 positions) the parity tests use, loaded with the options serve uses.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servedModelOptions } from "../../cli/commands/serve.action.ts";
import { createProvider } from "../registry.ts";
import { type RunningServer, startOpenAIServer } from "../server.ts";
import { writeTinyGguf, writeTinyHfModel } from "../testing/tiny-model.ts";
import type { ChatModel } from "../types.ts";

const POSITIONS = 256; // the tiny fixture's max_position_embeddings
const root = mkdtempSync(path.join(tmpdir(), "default-max-tokens-"));

describe("serve without max_tokens: the rest of the context, on both engines", () => {
  const served: { engine: string; model: ChatModel; server: RunningServer }[] = [];
  beforeAll(async () => {
    const dir = writeTinyHfModel(path.join(root, "tiny"));
    const gguf = writeTinyGguf(path.join(root, "tiny.gguf"));
    for (const [engine, model] of [
      ["builtin", dir],
      ["llamacpp", gguf],
    ] as const) {
      const m = await createProvider(
        servedModelOptions({ model, port: "0", host: "127.0.0.1", sequences: "2", contextSize: String(POSITIONS) }),
      );
      served.push({ engine, model: m, server: await startOpenAIServer(m, { modelName: "m" }) });
    }
  }, 120_000);
  afterAll(async () => {
    for (const s of served) {
      await s.server.close();
      await s.model.close?.();
    }
    rmSync(root, { recursive: true, force: true });
  });

  async function complete(url: string, body: Record<string, unknown>) {
    const res = await fetch(`${url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as {
        choices: { message: { content: string }; finish_reason: string }[];
        usage: { prompt_tokens: number; completion_tokens: number };
      },
    };
  }

  it("a prompt with no max_tokens is answered until the context is full, the same on each engine", async () => {
    // a prompt longer than the context minus the old builtin default (256) and llama.cpp default (512): both refused it
    const messages = [{ role: "user", content: "tell me a long story about the river and the hills" }];
    const out: Record<string, unknown> = {};
    for (const { engine, server } of served) {
      const { status, body } = await complete(server.url, { messages, temperature: 0 });
      expect(status, `${engine}: ${JSON.stringify(body)}`).toBe(200);
      const { prompt_tokens, completion_tokens } = body.usage;
      // the random model never says EOS this early, so it runs to the end of its context
      expect({ engine, total: prompt_tokens + completion_tokens }).toEqual({ engine, total: POSITIONS });
      expect(body.choices[0].finish_reason, engine).toBe("length");
      out[engine] = completion_tokens;
    }
    expect(out.builtin).toBe(out.llamacpp);
  }, 120_000);

  it("an explicit max_tokens still wins, and a prompt with no room left is refused as before", async () => {
    for (const { engine, server } of served) {
      const small = await complete(server.url, {
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 3,
        temperature: 0,
      });
      expect({ engine, n: small.body.usage.completion_tokens }).toEqual({ engine, n: 3 });
      const full = await complete(server.url, { messages: [{ role: "user", content: "x".repeat(400) }] });
      expect({ engine, status: full.status }).toEqual({ engine, status: 400 });
    }
  }, 60_000);
});
