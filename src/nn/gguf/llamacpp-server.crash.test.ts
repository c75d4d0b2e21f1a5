/**
 * A managed llama-server that dies while breakfix runs (killed by the OOM killer, a crash): the runner starts it
 * again and the requests it was serving are sent again, instead of every later request failing against a dead port
 * (each one retried 6 times with backoff by the reliability layer, a whole campaign of failures). A server that keeps
 * dying is a LlamaServerStartError (the provider's configuration error, never retried).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeFixtureGguf } from "./fixtures.ts";
import { findLlamaServer, type LlamaServer, LlamaServerRunner } from "./llamacpp-server.ts";

const dir = mkdtempSync(join(tmpdir(), "llamacpp-server-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const binary = findLlamaServer();

/** Kills the llama-server process itself (the watcher's child) with SIGKILL, as the OOM killer would. */
function killServerProcess(s: LlamaServer): number {
  const out = execFileSync("ps", ["-o", "pid=", "--ppid", String(s.pid)], { encoding: "utf8" });
  const pids = out
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((p) => p > 0);
  // the watcher's children: the server and the subshell reading the pipe; the server is the one running the binary
  const server = pids.find((p) =>
    execFileSync("ps", ["-o", "comm=", "-p", String(p)], { encoding: "utf8" }).includes("llama-server"),
  );
  if (!server) throw new Error(`no llama-server under watcher ${s.pid}`);
  process.kill(server, "SIGKILL");
  return server;
}

describe.skipIf(!binary)("a llama-server that dies", () => {
  const model = join(dir, "m.gguf");
  const { bos } = writeFixtureGguf(model);
  const prompts = [
    [bos, 5, 6, 7],
    [bos, 9, 10],
  ];
  const gen = async (r: LlamaServerRunner) =>
    (await r.generate(prompts, { maxTokens: 6, temperature: 0 })).map((g) => g.tokens);

  it("is started again and the request answered, with the same greedy tokens", async () => {
    const runner = await LlamaServerRunner.load({ model, slots: 2, contextPerSlot: 64, replicas: 1 });
    try {
      const before = await gen(runner);
      const [server] = runner.servers;
      const watcher = server.pid;
      killServerProcess(server);
      expect(await gen(runner)).toEqual(before);
      expect(server.pid).toBeGreaterThan(0);
      expect(server.pid).not.toBe(watcher);
      expect(await server.health()).toBe(true);
    } finally {
      await runner.dispose();
    }
  }, 60_000);

  it("that keeps dying fails with a LlamaServerStartError naming the deaths, not a retryable error", async () => {
    const runner = await LlamaServerRunner.load({ model, slots: 1, contextPerSlot: 64, replicas: 1 });
    try {
      await gen(runner);
      const [server] = runner.servers;
      let error: unknown;
      for (let i = 0; i < 6 && !error; i++) {
        killServerProcess(server);
        error = await gen(runner).then(
          () => undefined,
          (e) => e,
        );
      }
      expect((error as Error)?.name, String((error as Error)?.message)).toBe("LlamaServerStartError");
      expect((error as Error).message).toMatch(/exited/);
    } finally {
      await runner.dispose();
    }
  }, 60_000);
});
