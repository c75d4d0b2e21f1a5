/**
 * The managed llama-server reads its settings from our command line only: llama.cpp's server also takes any option
 * from the environment (LLAMA_ARG_*, LLAMA_API_KEY, Vertex AI's AIP_* port override), so a variable a user exported
 * for their own llama-server must not change or break ours.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeFixtureGguf } from "./fixtures.ts";
import { findLlamaServer, LlamaServer, llamaServerEnv } from "./llamacpp-server.ts";

const dir = mkdtempSync(join(tmpdir(), "llamacpp-server-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("llamaServerEnv", () => {
  it("drops llama.cpp's own variables and keeps the rest", () => {
    const env = llamaServerEnv({
      PATH: "/bin",
      HOME: "/home/x",
      LLAMA_API_KEY: "k",
      LLAMA_ARG_N_PREDICT: "1",
      LLAMA_ARG_HF_REPO: "org/other",
      AIP_MODE: "PREDICTION",
      AIP_HTTP_PORT: "8080",
      OMP_NUM_THREADS: "1",
    });
    expect(env).toEqual({ PATH: "/bin", HOME: "/home/x", OMP_NUM_THREADS: "1" });
  });
});

const binary = findLlamaServer();

describe.skipIf(!binary)("llama-server and the environment", () => {
  it("a LLAMA_API_KEY or LLAMA_ARG_N_PREDICT in breakfix's environment does not reach the server", async () => {
    const model = join(dir, "m.gguf");
    const { bos } = writeFixtureGguf(model);
    const saved = { key: process.env.LLAMA_API_KEY, n: process.env.LLAMA_ARG_N_PREDICT };
    process.env.LLAMA_API_KEY = "sk-someone-elses-server";
    process.env.LLAMA_ARG_N_PREDICT = "1";
    let server: LlamaServer | undefined;
    try {
      server = await LlamaServer.start({ model, slots: 1, contextPerSlot: 64 });
      const g = await server.complete([bos, 5, 6, 7], { maxTokens: 8, temperature: 0 });
      expect(g.finishReason).toBe("length");
      expect(g.tokens).toHaveLength(8);
    } finally {
      for (const [k, v] of [
        ["LLAMA_API_KEY", saved.key],
        ["LLAMA_ARG_N_PREDICT", saved.n],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      await server?.stop();
    }
  }, 60_000);
});
