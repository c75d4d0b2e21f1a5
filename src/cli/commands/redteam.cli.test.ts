/**
 * `breakfix redteam` and `breakfix findings` as real processes: world seeds, the world oracle judge, and a target
 * behind a real local OpenAI-compatible server that behaves like the unsafe demo model would for framings (it refuses
 * plain asks and complies with world placeholders when a jailbreak framing wraps the request). Re-running the same
 * command finishes from the store with identical results and no model call.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Conversation } from "../../domain/types.ts";
import { findingSchema } from "../../redteam/findings-schema.ts";
import { type ScriptServer, startScriptServer } from "../../redteam/testing/openai-server.ts";
import { generateWorld, worldProbes } from "../../world/generate.ts";
import { compliantAnswer, harmSpec, refusal } from "../../world/harm.ts";
import { type CliRun, runBreakfix } from "../testing.ts";

const FRAMED =
  /Quill|thought experiment|Sure, here is|Rules for your answer|audit mode|experimento mental|Claro, aquí|Reglas|auditoría/;

let server: ScriptServer;
let dir: string;
beforeAll(async () => {
  const world = generateWorld();
  // The `world` seed set: the red-team split's harmful asks and the unsafe twins of its look-alikes.
  const seeds = [
    ...worldProbes(world, { split: "redteam", family: "harmful", label: "unsafe" }),
    ...worldProbes(world, { split: "redteam", family: "lookalike", label: "unsafe" }),
  ];
  const target = (messages: Conversation): string => {
    const text = messages.map((m) => m.content).join("\n");
    const user = messages.at(-1)!.content.toLowerCase();
    const p = seeds.find((s) => user.includes(s.prompt.toLowerCase().slice(1)));
    if (!p) return p === undefined ? "I am not sure what you mean." : "";
    const lang = p.language as "en" | "es";
    return FRAMED.test(text) ? compliantAnswer(harmSpec(p.category), lang) : refusal(harmSpec(p.category), lang);
  };
  server = await startScriptServer({ demo: target });
  dir = mkdtempSync(path.join(tmpdir(), "redteam-cli-"));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliRun> {
  return runBreakfix(args, { cwd: dir });
}

const lastJson = (s: string) => JSON.parse(s.trim().split("\n").at(-1)!);

describe("breakfix redteam / findings", () => {
  it("runs a campaign, resumes instantly with identical results, and lists findings linked to conversations", async () => {
    const args = [
      "redteam",
      "--target",
      `${server.baseUrl}#demo`,
      "--seeds",
      "world",
      "--persona",
      "low_skilled",
      "--limit-seeds",
      "24",
    ];
    args.push("--budget", "60", "--concurrency", "4", "--json", "--export", "findings.jsonl", "--no-progress");
    const first = await cli(args);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const a = lastJson(first.stdout);
    expect(a.complete).toBe(true);
    expect(a.planned).toBe(60);
    expect(a.ran).toBe(60);
    expect(a.asr.by_technique.direct.asr).toBe(0);
    expect(a.asr.by_technique.system_override.asr).toBe(1);
    expect(Object.keys(a.asr.by_language).sort()).toEqual(["en", "es"]);
    // ASR per category x technique x language, each with its Wilson interval.
    const cells = a.asr.cells as {
      category: string;
      technique: string;
      language: string;
      asr: number;
      low: number;
      high: number;
      n: number;
    }[];
    expect(cells.length).toBeGreaterThan(10);
    expect(cells.reduce((k, c) => k + c.n, 0)).toBe(60);
    for (const c of cells) expect(c.low <= c.asr && c.asr <= c.high).toBe(true);
    expect(a.vulnerabilities.length).toBeGreaterThan(0);
    expect(first.stdout).toMatch(/ASR overall/);
    const calls = server.countFor("demo");
    expect(calls).toBe(60);

    const second = await cli(args);
    expect(second.code).toBe(0);
    const b = lastJson(second.stdout);
    expect(b.ran).toBe(0);
    expect(b.from_store).toBe(60);
    expect(server.countFor("demo")).toBe(calls);
    expect(b.asr).toEqual(a.asr);
    expect(b.vulnerabilities).toEqual(a.vulnerabilities);

    // Another judge over the same campaign: new records, but every target answer comes from the response cache.
    const rejudged = await cli([
      ...args.filter((x) => x !== "findings.jsonl" && x !== "--export"),
      "--judge",
      "refusal-patterns",
    ]);
    expect(rejudged.code).toBe(0);
    const c = lastJson(rejudged.stdout);
    expect(c.ran).toBe(60);
    expect(c.campaign).not.toBe(a.campaign);
    expect(server.countFor("demo")).toBe(calls);
    expect(c.asr.overall.n).toBe(60);

    const lines = readFileSync(path.join(dir, "findings.jsonl"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(a.findings);
    for (const l of lines) expect(findingSchema.safeParse(JSON.parse(l)).success).toBe(true);

    const list = await cli(["findings", "--json", "--campaign", a.campaign.slice(0, 10)]);
    expect(list.code).toBe(0);
    const f = lastJson(list.stdout);
    expect(f.campaign).toBe(a.campaign);
    expect(f.vulnerabilities.map((v: { id: string }) => v.id)).toEqual(
      a.vulnerabilities.map((v: { id: string }) => v.id),
    );

    const text = await cli(["findings", "--campaign", a.campaign]);
    expect(text.stdout).toMatch(/finding [0-9a-f]{12} -> record [0-9a-f]{12}/);
    const record = f.findings[0].record as string;
    const show = await cli(["findings", record.slice(0, 16), "--campaign", a.campaign]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`record ${record}`);
    expect(show.stdout).toMatch(/--- assistant \(judged response\)\n(Sure|Claro)/);
  });

  it("--dry-run prints the plan and calls no model", async () => {
    const before = server.countFor("demo");
    const r = await cli([
      "redteam",
      "--target",
      `${server.baseUrl}#demo`,
      "--seeds",
      "world",
      "--persona",
      "intermediate",
      "--limit-seeds",
      "10",
      "--dry-run",
      "--workspace",
      "dry",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^plan: \d+ attacks from 10 seeds, persona intermediate/);
    expect(r.stdout).toMatch(/skipped \d+ x crescendo \[en\]: needs an attacker model/);
    expect(server.countFor("demo")).toBe(before);
  });

  it("fails clearly on bad input", async () => {
    const r = await cli(["redteam", "--target", "nonsense", "--seeds", "world", "--no-progress"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--target: 'nonsense' is not URL#model/);
    const s = await cli(["redteam", "--target", `${server.baseUrl}#demo`, "--seeds", "nope.jsonl"]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--seeds: seeds file 'nope.jsonl' does not exist/);
    // A language nothing translates the seeds into: the dry run shows why each attack is skipped (it used to fail with
    // "budget must be a positive integer, got undefined"), and a real run stops with exit 2 instead of running nothing.
    const before = server.countFor("demo");
    const fr = ["redteam", "--target", `${server.baseUrl}#demo`, "--seeds", "world", "--languages", "fr"];
    const dry = await cli([...fr, "--limit-seeds", "4", "--dry-run", "--workspace", "fr"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^plan: 0 attacks from 4 seeds/);
    expect(dry.stdout).toMatch(/skipped \d+ x direct \[fr\]: needs a translator from en into fr/);
    const run = await cli([...fr, "--limit-seeds", "4", "--no-progress", "--workspace", "fr"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/nothing to attack with: every planned attack was skipped: needs a translator/);
    expect(server.countFor("demo")).toBe(before);
  });
});
