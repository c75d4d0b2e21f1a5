/**
 * The managed llama-server answers breakfix only. It listens on 127.0.0.1 with llama.cpp's default CORS policy (any
 * origin), so without a key any web page open in the user's browser could drive it: post a prompt (a "simple"
 * text/plain request needs no preflight) and read the model's answer, or find it by scanning ports. Each server gets
 * a random API key (through its environment, not its command line, which other users can read in `ps`); /health stays
 * open, as llama.cpp keeps it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeFixtureGguf } from "./fixtures.ts";
import { findLlamaServer, LlamaServer } from "./llamacpp-server.ts";

const dir = mkdtempSync(join(tmpdir(), "llamacpp-server-access-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const binary = findLlamaServer();

describe.skipIf(!binary)("who can use the managed llama-server", () => {
  it("a request without its key (what a web page can send) is refused; breakfix's own requests are served", async () => {
    const model = join(dir, "m.gguf");
    const { bos } = writeFixtureGguf(model);
    const server = await LlamaServer.start({ model, slots: 1, contextPerSlot: 64 });
    try {
      // a cross-site "simple" request from a page: text/plain, an Origin, no credentials
      for (const [route, body] of [
        ["/completion", { prompt: "hello", n_predict: 4 }],
        ["/tokenize", { content: "hello" }],
      ] as const) {
        const r = await fetch(`${server.url}${route}`, {
          method: "POST",
          headers: { "content-type": "text/plain", origin: "https://attacker.example" },
          body: JSON.stringify(body),
        });
        expect({ route, status: r.status }).toEqual({ route, status: 401 });
        expect(await r.text()).not.toMatch(/"(content|tokens)"/);
      }
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const g = await server.complete([bos, 5, 6, 7], { maxTokens: 4, temperature: 0 });
      expect(g.tokens).toHaveLength(4);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
