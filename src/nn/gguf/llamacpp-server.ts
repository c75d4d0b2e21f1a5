/**
 * llama.cpp's own server (`llama-server`) as breakfix's local GGUF engine, managed by breakfix: started on a free
 * 127.0.0.1 port for one GGUF (+ GGUF LoRA adapters), health-checked, stopped, restarted on a new model or adapter.
 *
 * Why (issue #25, measured by `npm run perf:generate`): the server's C++ loop batches every slot in flight into one
 * decode per step and samples on its own thread, where node-llama-cpp resumes a JS generator and hops to a libuv
 * worker per token per sequence; on the demo model (1.8M parameters, where that overhead is nearly all the work) the
 * whole demo suite (1,567 items, 16 sequences) took 26.7 s on this engine and 83.5 s on LlamaCppRunner in one
 * perf:generate run on the shared 2-core machine, with the same greedy outputs (0 of 1,567 answers differ).
 *
 * The binary is built once at set-up (`npm run setup:llama`, scripts/build-llama-server.sh: CMake, CPU, Release, only
 * the server target) from the llama.cpp source node-llama-cpp ships, into node-llama-cpp's llama/ folder, and found
 * there (or at $BREAKFIX_LLAMA_SERVER). Without it the llamacpp provider runs in-process (LlamaCppRunner) and says
 * once how to build the server.
 *
 * Same results: prompts go as token ids (the provider renders and tokenizes them exactly as for the in-process path,
 * with a vocabulary-only load of the GGUF here), to `/completion` with `return_tokens`; each slot gets the context the
 * in-process path gives a sequence (F16 KV cache, flash attention auto, one KV stream per slot). Greedy is the
 * server's temperature-0 chain (argmax); sampled requests turn its extra samplers off (top-k 0, top-p 1, min-p 0, no
 * penalties) but draw from llama.cpp's RNG, so sampled text is not the in-process path's. Prompt-prefix reuse is the
 * server's (`cache_prompt`: a request goes to the slot holding the longest shared prefix), which multi-turn attacks and
 * conversations with a shared system prompt use.
 *
 * Port: the server binds a free one itself (--port 0) and says which in its log; no port is picked here and bound
 * later. A server that dies while running is started again (LlamaServerRunner.revive).
 *
 * Lifetime: the server runs under a small `sh` watcher that kills it when breakfix's end of a pipe closes, so a
 * breakfix killed with SIGKILL leaves no server behind; the child and its pipe do not keep Node's event loop alive.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { LlamaModel } from "node-llama-cpp";
import type { ControlTokenizer } from "../chat-encode.ts";
import {
  controlTokenizerOf,
  firstStop,
  type Generation,
  getCpuLlama,
  type LoraAdapterRef,
  type SamplingOptions,
} from "./llamacpp.ts";

/** Where `npm run setup:llama` builds llama-server: inside node-llama-cpp's llama/ folder (the source's owner). */
export function llamaServerBuildDir(): string {
  const entry = fileURLToPath(import.meta.resolve("node-llama-cpp"));
  let dir = path.dirname(entry);
  while (!existsSync(path.join(dir, "llama", "llama.cpp")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, "llama", "server-build");
}

/** The llama-server binary: $BREAKFIX_LLAMA_SERVER, else the set-up build; undefined when there is none. */
export function findLlamaServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.BREAKFIX_LLAMA_SERVER;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  const built = path.join(llamaServerBuildDir(), "bin", "llama-server");
  return existsSync(built) ? built : undefined;
}

export const LLAMA_SERVER_MISSING =
  "llama.cpp's server is not built (run `npm run setup:llama` once: it compiles llama-server from the llama.cpp " +
  "source node-llama-cpp ships, a few minutes on 2 cores); GGUF models run in-process through node-llama-cpp, " +
  "which is slower on many short requests";

/**
 * Models up to this size decode on one thread by default. Their per-step work is so small that ggml's thread barriers
 * dominate, and on a busy machine a second spinning thread is far worse: 128 prompts x 64 tokens of the demo model
 * (16 slots) took 1.9-6.5 s on 1 thread and 34-36 s on 2, measured interleaved on the shared 2-core machine.
 */
export const SMALL_MODEL_BYTES = 64 * 1024 ** 2;

export interface LlamaServerOptions {
  /** The .gguf file. */
  model: string;
  lora?: readonly LoraAdapterRef[];
  /** Parallel slots (sequences decoded together). */
  slots: number;
  /** Context cells per slot (the server's -c is slots x this). */
  contextPerSlot: number;
  /** Threads for decoding (default: 1 for a model up to SMALL_MODEL_BYTES, else node-llama-cpp's math cores). */
  threads?: number;
  /** KV cache precision (default f16, llama.cpp's and the in-process path's default). */
  kvCache?: "f16" | "f32";
  /** Flash attention (default auto). */
  flashAttention?: boolean | "auto";
  /** The binary (default findLlamaServer()). */
  binary?: string;
  /** How long start() waits for /health (default 120 s). */
  startTimeoutMs?: number;
}

/** The server's /completion answer (the fields we read). */
interface CompletionAnswer {
  content?: string;
  tokens?: number[];
  stop_type?: string;
  tokens_predicted?: number;
  tokens_cached?: number;
}

/**
 * A free TCP port on 127.0.0.1 (the OS picks it; a process binds it a moment later, so another may take it first:
 * LlamaServer does not use it, see LISTENING; perf/demo-suite.ts's baseline server does).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * The address llama-server logs once it listens and its model is loaded ("listening on http://127.0.0.1:PORT"). It is
 * started with --port 0 and binds a free port itself: a port probed free here and bound by the server later could be
 * taken in between (by another process, or a replica starting beside it), and /health would then be answered by that
 * process, its answers taken for our model's.
 */
const LISTENING = /listening on https?:\/\/\S*:(\d+)/;

/**
 * Runs "$0" "$@" (the server) in the background and kills it when stdin (our pipe) reaches end-of-file: on stop(),
 * or when breakfix dies in any way. Exits with the server's status.
 */
const WATCHER =
  'exec 3<&0 </dev/null; "$0" "$@" & p=$!; (read _ <&3; kill $p 2>/dev/null) & w=$!; wait $p; rc=$?; ' +
  "kill $w 2>/dev/null; exit $rc";

/**
 * The pinned llama-server parses every answer as a chat message, /completion's too, and answers HTTP 500 when that
 * parse fails; its default content-only parser fails on text that is not valid UTF-8 (a byte-level model's answer cut
 * by max tokens inside a character, or a random test model's bytes). A parser arena of one epsilon (always matches,
 * consumes nothing) never fails; /completion's `content` and `tokens` are the raw generation either way.
 */
const ACCEPT_ANY_OUTPUT = JSON.stringify({ parsers: [{ type: "epsilon" }], rules: {}, root: 0 });

/**
 * breakfix's environment without the variables llama-server reads as settings: every option of llama.cpp's server
 * also comes from the environment (LLAMA_ARG_N_PREDICT, LLAMA_ARG_HF_REPO, LLAMA_API_KEY, ...; the command line wins
 * only for the options it names) and AIP_MODE=PREDICTION moves it to $AIP_HTTP_PORT, so a variable a user exported
 * for their own llama-server would change our generations, load another model or refuse our requests (401).
 */
export function llamaServerEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith("LLAMA_") && !k.startsWith("AIP_")));
}

function abortError(): Error {
  const e = new Error("generation aborted");
  e.name = "AbortError";
  return e;
}

/**
 * Log folders of the servers this process started and has not stopped: removed when the process exits (a run ended
 * by an error or a signal never reaches stop(); each folder holds a few MB of server log).
 */
const liveLogDirs = new Set<string>();
let exitHook = false;
function trackLogDir(dir: string): void {
  liveLogDirs.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const d of liveLogDirs) rmSync(d, { recursive: true, force: true });
  });
}

/**
 * A request failed because the server process had ended on its own (a crash, the OOM killer): the runner starts it
 * again (LlamaServerRunner.revive). `launch` is the start it belonged to, so a late failure of an old process does not
 * restart the new one.
 */
export class LlamaServerExitedError extends Error {
  constructor(
    message: string,
    readonly launch: number,
  ) {
    super(message);
    this.name = "LlamaServerExitedError";
  }
}

/** One managed llama-server process. */
export class LlamaServer {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private agent: http.Agent;
  private logDir: string;
  private port = 0;
  /** Prompt tokens the server took from a slot's cache instead of decoding them (prefix reuse). */
  readonly stats = { requests: 0, promptTokensCached: 0 };
  /** Starts so far (restarts included). */
  launches = 0;
  /**
   * The server's API key, random per server: it listens on 127.0.0.1 with llama.cpp's CORS policy (any origin), so
   * without one any web page in the user's browser could post prompts to it and read the answers. Given to it in its
   * environment (LLAMA_API_KEY), not on its command line, which every local user can read.
   */
  private readonly apiKey = randomBytes(24).toString("base64url");

  private constructor(private opts: LlamaServerOptions) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, opts.slots) * 2 });
    this.logDir = mkdtempSync(path.join(tmpdir(), "breakfix-llama-server-"));
    trackLogDir(this.logDir);
  }

  /** Starts a server and waits until /health answers ok; throws with the server's last log lines if it cannot. */
  static async start(opts: LlamaServerOptions): Promise<LlamaServer> {
    const s = new LlamaServer(opts);
    try {
      await s.launch();
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get options(): Readonly<LlamaServerOptions> {
    return this.opts;
  }

  /** The watcher's pid (the server is its child), while running. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  private async args(): Promise<string[]> {
    const o = this.opts;
    const threads = o.threads ?? (statSync(o.model).size <= SMALL_MODEL_BYTES ? 1 : (await getCpuLlama()).cpuMathCores);
    const kv = o.kvCache ?? "f16";
    const fa = o.flashAttention ?? "auto";
    const a = [
      ...["--model", o.model, "--host", "127.0.0.1", "--port", "0"],
      ...["--parallel", String(o.slots), "--ctx-size", String(o.slots * o.contextPerSlot), "--no-kv-unified"],
      ...["--threads", String(threads), "--threads-batch", String(threads)],
      ...["--cache-type-k", kv, "--cache-type-v", kv, "--flash-attn", fa === "auto" ? "auto" : fa ? "on" : "off"],
      ...["--n-gpu-layers", "0", "--no-webui", "--cont-batching"],
    ];
    for (const l of o.lora ?? []) {
      if ((l.scale ?? 1) === 1) a.push("--lora", l.path);
      else a.push("--lora-scaled", `${l.path}:${l.scale}`);
    }
    return a;
  }

  private logFile(): string {
    return path.join(this.logDir, "llama-server.log");
  }

  private logText(): string {
    try {
      return readFileSync(this.logFile(), "utf8");
    } catch {
      return "";
    }
  }

  /** The server's last log lines (for error messages). */
  logTail(lines = 15): string {
    return this.logText().trimEnd().split("\n").slice(-lines).join("\n");
  }

  private async launch(): Promise<void> {
    const binary = this.opts.binary ?? findLlamaServer();
    if (!binary) throw new Error(LLAMA_SERVER_MISSING);
    if (!existsSync(this.opts.model)) throw new Error(`${this.opts.model}: no such GGUF file`);
    for (const l of this.opts.lora ?? []) if (!existsSync(l.path)) throw new Error(`${l.path}: no such GGUF adapter`);
    this.launches++;
    this.port = 0; // known once the server says where it listens
    const log = openSync(this.logFile(), "w");
    let child: ChildProcess;
    try {
      child = spawn("sh", ["-c", WATCHER, binary, ...(await this.args())], {
        stdio: ["pipe", log, log],
        env: { ...llamaServerEnv(), LLAMA_API_KEY: this.apiKey },
        detached: true, // its own process group, so stop() can kill the watcher and the server together
      });
    } finally {
      closeSync(log);
    }
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    child.once("error", () => undefined); // a spawn error shows as an exit; the health wait reports it
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 120_000);
    let exitCode: number | null | undefined;
    void this.exited.then((c) => {
      exitCode = c;
    });
    while (Date.now() < deadline) {
      if (exitCode !== undefined || child.exitCode !== null)
        throw new Error(
          `llama-server exited during start-up (status ${exitCode ?? child.exitCode}):\n${this.logTail()}`,
        );
      if (!this.port) this.port = Number(LISTENING.exec(this.logText())?.[1] ?? 0);
      if (this.port && (await this.health())) return;
      await sleep(50);
    }
    throw new Error(
      `llama-server did not become healthy in ${this.opts.startTimeoutMs ?? 120_000} ms:\n${this.logTail()}`,
    );
  }

  /**
   * Whether the server process ended on its own (not by stop()): waits up to `waitMs` for its exit to be seen, since a
   * request can fail on the closed socket a moment before the exit is reported.
   */
  async died(waitMs = 1_000): Promise<boolean> {
    const child = this.child;
    if (!child || !this.exited) return false;
    if (child.exitCode !== null || child.signalCode !== null) return true;
    let timer: NodeJS.Timeout | undefined;
    const seen = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), waitMs);
      }),
    ]);
    clearTimeout(timer);
    return seen;
  }

  /** True when the server answers GET /health with 200 (model loaded, ready for requests). */
  async health(): Promise<boolean> {
    if (!this.port) return false;
    try {
      const r = await this.request("GET", "/health", undefined, 2_000);
      return r.status === 200;
    } catch {
      return false;
    }
  }

  private request(
    method: string,
    pathname: string,
    body?: unknown,
    timeoutMs?: number,
    signal?: AbortSignal,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          host: "127.0.0.1",
          port: this.port,
          method,
          path: pathname,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            ...(data ? { "content-type": "application/json", "content-length": data.length } : {}),
          },
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      if (timeoutMs)
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`llama-server: no answer in ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(data);
    });
  }

  /** One generation from prompt token ids (the server queues requests beyond its slots). */
  async complete(prompt: readonly number[], o: SamplingOptions): Promise<Generation> {
    if (o.signal?.aborted) throw abortError();
    if (o.stopTokens?.length) throw new Error("llama-server engine: stopTokens are not supported (use stop strings)");
    if (o.maxTokens <= 0) return { tokens: [], text: "", finishReason: "length" };
    const temperature = o.temperature ?? 0;
    const body: Record<string, unknown> = {
      prompt: [...prompt],
      n_predict: o.maxTokens,
      temperature,
      cache_prompt: true,
      return_tokens: true,
      stream: false,
      chat_parser: ACCEPT_ANY_OUTPUT,
      ...(o.stop?.length ? { stop: [...o.stop] } : {}),
      ...(temperature > 0
        ? {
            top_k: o.topK ?? 0,
            top_p: o.topP ?? 1,
            min_p: 0,
            repeat_penalty: 1,
            seed: o.seed ?? 0,
          }
        : {}),
    };
    let r: { status: number; text: string };
    const launch = this.launches;
    const url = this.url;
    try {
      r = await this.request("POST", "/completion", body, undefined, o.signal);
    } catch (err) {
      if (o.signal?.aborted) throw abortError();
      const message = `llama-server at ${url}: ${(err as Error).message}`;
      // started again since this request was sent (another request that failed with it saw the death first): the
      // process this request went to died, though the one running now has not
      if (this.launches !== launch)
        throw new LlamaServerExitedError(`${message} (the server exited and is being started again)`, launch);
      if (await this.died())
        throw new LlamaServerExitedError(
          `${message} (the server exited, status ${this.child?.exitCode ?? this.child?.signalCode})\n${this.logTail()}`,
          launch,
        );
      throw new Error(message);
    }
    if (r.status !== 200) throw new Error(`llama-server answered HTTP ${r.status}: ${r.text.slice(0, 500)}`);
    const a = JSON.parse(r.text) as CompletionAnswer;
    this.stats.requests++;
    this.stats.promptTokensCached += a.tokens_cached ?? 0;
    return {
      tokens: a.tokens ?? [],
      text: a.content ?? "",
      finishReason: a.stop_type === "limit" ? "length" : "stop",
    };
  }

  /** Restarts the server on a new model and/or adapters (same slots and context unless given). */
  async restart(next: Partial<Omit<LlamaServerOptions, "binary">>): Promise<void> {
    await this.stopProcess();
    this.opts = { ...this.opts, ...next };
    await this.launch();
  }

  private async stopProcess(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.agent.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, this.opts.slots) * 2 });
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // referenced while stopping: a caller awaiting stop() keeps the process alive until the server is gone
    child.ref();
    child.stdin?.end(); // the watcher kills the server (SIGTERM) and exits with its status
    const exited = this.exited ?? Promise.resolve(null);
    let timeout: NodeJS.Timeout | undefined;
    const timer = new Promise<"timeout">((r) => {
      timeout = setTimeout(() => r("timeout"), 10_000);
    });
    const first = await Promise.race([exited, timer]);
    clearTimeout(timeout);
    if (first === "timeout" && child.pid) {
      try {
        process.kill(-child.pid, "SIGKILL"); // the watcher's process group: it and the server
      } catch {
        // already gone
      }
      await exited;
    }
  }

  /** Stops the server (and removes its log). Idempotent. */
  async stop(): Promise<void> {
    await this.stopProcess();
    this.agent.destroy();
    rmSync(this.logDir, { recursive: true, force: true });
    liveLogDirs.delete(this.logDir);
  }
}

/**
 * How many servers a runner starts by default: one per math core (at most one per slot) for a model up to
 * SMALL_MODEL_BYTES when no thread count is given, else one.
 *
 * Why replicas and not threads: such a model decodes on one thread (see SMALL_MODEL_BYTES), so one server keeps one
 * core busy and leaves the others idle, and a second ggml thread in the same server is either a little faster (an idle
 * machine: the demo suite's 1,500 items in 20.6 s against 25.3 s on 1 thread) or many times slower (a busy one:
 * 381 s, its spinning barriers waiting for a descheduled thread; `--poll 0` did not help: 311 s). Two servers of one
 * thread each share no barrier: on an idle machine they decode twice the tokens per second, and on a busy one each is
 * simply a process among others. Measured on the 2-core machine: see `docs/demo-recipe.md` (session 17).
 */
export function defaultReplicas(o: Pick<LlamaServerOptions, "model" | "slots" | "threads">, cores: number): number {
  if (o.threads !== undefined || statSync(o.model).size > SMALL_MODEL_BYTES) return 1;
  return Math.max(1, Math.min(cores, o.slots));
}

export interface LlamaServerRunnerOptions extends LlamaServerOptions {
  /**
   * Servers of the same model and adapters, each with its share of the slots (default defaultReplicas()). A
   * generation goes to the one with the fewest requests in flight.
   */
  replicas?: number;
  /**
   * Start the servers on the first generation instead of in load(): a run whose every request is already stored (a
   * resumed red-team campaign or bench run) then never starts one. A start that fails fails that generation and
   * every later one at once, with the same LlamaServerStartError (as a failed load() would have stopped the run).
   */
  startOnFirstUse?: boolean;
}

/** The llama-server(s) of a runner could not start (a bad model or adapter, a port, a crash): not worth a retry. */
export class LlamaServerStartError extends Error {
  constructor(cause: unknown) {
    super(`cannot start llama-server: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "LlamaServerStartError";
  }
}

/**
 * The server engine behind the llamacpp provider, with LlamaCppRunner's surface (tokenizer, context limit,
 * generate): a vocabulary-only load of the GGUF in-process for templates and tokens, generation on the server(s).
 */
export class LlamaServerRunner {
  private control?: ControlTokenizer;
  private disposed = false;
  /** Requests in flight per server (same order as `servers`). */
  private inFlight: number[] = [];
  private started?: Promise<readonly LlamaServer[]>;
  private running: readonly LlamaServer[] = [];
  /** Restarts of servers that died, per server index, in progress. */
  private reviving: (Promise<void> | undefined)[] = [];
  /** Servers that died and were started again (all replicas together). */
  private restarts = 0;

  private constructor(
    readonly model: LlamaModel,
    /** Each server's options (its share of the slots; every one the same context per slot). */
    private readonly plan: readonly LlamaServerOptions[],
  ) {}

  static async load(opts: LlamaServerRunnerOptions): Promise<LlamaServerRunner> {
    const llama = await getCpuLlama();
    const replicas = opts.replicas ?? defaultReplicas(opts, llama.cpuMathCores);
    if (!Number.isInteger(replicas) || replicas < 1)
      throw new Error(`replicas: expected a positive integer, got ${replicas}`);
    const model = await llama.loadModel({ modelPath: opts.model, vocabOnly: true });
    // contexts sized to the work: a slot never gets more cells than the model was trained on
    const train = trainContextOf(model);
    const contextPerSlot = train > 0 ? Math.min(opts.contextPerSlot, train) : opts.contextPerSlot;
    const slots = Math.ceil(opts.slots / replicas);
    const { replicas: _, startOnFirstUse, ...serverOpts } = opts;
    const plan = Array.from({ length: replicas }, () => ({ ...serverOpts, slots, contextPerSlot }));
    const runner = new LlamaServerRunner(model, plan);
    if (!startOnFirstUse) {
      try {
        await runner.start();
      } catch (err) {
        await model.dispose();
        throw (err as Error).cause ?? err;
      }
    }
    return runner;
  }

  /** The running servers (none before the first start). */
  get servers(): readonly LlamaServer[] {
    return this.running;
  }

  /**
   * Starts every server and waits until each answers /health (once; load() does it unless startOnFirstUse). If one
   * fails, those that started are stopped and a LlamaServerStartError is thrown, now and by every later call. After
   * dispose() nothing starts.
   */
  start(): Promise<readonly LlamaServer[]> {
    if (this.disposed) return Promise.reject(new LlamaServerStartError(new Error("the runner was disposed")));
    this.started ??= (async () => {
      const results = await Promise.allSettled(this.plan.map((o) => LlamaServer.start(o)));
      const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      const failed = results.find((r) => r.status === "rejected");
      if (failed || this.disposed) {
        await Promise.all(ok.map((s) => s.stop()));
        throw new LlamaServerStartError(failed ? failed.reason : new Error("the runner was disposed"));
      }
      this.running = ok;
      this.inFlight = ok.map(() => 0);
      return ok;
    })();
    return this.started;
  }

  controlTokenizer(): ControlTokenizer {
    this.control ??= controlTokenizerOf(this.model);
    return this.control;
  }

  detokenize(tokens: readonly number[]): string {
    return this.model.detokenize(tokens as never[]);
  }

  /** Tokens one slot holds: its context, and no more than the model was trained on (as LlamaCppRunner). */
  get contextLimit(): number {
    return this.plan[0].contextPerSlot;
  }

  /**
   * Generates on the server; the text is detokenized here from the returned tokens and cut at the first stop string,
   * exactly as LlamaCppRunner does (the server's own text replaces invalid UTF-8 differently).
   */
  generate(prompts: readonly (readonly number[])[], opts: SamplingOptions): Promise<Generation[]> {
    return Promise.all(
      prompts.map(async (p) => {
        const g = await this.completeOnLeastBusy(p, opts);
        // the server's tokens end with the end-of-generation token that stopped it; LlamaCppRunner's never do
        const last = g.tokens.at(-1);
        if (g.finishReason === "stop" && last !== undefined && this.model.isEogToken(last as never)) g.tokens.pop();
        let text = this.detokenize(g.tokens);
        // (the server matches stop strings on raw bytes, we on the decoded text, as LlamaCppRunner: they differ only
        // where the text is not valid UTF-8 and a stop string holds U+FFFD; then this one is cut here)
        const cut = opts.stop?.length ? firstStop(text, opts.stop) : -1;
        if (cut >= 0) text = text.slice(0, cut);
        return { ...g, text, finishReason: cut >= 0 ? "stop" : g.finishReason };
      }),
    );
  }

  /** One generation on the server with the fewest requests in flight (the first such one). */
  private async completeOnLeastBusy(prompt: readonly number[], opts: SamplingOptions): Promise<Generation> {
    // once the servers run, a request picks its server at once, as when load() started them: no await before the
    // choice, so requests are spread over the servers in the order they come (the batches llama.cpp decodes together)
    const servers = this.running.length > 0 && !this.disposed ? this.running : await this.start();
    let k = 0;
    for (let i = 1; i < this.inFlight.length; i++) if (this.inFlight[i] < this.inFlight[k]) k = i;
    this.inFlight[k]++;
    try {
      if (this.reviving[k]) await this.reviving[k];
      return await servers[k].complete(prompt, opts);
    } catch (err) {
      if (!(err instanceof LlamaServerExitedError) || this.disposed || opts.signal?.aborted) throw err;
      await this.revive(k, err);
      return await servers[k].complete(prompt, opts);
    } finally {
      this.inFlight[k]--;
    }
  }

  /**
   * Starts server k again after its process died (once per death: the requests it was serving share the restart),
   * at most MAX_RESTARTS times per runner; past that, or if it cannot start, a LlamaServerStartError (the model's
   * configuration error: not retried).
   */
  private revive(k: number, died: LlamaServerExitedError): Promise<void> {
    const server = this.running[k];
    if (this.reviving[k]) return this.reviving[k];
    if (server.launches !== died.launch) return Promise.resolve(); // already started again since
    const restart = async () => {
      if (this.restarts >= LlamaServerRunner.MAX_RESTARTS)
        throw new LlamaServerStartError(
          new Error(`it exited ${this.restarts + 1} times while running; the last time: ${died.message}`),
        );
      this.restarts++;
      process.stderr.write(
        `breakfix: llama-server for ${path.basename(server.options.model)} exited while running; starting it again\n`,
      );
      try {
        await server.restart({});
      } catch (err) {
        throw new LlamaServerStartError(err);
      }
    };
    const p = restart().finally(() => {
      this.reviving[k] = undefined;
    });
    this.reviving[k] = p;
    return p;
  }

  /** How many times a runner starts servers that died again before it gives up (see revive()). */
  static readonly MAX_RESTARTS = 3;

  async dispose(): Promise<void> {
    // nothing starts from now on; a start in progress finishes first, so no server outlives the runner
    this.disposed = true;
    const servers = this.started ? await this.started.catch(() => [] as readonly LlamaServer[]) : [];
    await Promise.allSettled(this.reviving); // a server being started again is stopped once it has started
    await Promise.all(servers.map((s) => s.stop()));
    await this.model.dispose();
  }
}

/**
 * The context the model was trained on, from the GGUF's `<arch>.context_length`: a vocabulary-only model (all this
 * runner loads; the server holds the weights) reports trainContextSize 0, which would leave prompts longer than the
 * model's positions unchecked here and refused by the server with its own message instead of contextOverflowError.
 */
function trainContextOf(model: LlamaModel): number {
  if (model.trainContextSize > 0) return model.trainContextSize;
  const meta = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
  const arch = meta.general?.architecture;
  const n = typeof arch === "string" ? meta[arch]?.context_length : undefined;
  return typeof n === "number" && n > 0 ? n : 0;
}
