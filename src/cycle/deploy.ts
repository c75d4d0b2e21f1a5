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
import { createChatModel, type ModelOptions } from "../models/registry.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../models/types.ts";
import { ensureGguf } from "../nn/gguf/folder.ts";
import { type TargetContext, targetContextFor } from "../redteam/campaign/context.ts";
import type { Store } from "../store/store.ts";

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
  /** The model's context window, for fitting attacks (from its own tokenizer and config). */
  context?: TargetContext;
}

/** The base model's weights and the way every round's model answers (the scenario's `models`). */
export interface RoundModels {
  /** Trainable weights of the base model (a Hugging Face folder). */
  readonly baseDir: string;
  /** How round models are served, for the run id (changing it starts another run). */
  readonly identity: Record<string, unknown>;
  /** Makes the round model in `dir` answer (deploying it when needed) and returns a client for it. */
  open(dir: string, round: number): Promise<OpenedModel>;
  /** Stops what this process started (a managed `breakfix serve`). */
  close(): Promise<void>;
}

/** Placeholders a deploy command may use; each value is shell-quoted when filled in. */
export const DEPLOY_PLACEHOLDERS = ["model_dir", "gguf", "round", "base_url", "model", "port", "host"] as const;

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** Fills {placeholder}s; an unknown one is an error naming it (never left for the shell to misread). */
export function fillDeployCommand(template: string, values: Record<string, string | (() => string)>): string {
  return template.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    if (!(DEPLOY_PLACEHOLDERS as readonly string[]).includes(name))
      throw new Error(`deploy.command: unknown placeholder {${name}}; known: ${DEPLOY_PLACEHOLDERS.join(", ")}`);
    const v = values[name];
    return shellQuote(typeof v === "function" ? v() : (v ?? ""));
  });
}

/** Runs a shell command to completion within a time limit; rejects with its exit status and last output lines. */
export function runShell(command: string, timeoutMs: number, log: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], { stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const onData = (b: Buffer) => {
      for (const line of b.toString("utf8").split("\n").filter(Boolean)) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        log(`deploy: ${line}`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `deploy.command failed (${signal ? `killed by ${signal}${signal === "SIGKILL" ? `, over ${timeoutMs} ms` : ""}` : `exit ${code}`})${tail.length ? `: ${tail.slice(-3).join(" | ")}` : ""}`,
          ),
        );
    });
  });
}

/** Waits until the endpoint answers a one-token chat (the deployed model is up), or fails after timeoutMs. */
export async function waitUntilAnswers(model: ChatModel, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try {
      await model.chat({ messages: [{ role: "user", content: "ping" }], maxTokens: 1, temperature: 0, noCache: true });
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
    await m.chat({ messages: [{ role: "user", content: "ping" }], maxTokens: 1, temperature: 0, noCache: true });
    return true;
  } catch {
    return false;
  }
}

export interface RoundModelsOptions {
  config: Config;
  baseDir: string;
  store: Store;
  /** Folder for GGUF exports (content-addressed). */
  ggufDir: string;
  log: (l: string) => void;
}

/**
 * The round models of a config: local targets load each folder; HTTP targets deploy it (deploy.kind serve or
 * command). A deploy that fails throws (the step fails, nothing recorded is lost, a re-run retries it).
 */
export function roundModelsFor(o: RoundModelsOptions): RoundModels {
  const t = o.config.target;
  const deploy = o.config.deploy;
  const local = t.provider === "builtin" || t.provider === "llamacpp";
  const engine = o.config.cycle.engine;
  const sequences = t.sequences ?? 16;
  const gguf = (dir: string) => {
    mkdirSync(o.ggufDir, { recursive: true });
    return ensureGguf(dir, path.join(o.ggufDir, `${modelFingerprint(dir).slice(0, 16)}.gguf`));
  };
  if (local) {
    if (deploy.kind !== "none")
      throw new Error(
        `deploy.kind: ${deploy.kind} serves an HTTP target; target.provider ${t.provider} loads each round's model itself (use deploy.kind none)`,
      );
    return {
      baseDir: o.baseDir,
      identity: { serving: "local", engine },
      async open(dir) {
        const spec: ModelOptions =
          engine === "builtin"
            ? { ...t, provider: "builtin", model: dir, adapter: undefined, sequences }
            : { ...t, provider: "llamacpp", model: gguf(dir), adapter: undefined, sequences };
        const inner = await createChatModel({ ...spec, concurrency: t.concurrency, temperature: 0 });
        return { model: new RoundChatModel(inner, modelFingerprint(dir)), context: await targetContextFor(spec) };
      },
      async close() {},
    };
  }
  if (deploy.kind === "command" && !deploy.command)
    throw new Error("deploy.command: deploy.kind command needs a command (e.g. ./restart-vllm.sh {model_dir})");
  const url = t.baseUrl ? new URL(t.baseUrl) : undefined;
  let server: ChildProcess | undefined;
  const baseFp = modelFingerprint(o.baseDir);
  // What the endpoint serves is a fact about the endpoint, not about one run: keyed by its URL and model name.
  const deployedKey = () => contentHash({ baseUrl: t.baseUrl ?? null, model: t.model });
  const deployed = () => o.store.states.current(DEPLOY_STATE, deployedKey())?.state;
  return {
    baseDir: o.baseDir,
    identity: { serving: "endpoint", deploy: deploy.kind },
    async open(dir, round) {
      const fp = modelFingerprint(dir);
      // The endpoint serves the base model until this run deploys something else; with deploy kind serve nothing
      // answers until breakfix starts it.
      const current = deployed() ?? (deploy.kind === "serve" ? undefined : baseFp);
      const client = await createChatModel({ ...t, temperature: 0 });
      let needs = deploy.kind !== "none" && (current !== fp || (deploy.kind === "serve" && !server));
      // The endpoint should serve this model already; if it does not answer (a server that died, a deploy that failed
      // half-way in a killed run), the deploy command brings it up again.
      if (!needs && deploy.kind === "command" && !(await answers(client))) needs = true;
      if (needs) {
        o.log(`deploy: round ${round} model (${path.basename(dir)}) to ${t.baseUrl ?? "the target"} as ${t.model}`);
        if (deploy.kind === "serve") {
          if (!url) throw new Error("target.baseUrl: deploy.kind serve needs the target's baseUrl (host and port)");
          await stopServer(server);
          server = startServe(dir, url, t.model, path.join(o.ggufDir, "..", "serve.log"));
        } else {
          const values = {
            model_dir: dir,
            gguf: () => gguf(dir),
            round: String(round),
            base_url: t.baseUrl ?? "",
            model: t.model,
            port: url?.port ?? "",
            host: url?.hostname ?? "",
          };
          await runShell(fillDeployCommand(deploy.command ?? "", values), deploy.timeoutMs, o.log);
        }
        await waitUntilAnswers(client, deploy.healthTimeoutMs);
        o.store.states.set(DEPLOY_STATE, deployedKey(), fp, { round, dir });
      } else if (deploy.kind === "none" && fp !== baseFp)
        throw new Error(
          "deploy.kind: none cannot serve a trained round model at an HTTP target; set deploy.kind to serve or command",
        );
      return {
        model: new RoundChatModel(client, fp),
        context: await targetContextFor({ provider: "builtin", model: dir }),
      };
    },
    async close() {
      await stopServer(server);
      server = undefined;
    },
  };
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
