/**
 * The managed llama-server's port: chosen by the server itself as it binds, never a number picked earlier and bound
 * later (another process, or a replica starting beside it, can take such a port in between; then the health check
 * would be answered by that process and its answers taken for our model's).
 *
 * Reproduction: the free-port probe is made to answer the port of an impostor that already listens there and answers
 * /health with 200 (what a freshly started replica of the same kind does).
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { writeFixtureGguf } from "./fixtures.ts";
import { findLlamaServer, LlamaServer } from "./llamacpp-server.ts";

/** When set, net.createServer().listen(0) reports this port without binding it (the race, made certain). */
const taken: { port?: number } = vi.hoisted(() => ({}));
vi.mock("node:net", async (importOriginal) => {
  const net = await importOriginal<typeof import("node:net")>();
  const createServer = ((...a: Parameters<typeof net.createServer>) => {
    const s = net.createServer(...a);
    if (taken.port === undefined) return s;
    const port = taken.port;
    return Object.assign(s, {
      listen: (_p: number, _h: string, cb: () => void) => {
        setImmediate(cb);
        return s;
      },
      address: () => ({ address: "127.0.0.1", family: "IPv4", port }),
      close: (cb?: () => void) => {
        setImmediate(() => cb?.());
        return s;
      },
    });
  }) as typeof net.createServer;
  return { ...net, default: { ...net, createServer }, createServer };
});

const dir = mkdtempSync(join(tmpdir(), "llamacpp-server-port-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const binary = findLlamaServer();

describe.skipIf(!binary)("llama-server's port", () => {
  it("is the one our server bound, even when the port probed free was taken before the server bound it", async () => {
    const model = join(dir, "m.gguf");
    const { bos } = writeFixtureGguf(model);
    const impostor = http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(req.url === "/health" ? '{"status":"ok"}' : '{"content":"not your model","tokens":[1,2,3]}');
    });
    await new Promise<void>((r) => impostor.listen(0, "127.0.0.1", () => r()));
    taken.port = (impostor.address() as { port: number }).port;
    let server: LlamaServer | undefined;
    try {
      server = await LlamaServer.start({ model, slots: 1, contextPerSlot: 64 });
      expect(server.url).not.toBe(`http://127.0.0.1:${taken.port}`);
      const g = await server.complete([bos, 5, 6, 7], { maxTokens: 4, temperature: 0 });
      expect(g.text).not.toBe("not your model");
      expect(g.tokens).toHaveLength(4);
    } finally {
      taken.port = undefined;
      await server?.stop();
      await new Promise((r) => impostor.close(r));
    }
  }, 60_000);
});
