/**
 * The break-fix cycle end to end through the real CLI: the committed demo organism named with --model (as a user names
 * their own model folder), 2 rounds with small budgets.
 * Then the same cycle in a fresh workspace, killed with SIGKILL in several different stages (real child processes)
 * and re-run each time: the resumed run must end with metrics identical to the uninterrupted one and the same
 * number of records in every store table (no duplicates).
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type CliRun, runBreakfix } from "../cli/testing.ts";
import { DEMO_MODEL_DIR } from "../models/registry.ts";
import type { AttackRecord } from "../redteam/campaign/types.ts";
import { startView } from "../view/server.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "breakfix-cycle-"));

function args(workspace: string): string[] {
  return [
    "cycle",
    "--model",
    DEMO_MODEL_DIR,
    "--workspace",
    workspace,
    "--rounds",
    "2",
    "--suite-limit",
    "16",
    "--seeds-per-category",
    "1",
    "--max-attacks",
    "12",
    "--max-tokens",
    "24",
    "--train-max-steps",
    "8",
    "--safety-set-rows",
    "24",
    "--personas",
    "low_skilled",
    "--json",
  ];
}

/** Runs the cycle; with killOn, sends SIGKILL as soon as a stderr line matches it. */
function runCycle(workspace: string, killOn?: RegExp): Promise<CliRun> {
  return runBreakfix(args(workspace), { cwd: tmp, killOn });
}

function lastJson(stdout: string): { runId?: string; rounds: Record<string, unknown>[] } {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Rows per table, artefacts per kind, and the number of distinct content hashes per table. */
function storeCounts(workspace: string): Record<string, number> {
  const db = new Database(path.join(workspace, "breakfix.db"), { readonly: true });
  try {
    const out: Record<string, number> = {};
    for (const t of [
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

let reference: {
  json: { runId?: string; rounds: Record<string, unknown>[] };
  counts: Record<string, number>;
  run: CliRun;
};

describe("breakfix cycle", () => {
  it("runs 2 rounds end to end on a tiny world model and prints the rounds JSON", async () => {
    const ws = path.join(tmp, "ws-reference");
    const run = await runCycle(ws);
    expect(run.code, run.stderr).toBe(0);
    const json = lastJson(run.stdout);
    expect(json.rounds.map((r) => r.round)).toEqual([0, 1, 2]);
    for (const r of json.rounds) {
      // each round carries the dev split (what the gates read) and the test split (what is reported)
      for (const split of ["dev", "test"]) {
        const f = r[split] as Record<string, unknown>;
        for (const k of ["harmfulDr", "jailbreakDr", "heldoutDr", "iprr", "vprr", "capability"]) {
          const v = (f[k] as { value: number | null }).value; // a Metric; JSON null = not measured
          expect(v === null || (typeof v === "number" && v >= 0 && v <= 1), `${split}.${k}=${v}`).toBe(true);
        }
        expect(Object.keys(f.drByLanguage as object).sort()).toEqual(["en", "es"]);
      }
      expect(typeof r.model).toBe("string");
    }
    expect((json.rounds[0].test as { harmfulDr: { value: number } }).harmfulDr.value).toBeGreaterThan(0);
    // Progress with ETAs, each step recorded, the regression suite and gates reported.
    expect(run.stderr).toMatch(/ETA/);
    for (const s of ["measure", "break", "curate", "train-sft", "train-dpo", "regression"])
      expect(run.stderr).toMatch(new RegExp(`round 2: ${s} done`));
    expect(run.stderr).toMatch(/round 2: regression suite replayed \d+ earlier successful attacks/);
    // The report: rewritten after every round, and `breakfix report` rebuilds the same from the store alone.
    const md = run.stdout.match(/report: (\S+report\.md)/)?.[1] ?? "";
    expect(existsSync(md)).toBe(true);
    const html = readFileSync(md.replace(/\.md$/, ".html"), "utf8");
    expect(html).not.toMatch(/<script/i);
    const before = readFileSync(md, "utf8");
    expect(before).toMatch(/## Rounds/);
    const rebuilt = await runBreakfix(["report", "--workspace", ws], { cwd: tmp });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(readFileSync(md, "utf8")).toBe(before);
    const counts = storeCounts(ws);
    expect(counts.rounds).toBe(3);
    expect(counts.training_runs).toBe(4);
    expect(counts["artifacts:cycle.step"]).toBe(1 + 2 * 6);
    // Re-running a finished cycle does no work and prints the same result.
    const again = await runCycle(ws);
    expect(again.code, again.stderr).toBe(0);
    expect(lastJson(again.stdout)).toEqual(json);
    expect(again.stderr).not.toMatch(/starting/);
    expect(storeCounts(ws)).toEqual(counts);
    reference = { json, counts, run };
  }, 600_000);

  it("resumes after SIGKILL in several stages with identical metrics and no duplicate records", async () => {
    expect(reference, "the end-to-end test must run first").toBeDefined();
    const ws = path.join(tmp, "ws-killed");
    const stages = [
      /round 0: measure demo-jailbreak/, // inside a benchmark suite
      /round 1: break \(low_skilled\)/, // inside the red-team campaign
      /round 1: train-sft step \d+/, // inside SFT training (after a checkpoint)
      /round 1: train-dpo starting/, // between SFT and DPO
      /round 2: measure demo-overrefusal/, // inside the second round's measurement
      /round 2: regression starting/, // the regression replay
    ];
    const killedAt: string[] = [];
    for (const stage of stages) {
      const run = await runCycle(ws, stage);
      if (run.killed) {
        expect(run.signal).toBe("SIGKILL");
        killedAt.push(stage.source);
      } else expect(run.code, run.stderr).toBe(0);
    }
    expect(killedAt.length).toBeGreaterThanOrEqual(5);
    const final = await runCycle(ws);
    expect(final.code, final.stderr).toBe(0);
    expect(final.stderr).toMatch(/already done \(recorded in the store\)/);
    expect(lastJson(final.stdout)).toEqual(reference.json);
    const counts = storeCounts(ws);
    expect(counts).toEqual(reference.counts);
    for (const t of ["attacks", "responses", "judgements", "dataset_rows", "training_runs", "rounds"])
      expect(counts[`${t}:distinct`]).toBe(counts[t]);
  }, 900_000);

  it("run from a folder outside the checkout, cycle and redteam use the committed demo model (no rebuild)", async () => {
    const outside = mkdtempSync(path.join(tmpdir(), "breakfix-outside-"));
    const run = await runBreakfix(
      [
        "cycle",
        "--rounds",
        "1",
        "--suite-limit",
        "8",
        "--seeds-per-category",
        "1",
        "--max-attacks",
        "6",
        "--max-tokens",
        "16",
        "--train-max-steps",
        "4",
        "--safety-set-rows",
        "24",
        "--personas",
        "low_skilled",
        "--json",
      ],
      { cwd: outside },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/world build|not built/);
    const json = lastJson(run.stdout);
    // Round 0 is the committed model inside the package, whatever the working folder.
    expect(path.resolve(outside, ".breakfix", String(json.rounds[0].model))).toBe(DEMO_MODEL_DIR);
    expect((json.rounds[0].test as { harmfulDr: { value: number } }).harmfulDr.value).toBeGreaterThan(0.9);
    const rt = await runBreakfix(
      ["redteam", "--seeds", "world", "--limit-seeds", "4", "--budget", "4", "--json", "--no-progress"],
      { cwd: outside },
    );
    expect(rt.code, rt.stderr).toBe(0);
    expect(rt.stderr).not.toMatch(/world build|not built/);
    // every attack reached the demo target (all 4 were "not sent" as too long: no window and 512 answer tokens)
    const summary = JSON.parse(rt.stdout.trim().split("\n").at(-1) ?? "{}") as { ran: number; not_sent: number };
    expect(summary).toMatchObject({ ran: 4, not_sent: 0 });
  }, 300_000);

  it("breakfix view renders the quick cycle's workspace in Chromium: every page, no console error, no off-host request, filter counts from the store", async () => {
    expect(reference, "the end-to-end test must run first").toBeDefined();
    const runId = String(reference.json.runId);
    const server = await startView({ workspace: path.join(tmp, "ws-reference"), reviewer: "tester" });
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    const errors: string[] = [];
    const external: string[] = [];
    try {
      const records = server.store.artifacts.list<AttackRecord>("redteam.record").map((r) => r.value);
      expect(records.length).toBeGreaterThan(0);
      const page = await browser.newPage();
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
      page.on("request", (r) => {
        if (new URL(r.url()).hostname !== "127.0.0.1") external.push(r.url());
      });
      for (const [p, title] of [
        ["/", "Runs"],
        ["/attacks", "Attack records"],
        ["/attacks?finding=1", "Findings"],
        ["/heatmap", "Heat map"],
        ["/vulnerabilities", "Vulnerabilities"],
        [`/attack/${records[0].id}`, "Attack"],
        [`/cycle/${runId}`, "Cycle"],
        ["/training", "Training runs"],
        ["/reviews", "Reviews"],
        ["/compare", "Compare two runs"],
      ] as const) {
        const res = await page.goto(new URL(p, server.url).href, { waitUntil: "load" });
        expect(res?.status(), p).toBe(200);
        expect(await page.locator("h1").textContent(), p).toContain(title);
      }
      // The cycle page carries the report's charts; the filters count what the store holds.
      await page.goto(new URL(`/cycle/${runId}`, server.url).href);
      expect(await page.locator("figure svg").count()).toBeGreaterThan(0);
      for (const lang of ["en", "es"]) {
        await page.goto(new URL(`/attacks?language=${lang}`, server.url).href);
        expect(Number(await page.locator("#match-count").getAttribute("data-total")), lang).toBe(
          records.filter((r) => r.attack.language === lang).length,
        );
      }
      await page.goto(new URL("/attacks?outcome=success", server.url).href);
      expect(Number(await page.locator("#match-count").getAttribute("data-total"))).toBe(
        records.filter((r) => r.success).length,
      );
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 120_000);
});
