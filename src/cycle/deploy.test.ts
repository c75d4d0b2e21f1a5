/**
 * Round-model deploys against local stand-ins of the servers' documented endpoints:
 * - vLLM: POST /v1/load_lora_adapter {lora_name, lora_path}, POST /v1/unload_lora_adapter {lora_name}, and
 *   /v1/chat/completions answering for the base model and every loaded adapter (vLLM's "Dynamically serving LoRA
 *   adapters");
 * - Ollama: HEAD/POST /api/blobs/sha256:<digest>, POST /api/create {model, from, adapters, stream: false} answering
 *   {"status": "success"}, POST /api/show {model} answering the model's Modelfile as Ollama renders it (`FROM` and one
 *   `ADAPTER` line per adapter, each a path in its blob store named `sha256-<hex>`; 404 for a model it does not hold),
 *   and its OpenAI-compatible /v1/chat/completions.
 * Each round's model is deployed as ONE adapter on the base (the round's adapters combined exactly), targeted by its
 * new name, checked to answer before use; a failing deploy stops with a clear error and works after the fix. The
 * combination itself is checked against merging the adapters one after the other.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../config/load.ts";
import { modelFolderFingerprint, servedWeightsFingerprint } from "../models/fingerprint.ts";
import { BuiltinModel } from "../models/providers/builtin.ts";
import { startOpenAIServer } from "../models/server.ts";
import { writeTinyHfModel } from "../models/testing/tiny-model.ts";
import { readGguf } from "../nn/gguf/gguf.ts";
import { freePort } from "../nn/gguf/llamacpp-server.ts";
import { loadModel } from "../nn/model.ts";
import { Store } from "../store/store.ts";
import { combineAdapters, mergeAdapterFolder } from "../train/backends/merge.ts";
import { exportPeft, loadPeft } from "../train/export.ts";
import { ensureGgufAdapter, roundModelsFor } from "./deploy.ts";

const dir = mkdtempSync(path.join(tmpdir(), "bf-deploy-"));
const base = writeTinyHfModel(path.join(dir, "base"));

/** A PEFT adapter with random A and B on q_proj and v_proj (a trained adapter's shape, not its values). */
function randomAdapter(out: string, seed: number, r: number, alpha: number): string {
  const { config } = loadModel(base);
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648 - 0.5;
  };
  const w = new Map<string, { shape: number[]; data: Float32Array }>();
  for (let l = 0; l < config.numLayers; l++)
    for (const m of ["q_proj", "v_proj"]) {
      const name = `model.layers.${l}.self_attn.${m}`;
      const outDim = m === "q_proj" ? config.numHeads * config.headDim : config.numKvHeads * config.headDim;
      w.set(`${name}.lora_A.weight`, {
        shape: [r, config.hiddenSize],
        data: Float32Array.from({ length: r * config.hiddenSize }, rnd),
      });
      w.set(`${name}.lora_B.weight`, { shape: [outDim, r], data: Float32Array.from({ length: outDim * r }, rnd) });
    }
  exportPeft(out, w, { r, alpha, dropout: 0, targetModules: ["q_proj", "v_proj"] }, base);
  return out;
}

const a1 = randomAdapter(path.join(dir, "a1"), 1, 4, 8);
const a2 = randomAdapter(path.join(dir, "a2"), 2, 2, 2);

describe("combineAdapters", () => {
  it("is exactly the adapters merged one after the other (rank r1+r2, scaling 1)", () => {
    const stepwise = mergeAdapterFolder(mergeAdapterFolder(base, a1, path.join(dir, "m1")), a2, path.join(dir, "m2"));
    const combined = combineAdapters([a1, a2], path.join(dir, "combined"));
    const once = mergeAdapterFolder(base, combined, path.join(dir, "m12"));
    const c = loadPeft(combined).config;
    expect([c.r, c.alpha]).toEqual([6, 6]);
    const x = loadModel(stepwise).weights;
    const y = loadModel(once).weights;
    let maxDiff = 0;
    let changed = 0;
    for (const [n, t] of x) {
      const u = y.get(n);
      expect(u, n).toBeDefined();
      const b = loadModel(base).weights.get(n);
      for (let i = 0; i < t.data.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(Number(t.data[i]) - Number(u?.data[i])));
        if (b && Math.abs(Number(t.data[i]) - Number(b.data[i])) > 1e-6) changed++;
      }
    }
    expect(changed).toBeGreaterThan(100); // the adapters do change the weights
    expect(maxDiff).toBeLessThan(1e-5);
  });
});

interface Call {
  method: string;
  url: string;
  body: string;
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

/** A stand-in that serves /v1/chat/completions for the models in `models` and records every request. */
async function standIn(
  handle: (req: IncomingMessage, raw: Buffer, models: Set<string>) => { status: number; json?: unknown } | undefined,
  models: Set<string>,
  port = 0,
): Promise<{ url: string; calls: Call[]; server: Server }> {
  const calls: Call[] = [];
  /** vLLM's /v1/models: each LoRA module's `root` is the path it was loaded from (serving_models.py). */
  const roots = new Map<string, string>();
  /** Ollama's models created through /api/create: the base each is from and its adapter blobs' digests. */
  const created = new Map<string, { from: string; adapters: string[] }>();
  const server = createServer(async (req, res) => {
    const raw = await body(req);
    calls.push({ method: req.method ?? "", url: req.url ?? "", body: raw.toString("utf8").slice(0, 2000) });
    const custom = handle(req, raw, models);
    if (req.url === "/v1/load_lora_adapter" && custom?.status === 200) {
      const b = JSON.parse(raw.toString("utf8")) as { lora_name: string; lora_path: string };
      roots.set(b.lora_name, b.lora_path);
    }
    if (req.url === "/api/create" && custom?.status === 200) {
      const b = JSON.parse(raw.toString("utf8")) as { model: string; from: string; adapters?: Record<string, string> };
      created.set(b.model, { from: b.from, adapters: Object.values(b.adapters ?? {}) });
    }
    const listing =
      req.method === "GET" && req.url?.split("?")[0] === "/v1/models"
        ? {
            status: 200,
            json: {
              object: "list",
              data: [...models].map((id) => ({ id, object: "model", root: roots.get(id) ?? id })),
            },
          }
        : undefined;
    const show =
      req.method === "POST" && req.url === "/api/show"
        ? ollamaShow((JSON.parse(raw.toString("utf8")) as { model: string }).model, created, models)
        : undefined;
    const reply = custom ?? listing ?? show ?? chat(req, raw, models);
    res.writeHead(reply.status, { "content-type": "application/json" });
    res.end(reply.json === undefined ? "" : JSON.stringify(reply.json));
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

/**
 * Ollama's POST /api/show for `model`: its Modelfile as server/images.go renders it (a comment header, `FROM` the
 * base's blob, an `ADAPTER` line per adapter blob, the template), or 404 for a model it does not hold. A model not
 * created here (the base) is FROM a blob named by its name's hash.
 */
function ollamaShow(
  model: string,
  created: Map<string, { from: string; adapters: string[] }>,
  models: Set<string>,
): { status: number; json: unknown } {
  const blob = (digest: string) => `/root/.ollama/models/blobs/${digest.replace(":", "-")}`;
  const made = created.get(model);
  if (!made && !models.has(model)) return { status: 404, json: { error: `model '${model}' not found` } };
  const from = `sha256:${createHash("sha256")
    .update(made?.from ?? model)
    .digest("hex")}`;
  const modelfile = [
    '# Modelfile generated by "ollama show"',
    "# To build a new Modelfile based on this, replace FROM with:",
    `# FROM ${model}:latest`,
    "",
    `FROM ${blob(from)}`,
    ...(made?.adapters ?? []).map((a) => `ADAPTER ${blob(a)}`),
    'TEMPLATE """{{ .Prompt }}"""',
    "",
  ].join("\n");
  return { status: 200, json: { modelfile, parameters: "", template: "{{ .Prompt }}" } };
}

function chat(req: IncomingMessage, raw: Buffer, models: Set<string>): { status: number; json: unknown } {
  if (req.url !== "/v1/chat/completions") return { status: 404, json: { error: { message: "not found" } } };
  const model = (JSON.parse(raw.toString("utf8")) as { model: string }).model;
  if (!models.has(model)) return { status: 404, json: { error: { message: `model ${model} does not exist` } } };
  return {
    status: 200,
    json: {
      id: "c",
      object: "chat.completion",
      created: 0,
      model,
      choices: [{ index: 0, message: { role: "assistant", content: `answer from ${model}` }, finish_reason: "stop" }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    },
  };
}

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

function roundModels(yaml: string, workspace: string) {
  const config = parseConfig(yaml, "breakfix.yaml", dir);
  const store = Store.open(path.join(dir, workspace));
  const logs: string[] = [];
  const models = roundModelsFor({
    config,
    base: { kind: "folder", dir: base },
    store,
    workDir: path.join(dir, workspace),
    log: (l) => logs.push(l),
  });
  return { models, store, logs };
}

/** Round models deploying to an Ollama stand-in `s` (base model llama-base), in `workspace`; the server closed after. */
function ollamaRoundModels(s: { server: Server; url: string }, workspace: string) {
  if (!servers.includes(s.server)) servers.push(s.server);
  return roundModels(
    `target: {provider: openai-compatible, baseUrl: "${s.url}/v1", model: llama-base}\n` +
      "deploy: {kind: ollama, healthTimeoutMs: 2000, ollama: {baseModel: llama-base}}\ntraining: {method: lora}\n",
    workspace,
  );
}

describe("deploy vllm", () => {
  it("loads each round's combined adapter under a new name, unloads the older one, targets it; errors name the server", async () => {
    let failLoad = true;
    const s = await standIn(
      (req, raw, models) => {
        if (req.url === "/v1/load_lora_adapter") {
          const b = JSON.parse(raw.toString("utf8")) as { lora_name: string; lora_path: string };
          if (failLoad) return { status: 400, json: { error: { message: `cannot load ${b.lora_path}` } } };
          readFileSync(path.join(b.lora_path, "adapter_config.json")); // the path must be a PEFT folder
          models.add(b.lora_name);
          return { status: 200 };
        }
        if (req.url === "/v1/unload_lora_adapter") {
          models.delete((JSON.parse(raw.toString("utf8")) as { lora_name: string }).lora_name);
          return { status: 200 };
        }
        return undefined;
      },
      new Set(["base-m"]),
    );
    servers.push(s.server);
    const yaml = `target: {provider: openai-compatible, baseUrl: "${s.url}/v1", model: base-m}\ndeploy: {kind: vllm, healthTimeoutMs: 2000}\ntraining: {method: lora}\n`;
    const { models, store, logs } = roundModels(yaml, "ws-vllm");
    try {
      const r0 = await models.open({ ref: { kind: "folder", dir: base }, adapters: [] }, 0);
      expect((await r0.model.chat({ messages: [{ role: "user", content: "hi" }] })).content).toBe("answer from base-m");
      expect(s.calls.filter((c) => c.url.includes("lora"))).toHaveLength(0); // the base needs no deploy
      const round1 = { ref: { kind: "folder" as const, dir: path.join(dir, "m1") }, adapters: [a1] };
      await expect(models.open(round1, 1)).rejects.toThrow(
        /deploy\.vllm: .*load_lora_adapter answered 400: .*cannot load/,
      );
      failLoad = false; // the fix
      const r1 = await models.open(round1, 1);
      const name1 = (await r1.model.chat({ messages: [{ role: "user", content: "hi" }] })).content.replace(
        "answer from ",
        "",
      );
      expect(name1).toMatch(/^base-m-r1-[0-9a-f]{8}$/);
      const round2 = { ref: { kind: "folder" as const, dir: path.join(dir, "m2") }, adapters: [a1, a2] };
      const r2 = await models.open(round2, 2);
      const name2 = (await r2.model.chat({ messages: [{ role: "user", content: "hi" }] })).content.replace(
        "answer from ",
        "",
      );
      expect(name2).toMatch(/^base-m-r2-/);
      const loads = s.calls.filter((c) => c.url === "/v1/load_lora_adapter").map((c) => JSON.parse(c.body));
      expect(loads.at(-1).lora_name).toBe(name2);
      // Round 2 is ONE adapter of rank 4 + 2 on the base.
      expect(JSON.parse(readFileSync(path.join(loads.at(-1).lora_path, "adapter_config.json"), "utf8")).r).toBe(6);
      // ...and the log says the rank the server must allow.
      expect(logs).toContain(
        `deploy (vllm): ${name2} is a LoRA adapter of rank 6 (the server needs --enable-lora --max-lora-rank >= 6)`,
      );
      const unloads = s.calls
        .filter((c) => c.url === "/v1/unload_lora_adapter")
        .map((c) => JSON.parse(c.body).lora_name);
      expect(unloads).toEqual([name1]);
      // Opening the deployed round again (a resumed cycle) deploys nothing.
      const before = s.calls.length;
      await models.open(round2, 2);
      expect(s.calls.slice(before).some((c) => c.url.includes("lora_adapter"))).toBe(false);
    } finally {
      await models.close();
      store.close();
    }
  });
});

/** The base with `adapters` merged one after the other, under dir/NAME (made once). */
function mergedFolder(name: string, adapters: readonly string[]): string {
  const out = path.join(dir, name);
  if (existsSync(path.join(out, "config.json"))) return out;
  let from = base;
  adapters.forEach((a, i) => {
    from = mergeAdapterFolder(from, a, i === adapters.length - 1 ? out : `${out}-${i}`);
  });
  return out;
}

/** vLLM's own answer to loading a name it holds (serving_models.py, _check_load_lora_adapter_request). */
const vllmAlreadyLoaded = (name: string) => ({
  status: 400,
  json: {
    error: {
      message: `The lora adapter '${name}' has already been loaded. If you want to load the adapter in place, set 'load_inplace' to True.`,
      type: "InvalidUserInput",
      param: null,
      code: 400,
    },
  },
});

describe("deploy vllm: a deploy cut short after the adapter was loaded", () => {
  // vLLM answers 400 to loading a name it already holds. A run whose deploy loaded the adapter but never recorded it
  // (killed, or the health check timed out) loads it again on the next run: that must finish the deploy, not stop.
  it("a rerun finds the adapter loaded under its name and goes on", async () => {
    let adapterAnswers = false;
    const loaded = new Set<string>();
    const s = await standIn(
      (req, raw, models) => {
        if (req.url === "/v1/load_lora_adapter") {
          const b = JSON.parse(raw.toString("utf8")) as { lora_name: string; lora_path: string };
          if (loaded.has(b.lora_name)) return vllmAlreadyLoaded(b.lora_name);
          loaded.add(b.lora_name);
          models.add(b.lora_name);
          return { status: 200 };
        }
        if (req.url === "/v1/chat/completions" && !adapterAnswers) {
          const model = (JSON.parse(raw.toString("utf8")) as { model: string }).model;
          if (model !== "base-m") return { status: 503, json: { error: { message: "warming up" } } };
        }
        return undefined;
      },
      new Set(["base-m"]),
    );
    servers.push(s.server);
    const yaml = `target: {provider: openai-compatible, baseUrl: "${s.url}/v1", model: base-m}\ndeploy: {kind: vllm, healthTimeoutMs: 500}\ntraining: {method: lora}\n`;
    const { models, store } = roundModels(yaml, "ws-vllm-reload");
    try {
      const round1 = { ref: { kind: "folder" as const, dir: mergedFolder("vr1", [a1]) }, adapters: [a1] };
      await expect(models.open(round1, 1)).rejects.toThrow(/did not answer within 500 ms/);
      expect(loaded.size).toBe(1); // the adapter was loaded, the deploy not recorded
      adapterAnswers = true;
      const r1 = await models.open(round1, 1);
      expect((await r1.model.chat({ messages: [{ role: "user", content: "hi" }] })).content).toBe(
        `answer from ${[...loaded][0]}`,
      );
    } finally {
      await models.close();
      store.close();
    }
  });
});

describe("deploy vllm: the server restarted since the deploy", () => {
  // vLLM keeps dynamically loaded adapters in memory only: after a restart it serves the base alone, and the record
  // of this endpoint still names the round's adapter. A resumed cycle must load it again, not send every request to
  // a model the server no longer has.
  it("a resumed cycle finds the adapter gone and loads it again", async () => {
    const s = await standIn(
      (req, raw, models) => {
        if (req.url === "/v1/load_lora_adapter") {
          models.add((JSON.parse(raw.toString("utf8")) as { lora_name: string }).lora_name);
          return { status: 200 };
        }
        return undefined;
      },
      new Set(["base-m"]),
    );
    servers.push(s.server);
    const yaml = `target: {provider: openai-compatible, baseUrl: "${s.url}/v1", model: base-m, retries: 0}\ndeploy: {kind: vllm, healthTimeoutMs: 2000}\ntraining: {method: lora}\n`;
    const round1 = { ref: { kind: "folder" as const, dir: mergedFolder("vr1", [a1]) }, adapters: [a1] };
    const first = roundModels(yaml, "ws-vllm-restart");
    let name: string;
    try {
      const r1 = await first.models.open(round1, 1);
      name = (await r1.model.chat({ messages: [{ role: "user", content: "hi" }] })).content.replace("answer from ", "");
      expect(name).toMatch(/^base-m-r1-/);
    } finally {
      await first.models.close();
      first.store.close();
    }
    // vLLM restarted: the base only
    const served = s.calls.length;
    await new Promise<void>((r) => s.server.close(() => r()));
    const restarted = await standIn(
      (req, raw, models) => {
        if (req.url === "/v1/load_lora_adapter") {
          models.add((JSON.parse(raw.toString("utf8")) as { lora_name: string }).lora_name);
          return { status: 200 };
        }
        return undefined;
      },
      new Set(["base-m"]),
      Number(new URL(s.url).port),
    );
    servers.push(restarted.server);
    const again = roundModels(yaml, "ws-vllm-restart");
    try {
      const r1 = await again.models.open(round1, 1);
      expect((await r1.model.chat({ messages: [{ role: "user", content: "hi" }] })).content).toBe(
        `answer from ${name}`,
      );
      expect(restarted.calls.filter((c) => c.url === "/v1/load_lora_adapter")).toHaveLength(1);
      expect(served).toBeGreaterThan(0);
    } finally {
      await again.models.close();
      again.store.close();
    }
  });
});

describe("deploy vllm: a server started with --api-key", () => {
  // vLLM's AuthenticationMiddleware answers 401 to every /v1 path without `Authorization: Bearer KEY`, and
  // /v1/load_lora_adapter is one: the deploy's admin calls need the target's key as the chat requests do.
  it("sends the target's key to load and unload the adapters, from apiKeyEnv or the URL's user-info", async () => {
    const key = "sk-vllm-admin-0123456789";
    const s = await standIn(
      (req, raw, models) => {
        if (req.headers.authorization !== `Bearer ${key}`) return { status: 401, json: { error: "Unauthorized" } };
        if (req.url === "/v1/load_lora_adapter") {
          models.add((JSON.parse(raw.toString("utf8")) as { lora_name: string }).lora_name);
          return { status: 200 };
        }
        if (req.url === "/v1/unload_lora_adapter") {
          models.delete((JSON.parse(raw.toString("utf8")) as { lora_name: string }).lora_name);
          return { status: 200 };
        }
        return undefined;
      },
      new Set(["base-m"]),
    );
    servers.push(s.server);
    const host = s.url.replace("http://", "");
    process.env.BF_DEPLOY_TEST_VLLM_KEY = key;
    try {
      for (const [ws, target] of [
        ["ws-vllm-auth-env", `baseUrl: "${s.url}/v1", apiKeyEnv: BF_DEPLOY_TEST_VLLM_KEY`],
        ["ws-vllm-auth-userinfo", `baseUrl: "http://${key}@${host}/v1"`],
      ]) {
        const { models, store, logs } = roundModels(
          `target: {provider: openai-compatible, ${target}, model: base-m}\ndeploy: {kind: vllm, healthTimeoutMs: 2000}\ntraining: {method: lora}\n`,
          ws,
        );
        try {
          const before = s.calls.length;
          const r1 = await models.open({ ref: { kind: "folder", dir: mergedFolder("va1", [a1]) }, adapters: [a1] }, 1);
          expect((await r1.model.chat({ messages: [{ role: "user", content: "hi" }] })).content).toMatch(
            /^answer from base-m-r1-/,
          );
          await models.open({ ref: { kind: "folder", dir: mergedFolder("va2", [a1, a2]) }, adapters: [a1, a2] }, 2);
          const admin = s.calls.slice(before).filter((c) => c.url.includes("lora_adapter"));
          expect(admin.map((c) => c.url)).toEqual([
            "/v1/load_lora_adapter",
            "/v1/load_lora_adapter",
            "/v1/unload_lora_adapter",
          ]);
          expect(logs.join("\n")).not.toContain(key);
        } finally {
          await models.close();
          store.close();
        }
      }
    } finally {
      delete process.env.BF_DEPLOY_TEST_VLLM_KEY;
    }
  });
});

describe("deploy: a token typed into deploy.command", () => {
  it("is redacted from the command's output in the deploy log, as a training command's is", async () => {
    const token = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    const s = await standIn(() => undefined, new Set(["base-m"]));
    servers.push(s.server);
    const yaml =
      `target: {provider: openai-compatible, baseUrl: "${s.url}/v1", model: base-m}\n` +
      `deploy: {kind: command, command: "HUB_TOKEN=${token} sh -c 'echo pushing with $HUB_TOKEN'", healthTimeoutMs: 2000}\n`;
    const { models, store, logs } = roundModels(yaml, "ws-typed-token");
    try {
      await models.open({ ref: { kind: "folder", dir: base }, adapters: [] }, 0);
      expect(logs).toContain("deploy: pushing with [REDACTED]");
      expect(logs.join("\n")).not.toContain(token);
    } finally {
      await models.close();
      store.close();
    }
  });
});

describe("deploy: a key written in the target URL", () => {
  it("never reaches the deploy log or a deploy error (user-info or query credential)", async () => {
    const userKey = "sk-deploy-userinfo-0123456789";
    const queryKey = "qk-deploy-query-9876543210";
    const s = await standIn(() => undefined, new Set(["base-m"]));
    servers.push(s.server);
    const host = s.url.replace("http://", "");
    // deploy.kind command: the log line names where the round's model goes
    const cmd = roundModels(
      `target: {provider: openai-compatible, baseUrl: "http://${userKey}@${host}/v1", model: base-m}\ndeploy: {kind: command, command: "echo deploying to {base_url}", healthTimeoutMs: 2000}\n`,
      "ws-key-command",
    );
    try {
      await cmd.models.open({ ref: { kind: "folder", dir: base }, adapters: [] }, 0);
      expect(cmd.logs.some((l) => l.startsWith("deploy (command): round 0 model to "))).toBe(true);
      // the command's own output (it gets {base_url}) is redacted too
      expect(cmd.logs).toContain(`deploy: deploying to http://${host}/v1`);
      expect(cmd.logs.join("\n")).not.toContain(userKey);
    } finally {
      await cmd.models.close();
      cmd.store.close();
    }
    // deploy.kind vllm: its admin calls fail, and the errors name the server without the key
    const round1 = {
      ref: { kind: "folder" as const, dir: mergeAdapterFolder(base, a1, path.join(dir, "mk")) },
      adapters: [a1],
    };
    for (const [url, key] of [
      [`http://user:${userKey}@${host}/v1`, userKey],
      [`${s.url}/v1?api-key=${queryKey}`, queryKey],
    ]) {
      const v = roundModels(
        `target: {provider: openai-compatible, baseUrl: "${url}", model: base-m}\ndeploy: {kind: vllm, healthTimeoutMs: 500}\ntraining: {method: lora}\n`,
        `ws-key-vllm-${key.slice(0, 2)}`,
      );
      try {
        const err = await v.models.open(round1, 1).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err?.message).toMatch(/^deploy\.vllm: /);
        expect(err?.message).not.toContain(key);
        expect(v.logs.join("\n")).not.toContain(key);
      } finally {
        await v.models.close();
        v.store.close();
      }
    }
  });
});

/**
 * Ollama's blob endpoints over `blobs` and its /api/create: a model from llama-base with adapter blobs it holds (the
 * stand-in records what was created, for /api/show); `badCreate` answers a create as Ollama does a base it lacks.
 */
function ollamaApi(blobs: Map<string, Buffer>, badCreate: () => boolean = () => false) {
  return (req: IncomingMessage, raw: Buffer, models: Set<string>): { status: number; json?: unknown } | undefined => {
    const m = /^\/api\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? "");
    if (m && req.method === "HEAD") return { status: blobs.has(m[1]) ? 200 : 404 };
    if (m && req.method === "POST") {
      const digest = `sha256:${createHash("sha256").update(raw).digest("hex")}`;
      if (digest !== m[1]) return { status: 400, json: { error: "digest mismatch" } };
      blobs.set(digest, raw);
      return { status: 201 };
    }
    if (req.url === "/api/create") {
      const b = JSON.parse(raw.toString("utf8")) as { model: string; from: string; adapters?: Record<string, string> };
      if (badCreate()) return { status: 500, json: { error: `pull model manifest: file does not exist: ${b.from}` } };
      const adapters = Object.values(b.adapters ?? {});
      if (b.from !== "llama-base" || !adapters.every((d) => blobs.has(d)))
        return { status: 400, json: { error: "bad request" } };
      models.add(b.model);
      return { status: 200, json: { status: "success" } };
    }
    return undefined;
  };
}

/** The adapter digests of the stand-in's /api/create calls, in order. */
function createdAdapters(calls: Call[]): string[][] {
  return calls
    .filter((c) => c.url === "/api/create")
    .map((c) => Object.values((JSON.parse(c.body) as { adapters?: Record<string, string> }).adapters ?? {}));
}

describe("deploy ollama", () => {
  it("uploads the round's GGUF adapter as a blob once and creates a model from the base with it", async () => {
    const blobs = new Map<string, Buffer>();
    let badCreate = true;
    const s = await standIn(
      ollamaApi(blobs, () => badCreate),
      new Set(["llama-base"]),
    );
    const { models, store } = ollamaRoundModels(s, "ws-ollama");
    try {
      const round1 = { ref: { kind: "folder" as const, dir: path.join(dir, "m2") }, adapters: [a1, a2] };
      await expect(models.open(round1, 1)).rejects.toThrow(
        /deploy\.ollama: .*\/api\/create answered 500: .*llama-base/,
      );
      badCreate = false;
      const r1 = await models.open(round1, 1);
      expect((await r1.model.chat({ messages: [{ role: "user", content: "hi" }] })).content).toMatch(
        /^answer from llama-base-r1-/,
      );
      expect(s.calls.filter((c) => c.method === "POST" && c.url.startsWith("/api/blobs/"))).toHaveLength(1);
      expect(s.calls.filter((c) => c.url === "/api/create")).toHaveLength(2);
      expect([...blobs.values()].map((b) => b.subarray(0, 4).toString("latin1"))).toEqual(["GGUF"]);
      // checked through /api/show: the model Ollama holds carries the uploaded blob
      expect(s.calls.filter((c) => c.url === "/api/show")).toHaveLength(1);
    } finally {
      await models.close();
      store.close();
    }
  });
});

describe("deploy ollama: the name was created again with another adapter since it was recorded", () => {
  // Ollama's /api/create replaces a model of the same name: another deploy (another run, a hand-made `ollama create`)
  // can leave the recorded name answering with another adapter. A resumed cycle used to trust the record and measure
  // it as the round; /api/show names the adapter blobs, and the name is created again with the round's adapter.
  it("is created again with the round's adapter rather than measured", async () => {
    const blobs = new Map<string, Buffer>();
    const s = await standIn(ollamaApi(blobs), new Set(["llama-base"]));
    const round1 = { ref: { kind: "folder" as const, dir: mergedFolder("on1", [a1]) }, adapters: [a1] };
    const first = ollamaRoundModels(s, "ws-ollama-replaced");
    let name: string;
    try {
      const r1 = await first.models.open(round1, 1);
      name = (await r1.model.chat({ messages: [{ role: "user", content: "hi" }] })).content.replace("answer from ", "");
      expect(name).toMatch(/^llama-base-r1-[0-9a-f]{8}$/);
    } finally {
      await first.models.close();
      first.store.close();
    }
    const [[ours]] = createdAdapters(s.calls);
    // another deploy creates the same name with another adapter blob
    const other = Buffer.from("GGUF: another adapter");
    const otherDigest = `sha256:${createHash("sha256").update(other).digest("hex")}`;
    expect((await fetch(`${s.url}/api/blobs/${otherDigest}`, { method: "POST", body: other })).status).toBe(201);
    const create = { model: name, from: "llama-base", adapters: { "adapter.gguf": otherDigest }, stream: false };
    expect((await fetch(`${s.url}/api/create`, { method: "POST", body: JSON.stringify(create) })).ok).toBe(true);
    const again = ollamaRoundModels(s, "ws-ollama-replaced");
    try {
      const r1 = await again.models.open(round1, 1);
      expect(again.logs.join("\n")).toContain(
        `deploy (ollama): Ollama holds ${name} with adapter blob sha256-${otherDigest.slice(7, 23)}..., ` +
          `not the round's adapter ${ours.slice(0, 23)}...; creating it again`,
      );
      expect(createdAdapters(s.calls)).toEqual([[ours], [otherDigest], [ours]]);
      const shown = (await (
        await fetch(`${s.url}/api/show`, { method: "POST", body: JSON.stringify({ model: name }) })
      ).json()) as { modelfile: string };
      expect(shown.modelfile).toContain(`\nADAPTER /root/.ollama/models/blobs/${ours.replace(":", "-")}\n`);
      expect((await r1.model.chat({ messages: [{ role: "user", content: "hi" }] })).content).toBe(
        `answer from ${name}`,
      );
    } finally {
      await again.models.close();
      again.store.close();
    }
  });
});

describe("deploy ollama: a created model that does not carry the round's adapter", () => {
  // What answers under the new name right after /api/create must carry the round's adapter blob: a model Ollama
  // holds without it (replaced by another deploy in between) stops the round with an error instead of being measured.
  it("stops with an error naming what Ollama holds and the round's adapter; a rerun creates it again", async () => {
    const blobs = new Map<string, Buffer>();
    let replaced = true;
    const api = ollamaApi(blobs);
    const s = await standIn(
      (req, raw, models) =>
        replaced && req.url === "/api/show"
          ? {
              status: 200,
              json: {
                modelfile: '# Modelfile generated by "ollama show"\n\nFROM /root/.ollama/models/blobs/sha256-0\n',
              },
            }
          : api(req, raw, models),
      new Set(["llama-base"]),
    );
    const { models, store } = ollamaRoundModels(s, "ws-ollama-no-adapter");
    try {
      const round1 = { ref: { kind: "folder" as const, dir: mergedFolder("on1", [a1]) }, adapters: [a1] };
      await expect(models.open(round1, 1)).rejects.toThrow(
        /^deploy\.ollama: Ollama holds llama-base-r1-[0-9a-f]{8} with no adapter, not the round's adapter sha256:[0-9a-f]{16}\.\.\.: another deploy replaced it\? rerun to create it again$/,
      );
      replaced = false;
      const r1 = await models.open(round1, 1);
      expect((await r1.model.chat({ messages: [{ role: "user", content: "hi" }] })).content).toMatch(
        /^answer from llama-base-r1-/,
      );
      expect(createdAdapters(s.calls)).toHaveLength(2);
    } finally {
      await models.close();
      store.close();
    }
  });
});

describe("deploy ollama: a blob upload that fails on the network", () => {
  it("names the round's model, the blob and the endpoint it was sent to", async () => {
    // Found by review: the POST's network error came out as fetch's bare "fetch failed", naming nothing
    const s = await standIn(
      (req) => {
        if (!req.url?.startsWith("/api/blobs/")) return undefined;
        if (req.method === "HEAD") return { status: 404 };
        req.socket.destroy(); // the connection drops mid-upload
        return { status: 500 };
      },
      new Set(["llama-base"]),
    );
    const { models, store } = ollamaRoundModels(s, "ws-ollama-netfail");
    try {
      const round1 = { ref: { kind: "folder" as const, dir: mergedFolder("on1", [a1]) }, adapters: [a1] };
      const err = await models.open(round1, 1).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(
        new RegExp(
          "^deploy\\.ollama: uploading the adapter of llama-base-r1-[0-9a-f]{8} \\(on llama-base\\) as blob sha256:[0-9a-f]{64} " +
            `to ${s.url.replace(/\./g, "\\.")}/api/blobs/sha256:[0-9a-f]{64} failed: fetch failed: \\S`,
        ),
      );
    } finally {
      await models.close();
      store.close();
    }
  });
});

/**
 * ensureGgufAdapter in a child process whose file size limit (RLIMIT_FSIZE, set with prlimit once it is ready) stops
 * the export part-way, as a kill mid-write would. Returns the child's exit code and stderr.
 */
function exportCutShort(adapterDir: string, limitBytes: number): Promise<{ code: number | null; stderr: string }> {
  const script = `import { ensureGgufAdapter } from ${JSON.stringify(path.join(import.meta.dirname, "deploy.ts"))};
process.stdout.write("ready\\n");
process.stdin.once("data", () => { ensureGgufAdapter(${JSON.stringify(adapterDir)}, ${JSON.stringify(base)}); process.exit(0); });`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: path.resolve(import.meta.dirname, "../.."),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += String(d);
  });
  child.stdout.once("data", () => {
    execFileSync("prlimit", [`--pid=${child.pid}`, `--fsize=${limitBytes}:${limitBytes}`]);
    child.stdin.write("go\n");
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
}

/** prlimit (util-linux) sets another process's limits; without it the cut-short export cannot be staged. */
const hasPrlimit = spawnSync("prlimit", ["--version"]).status === 0;

describe.skipIf(!hasPrlimit)("the Ollama deploy's GGUF adapter", () => {
  it("an export stopped part-way leaves no adapter.gguf: the next deploy exports it whole, never reuses a half file", async () => {
    const whole = ensureGgufAdapter(combineAdapters([a1, a2], path.join(dir, "gguf-whole")), base);
    const size = statSync(whole).size;
    const cut = combineAdapters([a1, a2], path.join(dir, "gguf-cut"));
    const limit = Math.floor(size / 2);
    const child = await exportCutShort(cut, limit);
    expect(child.code, child.stderr).not.toBe(0);
    expect(child.stderr).toMatch(/EFBIG|file too large/i);
    // nothing at the name a deploy reuses, and no temporary file left behind
    expect(existsSync(path.join(cut, "adapter.gguf"))).toBe(false);
    expect(readdirSync(cut).filter((f) => f.startsWith("adapter.gguf"))).toEqual([]);
    const again = ensureGgufAdapter(cut, base);
    expect(readFileSync(again)).toEqual(readFileSync(whole));
    expect(readGguf(again).tensors.length).toBeGreaterThan(0);
  }, 60_000);
});

describe("local round models", () => {
  // Attack ids, and the seeds every attack draws from them, hash the target's id: a workspace path in it made the
  // same cycle send other attacks, and so train other fixes, in another folder (found in session 13: two identical
  // runs differed by 56 of ~650 findings).
  it.each(["builtin", "llamacpp"])(
    "engine %s: the same weights have the same id in any workspace, and their answers carry it",
    async (engine) => {
      const yaml = `target: {provider: builtin, model: ${base}, maxTokens: 4}\ncycle: {engine: ${engine}}\n`;
      const ids: string[] = [];
      for (const ws of [`local-${engine}-a`, `local-${engine}-b`]) {
        const { models, store } = roundModels(yaml, ws);
        const opened = await models.open({ ref: { kind: "folder", dir: base }, adapters: [] }, 0);
        try {
          expect(opened.model.id).not.toContain(dir);
          const res = await opened.model.chat({ messages: [{ role: "user", content: "hi" }], maxTokens: 2 });
          expect(res.model).toBe(opened.model.id);
          ids.push(opened.model.id);
        } finally {
          await opened.model.close?.();
          await models.close();
          store.close();
        }
      }
      expect(ids[0]).toMatch(new RegExp(`^${engine}@[0-9a-f]{16}$`));
      expect(ids[1]).toBe(ids[0]);
    },
    120_000,
  );
});

describe("deploy vllm: the server holds the name from another path", () => {
  // What answers under the round's name must be the round's adapter: vLLM lists each LoRA module with the path it was
  // loaded from (`root`), and a server that holds the name from elsewhere would be measured as this round.
  it("stops with an error naming both paths instead of measuring it", async () => {
    const s = await standIn(
      (req, raw, models) => {
        if (req.url === "/v1/load_lora_adapter") {
          const b = JSON.parse(raw.toString("utf8")) as { lora_name: string };
          models.add(b.lora_name);
          return { status: 200 };
        }
        return undefined;
      },
      new Set(["base-m"]),
    );
    servers.push(s.server);
    const yaml =
      `target: {provider: openai-compatible, baseUrl: "${s.url}/v1", model: base-m}\n` +
      "deploy: {kind: vllm, healthTimeoutMs: 2000, vllm: {adapterPath: /srv/adapters}}\ntraining: {method: lora}\n";
    const { models, store } = roundModels(yaml, "ws-vllm-root");
    try {
      const round1 = { ref: { kind: "folder" as const, dir: mergedFolder("vr1", [a1]) }, adapters: [a1] };
      const r1 = await models.open(round1, 1); // loaded from /srv/adapters/<combined>, and listed so
      expect((await r1.model.chat({ messages: [{ role: "user", content: "hi" }] })).content).toMatch(/base-m-r1-/);
      // the server is replaced by one that holds the same name from another folder (no record of that here)
      await new Promise<void>((r) => s.server.close(() => r()));
      const name = [...s.calls].reverse().find((c) => c.url === "/v1/load_lora_adapter")?.body ?? "";
      const loraName = (JSON.parse(name) as { lora_name: string }).lora_name;
      const other = await standIn(
        (req) =>
          req.method === "GET" && req.url === "/v1/models"
            ? {
                status: 200,
                json: { object: "list", data: [{ id: "base-m" }, { id: loraName, root: "/home/someone/old-adapter" }] },
              }
            : undefined,
        new Set(["base-m", loraName]),
        Number(new URL(s.url).port),
      );
      servers.push(other.server);
      await expect(models.open(round1, 1)).rejects.toThrow(
        /deploy\.vllm: the server holds base-m-r1-[0-9a-f]{8} loaded from \/home\/someone\/old-adapter, not from \/srv\/adapters\/[0-9a-f]{16}/,
      );
    } finally {
      await models.close();
      store.close();
    }
  });
});

describe("deploy serve: another server on the target's port", () => {
  // A killed cycle can leave its `breakfix serve` running: the next run's serve cannot bind the port, and the old
  // one answers under the same name with an older round's weights. `breakfix serve` lists its weights' fingerprint;
  // the deploy compares it with the round's and stops, where it used to measure the old weights as the new round.
  it("is refused by the fingerprint it lists; the deploy works once the port is free", async () => {
    const port = await freePort();
    const old = mergedFolder("vr1", [a1]);
    const impostor = await startOpenAIServer(await BuiltinModel.load({ model: old }), {
      modelName: "m",
      port,
      weightsFingerprint: servedWeightsFingerprint(old),
    });
    const yaml = `target: {provider: openai-compatible, baseUrl: "http://127.0.0.1:${port}/v1", model: m, maxTokens: 4}\ndeploy: {kind: serve, healthTimeoutMs: 60000}\n`;
    const { models, store } = roundModels(yaml, "ws-serve-impostor");
    try {
      await expect(models.open({ ref: { kind: "folder", dir: base }, adapters: [] }, 0)).rejects.toThrow(
        new RegExp(
          "deploy\\.serve: the endpoint http://127\\.0\\.0\\.1:\\d+/v1 answers as m with other weights " +
            "\\(fingerprint [0-9a-f]{16}\\.\\.\\.\\), not round weights [0-9a-f]{16}\\.\\.\\.: is another server on that port",
        ),
      );
      await impostor.close();
      const r0 = await models.open({ ref: { kind: "folder", dir: base }, adapters: [] }, 0);
      const answer = await r0.model.chat({ messages: [{ role: "user", content: "hi" }], maxTokens: 4 });
      expect(answer.finishReason).toMatch(/stop|length/);
      const listed = (await (await fetch(`http://127.0.0.1:${port}/v1/models/m`)).json()) as {
        weights_fingerprint: string;
      };
      expect(listed.weights_fingerprint).toBe(modelFolderFingerprint(base));
    } finally {
      await models.close();
      store.close();
    }
  }, 120_000);
});
