/**
 * Round models: the weights a round produces, and how they are made to answer before the next measurement.
 *
 * A round model is a Hugging Face folder (the training engine's merged export). How it answers depends on the
 * target: a local target (builtin, llamacpp) loads the folder itself (llama.cpp through a content-addressed GGUF
 * export, or our engine); an HTTP target needs a deploy step that makes the round's weights answer at the target's
 * endpoint under the target's model name: `serve` (breakfix starts `breakfix serve` on the target's host and port) or
 * `command` (the user's script, e.g. restarting vLLM; placeholders below). The deployed state is recorded in the store
 * per run, so a resumed cycle redeploys only when the endpoint may serve another round's weights.
 *
 * Every ChatModel handed out carries the weights' fingerprint in its id: an HTTP target keeps one URL and model name
 * across rounds, and suite records and campaigns are keyed by the target id, so without it round 1 would "resume"
 * round 0's answers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema.ts";
import { contentHash } from "../domain/hash.ts";
import { packagePath } from "../domain/package.ts";
import { fillTemplate, runShell } from "../domain/shell.ts";
import { createChatModel, type ModelOptions } from "../models/registry.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../models/types.ts";
import { ensureGguf } from "../nn/gguf/folder.ts";
import { loadModel } from "../nn/model.ts";
import { type TargetContext, targetContextFor } from "../redteam/campaign/context.ts";
import type { Store } from "../store/store.ts";
import { combineAdapters } from "../train/backends/merge.ts";
import type { ModelRef } from "../train/backends/types.ts";
import { exportGgufLora, loadPeft } from "../train/export.ts";

/** Content fingerprint of a model folder (config, weights, tokenizer): the run id must change when the model does. */
export function modelFingerprint(dir: string): string {
  const h = createHash("sha256");
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]) {
    const p = path.join(dir, f);
    if (!existsSync(p)) throw new Error(`${dir}: not a Hugging Face model folder (no ${f})`);
    h.update(f);
    h.update(readFileSync(p));
  }
  return h.digest("hex");
}

/** A ChatModel under another id (the weights' fingerprint appended); everything else passes through. */
export class RoundChatModel implements ChatModel {
  readonly id: string;
  constructor(
    private readonly inner: ChatModel,
    fingerprint: string,
  ) {
    this.id = `${inner.id}@${fingerprint.slice(0, 16)}`;
  }
  chat(r: ChatRequest): Promise<ChatResult> {
    return this.inner.chat(r);
  }
  chatMany(rs: ChatRequest[]): Promise<ChatResult[]> {
    return this.inner.chatMany ? this.inner.chatMany(rs) : Promise.all(rs.map((r) => this.inner.chat(r)));
  }
  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

export interface OpenedModel {
  model: ChatModel;
  /** The model's context window, for fitting attacks (from its own tokenizer and config, when local weights exist). */
  context?: TargetContext;
}

/**
 * A round's model: its weights (a folder, or a remote model id such as an OpenAI fine-tune) and, for deploys that
 * load adapters on the base the server already holds (vLLM, Ollama), the PEFT adapters from the base to it in order.
 */
export interface RoundModel {
  ref: ModelRef;
  adapters: readonly string[];
}

/** The base model's weights and the way every round's model answers (the scenario's `models`). */
export interface RoundModels {
  /** The base model (round 0 and, for cumulative training, every round's starting point). */
  readonly base: ModelRef;
  /** How round models are served, for the run id (changing it starts another run). */
  readonly identity: Record<string, unknown>;
  /** Makes the round model answer (deploying it when needed) and returns a client for it. */
  open(m: RoundModel, round: number): Promise<OpenedModel>;
  /** Stops what this process started (a managed `breakfix serve`). */
  close(): Promise<void>;
}

/** A stable identity of a model reference (weights fingerprint, or the remote id). */
export function refFingerprint(ref: ModelRef): string {
  return ref.kind === "folder" ? modelFingerprint(ref.dir) : contentHash({ remote: ref.id });
}

/** A model reference as the step records store it: a folder relative to `base`, or `remote:ID`. */
export function refToString(ref: ModelRef, rel: (p: string) => string): string {
  return ref.kind === "folder" ? rel(ref.dir) : `remote:${ref.id}`;
}

export function refFromString(s: string, abs: (p: string) => string): ModelRef {
  return s.startsWith("remote:") ? { kind: "remote", id: s.slice("remote:".length) } : { kind: "folder", dir: abs(s) };
}

/** Placeholders a deploy command may use; each value is shell-quoted when filled in. */
export const DEPLOY_PLACEHOLDERS = ["model_dir", "gguf", "round", "base_url", "model", "port", "host"] as const;

/** Fills a deploy command's placeholders (shell-quoted); an unknown one is an error naming it. */
export function fillDeployCommand(template: string, values: Record<string, string | (() => string)>): string {
  return fillTemplate(template, values, DEPLOY_PLACEHOLDERS, "deploy.command");
}

/** A one-token, uncached chat: does the model answer at all? Rejects with the client's error when it does not. */
export async function pingModel(model: ChatModel): Promise<void> {
  await model.chat({ messages: [{ role: "user", content: "ping" }], maxTokens: 1, temperature: 0, noCache: true });
}

/** Waits until the endpoint answers a one-token chat (the deployed model is up), or fails after timeoutMs. */
export async function waitUntilAnswers(model: ChatModel, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try {
      await pingModel(model);
      return;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(
    `deploy: the target did not answer within ${timeoutMs} ms (deploy.healthTimeoutMs): ${(last as Error)?.message ?? "no answer"}`,
  );
}

const DEPLOY_STATE = "cycle.deployed";

async function answers(m: ChatModel): Promise<boolean> {
  try {
    await pingModel(m);
    return true;
  } catch {
    return false;
  }
}

export interface RoundModelsOptions {
  config: Config;
  base: ModelRef;
  store: Store;
  /** Folder for GGUF exports and combined adapters (content-addressed). */
  workDir: string;
  log: (l: string) => void;
}

/** A server's root URL from a /v1 base URL (vLLM and Ollama keep their admin endpoints beside /v1). */
function rootOf(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/v1$/, "");
}

async function postJson(url: string, body: unknown, key: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new Error(`${key}: ${url} unreachable: ${(e as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${key}: ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return text;
  }
}

/**
 * The round models of a config: local targets load each folder; HTTP targets get each round's model deployed
 * (deploy.kind serve, command, vllm, ollama) or, for a remote fine-tune (training.backend openai), targeted by its
 * id. A deploy that fails throws (the step fails, nothing recorded is lost, a re-run retries it).
 */
export function roundModelsFor(o: RoundModelsOptions): RoundModels {
  const t = o.config.target;
  const deploy = o.config.deploy;
  const local = t.provider === "builtin" || t.provider === "llamacpp";
  const engine = o.config.cycle.engine;
  const sequences = t.sequences ?? 16;
  const ggufDir = path.join(o.workDir, "gguf");
  const gguf = (dir: string) => {
    mkdirSync(ggufDir, { recursive: true });
    return ensureGguf(dir, path.join(ggufDir, `${modelFingerprint(dir).slice(0, 16)}.gguf`));
  };
  const folderOf = (m: RoundModel, what: string): string => {
    if (m.ref.kind !== "folder") throw new Error(`${what}: round model ${m.ref.id} has no local weights`);
    return m.ref.dir;
  };
  const contextOf = async (m: RoundModel) =>
    m.ref.kind === "folder" ? targetContextFor({ provider: "builtin", model: m.ref.dir }) : undefined;
  if (local)
    return {
      base: o.base,
      identity: { serving: "local", engine },
      async open(m) {
        const dir = folderOf(m, "target");
        const spec: ModelOptions =
          engine === "builtin"
            ? { ...t, provider: "builtin", model: dir, adapter: undefined, sequences }
            : { ...t, provider: "llamacpp", model: gguf(dir), adapter: undefined, sequences };
        const inner = await createChatModel({ ...spec, concurrency: t.concurrency, temperature: 0 });
        return { model: new RoundChatModel(inner, modelFingerprint(dir)), context: await targetContextFor(spec) };
      },
      async close() {},
    };
  const url = t.baseUrl ? new URL(t.baseUrl) : undefined;
  let server: ChildProcess | undefined;
  const baseFp = refFingerprint(o.base);
  // What the endpoint serves is a fact about the endpoint, not about one run: keyed by its URL and model name.
  const deployedKey = contentHash({ baseUrl: t.baseUrl ?? null, model: t.model });
  const deployed = () => o.store.states.current(DEPLOY_STATE, deployedKey);
  /** The one adapter (on the base) a server loads for a round model: its adapters combined, content-addressed. */
  const combined = (m: RoundModel): string => {
    if (m.adapters.length === 0)
      throw new Error(
        `deploy.kind ${deploy.kind}: the round's model has no LoRA adapter (training.method lora needed)`,
      );
    const out = path.join(o.workDir, "adapters", contentHash(m.adapters).slice(0, 16));
    if (!existsSync(path.join(out, "adapter_config.json"))) combineAdapters(m.adapters, out);
    return out;
  };
  /** Deploys a round model and returns the model name the target must use for it. */
  const deployRound = async (m: RoundModel, round: number, fp: string): Promise<string> => {
    const name = round === 0 || fp === baseFp ? t.model : `${t.model}-r${round}-${fp.slice(0, 8)}`;
    o.log(`deploy (${deploy.kind}): round ${round} model to ${t.baseUrl ?? "the target"} as ${name}`);
    if (deploy.kind === "serve") {
      if (!url) throw new Error("target.baseUrl: deploy.kind serve needs the target's baseUrl (host and port)");
      await stopServer(server);
      server = startServe(folderOf(m, "deploy serve"), url, t.model, path.join(o.workDir, "serve.log"));
      return t.model;
    }
    if (deploy.kind === "command") {
      const dir = folderOf(m, "deploy.command");
      const values = {
        model_dir: dir,
        gguf: () => gguf(dir),
        round: String(round),
        base_url: t.baseUrl ?? "",
        model: t.model,
        port: url?.port ?? "",
        host: url?.hostname ?? "",
      };
      await runShell(fillDeployCommand(deploy.command ?? "", values), {
        key: "deploy.command",
        timeoutMs: deploy.timeoutMs,
        log: (l) => o.log(`deploy: ${l}`),
      });
      return t.model;
    }
    if (name === t.model) return name; // the base: what the server loaded
    if (deploy.kind === "vllm") {
      const root = deploy.vllm?.baseUrl ?? rootOf(t.baseUrl ?? "");
      const adapter = combined(m);
      await postJson(
        `${root}/v1/load_lora_adapter`,
        {
          lora_name: name,
          lora_path: deploy.vllm?.adapterPath ? path.join(deploy.vllm.adapterPath, path.basename(adapter)) : adapter,
        },
        "deploy.vllm",
      );
      if (deploy.vllm?.unloadOld !== false) {
        const previous = deployed()?.detail as { name?: string } | undefined;
        if (previous?.name && previous.name !== name && previous.name !== t.model)
          await postJson(`${root}/v1/unload_lora_adapter`, { lora_name: previous.name }, "deploy.vllm").catch((e) =>
            o.log(`deploy (vllm): could not unload ${previous.name}: ${(e as Error).message}`),
          );
      }
      return name;
    }
    if (deploy.kind === "ollama") {
      if (!deploy.ollama) throw new Error("deploy.ollama: deploy.kind ollama needs deploy.ollama.baseModel");
      const root = deploy.ollama.baseUrl ?? rootOf(t.baseUrl ?? "http://127.0.0.1:11434");
      const adapter = combined(m);
      const ggufAdapter = path.join(adapter, "adapter.gguf");
      if (!existsSync(ggufAdapter)) {
        const base = o.base.kind === "folder" ? o.base.dir : folderOf(m, "deploy.ollama");
        exportGgufAdapter(adapter, base, ggufAdapter);
      }
      const bytes = readFileSync(ggufAdapter);
      const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      const head = await fetch(`${root}/api/blobs/${digest}`, { method: "HEAD" }).catch((e: Error) => {
        throw new Error(`deploy.ollama: ${root} unreachable: ${e.message}`);
      });
      if (head.status !== 200) {
        const up = await fetch(`${root}/api/blobs/${digest}`, { method: "POST", body: bytes });
        if (!up.ok)
          throw new Error(`deploy.ollama: blob upload answered ${up.status}: ${(await up.text()).slice(0, 300)}`);
      }
      const res = await postJson(
        `${root}/api/create`,
        { model: name, from: deploy.ollama.baseModel, adapters: { "adapter.gguf": digest }, stream: false },
        "deploy.ollama",
      );
      const status = (res as { status?: string }).status;
      if (status !== "success")
        throw new Error(`deploy.ollama: /api/create answered ${JSON.stringify(res).slice(0, 300)}`);
      return name;
    }
    return name;
  };
  return {
    base: o.base,
    identity: { serving: "endpoint", deploy: deploy.kind },
    async open(m, round) {
      // A remote fine-tune (training.backend openai) is served by its provider under its own id: no deploy.
      if (m.ref.kind === "remote") {
        const client = await createChatModel({ ...t, model: m.ref.id, temperature: 0 });
        await waitUntilAnswers(client, deploy.healthTimeoutMs);
        return { model: new RoundChatModel(client, refFingerprint(m.ref)) };
      }
      const fp = refFingerprint(m.ref);
      const state = deployed();
      // With no record of this endpoint in the workspace, serve and command deploys start from the base weights too
      // (the endpoint may serve anything: another run's model, an older checkpoint); vLLM and Ollama serve the base
      // under the target's name, as the user loaded it.
      const current = state?.state ?? (deploy.kind === "serve" || deploy.kind === "command" ? undefined : baseFp);
      let name = (state?.detail as { name?: string } | undefined)?.name ?? t.model;
      let needs = current !== fp || (deploy.kind === "serve" && !server);
      if (!needs && deploy.kind === "command") {
        // The endpoint should serve this model already; if it does not answer (a server that died, a deploy that
        // failed half-way in a killed run), the deploy command brings it up again.
        const probe = await createChatModel({ ...t, model: name, temperature: 0 });
        needs = !(await answers(probe));
        await probe.close?.();
      }
      if (needs) {
        name = await deployRound(m, round, fp);
        const probe = await createChatModel({ ...t, model: name, temperature: 0 });
        try {
          await waitUntilAnswers(probe, deploy.healthTimeoutMs);
        } finally {
          await probe.close?.();
        }
        o.store.states.set(DEPLOY_STATE, deployedKey, fp, { round, name });
      }
      const client = await createChatModel({ ...t, model: name, temperature: 0 });
      return { model: new RoundChatModel(client, fp), context: await contextOf(m) };
    },
    async close() {
      await stopServer(server);
      server = undefined;
    },
  };
}

/** The combined PEFT adapter as a GGUF LoRA adapter (what llama.cpp and Ollama load), for the base folder. */
function exportGgufAdapter(adapterDir: string, baseDir: string, out: string): void {
  const { config } = loadModel(baseDir);
  const a = loadPeft(adapterDir);
  exportGgufLora(out, config, a.weights, a.config);
}

/** `breakfix serve` of a folder on the target's host and port, under the target's model name; output to logFile. */
function startServe(dir: string, url: URL, name: string, logFile: string): ChildProcess {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, "a");
  return spawn(
    process.execPath,
    [
      packagePath("bin", "breakfix.js"),
      "serve",
      "--model",
      dir,
      "--host",
      url.hostname,
      "--port",
      url.port || "80",
      "--name",
      name,
      "--sequences",
      "8",
    ],
    { stdio: ["ignore", out, out] },
  );
}

async function stopServer(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    p.once("exit", () => resolve());
    p.kill("SIGTERM");
    setTimeout(() => p.kill("SIGKILL"), 5000).unref();
  });
}
