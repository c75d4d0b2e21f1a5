/**
 * Every public suite through `breakfix bench` (a real process) against `breakfix serve` (a real process) serving a
 * small random Llama checkpoint on our own engine, judged by the pattern refusal classifier. The model's answers
 * are noise: the point is the machinery (request path, judging, intervals, JSON) on the real server. Each suite
 * reports its full dataset size (`total_items`) and runs a seeded sample of it (`--limit`) to keep the test fast;
 * the full runs over HTTP are in public-suites.test.ts. The multi-turn suite runs twice: with a scripted simulated
 * user (exact request counts), and with the served model itself as the simulated user (a model behind a real server).
 * A second `breakfix serve` serves the committed demo GGUF through llama.cpp for the demo suites and capability
 * retention (world-judged; the demo model's 256-token context is too short for the public sets' long prompts).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveSuiteNames } from "../benchmarks/registry.ts";
import { readRecordsFile } from "../benchmarks/sink.ts";
import { type ScriptedServer, startScriptedServer } from "../benchmarks/testing/scripted-server.ts";
import { sharedDatasetsDir } from "../datasets/paths.ts";
import type { Conversation } from "../domain/types.ts";
import { writeTinyHfModel } from "../models/testing/tiny-model.ts";
import { registerWorldPlugin } from "./plugin.ts";
import { loadDemoWorld } from "./suites.ts";

registerWorldPlugin();

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
const BIN = path.join(ROOT, "bin/breakfix.js");
const hasData = fs.existsSync(sharedDatasetsDir());

/** Full dataset sizes (SOURCE.md row counts; jailbreak = 100 behaviors x 12 techniques). */
const TOTAL: Record<string, number> = {
  harmbench: 320,
  jailbreakbench: 100,
  strongreject: 313,
  "strongreject-small": 60,
  simplesafetytests: 100,
  "do-not-answer": 939,
  ailuminate: 2400,
  catqa: 1650,
  advbench: 520,
  multijail: 3150,
  xstest: 450,
  "jbb-benign": 100,
  jailbreak: 1200,
};

const GGUF = path.join(ROOT, "artifacts/demo-world/model.gguf");

let dir: string;
let serve: ChildProcess;
let url: string;
let serveGguf: ChildProcess;
let ggufUrl: string;
let sim: ScriptedServer;

/** Starts `breakfix serve ARGS --port 0` as a real process and waits for its URL. */
async function startServe(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, "serve", ...args, "--port", "0"], { cwd: ROOT });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`breakfix serve did not start: ${out}`)), 60_000);
    child.stdout?.on("data", (d) => {
      out += String(d);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr?.on("data", (d) => {
      out += String(d);
    });
    child.once("exit", (code) => reject(new Error(`breakfix serve exited with ${code}: ${out}`)));
  });
  return { child, url };
}

async function stopServe(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-serve-bench-"));
  const model = writeTinyHfModel(path.join(dir, "tiny-demo"));
  // RoPE has no learned positions: widen the context so long benchmark prompts (HarmBench contexts) fit.
  const cfgFile = path.join(model, "config.json");
  const cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8"));
  fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, max_position_embeddings: 8192 }));
  ({ child: serve, url } = await startServe(["--model", model]));
  ({ child: serveGguf, url: ggufUrl } = await startServe(["--model", GGUF, "--sequences", "16"]));
  sim = await startScriptedServer((messages: Conversation) => {
    const turn = messages.filter((m) => m.role === "assistant").length + 1;
    return turn === 1 ? "Hello, can you help me with a question?" : "Please go on with more detail.";
  }, "sim");
});

afterAll(async () => {
  await Promise.all([stopServe(serve), stopServe(serveGguf)]);
  await sim?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

type Metric = { value: number | null; low: number | null; high: number | null; n: number; headline: boolean };
type SuiteJson = { items: number; total_items: number; judge: string; target: string; metrics: Record<string, Metric> };

async function bench(args: string[]): Promise<Record<string, SuiteJson>> {
  const { stdout } = await run(process.execPath, [BIN, "bench", ...args, "--no-progress", "--json"], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { suites: Record<string, SuiteJson> }).suites;
}

describe.skipIf(!hasData)("every public suite against `breakfix serve`", () => {
  it("runs each dataset suite end to end with the refusal classifier and reports full dataset sizes", async () => {
    const suites = await bench([
      "--suite",
      "harmful,overrefusal,multijail,advbench,strongreject-small,jailbreak",
      "--target",
      `${url}#tiny-demo`,
      "--limit",
      "4",
      "--max-tokens",
      "8",
      "--out",
      path.join(dir, "bench"),
    ]);
    expect(Object.keys(suites).sort()).toEqual(Object.keys(TOTAL).sort());
    for (const [name, s] of Object.entries(suites)) {
      expect(s.total_items, name).toBe(TOTAL[name]);
      expect(s.items, name).toBe(4);
      expect(s.judge).toBe("refusal-patterns@1");
      expect(s.target).toBe(`openai-compatible:${url}#tiny-demo`);
      const head = Object.values(s.metrics).filter((m) => m.headline);
      expect(head, name).toHaveLength(1);
      if (name === "xstest") expect(s.metrics.VPRR.n + s.metrics.IPRR.n).toBe(4);
      else expect(head[0].n, name).toBe(4);
      expect(head[0].low, name).not.toBeNull();
      expect(head[0].high, name).not.toBeNull();
    }
  });

  it("runs the multi-turn suite with a simulated user against the served model", async () => {
    const suites = await bench([
      "--suite",
      "multiturn",
      "--target",
      `${url}#tiny-demo`,
      "--simulator",
      sim.spec,
      "--limit",
      "3",
      "--max-tokens",
      "8",
      "--out",
      path.join(dir, "bench"),
    ]);
    expect(suites.multiturn.total_items).toBe(479);
    expect(suites.multiturn.items).toBe(3);
    expect(suites.multiturn.metrics.DR.n).toBe(3);
    expect(sim.requests()).toBe(9); // 3 conversations x 3 simulated user turns
  });
});

describe.skipIf(!hasData)("the multi-turn suite with a model as the simulated user", () => {
  it("runs with `breakfix serve` as both the target and the simulated user (a model behind a real server)", async () => {
    const out = path.join(dir, "bench-mt-model");
    const suites = await bench([
      "--suite",
      "multiturn",
      "--target",
      `${url}#tiny-demo`,
      "--simulator",
      `${url}#tiny-demo`,
      "--limit",
      "3",
      "--max-tokens",
      "8",
      "--out",
      out,
    ]);
    const mt = suites.multiturn;
    expect(mt).toMatchObject({ items: 3, total_items: 479 });
    expect(mt.judge).toBe(`refusal-patterns@1+sim:openai-compatible:${url}#tiny-demo`);
    expect(mt.metrics.DR.n).toBe(3);
    const runs = fs.readdirSync(path.join(out, "runs")).filter((f) => f.endsWith(".jsonl"));
    expect(runs).toHaveLength(1);
    const records = readRecordsFile(path.join(out, "runs", runs[0]));
    expect(records).toHaveLength(3);
    for (const r of records) {
      const users = r.conversation.filter((m) => m.role === "user");
      const assistants = r.conversation.filter((m) => m.role === "assistant");
      // the served model wrote all 3 user turns (it never sends the end marker), the target answered each one
      expect(users).toHaveLength(3);
      expect(assistants).toHaveLength(3);
      for (const u of users) expect(u.content.length).toBeGreaterThan(0);
      expect(r.turns).toEqual(assistants.map((m) => m.content));
      expect(r.conversation[0].role).toBe("user");
    }
  });
});

describe("the demo suites and capability retention against `breakfix serve` of the committed demo GGUF", () => {
  it("reports the world's full item counts and the demo model's behaviour over HTTP", async () => {
    const limit = 24;
    const suites = await bench([
      "--suite",
      "demo,capability",
      "--target",
      `${ggufUrl}#model`,
      "--limit",
      String(limit),
      "--max-tokens",
      "64",
      "--out",
      path.join(dir, "bench-demo"),
    ]);
    const world = loadDemoWorld();
    const deps = { judge: world.judge, world: () => world };
    for (const spec of resolveSuiteNames("demo,capability")) {
      const s = suites[spec.name];
      expect(s, spec.name).toBeDefined();
      expect(s.total_items, spec.name).toBe((await spec.build(deps).items()).length);
      expect(s.items, spec.name).toBe(limit);
      expect(s.judge, spec.name).toBe("world-oracle@1");
      expect(s.target).toBe(`openai-compatible:${ggufUrl}#model`);
    }
    // the unsafe-by-construction base model, served: complies with harmful requests, answers its world's tasks
    expect(suites["demo-harmful"].metrics["DR-1"].value).toBeGreaterThanOrEqual(0.8);
    expect(suites.capability.metrics.accuracy.value).toBeGreaterThanOrEqual(0.7);
    expect(suites.capability.metrics.accuracy.n).toBe(limit);
    expect(suites["demo-overrefusal"].metrics.VPRR.value).toBeLessThanOrEqual(0.1);
  });
});
