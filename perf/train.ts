/**
 * Training throughput benchmark (issues 4, 22, 25): tokens/s of one full optimizer step (forward + backward + AdamW)
 * for a ~5M and a ~30M parameter Llama at batch 8 x sequence 256, full fine-tune and LoRA r=16 (alpha 32, q/k/v/o/
 * gate/up/down), and LoRA on the shapes of SmolLM2-135M and Qwen2.5-0.5B (as Llamas, random weights, tied embeddings)
 * at batch 2 x 128; ours (the fused ONNX Runtime step, src/nn/onnx/train-step.ts; LoRA's frozen base weights stored
 * in f16 and computed in f32 unless `--frozen f32`) vs PyTorch CPU eager (Debian python3-torch, /usr/bin/python3,
 * torch.set_num_threads(2), perf/torch_train.py, all f32), measured in the same run. CPU seconds per step are
 * reported too: on a shared machine they are the fairer comparison (waiting for a core costs wall time, not CPU).
 *
 * Every measurement runs in its own child process (so peak RSS is per measurement), ours and PyTorch alternating
 * per case so machine load affects both alike. tokens/s comes from the fastest timed step after warm-up on both
 * sides (other processes on a shared machine only ever slow a step down); the median step is reported too.
 *
 * Usage: npm run perf:train -- [--json] [--quick] [--configs 5m,30m,135m,0.5b] [--modes full,lora] [--steps N]
 *        [--frozen f16|f32]
 * The last stdout line (with --json) is one JSON object: per config and mode, tokens/s, step ms and peak RSS of
 * each side, `ratio_vs_pytorch` (ours / PyTorch tokens/s, > 1 = we are faster).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import path from "node:path";
import type * as ort from "onnxruntime-node";
import { mulberry32, SplitMix32 } from "../src/domain/random.ts";
import type { HostTensor } from "../src/nn/ir.ts";
import { buildLoss, countParams, type LlamaConfig, lossBatch, paramShapes } from "../src/nn/llama.ts";
import { OnnxExecutor } from "../src/nn/onnx/executor.ts";
import { halfTensor } from "../src/nn/onnx/half.ts";
import { OnnxTrainStep } from "../src/nn/onnx/train-step.ts";
import { GraphBuilder } from "../src/nn/tensor.ts";
import { DEFAULT_LORA, initLora, loraHook } from "../src/train/lora.ts";
import { BENCH_CONFIGS } from "./llama-configs.ts";

/** Batch x sequence per config: 8 x 256 for the small models; the 135M / 0.5B shapes take 2 x 128 (a case ~1 min). */
const SHAPES: Record<string, { batch: number; seq: number; modes: ("full" | "lora")[] }> = {
  "5m": { batch: 8, seq: 256, modes: ["full", "lora"] },
  "30m": { batch: 8, seq: 256, modes: ["full", "lora"] },
  "135m": { batch: 2, seq: 128, modes: ["lora"] },
  "0.5b": { batch: 2, seq: 128, modes: ["lora"] },
};
const repoRoot = path.resolve(import.meta.dirname, "..");
const log = (s: string) => process.stderr.write(`${s}\n`);

interface CaseSpec {
  config: string;
  mode: "full" | "lora";
  batch: number;
  seq: number;
  /** LoRA: the frozen base matrices' storage (f16: fed as float16, computed in f32; src/nn/onnx/half.ts) */
  frozen: "f32" | "f16";
  steps: number;
  warmup: number;
  threads: number;
}

interface SideResult {
  /** from the fastest timed step (interference on a shared machine only ever slows a step down) */
  tokens_per_s: number;
  /** median timed step */
  step_ms: number;
  best_step_ms: number;
  /** CPU seconds (all threads, user + system) of the cheapest timed step: robust to other processes' load */
  cpu_s_per_step: number;
  peak_rss_mb: number;
  /** graph build + ONNX lowering + session creation + the first (warm-up) step */
  setup_s?: number;
  losses: number[];
}

/**
 * initWeights(cfg, 0) tensor by tensor (same values: the same generator in the same order), each matrix converted to
 * f16 as soon as it is drawn when `dtype` is f16, so only the 16-bit copy ever exists (a loader reading a checkpoint
 * tensor by tensor does the same).
 */
function initWeightsAs(cfg: LlamaConfig, dtype: "f32" | "f16"): Map<string, HostTensor | ort.Tensor> {
  if (cfg.normPlusOne) throw new Error("perf configs are plain Llamas");
  const rng = new SplitMix32(0);
  const out = new Map<string, HostTensor | ort.Tensor>();
  for (const [name, shape] of paramShapes(cfg)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length === 1) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 0.02;
    out.set(name, dtype === "f16" && shape.length === 2 ? halfTensor({ shape, data }) : { shape, data });
  }
  return out;
}

/** Child: time our fused ONNX training step. */
async function runOurs(spec: CaseSpec): Promise<SideResult> {
  const cfg = BENCH_CONFIGS[spec.config];
  const { batch: BATCH, seq: SEQ } = spec;
  const lora = spec.mode === "lora" ? { ...DEFAULT_LORA } : undefined;
  const t0 = performance.now();
  const b = new GraphBuilder();
  const g = buildLoss(cfg, b, BATCH, SEQ, lora ? loraHook(cfg, lora, false) : undefined);
  const adapter = lora ? initLora(cfg, lora, 1) : new Map();
  const frozenDtype = lora ? spec.frozen : "f32";
  const weights = initWeightsAs(cfg, frozenDtype);
  log(`[child] rss after weights ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
  for (const [n, t] of adapter) weights.set(n, t);
  const trainable = lora ? [...adapter.keys()] : [...g.params.keys()];
  const executor = new OnnxExecutor({ threads: spec.threads });
  const step = OnnxTrainStep.compile(executor, b.graph, g.loss.id, trainable, { weightDecay: 0.01, frozenDtype });
  // uniform random token ids, like torch_train.py (throughput only; the data is not shared)
  const rand = mulberry32(1);
  const ids = Array.from({ length: BATCH * SEQ }, () => Math.floor(rand() * cfg.vocabSize));
  const feeds = lossBatch(cfg, BATCH, SEQ, ids, new Array(BATCH * SEQ).fill(1), ids);
  const state = new Map<string, { m: Float32Array; v: Float32Array }>();
  const losses: number[] = [];
  const times: number[] = [];
  const cpus: number[] = [];
  let compileS = 0;
  for (let i = 0; i < spec.warmup + spec.steps; i++) {
    const s = performance.now();
    const c = process.cpuUsage();
    const r = await step.run(weights, state, feeds, 1e-4);
    const dt = performance.now() - s;
    const cu = process.cpuUsage(c);
    if (i >= spec.warmup) cpus.push((cu.user + cu.system) / 1e6);
    if (i === 0) compileS = (performance.now() - t0) / 1000;
    losses.push(r.loss);
    if (i >= spec.warmup) times.push(dt);
  }
  const mu = process.memoryUsage();
  log(
    `[child] rss ${(mu.rss / 1e6).toFixed(0)} MB, array buffers ${(mu.arrayBuffers / 1e6).toFixed(0)} MB, heap ${(mu.heapUsed / 1e6).toFixed(0)} MB`,
  );
  await step.dispose();
  times.sort((a, c) => a - c);
  const stepMs = times[Math.floor(times.length / 2)];
  return {
    tokens_per_s: (BATCH * SEQ * 1000) / times[0],
    step_ms: stepMs,
    best_step_ms: times[0],
    cpu_s_per_step: Math.min(...cpus),
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    setup_s: compileS,
    losses,
  };
}

function hfConfig(c: LlamaConfig): Record<string, unknown> {
  return {
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    tie_word_embeddings: c.tieWordEmbeddings,
  };
}

function runTorch(spec: CaseSpec): SideResult {
  const arg = JSON.stringify({
    config: hfConfig(BENCH_CONFIGS[spec.config]),
    batch: spec.batch,
    seq: spec.seq,
    steps: spec.steps,
    warmup: spec.warmup,
    mode: spec.mode,
    lora_r: DEFAULT_LORA.r,
    lora_alpha: DEFAULT_LORA.alpha,
    threads: spec.threads,
  });
  const out = execFileSync("/usr/bin/python3", [path.join(repoRoot, "perf/torch_train.py"), arg], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, OMP_NUM_THREADS: String(spec.threads) },
  });
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

function runChild(spec: CaseSpec): SideResult {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(repoRoot, "perf/train.ts"), "--child", JSON.stringify(spec)],
    {
      cwd: repoRoot,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 24,
    },
  );
  if (r.status !== 0) throw new Error(`bench child failed (${r.status}) for ${JSON.stringify(spec)}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

function torchAvailable(): string | undefined {
  try {
    return execFileSync("/usr/bin/python3", ["-c", "import torch; print(torch.__version__)"], {
      encoding: "utf8",
    }).trim();
  } catch {
    return undefined;
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const child = arg("--child");
  if (child) {
    const res = await runOurs(JSON.parse(child) as CaseSpec);
    process.stdout.write(`${JSON.stringify(res)}\n`);
    return;
  }
  const asJson = process.argv.includes("--json");
  const quick = process.argv.includes("--quick");
  const configs = (arg("--configs") ?? Object.keys(SHAPES).join(",")).split(",");
  const modes = (arg("--modes") ?? "full,lora").split(",") as ("full" | "lora")[];
  const steps = Number(arg("--steps") ?? (quick ? 2 : 3));
  const frozen = (arg("--frozen") ?? "f16") as CaseSpec["frozen"];
  if (frozen !== "f16" && frozen !== "f32") throw new Error(`--frozen: expected f16 or f32, got "${frozen}"`);
  const torchVersion = torchAvailable();
  if (!torchVersion) log("PyTorch not found at /usr/bin/python3 (apt-get install python3-torch): ours only");
  const cases: CaseSpec[] = configs.flatMap((config) => {
    if (!BENCH_CONFIGS[config] || !SHAPES[config])
      throw new Error(`--configs: unknown config "${config}" (${Object.keys(SHAPES).join(", ")})`);
    const { batch, seq } = SHAPES[config];
    return modes
      .filter((m) => SHAPES[config].modes.includes(m))
      .map((mode) => ({ config, mode, batch, seq, frozen, steps, warmup: 1, threads: 2 }));
  });
  const started = Date.now();
  const results: Record<string, Record<string, unknown>> = {};
  let done = 0;
  const total = cases.length * (torchVersion ? 2 : 1);
  const progress = (what: string) => {
    const elapsed = (Date.now() - started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (total - done) : Number.NaN;
    log(
      `[perf:train] ${done}/${total} ${what} (elapsed ${elapsed.toFixed(0)} s, ETA ${Number.isNaN(eta) ? "?" : eta.toFixed(0)} s)`,
    );
  };
  for (const c of cases) {
    const key = c.config;
    results[key] ??= { params: countParams(BENCH_CONFIGS[key]) };
    progress(`ours ${c.config} ${c.mode}`);
    const ours = runChild(c);
    done++;
    let torch: SideResult | undefined;
    if (torchVersion) {
      progress(`pytorch ${c.config} ${c.mode}`);
      torch = runTorch(c);
      done++;
    }
    const entry = {
      ours,
      pytorch: torch,
      ratio_vs_pytorch: torch ? ours.tokens_per_s / torch.tokens_per_s : null,
      /** PyTorch CPU seconds per step / ours: the same ratio in CPU time, which other processes' load cannot skew */
      ratio_cpu_vs_pytorch: torch ? torch.cpu_s_per_step / ours.cpu_s_per_step : null,
    };
    results[key][c.mode] = entry;
    log(
      `[perf:train] ${c.config} ${c.mode}: ours ${ours.tokens_per_s.toFixed(0)} tok/s (${ours.peak_rss_mb.toFixed(0)} MB)` +
        (torch
          ? `, pytorch ${torch.tokens_per_s.toFixed(0)} tok/s (${torch.peak_rss_mb.toFixed(0)} MB), ratio ${entry.ratio_vs_pytorch?.toFixed(2)}`
          : ""),
    );
  }
  type Entry = { ours: SideResult; pytorch?: SideResult; ratio_vs_pytorch: number | null };
  const rows = Object.entries(results).flatMap(([config, r]) =>
    modes.filter((m) => r[m]).map((m) => ({ config, mode: m, ...(r[m] as Entry) })),
  );
  const ratios = rows.map((r) => r.ratio_vs_pytorch).filter((x): x is number => x !== null);
  // closing note: one line per case (tokens/s from the fastest step, peak RSS of each side's process)
  log(
    "\n[perf:train] case          | ours tok/s | pytorch tok/s | ratio | CPU s/step ours / pytorch | peak RSS ours / pytorch (MB)",
  );
  for (const r of rows) {
    const t = r.pytorch;
    log(
      `[perf:train] ${`${r.config} ${r.mode}`.padEnd(13)} | ${r.ours.tokens_per_s.toFixed(0).padStart(10)} | ` +
        `${(t ? t.tokens_per_s.toFixed(0) : "-").padStart(13)} | ${(r.ratio_vs_pytorch?.toFixed(2) ?? "-").padStart(5)} | ` +
        `${r.ours.cpu_s_per_step.toFixed(2)} / ${t ? t.cpu_s_per_step.toFixed(2) : "-"} | ` +
        `${r.ours.peak_rss_mb.toFixed(0)} / ${t ? t.peak_rss_mb.toFixed(0) : "-"}`,
    );
  }
  log(`[perf:train] machine load (1 min) ${loadavg()[0].toFixed(2)}; a shared machine slows both sides alike`);
  const summary = {
    bench: "train",
    shapes: Object.fromEntries(configs.map((c) => [c, { batch: SHAPES[c].batch, seq: SHAPES[c].seq }])),
    dtype: "float32",
    threads: 2,
    pytorch_version: torchVersion ?? null,
    load_avg_1m: loadavg()[0],
    configs: results,
    ratio_vs_pytorch_min: ratios.length ? Math.min(...ratios) : null,
    wall_s: (Date.now() - started) / 1000,
  };
  if (asJson) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

await main();
