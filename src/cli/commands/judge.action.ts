/**
 * The actions of `breakfix judge calibrate|list|run` (registered in judge.ts), loaded when one runs. calibrate runs a
 * judge over human-labelled data and prints accuracy, binary accuracy, per-class P/R/F1, Cohen's kappa and the
 * confusion matrix, overall, per source file and dev vs held-out, next to a baseline judge (default: the GCG/AdvBench
 * refusal-substring list); results go to the workspace store. With --json the last line is one JSON object
 * (accuracy, binary_accuracy, macro_f1, kappa, ..., baseline).
 */
import path from "node:path";
import type { Command } from "commander";
import { escapeForTerminal, jsonForTerminal } from "../../domain/escape.ts";
import { etaText } from "../../domain/eta.ts";
import { percent } from "../../domain/format.ts";
import { wilson } from "../../domain/stats.ts";
import {
  type CalibrationReport,
  calibrate,
  type Figures,
  isDevGroup,
  type LabelledItem,
} from "../../judges/calibrate.ts";
import { loadCalibrationData } from "../../judges/data.ts";
import { formatConfusion } from "../../judges/metrics.ts";
import { createJudge, JUDGE_NAMES, type JudgeConfig, needsModel, readJudgeConfig } from "../../judges/registry.ts";
import type { Judge } from "../../judges/types.ts";
import type { ChatModel } from "../../models/types.ts";
import { DB_FILENAME, Store } from "../../store/store.ts";
import { CliError, intFlag } from "../errors.ts";
import { progressReporter } from "../progress.ts";
import { workspaceOf } from "../workspace.ts";
import { modelFromSpec } from "./bench.action.ts";

const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");

function row(name: string, f: Figures): string {
  return [
    name.padEnd(44),
    String(f.n).padStart(5),
    percent(f.accuracy).padStart(7),
    percent(f.binary_accuracy).padStart(8),
    num(f.macro_f1).padStart(9),
    num(f.kappa).padStart(7),
    String(f.unjudged).padStart(9),
  ].join(" ");
}

export function formatReport(r: CalibrationReport, title: string): string {
  const lines = [
    `${title}: ${r.judge} on ${r.data} (${r.n} items, ${r.unjudged} unjudged)`,
    [
      "".padEnd(44),
      "n".padStart(5),
      "acc".padStart(7),
      "bin-acc".padStart(8),
      "macro-F1".padStart(9),
      "kappa".padStart(7),
      "unjudged".padStart(9),
    ].join(" "),
    row("all", r),
  ];
  // Group names come from the data (a completions file's model name, a reviewer's name): shown, never interpreted.
  const shown = (g: string) => escapeForTerminal(g, { oneLine: true, max: 100 });
  if (r.dev) lines.push(row(`dev (${r.dev.groups.map(shown).join(", ")})`, r.dev.figures));
  if (r.held_out) lines.push(row(`held-out (${r.held_out.groups.map(shown).join(", ")})`, r.held_out.figures));
  for (const [g, f] of Object.entries(r.groups)) lines.push(row(`  ${shown(g)}`, f));
  lines.push("per class (all):");
  for (const c of r.per_class) {
    lines.push(
      `  ${c.label.padEnd(16)} P ${num(c.precision)}  R ${num(c.recall)}  F1 ${num(c.f1)}  support ${c.support}`,
    );
  }
  lines.push("confusion (rows gold, columns predicted):");
  lines.push(
    ...formatConfusion({ labels: r.labels, confusion: r.confusion })
      .split("\n")
      .map((l) => `  ${l}`),
  );
  return lines.join("\n");
}

/** The JSON summary object (snake_case figures; baseline nested). */
export function summary(r: CalibrationReport, baseline?: CalibrationReport, stored?: string): Record<string, unknown> {
  const pick = (f: Figures) => ({
    n: f.n,
    unjudged: f.unjudged,
    accuracy: f.accuracy,
    binary_accuracy: f.binary_accuracy,
    macro_f1: f.macro_f1,
    kappa: f.kappa,
  });
  const block = (x: CalibrationReport) => ({
    judge: x.judge,
    ...pick(x),
    binary_kappa: x.binary_kappa,
    per_class: x.per_class,
    labels: x.labels,
    confusion: x.confusion,
    groups: Object.fromEntries(Object.entries(x.groups).map(([g, f]) => [g, pick(f)])),
    ...(x.dev ? { dev: { groups: x.dev.groups, ...pick(x.dev.figures) } } : {}),
    ...(x.held_out ? { held_out: { groups: x.held_out.groups, ...pick(x.held_out.figures) } } : {}),
  });
  return {
    data: r.data,
    ...block(r),
    ...(baseline ? { baseline: block(baseline) } : {}),
    ...(stored ? { stored } : {}),
  };
}

function storeReport(store: Store, r: CalibrationReport, dataPath: string): void {
  store.artifacts.put(
    "judge-calibration",
    { judge: r.judge, data: r.data, path: dataPath, n: r.n, confusion: r.confusion },
    r,
  );
  const put = (name: string, value: number, successes?: number) =>
    store.metrics.put(
      { kind: "judge-calibration", judge: r.judge, data: r.data, path: dataPath, name, value },
      {
        name: `judge-calibration/${r.judge}/${r.data}/${name}`,
        value,
        n: r.n,
        ...(successes !== undefined ? { successes, interval: wilson(successes, r.n) } : {}),
      },
    );
  put("accuracy", r.accuracy, Math.round(r.accuracy * r.n));
  put("binary_accuracy", r.binary_accuracy, Math.round(r.binary_accuracy * r.n));
  put("macro_f1", r.macro_f1);
  put("kappa", r.kappa);
}

export interface CalibrateFlags {
  judge: string;
  data: string;
  path?: string;
  json?: boolean;
  model?: string;
  apiKeyEnv?: string;
  baseline: string;
  dev?: string;
  /** Default: the config's workspace, as every other command (read only when a store is used). */
  workspace?: string;
  config?: string;
  store: boolean;
  /** --no-progress: false. */
  progress?: boolean;
  concurrency: string;
  retries: string;
}

function parseConfig(text: string): JudgeConfig {
  try {
    return readJudgeConfig(text);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

async function buildJudge(text: string, model: ChatModel | undefined, retries: number): Promise<Judge> {
  try {
    return createJudge(parseConfig(text), { model, llm: { retries } });
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

async function runCalibrate(flags: CalibrateFlags): Promise<void> {
  // read only when a store is used: a config error is a usage error naming the file
  const workspace = () => workspaceOf(flags);
  const concurrency = intFlag("concurrency", flags.concurrency, 1);
  const retries = intFlag("retries", flags.retries, 0);
  const config = parseConfig(flags.judge);
  let model: ChatModel | undefined;
  let needs: boolean;
  try {
    needs = needsModel(config);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  if (needs) {
    if (!flags.model)
      throw new CliError(
        `judge '${flags.judge}' needs a judge model: pass --model URL#model (or builtin:DIR, llamacpp:FILE.gguf)`,
        2,
      );
    model = await modelFromSpec(flags.model, { concurrency, apiKeyEnv: flags.apiKeyEnv, what: "--model" });
  }
  let items: LabelledItem[];
  // reviews live in a workspace store: --path names another workspace, else --workspace's (default: the config's)
  const reviewsIn = flags.data === "reviews" && !flags.path ? workspace() : undefined;
  try {
    items = loadCalibrationData(flags.data, reviewsIn ?? flags.path);
  } catch (e) {
    const from = flags.path ? ` --path ${flags.path}` : reviewsIn ? ` (workspace ${reviewsIn})` : "";
    throw new CliError(`--data ${flags.data}${from}: ${(e as Error).message}`, 2);
  }
  const judge = await buildJudge(flags.judge, model, retries);
  const baseline = flags.baseline === "none" ? undefined : await buildJudge(flags.baseline, model, retries);
  const devGroups = flags.dev
    ? flags.dev
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
  // named development groups the data does not have are a usage error (calibrate would fail after judging)
  if (devGroups) {
    const groups = [...new Set(items.map((i) => i.group))].sort();
    if (!groups.some((g) => isDevGroup(g, devGroups)))
      throw new CliError(
        `--dev ${devGroups.join(",")}: matches none of the data's groups (${groups.map((g) => escapeForTerminal(g, { oneLine: true, max: 100 })).join(", ")}); ` +
          "pass --dev GROUP[,GROUP] of these, or --dev none for no dev / held-out split",
        2,
      );
  }
  const ws = flags.store ? workspace() : undefined;
  const store = ws === undefined ? undefined : Store.open(ws);
  // progress with an ETA on stderr (a bar on a terminal, else plain lines), as every long command; --no-progress: none
  const progressFor = (j: Judge) => {
    const started = Date.now();
    const reporter = progressReporter<{ done: number; total: number }>(flags.progress !== false, {
      format: "{judge} [{bar}] {value}/{total} | {percentage}% | ETA {eta_formatted}",
      done: (p) => p.done,
      total: (p) => p.total,
      payload: () => ({ judge: j.id }),
      line: (p) => {
        const eta = p.done > 0 ? ((Date.now() - started) / p.done) * (p.total - p.done) : undefined;
        return `${j.id}: ${p.done}/${p.total} ETA ${etaText(eta)}`;
      },
    });
    return (done: number, total: number) => {
      reporter.update({ done, total });
      if (done === total) reporter.stop();
    };
  };
  try {
    const common = { dataName: flags.data, devGroups, concurrency };
    const main = await calibrate(judge, items, {
      ...common,
      store: model && store ? store : undefined,
      onProgress: progressFor(judge),
    });
    const base = baseline
      ? await calibrate(baseline, items, {
          ...common,
          store: model && store ? store : undefined,
          onProgress: progressFor(baseline),
        })
      : undefined;
    let stored: string | undefined;
    if (store && ws !== undefined) {
      storeReport(store, main, flags.path ?? flags.data);
      if (base) storeReport(store, base, flags.path ?? flags.data);
      stored = `${path.join(ws, DB_FILENAME)} (artifacts kind judge-calibration, metrics judge-calibration/*)`;
    }
    const text = [
      formatReport(main, "judge"),
      ...(base ? ["", formatReport(base, "baseline")] : []),
      ...(stored ? ["", `stored in ${stored}`] : []),
    ].join("\n");
    process.stdout.write(`${text}\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify(summary(main, base, stored))}\n`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message, 1);
  } finally {
    store?.close();
    await model?.close?.();
  }
}

/** `judge calibrate`. */
export async function calibrateAction(flags: CalibrateFlags, cmd: Command): Promise<void> {
  if (flags.dev === "" || flags.dev === "none") flags.dev = undefined;
  // the default development group names an XSTest source; reviews are grouped by reviewer instead
  if (flags.data === "reviews" && cmd.getOptionValueSource("dev") === "default") flags.dev = undefined;
  await runCalibrate(flags);
}

/** `judge list`: the judges. */
export function listAction(): void {
  for (const n of JUDGE_NAMES) process.stdout.write(`${n}${needsModel(n) ? "  (LLM judge: needs --model)" : ""}\n`);
}

/** `judge run`: judge one prompt/response pair; prints the judgement as JSON. */
export async function runAction(flags: {
  judge: string;
  prompt: string;
  response: string;
  model?: string;
  apiKeyEnv?: string;
  retries: string;
}): Promise<void> {
  const config = parseConfig(flags.judge);
  const model =
    needsModel(config) && flags.model
      ? await modelFromSpec(flags.model, { concurrency: 1, apiKeyEnv: flags.apiKeyEnv, what: "--model" })
      : undefined;
  const j = await buildJudge(flags.judge, model, intFlag("retries", flags.retries, 0));
  const out = await j.judge({
    conversation: [{ role: "user", content: flags.prompt }],
    response: flags.response,
  });
  process.stdout.write(`${jsonForTerminal(out)}\n`);
  await model?.close?.();
}
