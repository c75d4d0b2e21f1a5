/**
 * `breakfix cycle --seeds 2` through the real CLI on the smallest cycle that needs no world code (the committed demo
 * organism as a builtin target, AdvBench seeds, the refusal-learned judge, template refusals, small HarmBench and
 * XSTest subsets, a few LoRA steps): two chains with training seeds 0 and 1 in one workspace, killed with SIGKILL in
 * the second seed's round and resumed. Checks: each seed is its own run with its own training seed and weights; round
 * 0 is measured once (both runs read the same suite records); the aggregate's every figure is the mean / sd / range
 * of the two runs' own figures; a re-run does no new work (same run ids, same JSON, no new record in any table).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { runBreakfix } from "../cli/testing.ts";
import { modelFolderFingerprint } from "../models/fingerprint.ts";
import { DEMO_MODEL_DIR } from "../models/registry.ts";
import { Store } from "../store/store.ts";
import { listCycleRuns } from "./report.ts";
import { figuresOf, type SeedsAggregate, seedsDirOf } from "./seeds.ts";
import { STEP_KIND } from "./steps.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "breakfix-seeds-"));
const ws = path.join(tmp, "ws");

const CONFIG = `workspace: ws
target:
  provider: builtin
  model: ${JSON.stringify(DEMO_MODEL_DIR)}
  maxTokens: 16
  concurrency: 8
training:
  method: lora
  lora: {rank: 8, alpha: 8, targets: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]}
  sft: {lr: 0.003, epochs: 4, batchSize: 8, maxSeqLen: 128}
  dpo: {enabled: false}
  maxSteps: 6
judges:
  default: refusal-learned
redteam:
  seeds: advbench
  languages: [en]
  seedsPerCategory: 1
  personas:
    - {id: low_skilled, attacksPerSeed: 1, maxChain: 1, maxTurns: 1}
  budget: {maxAttacksPerRound: 8}
curation:
  responder: templates
  counterData: none
  retention: none
benchmarks:
  suites:
    - {name: harmbench, limit: 6}
    - {name: xstest, limit: 6}
cycle:
  rounds: 1
  engine: builtin
`;

interface SeedJson {
  seed: number;
  runId: string;
  rounds: ({ round: number; model: string } & Record<string, unknown>)[];
  releaseCandidate: number | null;
}
interface SeedsJson {
  seeds: SeedJson[];
  aggregate: SeedsAggregate;
}

const lastJson = (stdout: string): SeedsJson => JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");

/** Rows and distinct content hashes per table, artefacts per kind (run states, appended per invocation, left out). */
function storeCounts(): Record<string, number> {
  const db = new Database(path.join(ws, "breakfix.db"), { readonly: true });
  try {
    const out: Record<string, number> = {};
    for (const t of [
      "runs",
      "rounds",
      "attacks",
      "responses",
      "judgements",
      "findings",
      "vulnerabilities",
      "dataset_rows",
      "training_runs",
    ]) {
      out[t] = (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
      out[`${t}:distinct`] = (db.prepare(`SELECT COUNT(DISTINCT hash) AS n FROM ${t}`).get() as { n: number }).n;
    }
    for (const r of db.prepare("SELECT kind, COUNT(*) AS n FROM artifacts GROUP BY kind").all() as {
      kind: string;
      n: number;
    }[])
      out[`artifacts:${r.kind}`] = r.n;
    return out;
  } finally {
    db.close();
  }
}

/** Every benchmark run id a measure step record refers to (under any `runIds` key, whatever the record's shape). */
function suiteRunIds(x: unknown): string[] {
  if (!x || typeof x !== "object") return [];
  return Object.entries(x).flatMap(([k, v]) =>
    k === "runIds" && v && typeof v === "object" ? Object.values(v as Record<string, string>) : suiteRunIds(v),
  );
}

describe("breakfix cycle --seeds 2", () => {
  it("runs one chain per training seed, aggregates them, resumes after SIGKILL and does no new work on a re-run", async () => {
    writeFileSync(path.join(tmp, "breakfix.yaml"), CONFIG);
    const args = ["cycle", "--config", "breakfix.yaml", "--seeds", "2", "--json"];
    // Killed in the second seed's round 1, after its red team finished.
    const killed = await runBreakfix(args, { cwd: tmp, killOn: /seed 1 \(2\/2\)[\s\S]*round 1: break done/ });
    expect(killed.killed, killed.stderr).toBe(true);
    const resumed = await runBreakfix(args, { cwd: tmp });
    expect(resumed.code, resumed.stderr).toBe(0);
    // The seeds resume in order: seed 0 is read back from its step records (nothing redone), seed 1 resumes after its
    // recorded break.
    const [seed0Log, seed1Log] = resumed.stderr.split(/^seed 1 \(2\/2\)/m);
    expect(seed0Log).toMatch(/^seed 0 \(1\/2\)/);
    expect(seed0Log).toMatch(/resuming; it was done/);
    expect(seed0Log).not.toMatch(/ done in /);
    for (const s of ["measure", "break", "curate", "train-sft", "regression"])
      expect(seed0Log).toMatch(new RegExp(`round ${s === "measure" ? 0 : 1}: ${s} already done`));
    expect(seed1Log).toMatch(/resuming; it was running/);
    expect(seed1Log).toMatch(/round 1: break already done/);
    expect(seed1Log).toMatch(/round 1: train-sft done in/);

    const json = lastJson(resumed.stdout);
    expect(json.seeds.map((s) => s.seed)).toEqual([0, 1]);
    expect(new Set(json.seeds.map((s) => s.runId)).size).toBe(2);
    for (const s of json.seeds) expect(s.rounds.map((r) => r.round)).toEqual([0, 1]);

    const store = Store.open(ws);
    try {
      // Each seed is its own run, identified by its training seed, with its own round-1 weights.
      const runs = new Map(listCycleRuns(store).map((r) => [r.runId, r.record.args as { training: { seed: number } }]));
      expect(json.seeds.map((s) => runs.get(s.runId)?.training.seed)).toEqual([0, 1]);
      const fp = json.seeds.map((s) => modelFolderFingerprint(path.resolve(ws, s.rounds[1].model)));
      expect(fp[0]).not.toBe(fp[1]);
      expect(fp).not.toContain(modelFolderFingerprint(DEMO_MODEL_DIR));
      // Round 0 is the same model for both seeds: the second run read the first one's suite records back.
      const measured = json.seeds.map((s) =>
        [0, 1].map((round) => suiteRunIds(store.artifacts.get(STEP_KIND, { runId: s.runId, round, step: "measure" }))),
      );
      expect(measured[0][0].length).toBeGreaterThan(0);
      expect(measured[1][0]).toEqual(measured[0][0]);
      expect(measured[1][1].some((id) => measured[0][1].includes(id))).toBe(false);
      const benchRuns = store.db.prepare("SELECT DISTINCT run_id FROM artifacts WHERE kind = 'bench.record'").all() as {
        run_id: string;
      }[];
      expect(benchRuns.map((r) => r.run_id).sort()).toEqual([...new Set(measured.flat(2))].sort());
    } finally {
      store.close();
    }

    // The aggregate is the per-seed figures' statistics, figure by figure.
    const a = json.aggregate;
    expect(a.seeds).toEqual([0, 1]);
    expect(a.runIds).toEqual(json.seeds.map((s) => s.runId));
    expect(a.releaseCandidates).toEqual(json.seeds.map((s) => s.releaseCandidate));
    let checked = 0;
    for (const [i, r] of a.rounds.entries()) {
      const per = json.seeds.map((s) => new Map(figuresOf(s.rounds[i])));
      expect(Object.keys(r.figures).sort()).toEqual([...new Set(per.flatMap((m) => [...m.keys()]))].sort());
      for (const [p, f] of Object.entries(r.figures)) {
        const values = per.map((m) => m.get(p)?.value ?? null);
        expect(f.values, p).toEqual(values);
        const xs = values.filter((v): v is number => v !== null);
        expect(f.n).toBe(xs.length);
        if (xs.length === 0) continue;
        expect(f.mean).toBeCloseTo(xs.reduce((x, y) => x + y, 0) / xs.length, 12);
        expect([f.min, f.max]).toEqual([Math.min(...xs), Math.max(...xs)]);
        if (xs.length === 2) expect(f.sd).toBeCloseTo(Math.abs(xs[0] - xs[1]) / Math.SQRT2, 12);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
    const rc = json.seeds.map((s) => (s.releaseCandidate === null ? undefined : s.rounds[s.releaseCandidate]));
    for (const [p, f] of Object.entries(a.releaseCandidate.figures))
      expect(f.values, p).toEqual(rc.map((x) => (x ? (new Map(figuresOf(x)).get(p)?.value ?? null) : null)));
    // The human lines and the seed set's report.
    // --json: stdout is the JSON document alone; the summary lines go to stderr
    expect(JSON.parse(resumed.stdout)).toEqual(json);
    expect(resumed.stderr).toMatch(/^ {2}round 1 \(2 seeds\).*mean ± sd \[min, max\]: /m);
    const dir = seedsDirOf(ws, a.runIds);
    const md = readFileSync(path.join(dir, "report.md"), "utf8");
    expect(md).toMatch(/^\| figure \| round 0 \| round 1 \| release candidate \| last round \|$/m);
    expect(existsSync(path.join(dir, "report.html"))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, "aggregate.json"), "utf8"))).toEqual(a);

    // A re-run of the finished seeds does no new work: same runs, same output, no new record anywhere.
    const before = storeCounts();
    const again = await runBreakfix(args, { cwd: tmp });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/ done in /);
    expect(lastJson(again.stdout)).toEqual(json);
    expect(storeCounts()).toEqual(before);
  }, 180_000);
});
