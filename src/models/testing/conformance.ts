/**
 * The shared conformance suite every ChatModel implementation runs (providers and wrappers alike):
 * `describeChatModelConformance("openai-compatible", async () => ({ model, teardown }))`.
 * It checks the interface contract, not a backend's quality: shapes, usage accounting, determinism at temperature 0,
 * max-token truncation, multi-turn input, Unicode round-trips, aborts, and chatAll ordering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatModel, type ChatRequest, chatAll } from "../types.ts";

export interface ConformanceSubject {
  model: ChatModel;
  teardown?: () => Promise<void>;
  /** A maxTokens small enough to force truncation on this backend (default 2). */
  smallMaxTokens?: number;
  /** Max tokens for ordinary answers (keep local engines fast). Default 16. */
  maxTokens?: number;
}

export function describeChatModelConformance(name: string, setup: () => Promise<ConformanceSubject>): void {
  describe(`ChatModel conformance: ${name}`, () => {
    let s: ConformanceSubject;
    const req = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
      messages: [{ role: "user", content }],
      temperature: 0,
      maxTokens: s.maxTokens ?? 16,
      noCache: true,
      ...extra,
    });
    beforeAll(async () => {
      s = await setup();
    });
    afterAll(async () => {
      await s?.teardown?.();
    });

    it("has a stable, non-empty id", () => {
      expect(typeof s.model.id).toBe("string");
      expect(s.model.id.length).toBeGreaterThan(0);
      expect(s.model.id).toBe(s.model.id);
    });

    it("answers with content, finish reason, usage and model", async () => {
      const r = await s.model.chat(req("Hello there, who are you?"));
      expect(typeof r.content).toBe("string");
      expect(["stop", "length"]).toContain(r.finishReason);
      expect(Number.isInteger(r.usage.promptTokens)).toBe(true);
      expect(Number.isInteger(r.usage.completionTokens)).toBe(true);
      expect(r.usage.promptTokens).toBeGreaterThan(0);
      expect(r.usage.completionTokens).toBeGreaterThanOrEqual(0);
      expect(typeof r.model).toBe("string");
      expect(r.model.length).toBeGreaterThan(0);
    });

    it("is deterministic at temperature 0", async () => {
      const a = await s.model.chat(req("Name three colours."));
      const b = await s.model.chat(req("Name three colours."));
      expect(b.content).toBe(a.content);
    });

    it("stops at maxTokens with finishReason length", async () => {
      const small = s.smallMaxTokens ?? 2;
      const r = await s.model.chat(req("Write a long story about a river and its towns.", { maxTokens: small }));
      expect(r.usage.completionTokens).toBeLessThanOrEqual(small);
      expect(r.finishReason).toBe("length");
    });

    it("accepts a multi-turn conversation with a system message", async () => {
      const r = await s.model.chat({
        messages: [
          { role: "system", content: "You are terse." },
          { role: "user", content: "Hi." },
          { role: "assistant", content: "Hello." },
          { role: "user", content: "What did I say first?" },
        ],
        temperature: 0,
        maxTokens: s.maxTokens ?? 16,
        noCache: true,
      });
      expect(typeof r.content).toBe("string");
      expect(r.usage.promptTokens).toBeGreaterThan(0);
    });

    it("accepts Unicode prompts (non-Latin scripts, emoji, zero-width characters)", async () => {
      const plain = await s.model.chat(req("What is this?"));
      const r = await s.model.chat(req("¿Qué es esto? 这是什么 🚀 \u200b"));
      expect(typeof r.content).toBe("string");
      // the longer multi-byte prompt must reach the backend whole: it costs more prompt tokens than the ASCII one
      expect(r.usage.promptTokens).toBeGreaterThan(plain.usage.promptTokens);
    });

    it("rejects an already-aborted request", async () => {
      const ac = new AbortController();
      ac.abort();
      await expect(s.model.chat(req("never sent", { signal: ac.signal }))).rejects.toThrow();
    });

    it("chatAll returns results in request order", async () => {
      const prompts = ["one", "two", "three", "four"].map((w) => `Repeat the word ${w}.`);
      const many = await chatAll(
        s.model,
        prompts.map((p) => req(p)),
      );
      expect(many).toHaveLength(prompts.length);
      for (let i = 0; i < prompts.length; i++) {
        const single = await s.model.chat(req(prompts[i]));
        expect(many[i].content).toBe(single.content);
      }
    });
  });
}
