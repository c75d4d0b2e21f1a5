/**
 * The managed llama-server (issue #25) on small random GGUF models: start, health, stop, restart on a new model and
 * on a LoRA adapter, replicas (several servers sharing the work), the watcher that stops the server when breakfix's pipe closes, and the same greedy tokens as the
 * in-process engine (LlamaCppRunner) for every prompt. Needs the binary `npm run setup:llama` builds; without it the
 * server tests are skipped (the fallback test still runs).
 */
import { chmodSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../../domain/random.ts";
import { byteLevelTokenizerJson, randn, randomLlamaWeights, tinyLlamaConfig, writeFixtureGguf } from "./fixtures.ts";
import { type LoraPair, writeLoraGguf } from "./llama.ts";
import { LlamaCppRunner } from "./llamacpp.ts";
import {
  defaultReplicas,
  findLlamaServer,
  LlamaServer,
  LlamaServerRunner,
  LlamaServerStartError,
  SMALL_MODEL_BYTES,
} from "./llamacpp-server.ts";

const dir = mkdtempSync(join(tmpdir(), "llamacpp-server-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hf = tinyLlamaConfig();
const tok = byteLevelTokenizerJson();

function writeModel(name: string, seed: number): string {
  const file = join(dir, name);
  writeFixtureGguf(file, seed);
  return file;
}

function writeAdapter(name: string): string {
  const rand = mulberry32(5);
  const weights = randomLlamaWeights(hf, 1, 0.25);
  const pairs = new Map<string, LoraPair>();
  for (let l = 0; l < hf.num_hidden_layers; l++)
    for (const m of ["self_attn.q_proj", "mlp.down_proj"]) {
      const n = `model.layers.${l}.${m}.weight`;
      const [out, inp] = weights.get(n)!.shape;
      pairs.set(n, {
        a: { shape: [4, inp], data: randn(4 * inp, 0.5, rand) },
        b: { shape: [out, 4], data: randn(out * 4, 0.5, rand) },
      });
    }
  const file = join(dir, name);
  writeLoraGguf(file, { config: hf, pairs, alpha: 8 });
  return file;
}

const rand = mulberry32(11);
const prompts = Array.from({ length: 12 }, (_, i) => [
  tok.specials["<|bos|>"],
  ...Array.from({ length: 4 + (i % 9) }, () => Math.floor(rand() * (tok.vocabSize - 5))),
]);
const SLOTS = 4;
const CTX = 128;

/** Greedy tokens of the in-process engine (same slots, context and precision as the server's). */
async function inProcess(model: string, lora: string[] = []): Promise<number[][]> {
  const r = await LlamaCppRunner.load(model, {
    sequences: SLOTS,
    contextSize: CTX,
    kvCache: "f16",
    lora: lora.map((path) => ({ path })),
  });
  try {
    return (await r.generate(prompts, { maxTokens: 16, temperature: 0 })).map((g) => g.tokens);
  } finally {
    await r.dispose();
  }
}

const binary = findLlamaServer();

describe.skipIf(!binary)("LlamaServer (llama.cpp's server, managed)", () => {
  const a = writeModel("a.gguf", 1);
  const b = writeModel("b.gguf", 2);
  const adapter = writeAdapter("lora.gguf");

  it("starts healthy, gives the in-process engine's greedy tokens, restarts on a new model and adapter, stops", async () => {
    const runner = await LlamaServerRunner.load({ model: a, slots: SLOTS, contextPerSlot: CTX, replicas: 1 });
    const [server] = runner.servers;
    try {
      expect(await server.health()).toBe(true);
      const pid = server.pid;
      expect(pid).toBeGreaterThan(0);
      const gen = async () => (await runner.generate(prompts, { maxTokens: 16, temperature: 0 })).map((g) => g.tokens);
      const fromA = await gen();
      expect(fromA).toEqual(await inProcess(a));
      expect(fromA.every((t) => t.length > 0)).toBe(true);
      // the same prompts again: the server reuses the slots' cached prefixes and answers the same
      expect(await gen()).toEqual(fromA);
      expect(server.stats.promptTokensCached).toBeGreaterThan(0);

      await server.restart({ model: b });
      expect(await server.health()).toBe(true);
      expect(server.pid).not.toBe(pid);
      expect(() => process.kill(pid!, 0)).toThrow(); // the old watcher is gone
      const fromB = await gen();
      expect(fromB).toEqual(await inProcess(b));
      expect(fromB).not.toEqual(fromA);

      await server.restart({ model: a, lora: [{ path: adapter }] });
      const withLora = await gen();
      expect(withLora).toEqual(await inProcess(a, [adapter]));
      expect(withLora).not.toEqual(fromA);
    } finally {
      await runner.dispose();
    }
    expect(await server.health()).toBe(false);
  }, 120_000);

  it("replicas: several servers share the slots and the work, give the in-process engine's greedy tokens, and stop together", async () => {
    const runner = await LlamaServerRunner.load({ model: a, slots: SLOTS, contextPerSlot: CTX, replicas: 2 });
    const servers = runner.servers;
    try {
      expect(servers).toHaveLength(2);
      expect(servers.map((s) => s.options.slots)).toEqual([SLOTS / 2, SLOTS / 2]);
      expect(new Set(servers.map((s) => s.url)).size).toBe(2);
      const got = (await runner.generate(prompts, { maxTokens: 16, temperature: 0 })).map((g) => g.tokens);
      expect(got).toEqual(await inProcess(a));
      // all 12 prompts were in flight at once: each went to the server with fewer requests in flight, 6 and 6
      expect(servers.map((s) => s.stats.requests)).toEqual([6, 6]);
    } finally {
      await runner.dispose();
    }
    for (const s of servers) expect(await s.health()).toBe(false);
  }, 120_000);

  it("startOnFirstUse: no server until the first generation, one start for concurrent ones, none if never used", async () => {
    const unused = await LlamaServerRunner.load({ model: a, slots: SLOTS, contextPerSlot: CTX, startOnFirstUse: true });
    expect(unused.servers).toHaveLength(0);
    expect(unused.contextLimit).toBe(CTX);
    await unused.dispose();
    expect(unused.servers).toHaveLength(0);
    const runner = await LlamaServerRunner.load({
      model: a,
      slots: SLOTS,
      contextPerSlot: CTX,
      replicas: 2,
      startOnFirstUse: true,
    });
    try {
      expect(runner.servers).toHaveLength(0);
      const got = (await runner.generate(prompts, { maxTokens: 16, temperature: 0 })).map((g) => g.tokens);
      expect(got).toEqual(await inProcess(a));
      expect(runner.servers).toHaveLength(2);
      expect(runner.servers.map((s) => s.stats.requests)).toEqual([6, 6]);
    } finally {
      await runner.dispose();
    }
    for (const s of runner.servers) expect(await s.health()).toBe(false);
  }, 120_000);

  it("startOnFirstUse: a server that cannot start fails that generation and every later one at once; none after dispose", async () => {
    const bad = join(dir, "not-a-server.sh");
    writeFileSync(bad, "#!/bin/sh\nexit 3\n");
    chmodSync(bad, 0o755);
    const runner = await LlamaServerRunner.load({
      model: a,
      slots: 2,
      contextPerSlot: CTX,
      replicas: 1,
      binary: bad,
      startOnFirstUse: true,
    });
    try {
      const first = await runner.generate([prompts[0]], { maxTokens: 4, temperature: 0 }).catch((e: Error) => e);
      expect(first).toBeInstanceOf(LlamaServerStartError);
      const t0 = Date.now();
      const again = await runner.generate([prompts[0]], { maxTokens: 4, temperature: 0 }).catch((e: Error) => e);
      expect(again).toBe(first); // the same failure, not a new start
      expect(Date.now() - t0).toBeLessThan(500);
      expect(runner.servers).toHaveLength(0);
    } finally {
      await runner.dispose();
    }
    const unused = await LlamaServerRunner.load({ model: a, slots: 2, contextPerSlot: CTX, startOnFirstUse: true });
    await unused.dispose();
    await expect(unused.start()).rejects.toBeInstanceOf(LlamaServerStartError);
    expect(unused.servers).toHaveLength(0);
  }, 120_000);

  it("replicas by default: one per core for a small model with no thread count, else one", () => {
    expect(defaultReplicas({ model: a, slots: 16 }, 2)).toBe(2);
    expect(defaultReplicas({ model: a, slots: 16 }, 8)).toBe(8);
    expect(defaultReplicas({ model: a, slots: 1 }, 8)).toBe(1); // never more servers than slots
    expect(defaultReplicas({ model: a, slots: 16, threads: 2 }, 8)).toBe(1); // a thread count asks for one server
    const big = join(dir, "big.gguf");
    writeFileSync(big, "");
    truncateSync(big, SMALL_MODEL_BYTES + 1); // sparse: only its size is read
    expect(defaultReplicas({ model: big, slots: 16 }, 8)).toBe(1);
    rmSync(big);
  });

  it("stop strings, length and end-of-text finish reasons match the in-process engine", async () => {
    const runner = await LlamaServerRunner.load({ model: a, slots: SLOTS, contextPerSlot: CTX });
    const local = await LlamaCppRunner.load(a, { sequences: SLOTS, contextSize: CTX, kvCache: "f16" });
    try {
      const full = await local.generate(prompts.slice(0, 4), { maxTokens: 12, temperature: 0 });
      // a stop string taken from the middle of each answer
      for (const [i, g] of full.entries()) {
        const stop = g.text.length > 4 ? g.text.slice(2, 4) : "\u0000";
        const opts = { maxTokens: 12, temperature: 0, stop: [stop] };
        const [s] = await runner.generate([prompts[i]], opts);
        const [l] = await local.generate([prompts[i]], opts);
        expect({ text: s.text, finish: s.finishReason }).toEqual({ text: l.text, finish: l.finishReason });
      }
      const [s] = await runner.generate([prompts[0]], { maxTokens: 5, temperature: 0 });
      expect(s.finishReason).toBe(full[0].tokens.length >= 5 ? "length" : "stop");
      expect(s.tokens).toEqual(full[0].tokens.slice(0, 5));
    } finally {
      await runner.dispose();
      await local.dispose();
    }
  }, 60_000);

  it("the server stops when breakfix's end of the watcher's pipe closes (a killed breakfix leaves no server)", async () => {
    const server = await LlamaServer.start({ model: a, slots: 1, contextPerSlot: 64 });
    try {
      const child = (server as unknown as { child: import("node:child_process").ChildProcess }).child;
      const exited = new Promise((r) => child.once("exit", r));
      child.stdin?.destroy(); // what the OS does to the pipe when our process dies
      await exited;
      expect(await server.health()).toBe(false);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it("a process that exits without stopping its server leaves no log folder behind", async () => {
    const { execFileSync } = await import("node:child_process");
    const { readdirSync, mkdirSync } = await import("node:fs");
    const tmp = join(dir, "exit-tmp");
    mkdirSync(tmp);
    const script = [
      `import { LlamaServer } from ${JSON.stringify(join(import.meta.dirname, "llamacpp-server.ts"))};`,
      'import { readdirSync } from "node:fs";',
      `await LlamaServer.start({ model: ${JSON.stringify(a)}, slots: 1, contextPerSlot: 64 });`,
      `console.log(readdirSync(${JSON.stringify(tmp)}).join(","));`,
      "process.exit(0);",
    ].join("\n");
    const tsx = join(import.meta.dirname, "../../../node_modules/.bin/tsx");
    const seen = execFileSync(tsx, ["--input-type=module", "-e", script], {
      env: { ...process.env, TMPDIR: tmp },
      encoding: "utf8",
    });
    expect(seen).toMatch(/breakfix-llama-server-/); // the server's log folder existed while it ran
    expect(readdirSync(tmp).filter((f) => f.startsWith("breakfix-llama-server-"))).toEqual([]);
  }, 60_000);

  it("a server that cannot start reports its own log", async () => {
    const bad = join(dir, "not-a-model.gguf");
    (await import("node:fs")).writeFileSync(bad, "GGUF but not really");
    await expect(LlamaServer.start({ model: bad, slots: 1, contextPerSlot: 64 })).rejects.toThrow(
      /llama-server exited during start-up[\s\S]+/,
    );
  }, 60_000);
});

describe("without the server binary", () => {
  it("findLlamaServer answers undefined for a missing $BREAKFIX_LLAMA_SERVER, and start() says how to build it", async () => {
    expect(findLlamaServer({ BREAKFIX_LLAMA_SERVER: join(dir, "nope") })).toBeUndefined();
    await expect(
      LlamaServer.start({ model: join(dir, "a.gguf"), slots: 1, contextPerSlot: 64, binary: "" }),
    ).rejects.toThrow(/npm run setup:llama/);
  });
});
