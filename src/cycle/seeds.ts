/**
 * Several training seeds (`cycle.seeds`, `breakfix cycle --seeds N`): the cycle's rounds run once per seed as
 * independent chains in one workspace (break and curate read the model, so every step of every round is per seed),
 * and the figures are reported as their spread over seeds: for every figure of every round, mean, sample sd, min, max
 * and the number of seeds that measured it, plus the release candidate each seed chose (on its own figures, by the
 * run's own code) and the same statistics over the release candidates and over each chain's last round.
 *
 * Each seed is an ordinary cycle run (runCycle): its config differs only in training.seed, which is part of the run
 * id, so a killed multi-seed cycle resumes where it stopped: the seeds run in order, a finished seed is read back
 * from its step records (no model call), the interrupted one resumes from its last finished step. Round 0 is the
 * same base model for every seed: its suite records are keyed by the weights' fingerprint (benchmarks/runner.ts), so
 * every seed after the first reads them back and makes no model call for it.
 *
 * The aggregation is generic over the round figures: any `{ name, value }` leaf of a round's object (a Metric) is a
 * figure, named by its path (`harmfulDr`, `drByLanguage.es`, `test.harmfulDr`, ...), so new figures need no change
 * here. Nothing here decides anything: it reads what the runs decided.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema.ts";
import { escapeHtml, escapeMarkdown } from "../domain/escape.ts";
import { contentHash } from "../domain/hash.ts";
import { type CycleOptions, type CycleResult, runCycle } from "./cycle.ts";

/** The training seeds of a config: N -> training.seed .. training.seed + N - 1; a list as given. */
export function trainingSeeds(config: Config): number[] {
  const s = config.cycle.seeds;
  return Array.isArray(s) ? [...s] : Array.from({ length: s }, (_, i) => config.training.seed + i);
}

/** The config of one seed's chain: the same config with training.seed set (the run identity ignores cycle.seeds). */
export function configForSeed(config: Config, seed: number): Config {
  return { ...config, training: { ...config.training, seed } };
}

/** One figure over seeds. Values are per seed in seed order (null: that seed did not measure it or has no such round). */
export interface FigureStats {
  /** The figure's own name (its Metric name in the first seed that has it). */
  name: string;
  /** Seeds with a measured value. */
  n: number;
  mean: number | null;
  /** Sample standard deviation (n - 1); null with fewer than 2 values. */
  sd: number | null;
  min: number | null;
  max: number | null;
  values: (number | null)[];
}

/** Figures keyed by their path in the round's object, in the order they first appear. */
export type FigureSet = Record<string, FigureStats>;

export interface RoundAggregate {
  round: number;
  /** Seeds whose chain reached this round (a chain stops early when every gate passes). */
  seeds: number;
  figures: FigureSet;
}

export interface SeedsAggregate {
  seeds: number[];
  runIds: string[];
  rounds: RoundAggregate[];
  /** Each seed's last round (a chain stops early when every gate passes). */
  lastRounds: number[];
  /** The release candidate each seed chose on its own figures (null: that seed has none). */
  releaseCandidates: (number | null)[];
  /** The release candidates' figures over the seeds that have one. */
  releaseCandidate: { seeds: number; figures: FigureSet };
  /** Each chain's last round (what the cycle ended with) over seeds. */
  final: { seeds: number; figures: FigureSet };
}

/** What the aggregation reads of a seed's run (a CycleResult has it). */
export interface SeedRun {
  seed: number;
  runId: string;
  rounds: readonly object[];
  releaseCandidate?: number;
}

function isFigure(x: unknown): x is { name: string; value: number | null } {
  if (!x || typeof x !== "object" || Array.isArray(x)) return false;
  const o = x as Record<string, unknown>;
  return typeof o.name === "string" && "value" in o && (typeof o.value === "number" || o.value === null);
}

/** Every figure ({ name, value } leaf) of an object with its dotted path; arrays and other values are not walked. */
export function figuresOf(obj: unknown, prefix = ""): [string, { name: string; value: number | null }][] {
  if (isFigure(obj)) return [[prefix, obj]];
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) return [];
  return Object.entries(obj).flatMap(([k, v]) => figuresOf(v, prefix ? `${prefix}.${k}` : k));
}

/** mean, sample sd, min, max of the finite values (null when there are none). */
export function spread(values: readonly (number | null | undefined)[]): Omit<FigureStats, "name" | "values"> {
  const xs = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n, mean: null, sd: null, min: null, max: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? null : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
}

/** Every figure of one object per seed (undefined: that seed has none), over seeds. */
export function aggregateFigures(perSeed: readonly (object | undefined)[]): FigureSet {
  const found = new Map<string, { name: string; values: (number | null)[] }>();
  perSeed.forEach((obj, i) => {
    for (const [p, f] of figuresOf(obj)) {
      let e = found.get(p);
      if (!e) {
        e = { name: f.name, values: perSeed.map(() => null) };
        found.set(p, e);
      }
      e.values[i] = typeof f.value === "number" && Number.isFinite(f.value) ? f.value : null;
    }
  });
  return Object.fromEntries([...found].map(([p, e]) => [p, { name: e.name, ...spread(e.values), values: e.values }]));
}

/** The per-round, release-candidate and final-round statistics of several seeds' runs. */
export function aggregateSeeds(runs: readonly SeedRun[]): SeedsAggregate {
  const roundOf = (r: SeedRun, i: number | undefined) =>
    i === undefined ? undefined : r.rounds.find((x) => (x as { round?: number }).round === i);
  const indices = [...new Set(runs.flatMap((r) => r.rounds.map((x, i) => (x as { round?: number }).round ?? i)))];
  indices.sort((a, b) => a - b);
  const over = (pick: (r: SeedRun) => object | undefined) => {
    const objs = runs.map(pick);
    return { seeds: objs.filter(Boolean).length, figures: aggregateFigures(objs) };
  };
  return {
    seeds: runs.map((r) => r.seed),
    runIds: runs.map((r) => r.runId),
    rounds: indices.map((round) => ({ round, ...over((r) => roundOf(r, round)) })),
    lastRounds: runs.map((r) => {
      const last = r.rounds.at(-1) as { round?: number } | undefined;
      return last?.round ?? r.rounds.length - 1;
    }),
    releaseCandidates: runs.map((r) => r.releaseCandidate ?? null),
    releaseCandidate: over((r) => roundOf(r, r.releaseCandidate)),
    final: over((r) => r.rounds.at(-1)),
  };
}

// ---- text

/** A rate's statistics in percent: "4.2 ± 1.3 [2.0, 6.1]"; with fewer seeds than the set, "(n 2)"; none: "n/a". */
export function statText(s: FigureStats | undefined, seeds?: number): string {
  if (!s || s.mean === null) return "n/a";
  const p = (x: number) => (100 * x).toFixed(1);
  const core = s.n === 1 ? p(s.mean) : `${p(s.mean)} ± ${p(s.sd ?? 0)} [${p(s.min ?? s.mean)}, ${p(s.max ?? s.mean)}]`;
  return seeds !== undefined && s.n < seeds ? `${core} (n ${s.n})` : core;
}

/**
 * The group a round line shows: the test split's own figures when the rounds have them (what is reported; `dev` is
 * what decisions read), else the top-level figures.
 */
function headlineGroup(a: SeedsAggregate): string {
  const all = a.rounds.flatMap((r) => Object.keys(r.figures));
  return all.some((p) => p.startsWith("test.") && !p.slice(5).includes(".")) ? "test" : "";
}

/**
 * One log line per round, then the release candidates' and the last rounds' figures:
 * "round 1 (3 seeds) test, % mean ± sd [min, max]: harmful DR 4.2 ± 1.3 [2.0, 6.1] | ...".
 */
export function roundLines(a: SeedsAggregate): string[] {
  const g = headlineGroup(a);
  const inGroup = (p: string) =>
    g === "" ? !p.includes(".") : p.startsWith(`${g}.`) && !p.slice(g.length + 1).includes(".");
  const line = (label: string, seeds: number, set: FigureSet) =>
    `${label} (${seeds} seed${seeds === 1 ? "" : "s"})${g ? ` ${g}` : ""}, % mean ± sd [min, max]: ` +
    Object.keys(set)
      .filter(inGroup)
      .map((p) => `${set[p].name} ${statText(set[p], a.seeds.length)}`)
      .join(" | ");
  return [
    ...a.rounds.map((r) => line(`round ${r.round}`, r.seeds, r.figures)),
    line("release candidates", a.releaseCandidate.seeds, a.releaseCandidate.figures),
    line("last rounds", a.final.seeds, a.final.figures),
  ];
}

/**
 * Figure paths grouped by their parent path ("" = top level): first the groups that hold a round's own figures (they
 * have breakdowns below them: test before dev, as reports lead with test), then the breakdowns, in first-seen order.
 */
function groups(a: SeedsAggregate): [group: string, paths: string[], headline: boolean][] {
  const out = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const set of [...a.rounds.map((r) => r.figures), a.releaseCandidate.figures, a.final.figures])
    for (const p of Object.keys(set)) {
      if (seen.has(p)) continue;
      seen.add(p);
      const g = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "";
      out.set(g, [...(out.get(g) ?? []), p]);
    }
  const names = [...out.keys()];
  const rank = (g: string) =>
    (g === "" || names.some((o) => o.startsWith(`${g}.`)) ? 0 : 2) + (g.split(".").includes("dev") ? 1 : 0);
  return [...out].sort((x, y) => rank(x[0]) - rank(y[0])).map(([g, ps]) => [g, ps, rank(g) < 2]);
}

interface Table {
  title: string;
  head: string[];
  rows: string[][];
}

function tables(a: SeedsAggregate): Table[] {
  const n = a.seeds.length;
  const cols = [
    ...a.rounds.map((r) => ({ head: `round ${r.round}`, set: r.figures })),
    { head: "release candidate", set: a.releaseCandidate.figures },
    { head: "last round", set: a.final.figures },
  ];
  // Answers the deployment's filter blocked (RoundMetrics.blocked) are shown only where some were, as in every
  // other report: a table of zeros per split and slice would bury the figures of a run no filter touched.
  const someBlocked = (paths: string[]) => paths.some((p) => cols.some((c) => (c.set[p]?.max ?? 0) > 0));
  const shown = groups(a).filter(([g, paths]) => !(g === "blocked" || g.endsWith(".blocked")) || someBlocked(paths));
  // A round's own figures go by their names (harmful DR, IPRR); a breakdown's rows by their keys (en, S1, refused).
  return shown.map(([g, paths, headline]) => ({
    title: g === "" ? "Figures" : g,
    head: ["figure", ...cols.map((c) => c.head)],
    rows: paths.map((p) => {
      const name = cols.map((c) => c.set[p]?.name).find(Boolean) ?? p;
      return [headline ? name : p.slice(g.length + 1), ...cols.map((c) => statText(c.set[p], n))];
    }),
  }));
}

function seedRows(a: SeedsAggregate, runs: readonly CycleResult[]): string[][] {
  return a.seeds.map((s, i) => [
    String(s),
    a.runIds[i].slice(0, 16),
    String(a.lastRounds[i]),
    a.releaseCandidates[i] === null ? "none" : `round ${a.releaseCandidates[i]}`,
    runs[i] ? (runs[i].allGatesPassed ? "all pass" : `failed: ${runs[i].failedGates.join("; ")}`) : "",
  ]);
}

const SEED_HEAD = [
  "training seed",
  "run",
  "last round",
  "release candidate (chosen per seed)",
  "gates in the last round",
];
const LEGEND =
  "Every cell is mean ± sample sd [min, max] over seeds, in percent; (n k): only k seeds measured it (a chain that " +
  "stopped early, or an unmeasured figure). The release candidate column takes each seed's own release candidate; " +
  "last round, each chain's last round.";

export function renderSeedsMarkdown(a: SeedsAggregate, runs: readonly CycleResult[] = []): string {
  // Names come from data (languages, categories, techniques, gates) and are escaped; the statistics are our own
  // numbers, left as they are so the table reads the same as text.
  const md = (cells: readonly string[], raw = false) =>
    `| ${cells.map((c, i) => (raw && i > 0 ? c : escapeMarkdown(c))).join(" | ")} |`;
  const table = (head: readonly string[], rows: readonly string[][], raw = false) =>
    [`| ${head.join(" | ")} |`, `|${head.map(() => " --- ").join("|")}|`, ...rows.map((r) => md(r, raw))].join("\n");
  const parts = [
    `# breakfix cycle over ${a.seeds.length} training seeds`,
    "",
    table(SEED_HEAD, seedRows(a, runs)),
    "",
    LEGEND,
  ];
  for (const t of tables(a)) parts.push("", `## ${escapeMarkdown(t.title)}`, "", table(t.head, t.rows, true));
  return `${parts.join("\n")}\n`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
th{background:#f4f4f4}td{font-variant-numeric:tabular-nums;white-space:nowrap}`;

export function renderSeedsHtml(a: SeedsAggregate, runs: readonly CycleResult[] = []): string {
  const h = escapeHtml;
  const table = (head: readonly string[], rows: readonly string[][]) =>
    `<table><thead><tr>${head.map((c) => `<th>${h(c)}</th>`).join("")}</tr></thead><tbody>${rows
      .map((r) => `<tr>${r.map((c) => `<td>${h(c)}</td>`).join("")}</tr>`)
      .join("\n")}</tbody></table>`;
  const title = `breakfix cycle over ${a.seeds.length} training seeds`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${h(title)}</h1>
${table(SEED_HEAD, seedRows(a, runs))}
<p>${h(LEGEND)}</p>
${tables(a)
  .map((t) => `<h2>${h(t.title)}</h2>\n${table(t.head, t.rows)}`)
  .join("\n")}
</body></html>
`;
}

/** The seed set's folder: cycles/seeds-<hash of its run ids>. */
export function seedsDirOf(workspace: string, runIds: readonly string[]): string {
  return path.join(workspace, "cycles", `seeds-${contentHash(runIds).slice(0, 16)}`);
}

/** Writes report.md, report.html and aggregate.json of a seed set into dir (each atomically). */
export function writeSeedsReport(
  dir: string,
  a: SeedsAggregate,
  runs: readonly CycleResult[],
): { md: string; html: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const out = {
    md: path.join(dir, "report.md"),
    html: path.join(dir, "report.html"),
    json: path.join(dir, "aggregate.json"),
  };
  const write = (file: string, text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  write(out.md, renderSeedsMarkdown(a, runs));
  write(out.html, renderSeedsHtml(a, runs));
  write(out.json, `${JSON.stringify(a, null, 2)}\n`);
  return out;
}

// ---- running

export interface SeedsResult {
  runs: (CycleResult & { seed: number })[];
  aggregate: SeedsAggregate;
  report: { md: string; html: string; json: string };
}

/**
 * The cycle once per training seed (in order; see the file comment), then the statistics over seeds and their
 * report. `seeds` defaults to the config's (cycle.seeds). The scenario is shared: each run releases what it
 * deployed when it ends, the caller closes the scenario.
 */
export async function runSeeds(o: CycleOptions & { seeds?: readonly number[] }): Promise<SeedsResult> {
  const log = o.log ?? (() => {});
  const seeds = o.seeds ?? trainingSeeds(o.config);
  const runs: SeedsResult["runs"] = [];
  for (const [i, seed] of seeds.entries()) {
    log(`seed ${seed} (${i + 1}/${seeds.length}): training seed ${seed}`);
    const res = await runCycle({ ...o, config: configForSeed(o.config, seed) });
    runs.push({ seed, ...res });
    log(
      `seed ${seed} (${i + 1}/${seeds.length}): run ${res.runId.slice(0, 16)} done; release candidate ${res.releaseCandidate === undefined ? "none" : `round ${res.releaseCandidate}`}`,
    );
  }
  const aggregate = aggregateSeeds(runs);
  const report = writeSeedsReport(seedsDirOf(path.resolve(o.workspace), aggregate.runIds), aggregate, runs);
  log(`seeds ${seeds.join(", ")}: report ${report.md}`);
  return { runs, aggregate, report };
}
