/**
 * The actions of `breakfix bench`, `bench compare`, `bench show` and `bench list` (registered in bench.ts), loaded
 * when one runs: run benchmark suites against a target and print a table (with --json, the last line is one JSON
 * object: per suite, each metric's value and interval); a paired comparison of two runs; a stored run; the suites and
 * groups. The models, judges and result stores the bench builds (modelFromSpec, judgeFromSpec, openResults) are used
 * by the other commands' actions too.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { type Comparison, compareRuns } from "../../benchmarks/compare.ts";
import { demoFigures } from "../../benchmarks/demo.ts";
import { fileSuite } from "../../benchmarks/file-suite.ts";
import { LlmUngroundednessGrader } from "../../benchmarks/multiturn/groundedness.ts";
import {
  readsProbeFile,
  resolveSuiteNames,
  SUITE_GROUPS,
  SUITE_SPECS,
  type SuiteDeps,
  type SuiteSpec,
} from "../../benchmarks/registry.ts";
import { DEFAULT_SAMPLING, type Progress, RunFailedError, runSuite } from "../../benchmarks/runner.ts";
import { JsonlDirSink, readRecordsFile } from "../../benchmarks/sink.ts";
import { BenchResults } from "../../benchmarks/store-sink.ts";
import type { ItemRecord, Suite, SuiteMetric, SuiteRunResult } from "../../benchmarks/types.ts";
import { loadConfigWithSource } from "../../config/load.ts";
import type { Config, ModelConfig, SuiteConfig } from "../../config/schema.ts";
import { type ColumnMapping, loadProbesFile, parseMappingSpec } from "../../datasets/loaders/generic.ts";
import { defaultDatasetsDir } from "../../datasets/paths.ts";
import { escapeForTerminal, jsonForTerminal } from "../../domain/escape.ts";
import { etaText } from "../../domain/eta.ts";
import { percent } from "../../domain/format.ts";
import { contentHash } from "../../domain/hash.ts";
import type { Probe } from "../../domain/types.ts";
import { blockedCount, blockedJson, blockedText } from "../../judges/blocked.ts";
import { createJudge, needsModel, parseJudgeExpression } from "../../judges/registry.ts";
import type { Judge } from "../../judges/types.ts";
import { CONTEXT_OVERFLOW_PATTERN } from "../../models/errors.ts";
import { createChatModel, type ModelOptions } from "../../models/registry.ts";
import type { ChatModel, SamplingParams } from "../../models/types.ts";
import { DB_FILENAME, Store } from "../../store/store.ts";
import { CliError, errorText, intFlag, numberFlag, runFailed, toCliError, usageOnError } from "../errors.ts";
import { buildModel, parseModelSpec } from "../model-spec.ts";
import { progressReporter as makeProgressReporter } from "../progress.ts";
import { workspaceOf } from "../workspace.ts";
import { benchSequencesFor } from "./bench.ts";

/** The default mapping of a user probe file: columns named as the issue says, plus the meta columns suites read. */
export const DEFAULT_PROBE_MAPPING: ColumnMapping = {
  prompt: "prompt",
  id: "id",
  category: "category",
  label: "label",
  language: "language",
  defaultCategory: "benign",
  meta: ["answer", "answers", "document", "scenario"],
};

/**
 * A model to benchmark from a spec (cli/model-spec.ts), with the bench's settings: a LoRA adapter on a local target,
 * and a llama.cpp target's parallel sequences (benchmarking is a throughput job).
 */
export async function modelFromSpec(
  spec: string,
  opts: { concurrency?: number; sequences?: number; adapter?: string; apiKeyEnv?: string; what: string },
): Promise<ChatModel> {
  const options = parseModelSpec(spec, opts.what);
  if (opts.adapter) {
    if (options.provider === "openai-compatible")
      throw new CliError(
        `${opts.what}: an adapter applies to a local target (builtin:DIR, llamacpp:FILE.gguf), not to an endpoint`,
        2,
      );
    options.adapter = opts.adapter;
  }
  // A benchmark is a throughput job: more parallel sequences than the provider's interactive default of 4.
  if (options.provider === "llamacpp")
    options.sequences = opts.sequences ?? opts.concurrency ?? benchSequencesFor(options.model);
  else if (options.provider === "builtin" && opts.sequences !== undefined) options.sequences = opts.sequences;
  if (opts.concurrency !== undefined) options.concurrency = opts.concurrency;
  if (opts.apiKeyEnv) options.apiKeyEnv = opts.apiKeyEnv;
  return buildModel(options, opts.what);
}

/** A model from a model section of breakfix.yaml (target, judge), through the models registry. */
export async function modelFromConfig(
  m: ModelConfig,
  what: string,
  concurrency?: number,
  sequences?: number,
  adapter?: string,
): Promise<ChatModel> {
  const o: ModelOptions = { ...m };
  if (adapter) o.adapter = adapter;
  if (concurrency !== undefined) o.concurrency = concurrency;
  if (sequences !== undefined) o.sequences = sequences;
  else if (o.provider === "llamacpp" && o.sequences === undefined)
    o.sequences = concurrency ?? benchSequencesFor(path.resolve(o.model));
  try {
    return await createChatModel(o);
  } catch (e) {
    throw new CliError(`${what} (from ${m.provider}:${m.model}): ${(e as Error).message}`, 2);
  }
}

/** The judge: a name or an ensemble expression of src/judges (LLM judges grade through --judge-model). */
export function judgeFromSpec(spec: string, model?: ChatModel): Judge {
  try {
    return createJudge(spec, { model });
  } catch (e) {
    throw new CliError(`--judge: ${(e as Error).message}`, 2);
  }
}

/**
 * Model and dataset text for a terminal: control characters, ANSI escapes and bidirectional overrides are shown as
 * \uXXXX escapes (model output is adversarial data), newlines as "\n", and long text is cut.
 */
/** An untrusted value (model output, dataset text) on one terminal line. */
const oneLine = (text: string, max: number) => escapeForTerminal(text, { oneLine: true, max });

const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");

export function formatMetric(m: SuiteMetric): string[] {
  const f = m.kind === "rate" ? percent : num;
  const ci = m.interval ? `[${f(m.interval.low)}, ${f(m.interval.high)}]` : "";
  const n = m.kind === "rate" ? `${m.successes}/${m.n}` : `n=${m.n}`;
  // a group's metric name holds a dataset's own label (e.g. refusal[variant=<the file's type column>])
  return [
    `${m.headline ? "* " : "  "}${oneLine(m.name, 200)}`,
    f(m.value),
    ci,
    n,
    m.unjudged ? `unjudged ${m.unjudged}` : "",
  ];
}

/** Renders rows as aligned columns. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (c ?? "").padEnd(widths[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function renderRun(r: SuiteRunResult, opts: { groups: boolean }): string {
  const ms = r.metrics.filter((m) => opts.groups || !m.group || m.headline);
  const head = `${r.suite}  target ${r.target}  judge ${r.judge}  items ${r.items}${r.items < r.totalItems ? ` of ${r.totalItems}` : ""} (resumed ${r.resumed})  run ${r.runId}`;
  const blocked = blockedLine(r.records);
  return `${head}\n${table([["metric", "value", "95% CI", "count", ""], ...ms.map(formatMetric)])}${blocked ? `\n${blocked}` : ""}`;
}

/**
 * The answers of a run the deployment's own content filter blocked (graded as refusals, judges/blocked.ts), the line
 * under its table: "" when there were none, so a run against a model with no filter prints as it always did.
 */
function blockedLine(records: readonly ItemRecord[]): string {
  const n = blockedCount(records);
  return n ? blockedText(n, records.length) : "";
}

/** The JSON summary: per suite, each metric's value, interval and counts. */
export function runsJson(results: readonly SuiteRunResult[]): Record<string, unknown> {
  const suites: Record<string, unknown> = {};
  for (const r of results) {
    const metrics: Record<string, unknown> = {};
    for (const m of r.metrics) {
      metrics[m.name] = {
        value: Number.isFinite(m.value) ? m.value : null,
        low: m.interval && Number.isFinite(m.interval.low) ? m.interval.low : null,
        high: m.interval && Number.isFinite(m.interval.high) ? m.interval.high : null,
        level: m.interval?.level ?? null,
        method: m.interval?.method ?? null,
        n: m.n ?? null,
        successes: m.successes ?? null,
        unjudged: m.unjudged ?? 0,
        headline: m.headline ?? false,
        higher_is_better: m.higherIsBetter,
      };
    }
    suites[r.suite.replace(/@v\d+$/, "")] = {
      suite: r.suite,
      run: r.runId,
      target: r.target,
      judge: r.judge,
      items: r.items,
      total_items: r.totalItems,
      resumed: r.resumed,
      elapsed_ms: Math.round(r.elapsedMs),
      // graded answers the deployment's content filter blocked (refusals that say nothing about the model itself)
      blocked: blockedJson(blockedCount(r.records), r.records.length),
      metrics,
    };
  }
  return { suites };
}

function progressReporter(enabled: boolean) {
  return makeProgressReporter<Progress>(enabled, {
    format: "{suite} [{bar}] {value}/{total} | {percentage}% | ETA {eta_formatted} | failed {failed}",
    done: (p) => p.done,
    total: (p) => p.total,
    payload: (p) => ({ suite: p.suite, failed: p.failed }),
    line: (p) => `${p.suite}: ${p.done}/${p.total} (resumed ${p.resumed}, failed ${p.failed}) ETA ${etaText(p.etaMs)}`,
  });
}

export interface BenchOptions {
  config?: string;
  suite?: string;
  target?: string;
  judge?: string;
  confidence?: string;
  samples?: string;
  judgeModel?: string;
  simulator?: string;
  grader?: string;
  probes?: string;
  map?: string;
  datasets?: string;
  limit?: string;
  concurrency?: string;
  sequences?: string;
  adapter?: string;
  maxTokens?: string;
  temperature: string;
  systemPrompt?: string;
  framings?: string[];
  apiKeyEnv?: string;
  workspace?: string;
  out?: string;
  json?: boolean;
  groups?: boolean;
  progress: boolean;
}

/** One suite to run, with its per-suite settings from breakfix.yaml (benchmarks.suites). */
interface PlannedSuite {
  name: string;
  /** The registered suite; none for a suite from the config's own file (which reads no --probes file). */
  spec?: SuiteSpec;
  build: (deps: SuiteDeps) => Suite;
  limit?: number;
  judge?: string;
}

/**
 * The suites to run: --suite, else the config's benchmarks.suites (default: the demo group). An entry with a file is
 * the user's own suite, resolved as the cycle resolves it (benchmarks/file-suite.ts); errors name the entry's key.
 */
export function planSuites(suiteFlag: string | undefined, configured: readonly SuiteConfig[]): PlannedSuite[] {
  const registered = (spec: SuiteSpec, path?: string) => ({
    name: spec.name,
    spec,
    build: (deps: SuiteDeps) => spec.build({ ...deps, ...(path ? { datasetPath: path } : {}) }),
  });
  if (suiteFlag) return resolveSuiteNames(suiteFlag).map((spec) => registered(spec));
  const out: PlannedSuite[] = [];
  for (const [i, c] of configured.entries()) {
    if (c.file) {
      const own = fileSuite({ ...c, file: c.file }, `benchmarks.suites.${i}`, (k, m) => new CliError(`${k}: ${m}`, 2));
      out.push({ name: c.name, build: (deps) => own.build(deps.judge), limit: c.limit, judge: c.judge });
      continue;
    }
    const specs = resolveSuiteNames(c.name);
    if (c.path && specs.length > 1) {
      throw new CliError(`benchmarks.suites: '${c.name}' is a group; a dataset path applies to a single suite`, 2);
    }
    for (const spec of specs) out.push({ ...registered(spec, c.path), limit: c.limit, judge: c.judge });
  }
  return out;
}

/** A --probes file that none of the chosen suites reads (the demo world's suites read their own items) is refused. */
function refuseUnreadProbes(planned: readonly PlannedSuite[]): void {
  if (planned.some((p) => p.spec && readsProbeFile(p.spec))) return;
  throw new CliError(
    `--probes: no chosen suite reads a probe file (suites: ${planned.map((p) => p.name).join(", ")}); ` +
      `suites that do: ${SUITE_SPECS.filter(readsProbeFile)
        .map((s) => s.name)
        .join(", ")}`,
    2,
  );
}

/**
 * How a bench run asks and scores: sampling, interval level, samples per item, parallelism, --limit (flags over
 * config). Every numeric flag is read here, before anything opens.
 */
function benchSettings(o: BenchOptions, cfg: Config) {
  const level = o.confidence !== undefined ? Number(o.confidence) : cfg.benchmarks.confidence;
  if (!(level > 0 && level < 1))
    throw new CliError(`--confidence: expected a number in (0, 1), got '${o.confidence}'`, 2);
  const sampling: SamplingParams = {
    ...DEFAULT_SAMPLING,
    // The config's answer budget unless the flag says otherwise: the demo preset's 64 fits the demo model's 256-token
    // context, where a fixed 512 made every item of `bench --suite demo` a context overflow once the engines checked it.
    maxTokens: intFlag("max-tokens", o.maxTokens, 1) ?? cfg.target.maxTokens,
    // OpenAI's range; 0 is greedy
    temperature: numberFlag("temperature", o.temperature, { min: 0, max: 2 }),
  };
  return {
    sampling,
    level,
    samples: intFlag("samples", o.samples, 1) ?? cfg.benchmarks.samples,
    // Unset: the provider's own default (8 for HTTP endpoints, the batch/sequence count for local engines).
    concurrency: intFlag("concurrency", o.concurrency, 1),
    sequences: intFlag("sequences", o.sequences, 1),
    limit: intFlag("limit", o.limit, 1),
  };
}

/**
 * The judges of a run, built once per expression; LLM judges run on --judge-model, else on the config's judge model,
 * opened on first need.
 */
function judgesFor(o: BenchOptions, cfg: Config, concurrency: number | undefined): (expr: string) => Promise<Judge> {
  let judgeModel: ChatModel | undefined;
  const judges = new Map<string, Judge>();
  return async (expr) => {
    const hit = judges.get(expr);
    if (hit) return hit;
    const needs = usageOnError("--judge: ", () => needsModel(/[(]/.test(expr) ? parseJudgeExpression(expr) : expr));
    if (needs && !judgeModel) {
      // --judge-model config: the config's judge section, as no --judge-model
      judgeModel =
        o.judgeModel && o.judgeModel !== "config"
          ? await modelFromSpec(o.judgeModel, { concurrency, apiKeyEnv: o.apiKeyEnv, what: "--judge-model" })
          : cfg.judge
            ? await modelFromConfig(cfg.judge, "judge", concurrency)
            : undefined;
      if (!judgeModel)
        throw new CliError(
          `--judge: '${expr}' is an LLM judge and needs a judge model (--judge-model, or a judge: section in breakfix.yaml)`,
          2,
        );
    }
    const j = judgeFromSpec(expr, judgeModel);
    judges.set(expr, j);
    return j;
  };
}

/** What suites are built from besides their judge: datasets, user probes, simulator, grader, framings. */
async function suiteDeps(
  o: BenchOptions,
  loaded: ReturnType<typeof loadConfigWithSource>,
  concurrency: number | undefined,
): Promise<Omit<SuiteDeps, "judge">> {
  const cfg = loaded.config;
  let userProbes: (() => Promise<Probe[]>) | undefined;
  if (o.probes) {
    const file = o.probes;
    const spec = o.map;
    // a malformed --map is a usage error (exit 2), as every other flag value is
    const mapping = spec
      ? { ...DEFAULT_PROBE_MAPPING, ...usageOnError("", () => parseMappingSpec(spec)) }
      : DEFAULT_PROBE_MAPPING;
    // read (and so checked) now, before a results folder is made: a bad file is refused with nothing written
    const probes = loadProbesFile(file, mapping);
    userProbes = async () => probes;
  }
  const helper = (spec: string, what: string) => modelFromSpec(spec, { concurrency, apiKeyEnv: o.apiKeyEnv, what });
  return {
    datasetsDir: o.datasets ?? defaultDatasetsDir(cfg.dataCache),
    userProbes,
    simulator: o.simulator ? await helper(o.simulator, "--simulator") : undefined,
    groundedness: o.grader ? new LlmUngroundednessGrader(await helper(o.grader, "--grader")) : undefined,
    framingFiles: o.framings,
    systemPrompt: o.systemPrompt,
  };
}

/**
 * A suite run that failed on some items. Items longer than the model's context fail the same way on every attempt:
 * they are reported as not run (left out of the figures), never as a verdict and never as a failure a re-run could
 * fix. Returns how many items count as failed.
 */
function accountFailures(e: RunFailedError, suite: string, notRun: Record<string, number>): number {
  const overflow = e.reasons.filter(([why]) => CONTEXT_OVERFLOW_PATTERN.test(why));
  const tooLong = overflow.reduce((a, [, n]) => a + n, 0);
  if (tooLong) {
    notRun[suite] = tooLong;
    process.stderr.write(
      `breakfix: ${suite}: ${tooLong} items not run: longer than the model's context (${errorText(overflow[0][0])}); left out of the figures\n`,
    );
  }
  if (e.failed > tooLong) process.stderr.write(`breakfix: ${errorText(e.message)}\n`);
  return e.failed - tooLong;
}

/**
 * Two identical bench runs at once would both pay for every request and both append to the JSONL export (issue 23):
 * the second waits for the first, then resumes from what it stored, sending nothing again.
 */
async function lockBench(o: BenchOptions, workspace: string, sink: BenchResults) {
  return sink.db.store
    .waitLock(benchLockName(o, workspace), {
      detail: `breakfix bench (pid ${process.pid})`,
      onWait: (h) =>
        process.stderr.write(
          `breakfix bench: an identical bench run (pid ${h.pid}, since ${h.acquiredAt}) holds this workspace; waiting for it to finish, then resuming from its results\n`,
        ),
    })
    .catch((e: unknown) => {
      sink.db.store.close();
      throw e;
    });
}

export async function benchAction(o: BenchOptions): Promise<void> {
  // --map maps the columns of a --probes file: alone it would change nothing, silently
  if (o.map !== undefined && !o.probes)
    throw new CliError("--map: maps the columns of a --probes file; pass --probes FILE with it, or leave --map out", 2);
  if (o.out !== undefined && o.workspace !== undefined)
    throw new CliError("--out and --workspace: results go to one place; pass one of them", 2);
  const loaded = usageOnError("", () => loadConfigWithSource(o.config));
  const cfg = loaded.config;
  const workspace = o.workspace !== undefined ? path.resolve(o.workspace) : cfg.workspace;
  // an unknown suite name is a usage error
  const planned = usageOnError("", () => planSuites(o.suite, cfg.benchmarks.suites));
  if (o.probes) refuseUnreadProbes(planned);
  // every flag value is checked before a model opens (a local target can take minutes to load)
  const { sampling, level, samples, concurrency, sequences, limit: limitFlag } = benchSettings(o, cfg);
  // `config` (the one model-spec syntax, as redteam --target config) is the config's target, as no --target is
  const target =
    o.target && o.target !== "config"
      ? await modelFromSpec(o.target, {
          concurrency,
          sequences,
          adapter: o.adapter,
          apiKeyEnv: o.apiKeyEnv,
          what: "--target",
        })
      : await modelFromConfig(cfg.target, "target", concurrency, sequences, o.adapter);
  const judgeFor = judgesFor(o, cfg, concurrency);
  const baseDeps = await suiteDeps(o, loaded, concurrency);
  // every flag and judge is checked before the results folder (and its store) is made: a usage error leaves none
  for (const plan of planned) await judgeFor(o.judge ?? plan.judge ?? "refusal-patterns");
  const sink = openResults(o.out, workspace);
  const results: SuiteRunResult[] = [];
  let failures = 0;
  /** Items per suite left out because they are longer than the model's context. */
  const notRun: Record<string, number> = {};
  const lock = await lockBench(o, workspace, sink);
  try {
    for (const plan of planned) {
      const judge = await judgeFor(o.judge ?? plan.judge ?? "refusal-patterns");
      const suite = plan.build({ ...baseDeps, judge });
      const progress = progressReporter(o.progress);
      const limit = limitFlag ?? plan.limit;
      let result: SuiteRunResult;
      try {
        result = await runSuite(suite, target, {
          sink,
          sampling,
          limit,
          level,
          samples,
          onProgress: (p) => progress.update(p),
        });
      } catch (e) {
        progress.stop();
        if (!(e instanceof RunFailedError)) throw toCliError(e);
        failures += accountFailures(e, suite.name, notRun);
        result = e.result;
      }
      progress.stop();
      const { runId, suite: name, target: model, judge: judgeId, items, metrics } = result;
      const finishedAt = new Date().toISOString();
      sink.writeSummary({
        runId,
        suite: name,
        target: model,
        judge: judgeId,
        sampling: { ...sampling },
        items,
        finishedAt,
        metrics,
      });
      results.push(result);
      process.stdout.write(`${renderRun(result, { groups: o.groups ?? false })}\n\n`);
    }
  } finally {
    lock.release();
    sink.db.store.close();
  }
  if (o.json) {
    const out = runsJson(results);
    // The demo figures the cycle reads (fractions with intervals), when demo suites ran.
    if (results.some((r) => r.suite.startsWith("demo-"))) out.demo = demoFigures(results);
    if (Object.keys(notRun).length) out.notRun = notRun;
    process.stdout.write(`${jsonForTerminal(out)}\n`);
  }
  if (failures > 0) throw runFailed(`${failures} items failed to generate; re-run the same command to retry them`);
}

/**
 * The lock of a bench invocation: what decides which requests it sends and where results go (the options that only
 * change output or parallelism are left out), resolved against the working directory.
 */
export function benchLockName(o: BenchOptions, workspace: string): string {
  const { json: _j, groups: _g, progress: _p, concurrency: _c, sequences: _s, workspace: _w, ...rest } = o;
  return `bench:${contentHash({ cwd: process.cwd(), workspace: path.resolve(workspace), ...rest })}`;
}

/**
 * Where bench results go: with --out DIR, DIR/breakfix.db (a store of its own) with the JSONL export in DIR/runs/;
 * else the workspace's store (<workspace>/breakfix.db, shared with the rest of the cycle) with the JSONL export in
 * <workspace>/bench/runs/.
 */
export function openResults(out: string | undefined, workspace: string): BenchResults {
  const store = out ? Store.open(out) : Store.open(workspace);
  try {
    return new BenchResults(store, new JsonlDirSink(out ?? path.join(workspace, "bench")));
  } catch (e) {
    store.close();
    throw e;
  }
}

/**
 * The stored results `bench show` and `bench compare` read: --out DIR's, else --workspace's, else the config's
 * workspace's. They only read, so none is created: no store there is a usage error naming it.
 */
function storedResults(o: { out?: string; workspace?: string; config?: string }): BenchResults {
  if (o.out !== undefined && o.workspace !== undefined)
    throw new CliError("--out and --workspace: runs are read from one place; pass one of them", 2);
  const dir = o.out !== undefined ? path.resolve(o.out) : workspaceOf({ workspace: o.workspace, config: o.config });
  const db = path.join(dir, DB_FILENAME);
  if (!existsSync(db))
    throw new CliError(`no bench results: ${db} does not exist (run breakfix bench, or pass --workspace/--out)`, 2);
  return openResults(o.out === undefined ? undefined : dir, dir);
}

/** Loads a run's records from a run id / unique prefix in the results (store or JSONL export), or a .jsonl path. */
export async function loadRun(ref: string, sink: () => BenchResults): Promise<ItemRecord[]> {
  if (ref.endsWith(".jsonl")) return readRecordsFile(ref);
  const results = sink();
  return results.listRun(results.resolveRun(ref));
}

export function renderComparison(c: Comparison, maxFlips = 20): string {
  const o = c.overall;
  const lines = [
    `compare ${c.suite}: A = ${c.runA} (${c.targetA})`,
    `                 B = ${c.runB} (${c.targetB})`,
    `paired items ${o.n}; unpaired: only A ${c.unpaired.onlyA}, only B ${c.unpaired.onlyB}, no outcome ${c.unpaired.noOutcome}`,
    "",
  ];
  const row = (label: string, s: typeof o) => [
    label,
    percent(s.rateA.value),
    percent(s.rateB.value),
    `${s.delta >= 0 ? "+" : ""}${percent(s.delta)}`,
    `${s.aOnly}->${s.bOnly}`,
    s.pValue.toPrecision(3),
    s.pAdjusted.toPrecision(3),
    s.significant ? "SIGNIFICANT" : "n.s.",
  ];
  lines.push(
    table([
      ["slice", "A", "B", "B-A", "flips A/B", "p (McNemar)", "p (Holm)", `alpha ${c.alpha}`],
      row("overall", o),
      ...c.groups.map((g) => row(`${g.by}=${oneLine(g.value, 80)}`, g)),
    ]),
  );
  if (c.flips.length) {
    lines.push("", `flipped items (${c.flips.length}${c.flips.length > maxFlips ? `, first ${maxFlips}` : ""}):`);
    for (const f of c.flips.slice(0, maxFlips)) {
      lines.push(
        `  ${oneLine(f.probeId, 120)} [${f.category}/${oneLine(f.language, 20)}${f.variant ? `/${oneLine(f.variant, 40)}` : ""}]: ${f.a} -> ${f.b}`,
      );
    }
  }
  return lines.join("\n");
}

/** `bench show`: a stored run's metrics and records, every model-produced or dataset string escaped on one line. */
function renderStoredRun(
  runId: string,
  all: readonly ItemRecord[],
  summary: ReturnType<BenchResults["readSummary"]>,
  records: readonly ItemRecord[],
): string {
  const lines = [
    `run ${runId}: ${all.length} records${summary ? `, suite ${summary.suite}, target ${summary.target}` : ""}`,
  ];
  if (summary)
    lines.push(
      table([["metric", "value", "CI", "count", ""], ...summary.metrics.filter((m) => !m.group).map(formatMetric)]),
    );
  const blocked = blockedLine(all);
  if (blocked) lines.push(blocked);
  for (const r of records) {
    const ask = [...r.conversation].reverse().find((m) => m.role === "user")?.content ?? "";
    lines.push(
      "",
      `${oneLine(r.probeId, 120)} [${r.category}/${oneLine(r.language, 20)}${r.variant ? `/${oneLine(r.variant, 40)}` : ""}] ` +
        `outcome ${r.outcome} judge ${oneLine(r.judgement.label, 40)}`,
      `  prompt:   ${oneLine(ask, 300)}`,
      `  response: ${oneLine(r.response, 300)}`,
    );
  }
  return lines.join("\n");
}

/** `bench compare A B`: paired comparison of two runs of one suite. */
export async function compareAction(a: string, b: string, _o: unknown, cmd: Command): Promise<void> {
  // --workspace, --out and --json belong to `bench` (commander gives options shared with the parent to the parent).
  const o = cmd.optsWithGlobals() as {
    workspace?: string;
    out?: string;
    config?: string;
    alpha: string;
    json?: boolean;
  };
  const alpha = Number(o.alpha);
  if (!(alpha > 0 && alpha < 1)) throw new CliError(`--alpha: expected a number in (0, 1), got '${o.alpha}'`, 2);
  // the store is opened only for a run named by id (two .jsonl files need none)
  let sink: BenchResults | undefined;
  const results = () => {
    sink ??= storedResults(o);
    return sink;
  };
  let c: Comparison;
  try {
    c = compareRuns(await loadRun(a, results), await loadRun(b, results), { alpha });
  } catch (e) {
    throw e instanceof CliError ? e : new CliError((e as Error).message, 2);
  } finally {
    sink?.db.store.close();
  }
  process.stdout.write(`${renderComparison(c)}\n`);
  if (o.json) process.stdout.write(`${jsonForTerminal(c)}\n`);
}

/** `bench show RUN`: a stored run's metrics and some of its records. */
export async function showAction(ref: string, so: { records: string; outcome?: string }, cmd: Command): Promise<void> {
  const o = cmd.optsWithGlobals() as { workspace?: string; out?: string; config?: string; json?: boolean };
  const n = intFlag("records", so.records, 0);
  if (so.outcome !== undefined && !["true", "false", "null"].includes(so.outcome)) {
    throw new CliError(`--outcome: expected true, false or null, got '${so.outcome}'`, 2);
  }
  const sink = storedResults(o);
  let runId: string;
  let all: ItemRecord[];
  let summary: ReturnType<BenchResults["readSummary"]>;
  try {
    runId = sink.resolveRun(ref);
    all = await sink.listRun(runId);
    summary = sink.readSummary(runId);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  } finally {
    sink.db.store.close();
  }
  const picked = all.filter((r) => so.outcome === undefined || String(r.outcome) === so.outcome).slice(0, n);
  process.stdout.write(`${renderStoredRun(runId, all, summary, picked)}\n`);
  if (o.json) process.stdout.write(`${jsonForTerminal({ run: runId, summary: summary ?? null, records: picked })}\n`);
}

/** `bench list`: the suites and groups. */
export function listAction(): void {
  const rows = SUITE_SPECS.map((s) => [s.name, s.dataset ?? "-", s.summary]);
  process.stdout.write(`${table([["suite", "dataset", "what it measures"], ...rows])}\n\ngroups:\n`);
  for (const [g, names] of Object.entries(SUITE_GROUPS)) process.stdout.write(`  ${g}: ${names.join(", ")}\n`);
}
