/**
 * The whole demo suite (the world's held-out harmful, jailbreak, multi-turn, look-alike and capability suites, 1,567
 * items) through one ChatModel, as `breakfix bench --suite demo` runs it (runSuite per suite, greedy, 64 new tokens,
 * the world's oracle judge), timed; with the answers, so two runs can be compared item by item. Used by
 * perf/generate.ts (issue #25: breakfix's local llama.cpp target against llama.cpp's own server).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { runSuite } from "../src/benchmarks/runner.ts";
import { MemorySink } from "../src/benchmarks/sink.ts";
import { packagePath } from "../src/domain/package.ts";
import type { ChatModel } from "../src/models/types.ts";
import { freePort } from "../src/nn/gguf/llamacpp-server.ts";
import { DEMO_SUITE_GROUPS, demoSuiteSpecs } from "../src/world/suites.ts";

/** The committed demo model organism's GGUF. */
export const DEMO_GGUF = packagePath("artifacts", "demo-world", "model.gguf");
/** The demo preset's target.maxTokens. */
export const DEMO_MAX_TOKENS = 64;

export interface DemoSuiteRun {
  /** seconds from the first request to the last record (model load / server start not included) */
  wall_s: number;
  /** seconds to load the model or start the server */
  load_s: number;
  items: number;
  items_per_s: number;
  failed: number;
  per_suite: Record<string, { items: number; wall_s: number; headline: number | null }>;
  /** itemKey -> response (for the item-by-item comparison; not printed) */
  responses: Record<string, string>;
  /** itemKey -> outcome (the judge's verdict) */
  outcomes: Record<string, boolean | null>;
  peak_rss_mb: number;
}

export async function runDemoSuite(model: ChatModel, loadS: number): Promise<DemoSuiteRun> {
  const specs = demoSuiteSpecs().filter((s) => DEMO_SUITE_GROUPS.demo.includes(s.name));
  const responses: Record<string, string> = {};
  const outcomes: Record<string, boolean | null> = {};
  const perSuite: DemoSuiteRun["per_suite"] = {};
  let items = 0;
  let failed = 0;
  const t0 = performance.now();
  for (const spec of specs) {
    const suite = spec.build({} as never); // the demo suites read no dependencies: the world's probes and oracle
    const ts = performance.now();
    let result: Awaited<ReturnType<typeof runSuite>>;
    try {
      result = await runSuite(suite, model, {
        sink: new MemorySink(),
        sampling: { temperature: 0, maxTokens: DEMO_MAX_TOKENS },
      });
    } catch (e) {
      const r = (e as { result?: Awaited<ReturnType<typeof runSuite>>; failed?: number }).result;
      if (!r) throw e;
      failed += (e as { failed?: number }).failed ?? 0;
      result = r;
    }
    for (const r of result.records) {
      responses[`${spec.name}/${r.itemKey}`] = r.response;
      outcomes[`${spec.name}/${r.itemKey}`] = r.outcome;
    }
    items += result.records.length;
    const head = result.metrics.find((m) => m.headline);
    perSuite[spec.name] = {
      items: result.records.length,
      wall_s: (performance.now() - ts) / 1000,
      headline: head ? head.value : null,
    };
  }
  const wall = (performance.now() - t0) / 1000;
  return {
    wall_s: wall,
    load_s: loadS,
    items,
    items_per_s: items / wall,
    failed,
    per_suite: perSuite,
    responses,
    outcomes,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}

/**
 * llama.cpp's server as its README shows it (`llama-server -m MODEL.gguf --parallel N`, its defaults otherwise), with
 * each slot given the model's training context (-c N x ctx) and, when given, the local side's thread count (its
 * default, all math cores, is several times slower for a model this small on a busy machine: see SMALL_MODEL_BYTES in
 * src/nn/gguf/llamacpp-server.ts); stopped by the returned function.
 */
export async function startPlainLlamaServer(
  binary: string,
  gguf: string,
  slots: number,
  contextPerSlot: number,
  logDir: string,
  threads?: number,
): Promise<{ baseUrl: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const logFile = path.join(logDir, `llama-server-${port}.log`);
  const log = openSync(logFile, "w");
  let child: ChildProcess;
  try {
    child = spawn(
      binary,
      ["-m", gguf, "--host", "127.0.0.1", "--port", String(port), "--parallel", String(slots)].concat(
        ["--ctx-size", String(slots * contextPerSlot), "--no-webui"],
        threads ? ["--threads", String(threads), "--threads-batch", String(threads)] : [],
      ),
      { stdio: ["ignore", log, log] },
    );
  } finally {
    closeSync(log);
  }
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
  };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`llama-server exited:\n${readFileSync(logFile, "utf8").slice(-2000)}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      if (r.status === 200) return { baseUrl: `http://127.0.0.1:${port}/v1`, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`llama-server did not become healthy:\n${readFileSync(logFile, "utf8").slice(-2000)}`);
}
