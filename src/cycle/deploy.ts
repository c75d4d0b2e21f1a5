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
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../config/schema.ts";
import { fileSha256 } from "../domain/file-hash.ts";
import { contentHash } from "../domain/hash.ts";
import { packagePath } from "../domain/package.ts";
import { fillTemplate, runShell } from "../domain/shell.ts";
import { modelFolderFingerprint } from "../models/fingerprint.ts";
import { createChatModel, type ModelOptions } from "../models/registry.ts";
import { redactedForTerminal, redactUrl, resolveApiKey, secretRedactor, splitEndpointUrl } from "../models/secrets.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../models/types.ts";
import { ensureGguf } from "../nn/gguf/folder.ts";
import { loadModel } from "../nn/model.ts";
import { type TargetContext, targetContextFor } from "../redteam/campaign/context.ts";
import type { Store } from "../store/store.ts";
import { combineAdapters } from "../train/backends/merge.ts";
import type { ModelRef } from "../train/backends/types.ts";
import { exportGgufLora, loadPeft } from "../train/export.ts";

/**
 * A ChatModel under another id (the weights' fingerprint appended); everything else passes through. `name` replaces
 * the inner id where that id holds a local file path: attack ids, and the seeds drawn from them, are hashes of the
 * target id, so a path in it made a run's attacks (and so its findings and fixes) depend on where the workspace lies.
 */
export class RoundChatModel implements ChatModel {
  readonly id: string;
  constructor(
    private readonly inner: ChatModel,
    fingerprint: string,
    name: string = inner.id,
  ) {
    this.id = `${name}@${fingerprint.slice(0, 16)}`;
    this.renamed = name !== inner.id;
  }
  private readonly renamed: boolean;
  /** A renamed model's answers name it by its id too (llama.cpp reports the file's path). */
  private named = (r: ChatResult): ChatResult => (this.renamed ? { ...r, model: this.id } : r);
  async chat(r: ChatRequest): Promise<ChatResult> {
    return this.named(await this.inner.chat(r));
  }
  async chatMany(rs: ChatRequest[]): Promise<ChatResult[]> {
    const out = this.inner.chatMany
      ? await this.inner.chatMany(rs)
      : await Promise.all(rs.map((r) => this.inner.chat(r)));
    return out.map(this.named);
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
  return ref.kind === "folder" ? modelFolderFingerprint(ref.dir) : contentHash({ remote: ref.id });
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
      await sleep(250);
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

/**
 * Text for a log line or an error message: URLs without their credentials (a key in a target URL's user-info or query,
 * see splitEndpointUrl), every known secret redacted, one terminal-safe line of at most `max` characters (it may quote
 * what a server answered).
 */
function shown(text: string, max?: number): string {
  return redactedForTerminal(redactUrl(text), { oneLine: true, max });
}

/**
 * Why a fetch failed, as shown: fetch says only "fetch failed", and what happened (ECONNRESET, "other side closed",
 * ECONNREFUSED) is its cause.
 */
function fetchFailure(e: Error): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return shown([e.message, cause?.code, cause?.message].filter((x, i, a) => x && a.indexOf(x) === i).join(": "));
}

/**
 * POSTs `body` as JSON (GETs when there is none); an answer other than 2xx is an error naming the config key and the
 * server, unless `accept` takes it (an answer that means the work is done already). The answer's JSON, or its text.
 */
async function requestJson(
  url: string,
  key: string,
  o: { body?: unknown; accept?: (status: number, text: string) => boolean; headers?: Record<string, string> } = {},
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(
      url,
      o.body === undefined
        ? { headers: o.headers }
        : {
            method: "POST",
            headers: { "content-type": "application/json", ...o.headers },
            body: JSON.stringify(o.body),
          },
    );
  } catch (e) {
    throw new Error(`${key}: ${shown(url)} unreachable: ${fetchFailure(e as Error)}`);
  }
  const text = await res.text();
  if (!res.ok && !o.accept?.(res.status, text))
    throw new Error(`${key}: ${shown(url)} answered ${res.status}: ${shown(text, 300)}`);
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
  const local = o.config.target.provider === "builtin" || o.config.target.provider === "llamacpp";
  return local ? localRoundModels(o) : endpointRoundModels(o);
}

/** A round model's local weights; `what` names what needs them (a remote fine-tune has none). */
function folderOf(m: RoundModel, what: string): string {
  if (m.ref.kind !== "folder") throw new Error(`${what}: round model ${m.ref.id} has no local weights`);
  return m.ref.dir;
}

/** Where a model folder's GGUF export lies, content-addressed under workDir/gguf. */
function ggufPathOf(workDir: string, dir: string): string {
  return path.join(workDir, "gguf", `${modelFolderFingerprint(dir).slice(0, 16)}.gguf`);
}

/** A model folder's GGUF export (made when missing). */
function ggufOf(workDir: string, dir: string): string {
  mkdirSync(path.join(workDir, "gguf"), { recursive: true });
  return ensureGguf(dir, ggufPathOf(workDir, dir));
}

// ---- local models: the target loads each round's folder itself (our engine, or llama.cpp through a GGUF export)

function localRoundModels(o: RoundModelsOptions): RoundModels {
  const t = o.config.target;
  const engine = o.config.cycle.engine;
  const sequences = t.sequences ?? 16;
  return {
    base: o.base,
    identity: { serving: "local", engine },
    async open(m) {
      const dir = folderOf(m, "target");
      const spec: ModelOptions =
        engine === "builtin"
          ? { ...t, provider: "builtin", model: dir, adapter: undefined, sequences }
          : { ...t, provider: "llamacpp", model: ggufOf(o.workDir, dir), adapter: undefined, sequences };
      const inner = await createChatModel({ ...spec, concurrency: t.concurrency, temperature: 0 });
      // Named by the engine, not the file: the GGUF export's path lies in the workspace (see RoundChatModel).
      return {
        model: new RoundChatModel(inner, modelFolderFingerprint(dir), spec.provider),
        context: await targetContextFor(spec),
      };
    },
    async close() {},
  };
}

// ---- deploy state: what an endpoint serves, recorded in the store

/**
 * What the endpoint serves is a fact about the endpoint, not about one run: keyed by its URL and model name. The
 * state is the served weights' fingerprint; the detail the round and the model name they answer under.
 */
interface DeployState {
  current(): { fp: string; name?: string } | undefined;
  record(fp: string, round: number, name: string): void;
}

function deployStateOf(store: Store, t: Config["target"]): DeployState {
  const key = contentHash({ baseUrl: t.baseUrl ?? null, model: t.model });
  return {
    current() {
      const row = store.states.current(DEPLOY_STATE, key);
      return row && { fp: row.state, name: (row.detail as { name?: string } | undefined)?.name };
    },
    record: (fp, round, name) => store.states.set(DEPLOY_STATE, key, fp, { round, name }),
  };
}

// ---- endpoint deploy kinds: make a round model's weights answer at an HTTP target

/** One deploy: the options, the round's model, and the name it is to answer under. */
interface Deploy {
  o: RoundModelsOptions;
  m: RoundModel;
  round: number;
  name: string;
  url: URL | undefined;
  state: DeployState;
}

/** deploy.kind command: the user's command, placeholders filled; the model answers under the target's name. */
async function deployCommand({ o, m, round, url }: Deploy): Promise<string> {
  const t = o.config.target;
  const dir = folderOf(m, "deploy.command");
  const values = {
    model_dir: dir,
    gguf: () => ggufOf(o.workDir, dir),
    round: String(round),
    base_url: t.baseUrl ?? "",
    model: t.model,
    port: url?.port ?? "",
    host: url?.hostname ?? "",
  };
  // the command inherits the environment and gets {base_url}: its output is redacted of URL keys and, as a training
  // command's is, of known secrets, token formats and values the user's template gives credential-named variables
  const redact = secretRedactor(o.config.deploy.command ?? "");
  await runShell(fillDeployCommand(o.config.deploy.command ?? "", values), {
    key: "deploy.command",
    timeoutMs: o.config.deploy.timeoutMs,
    timeoutKey: "deploy.timeoutMs",
    redact: (l) => redact(redactUrl(l)),
    log: (l) => o.log(`deploy: ${l}`),
  });
  return t.model;
}

/** The one adapter (on the base) a server loads for a round model: its adapters combined, content-addressed. */
function combinedAdapter(o: RoundModelsOptions, m: RoundModel): string {
  if (m.adapters.length === 0)
    throw new Error(
      `deploy.kind ${o.config.deploy.kind}: the round's model has no LoRA adapter (training.method lora needed)`,
    );
  const out = path.join(o.workDir, "adapters", contentHash(m.adapters).slice(0, 16));
  if (!existsSync(path.join(out, "adapter_config.json"))) combineAdapters(m.adapters, out);
  return out;
}

/**
 * Where and how the deploy reaches a vLLM server's adapter endpoints (beside /v1/chat/completions, under /v1): its root
 * without credentials or /v1, the URL's query parameters (sent with every request, as the target's client does), and
 * the target's API key as a bearer token. A server started with --api-key answers 401 to every /v1 path without it
 * (its AuthenticationMiddleware). The key is the target's: apiKeyEnv / secretsFile first, else the URL's user-info,
 * the same choice as the chat client's.
 */
function endpointAdmin(
  raw: string,
  t: Config["target"],
  what: string,
): { root: string; query: string; headers: Record<string, string> } {
  const endpoint = splitEndpointUrl(raw);
  let key: string | undefined;
  try {
    key = resolveApiKey({ apiKeyEnv: t.apiKeyEnv, secretsFile: t.secretsFile, secretName: t.secretName });
  } catch (e) {
    throw new Error(`${what}: the target's API key (target.apiKeyEnv / secretsFile): ${(e as Error).message}`);
  }
  key ??= endpoint.key;
  const params = new URLSearchParams(endpoint.params).toString();
  return {
    root: rootOf(endpoint.base),
    query: params ? `?${params}` : "",
    headers: key ? { authorization: `Bearer ${key}` } : {},
  };
}

/** The path the vLLM server loads a combined adapter from (deploy.vllm.adapterPath: the same folder as it sees it). */
function vllmLoraPath(o: RoundModelsOptions, adapter: string): string {
  const at = o.config.deploy.vllm?.adapterPath;
  return at ? path.join(at, path.basename(adapter)) : adapter;
}

/** A model object of an endpoint's GET /v1/models (OpenAI's list; vLLM and `breakfix serve` add fields). */
interface ListedModel {
  id: string;
  /** vLLM: the path a LoRA module was loaded from (the base's path for the base). */
  root?: string;
  /** `breakfix serve`: the served weights' content fingerprint (models/fingerprint.ts servedWeightsFingerprint). */
  weights_fingerprint?: string;
}

/**
 * What the target's endpoint lists under `name` (GET /v1/models), or undefined when it does not list it; an endpoint
 * that cannot be asked is an error naming `what`.
 */
async function listedModel(o: RoundModelsOptions, name: string, what: string): Promise<ListedModel | undefined> {
  const t = o.config.target;
  const { root, query, headers } = endpointAdmin(
    (o.config.deploy.kind === "vllm" ? o.config.deploy.vllm?.baseUrl : undefined) ?? t.baseUrl ?? "",
    t,
    what,
  );
  const url = `${root}/v1/models${query}`;
  const list = await requestJson(url, what, { headers });
  const data = (list as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(data))
    throw new Error(
      `${what}: ${shown(url)} answered no model list (no "data" array): ${shown(typeof list === "string" ? list : JSON.stringify(list), 300)}`,
    );
  return (data as ListedModel[]).find((m) => m && typeof m === "object" && m.id === name);
}

/**
 * Is what answers under `name` the round's weights? An endpoint is not trusted to serve what a deploy put there: the
 * port may be held by another process (a `breakfix serve` left running by a killed run, serving an older round under
 * the same name, while the new one could not bind), or a vLLM server may hold the name from another path. What can be
 * checked is checked: `breakfix serve` lists the served weights' fingerprint (required for deploy.kind serve, which
 * starts it; compared when listed for a command deploy), vLLM the path of each LoRA module, Ollama's /api/show the
 * adapter blobs of the model (see ollamaMismatch). A mismatch is an error naming both: measuring other weights under
 * this round's name would corrupt every figure of the round.
 */
async function checkServed(o: RoundModelsOptions, m: RoundModel, name: string, fp: string): Promise<void> {
  const kind = o.config.deploy.kind;
  // vLLM serves the base under the target's name as the user loaded it (no LoRA module to check); so does Ollama
  // (ollamaMismatch checks nothing under the target's name)
  if (kind === "vllm" && name === o.config.target.model) return;
  const what = `deploy.${kind}`;
  if (kind === "ollama") {
    const wrong = await ollamaMismatch(o, m, name);
    // nothing is recorded, so a rerun creates it again (as an open that finds a recorded name replaced does)
    if (wrong) throw new Error(`${what}: ${wrong}: another deploy replaced it? rerun to create it again`);
    return;
  }
  if (kind === "serve" || kind === "command") {
    const listed = await listedModel(o, name, what);
    const got = listed?.weights_fingerprint;
    if (got === fp || (got === undefined && kind === "command")) return;
    // a command deploy may serve the round's GGUF export ({gguf}): its file hash names the same weights
    const gguf = m.ref.kind === "folder" ? ggufPathOf(o.workDir, m.ref.dir) : undefined;
    if (kind === "command" && gguf && existsSync(gguf) && got === fileSha256(gguf)) return;
    throw new Error(
      `${what}: the endpoint ${shown(o.config.target.baseUrl ?? "")} answers as ${shown(name)} with ${
        got ? `other weights (fingerprint ${shown(got.slice(0, 16))}...)` : "weights it does not name"
      }, not round weights ${fp.slice(0, 16)}...: is another server on that port (a \`breakfix serve\` left by a killed run)? Stop it and rerun`,
    );
  }
  if (kind === "vllm") {
    const listed = await listedModel(o, name, what);
    const want = vllmLoraPath(o, combinedAdapter(o, m));
    if (listed?.root === want) return;
    throw new Error(
      listed
        ? `${what}: the server holds ${shown(name)} loaded from ${shown(listed.root ?? "an unnamed path")}, not from ${shown(want)}: unload it (POST /v1/unload_lora_adapter) and rerun`
        : `${what}: the server does not list ${shown(name)} in /v1/models after loading it`,
    );
  }
}

/** deploy.kind vllm: the combined adapter loaded as a LoRA module under `name`; the previous round's unloaded. */
async function deployVllm({ o, m, name, state }: Deploy): Promise<string> {
  const t = o.config.target;
  const vllm = o.config.deploy.vllm;
  const { root, query, headers } = endpointAdmin(vllm?.baseUrl ?? t.baseUrl ?? "", t, "deploy.vllm");
  const adapter = combinedAdapter(o, m);
  const loraPath = vllmLoraPath(o, adapter);
  // vLLM refuses an adapter above the server's --max-lora-rank (default 16); the combined rank is the sum of the
  // round's adapters' ranks (x3 on Phi-3's fused qkv_proj), so say it before a refusal does.
  const { r } = JSON.parse(readFileSync(path.join(adapter, "adapter_config.json"), "utf8")) as { r: number };
  o.log(
    `deploy (vllm): ${name} is a LoRA adapter of rank ${r} (the server needs --enable-lora --max-lora-rank >= ${r})`,
  );
  // vLLM answers 400 "The lora adapter 'NAME' has already been loaded" to a name it holds: a deploy of this round that
  // loaded it but was never recorded (a killed run, a health check that timed out). The name carries the weights'
  // fingerprint, so what it holds is this round's adapter: the deploy goes on to the health check.
  const alreadyLoaded = (status: number, text: string) => {
    if (status !== 400 || !text.includes(`'${name}' has already been loaded`)) return false;
    o.log(`deploy (vllm): ${name} is loaded already (an earlier deploy of this round); using it`);
    return true;
  };
  await requestJson(`${root}/v1/load_lora_adapter${query}`, "deploy.vllm", {
    body: { lora_name: name, lora_path: loraPath },
    accept: alreadyLoaded,
    headers,
  });
  if (vllm?.unloadOld !== false) {
    const previous = state.current();
    if (previous?.name && previous.name !== name && previous.name !== t.model)
      await requestJson(`${root}/v1/unload_lora_adapter${query}`, "deploy.vllm", {
        body: { lora_name: previous.name },
        headers,
      }).catch((e) => o.log(`deploy (vllm): could not unload ${previous.name}: ${(e as Error).message}`));
  }
  return name;
}

/** Ollama's root URL, where its /api endpoints lie: deploy.ollama.baseUrl, else the target's without /v1. */
function ollamaRoot(o: RoundModelsOptions): string {
  return o.config.deploy.ollama?.baseUrl ?? rootOf(o.config.target.baseUrl ?? "http://127.0.0.1:11434");
}

/** The round's combined adapter as GGUF (for the base folder) and its blob digest in Ollama, `sha256:<hex>`. */
function ollamaAdapter(o: RoundModelsOptions, m: RoundModel): { file: string; digest: string } {
  const base = o.base.kind === "folder" ? o.base.dir : folderOf(m, "deploy.ollama");
  const file = ensureGgufAdapter(combinedAdapter(o, m), base);
  return { file, digest: `sha256:${fileSha256(file)}` };
}

/**
 * What is wrong with the model Ollama holds under `name`, or undefined when it carries the round's adapter. POST
 * /api/show answers its Modelfile, rendered from the model's layers (Ollama's server/images.go, Model.String):
 * `FROM <path>` then one `ADAPTER <path>` line per adapter, each path a file of Ollama's blob store named by the
 * blob's digest, `sha256-<hex>`. The round's adapter blob must be among them (a base model that carries adapters of
 * its own passes them on). The base under the target's name is not checked: the user loaded it.
 */
async function ollamaMismatch(o: RoundModelsOptions, m: RoundModel, name: string): Promise<string | undefined> {
  if (name === o.config.target.model) return undefined;
  const url = `${ollamaRoot(o)}/api/show`;
  const res = await requestJson(url, "deploy.ollama", { body: { model: name } });
  const modelfile = (res as { modelfile?: unknown } | undefined)?.modelfile;
  if (typeof modelfile !== "string")
    throw new Error(
      `deploy.ollama: ${shown(url)} answered no modelfile for ${shown(name)}: ${shown(typeof res === "string" ? res : JSON.stringify(res), 300)}`,
    );
  const blobs = modelfile
    .split(/\r?\n/)
    .map((l) => /^ADAPTER\s+(.+)$/.exec(l.trim())?.[1])
    .filter((p) => p !== undefined)
    .map(
      (p) =>
        p
          .trim()
          .replace(/^"(.*)"$/, "$1")
          .split(/[\\/]/)
          .pop() ?? "",
    );
  const digest = ollamaAdapter(o, m).digest;
  if (blobs.includes(digest.replace(":", "-"))) return undefined;
  const brief = (blob: string) => (/^sha256-[0-9a-f]{64}$/.test(blob) ? `${blob.slice(0, 23)}...` : shown(blob, 80));
  const held = blobs.length
    ? `adapter blob${blobs.length > 1 ? "s" : ""} ${blobs.map(brief).join(", ")}`
    : "no adapter";
  return `Ollama holds ${shown(name)} with ${held}, not the round's adapter ${digest.slice(0, 23)}...`;
}

/** deploy.kind ollama: the combined adapter as GGUF, uploaded as a blob, and a model `name` created on the base. */
async function deployOllama({ o, m, name }: Deploy): Promise<string> {
  const ollama = o.config.deploy.ollama;
  if (!ollama) throw new Error("deploy.ollama: deploy.kind ollama needs deploy.ollama.baseModel");
  const root = ollamaRoot(o);
  const { file: ggufAdapter, digest } = ollamaAdapter(o, m);
  const blobUrl = `${root}/api/blobs/${digest}`;
  // Every blob error names what was being deployed (the round's model on its base), the blob and where it was sent.
  const upload = `uploading the adapter of ${name} (on ${ollama.baseModel}) as blob ${digest} to ${shown(blobUrl)}`;
  const head = await fetch(blobUrl, { method: "HEAD" }).catch((e: Error) => {
    throw new Error(`deploy.ollama: ${upload} failed: ${shown(root)} unreachable: ${fetchFailure(e)}`);
  });
  if (head.status !== 200) {
    const up = await fetch(blobUrl, { method: "POST", body: readFileSync(ggufAdapter) }).catch((e: Error) => {
      throw new Error(`deploy.ollama: ${upload} failed: ${fetchFailure(e)}`);
    });
    if (!up.ok)
      throw new Error(`deploy.ollama: ${upload} failed: answered ${up.status}: ${shown(await up.text(), 300)}`);
  }
  const res = await requestJson(`${root}/api/create`, "deploy.ollama", {
    body: { model: name, from: ollama.baseModel, adapters: { "adapter.gguf": digest }, stream: false },
  });
  const status = (res as { status?: string }).status;
  if (status !== "success") throw new Error(`deploy.ollama: /api/create answered ${shown(JSON.stringify(res), 300)}`);
  return name;
}

// ---- endpoint models: deploy when the endpoint may serve other weights, then a client of the target

function endpointRoundModels(o: RoundModelsOptions): RoundModels {
  const t = o.config.target;
  const deploy = o.config.deploy;
  const url = t.baseUrl ? new URL(t.baseUrl) : undefined;
  let server: ChildProcess | undefined;
  const baseFp = refFingerprint(o.base);
  const state = deployStateOf(o.store, t);
  /** Deploys a round model and returns the model name the target must use for it. */
  const deployRound = async (m: RoundModel, round: number, fp: string): Promise<string> => {
    const name = round === 0 || fp === baseFp ? t.model : `${t.model}-r${round}-${fp.slice(0, 8)}`;
    o.log(`deploy (${deploy.kind}): round ${round} model to ${t.baseUrl ? shown(t.baseUrl) : "the target"} as ${name}`);
    const d: Deploy = { o, m, round, name, url, state };
    if (deploy.kind === "serve") {
      if (!url) throw new Error("target.baseUrl: deploy.kind serve needs the target's baseUrl (host and port)");
      await stopServer(server);
      server = startServe(folderOf(m, "deploy serve"), url, t.model, path.join(o.workDir, "serve.log"));
      return t.model;
    }
    if (deploy.kind === "command") return deployCommand(d);
    if (name === t.model) return name; // the base: what the server loaded
    if (deploy.kind === "vllm") return deployVllm(d);
    if (deploy.kind === "ollama") return deployOllama(d);
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
      const deployed = state.current();
      // With no record of this endpoint in the workspace, serve and command deploys start from the base weights too
      // (the endpoint may serve anything: another run's model, an older checkpoint); vLLM and Ollama serve the base
      // under the target's name, as the user loaded it.
      const current = deployed?.fp ?? (deploy.kind === "serve" || deploy.kind === "command" ? undefined : baseFp);
      let name = deployed?.name ?? t.model;
      let needs = current !== fp || (deploy.kind === "serve" && !server);
      if (!needs && deploy.kind !== "serve") {
        // The endpoint should serve this model already; if it does not answer (a server that died, a deploy that
        // failed half-way in a killed run; a restarted vLLM, which keeps dynamically loaded adapters in memory only),
        // the deploy brings it up again.
        const probe = await createChatModel({ ...t, model: name, temperature: 0 });
        needs = !(await answers(probe));
        await probe.close?.();
        // it answers: under this round's weights? Decision: a name Ollama holds with another adapter (or none) is
        // created again, not refused. The name is this deploy's own (target name, round, weights' fingerprint), so what
        // holds it now is no round's model of this record (another deploy re-created it; the adapter was exported again
        // since), /api/create replaces a model of the same name, and a refusal would stop every rerun on the same record
        // until someone deleted it by hand. The check after that deploy still stops the round if Ollama holds another
        // adapter even then. The other kinds stop with the error: vLLM keeps a name it holds (a load answers "already
        // loaded"), and serve / command cannot replace another server on the port.
        if (!needs && deploy.kind === "ollama") {
          const wrong = await ollamaMismatch(o, m, name);
          if (wrong) o.log(`deploy (ollama): ${wrong}; creating it again`);
          needs = wrong !== undefined;
        } else if (!needs) await checkServed(o, m, name, fp);
      }
      if (needs) {
        name = await deployRound(m, round, fp);
        const probe = await createChatModel({ ...t, model: name, temperature: 0 });
        try {
          await waitUntilAnswers(probe, deploy.healthTimeoutMs);
        } finally {
          await probe.close?.();
        }
        if (server && (server.exitCode !== null || server.signalCode !== null))
          throw new Error(
            `deploy.serve: the \`breakfix serve\` started for round ${round} exited (${server.exitCode ?? server.signalCode}) ` +
              `while something else answers at ${shown(t.baseUrl ?? "")}; see ${path.join(o.workDir, "serve.log")}`,
          );
        await checkServed(o, m, name, fp);
        state.record(fp, round, name);
      }
      const client = await createChatModel({ ...t, model: name, temperature: 0 });
      const context =
        m.ref.kind === "folder" ? await targetContextFor({ provider: "builtin", model: m.ref.dir }) : undefined;
      return { model: new RoundChatModel(client, fp), context };
    },
    async close() {
      await stopServer(server);
      server = undefined;
    },
  };
}

/**
 * The combined PEFT adapter as a GGUF LoRA adapter (what llama.cpp and Ollama load) for the base folder:
 * ADAPTER_DIR/adapter.gguf, exported only when missing. Written under a temporary name and renamed (as ggufFromFolder
 * does), because it is reused by its existence: a killed export must never leave a half file there.
 */
export function ensureGgufAdapter(adapterDir: string, baseDir: string): string {
  const out = path.join(adapterDir, "adapter.gguf");
  if (existsSync(out)) return out;
  const { config } = loadModel(baseDir);
  const a = loadPeft(adapterDir);
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    exportGgufLora(tmp, config, a.weights, a.config);
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
  }
  return out;
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
