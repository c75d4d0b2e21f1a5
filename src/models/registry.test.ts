import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/index.ts";
import { ModelError } from "./errors.ts";
import {
  ConfiguredChatModel,
  createChatModel,
  DEMO_MODEL_DIR,
  endpointKey,
  type ModelOptions,
  resolveBuiltinModel,
} from "./registry.ts";
import { ReliableChatModel } from "./reliability/reliable.ts";
import { MockAnthropicServer } from "./testing/mock-anthropic.ts";
import { MockChatServer, mockReply } from "./testing/mock-server.ts";
import { writeTinyHfModel } from "./testing/tiny-model.ts";
import type { ChatRequest } from "./types.ts";

describe("createChatModel", () => {
  it("honours the config's structuredOutput for anthropic (none: no output_config, for models without it)", async () => {
    const server = new MockAnthropicServer();
    const baseUrl = await server.start();
    try {
      const ask: ChatRequest = {
        messages: [{ role: "user", content: "judge this" }],
        jsonSchema: { name: "verdict", schema: { type: "object" } },
      };
      const env = { ANTHROPIC_API_KEY: "sk-ant-test-000000" };
      for (const structuredOutput of ["none", "json_object", "json_schema", undefined] as const) {
        const m = await createChatModel(
          { provider: "anthropic", baseUrl, model: "claude-3-haiku", structuredOutput },
          { env },
        );
        await m.chat(ask);
        await m.close?.();
      }
      expect(server.bodies.map((b) => b.output_config !== undefined)).toEqual([false, false, true, true]);
    } finally {
      await server.stop();
    }
  });

  it("accepts the config's model sections as they are", () => {
    const cfg = parseConfig(
      "attacker: {provider: openai-compatible, model: a}\njudge: {provider: anthropic, model: j}\nresponder: {provider: builtin, model: demo}\n",
      "breakfix.yaml",
      "/w",
    );
    const sections: ModelOptions[] = [cfg.target, cfg.attacker, cfg.judge, cfg.responder].flatMap((s) =>
      s ? [s] : [],
    );
    expect(sections).toHaveLength(4);
    expect(sections.every((s) => typeof s.provider === "string")).toBe(true);
  });

  it("builds a reliable, configured openai-compatible model and shares limits per endpoint", async () => {
    const server = new MockChatServer();
    const baseUrl = await server.start();
    try {
      const limits = new Map();
      const a = await createChatModel(
        { provider: "openai-compatible", baseUrl, model: "mock", concurrency: 3, maxTokens: 7, systemPrompt: "sys" },
        { limits },
      );
      const b = await createChatModel({ provider: "openai-compatible", baseUrl, model: "other" }, { limits });
      expect(a).toBeInstanceOf(ConfiguredChatModel);
      expect(b).toBeInstanceOf(ReliableChatModel);
      expect(limits.size).toBe(1);
      expect((b as ReliableChatModel).limits.semaphore.limit).toBe(3);
      const r = await a.chat({ messages: [{ role: "user", content: "hi" }] });
      expect(r.content).toBe(mockReply("hi"));
      expect(endpointKey({ provider: "openai-compatible", baseUrl, model: "x" })).toBe(`openai-compatible|${baseUrl}`);
    } finally {
      await server.stop();
    }
  });

  it("applies config defaults under requests without overriding them", async () => {
    const seen: ChatRequest[] = [];
    const inner = {
      id: "x",
      chat: async (r: ChatRequest) => {
        seen.push(r);
        return {
          content: "",
          finishReason: "stop" as const,
          usage: { promptTokens: 1, completionTokens: 0 },
          model: "x",
        };
      },
    };
    const m = new ConfiguredChatModel(inner, { temperature: 0, maxTokens: 9 }, "be safe");
    await m.chat({ messages: [{ role: "user", content: "q" }], maxTokens: 3 });
    await m.chat({
      messages: [
        { role: "system", content: "own" },
        { role: "user", content: "q" },
      ],
    });
    expect(seen[0]).toMatchObject({
      temperature: 0,
      maxTokens: 3,
      messages: [
        { role: "system", content: "be safe" },
        { role: "user", content: "q" },
      ],
    });
    expect(seen[1].messages[0]).toEqual({ role: "system", content: "own" });
    expect(seen[1].maxTokens).toBe(9);
  });

  it("resolves the builtin alias demo to the committed organism inside the package, from any working folder", () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "demo-alias-"));
    try {
      expect(path.isAbsolute(DEMO_MODEL_DIR)).toBe(true);
      expect(resolveBuiltinModel("demo", cwd)).toBe(DEMO_MODEL_DIR);
      expect(existsSync(path.join(DEMO_MODEL_DIR, "config.json"))).toBe(true);
      // A folder named demo in the working folder is a model folder like any other.
      writeTinyHfModel(path.join(cwd, "demo"));
      expect(resolveBuiltinModel("demo", cwd)).toBe("demo");
      expect(resolveBuiltinModel("some/folder", cwd)).toBe("some/folder");
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("fails with config errors that name the missing key source or file", async () => {
    await expect(
      createChatModel(
        { provider: "openai-compatible", model: "gpt", apiKeyEnv: "BREAKFIX_SURELY_UNSET_KEY" },
        { env: {} },
      ),
    ).rejects.toThrow(/openai-compatible model gpt: environment variable BREAKFIX_SURELY_UNSET_KEY is not set/);
    await expect(createChatModel({ provider: "anthropic", model: "claude" }, { env: {} })).rejects.toThrow(
      /ANTHROPIC_API_KEY is not set/,
    );
    await expect(createChatModel({ provider: "builtin", model: "/nonexistent/model" })).rejects.toBeInstanceOf(
      ModelError,
    );
    await expect(createChatModel({ provider: "nope" as "builtin", model: "x" })).rejects.toThrow(
      /unknown provider "nope"/,
    );
  });
});
