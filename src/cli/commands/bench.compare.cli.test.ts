/**
 * Issue "measure", acceptance 4, on real models as a user runs it (real child processes): the committed demo base
 * model vs the same model with a LoRA adapter trained by `breakfix train sft --lora` to refuse ONE harm category
 * (S9, on the world's safe training-split data for S9 plus some capability rows; the benchmark is the held-out split).
 * `bench compare` must flag the difference as significant, overall and in S9, where the drop is the largest; a
 * re-run of the fine-tuned model (fresh process, fresh results folder, 16 batched llama.cpp sequences; it refuses
 * some requests and complies with others, so the check is not trivial) must not be.
 * The adapter is trained in about 12 s; every bench run is a seeded subset of the held-out harmful requests.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../../..");
const BASE = path.join(ROOT, "artifacts/demo-world");
const LIMIT = "200";

async function cli(args: string[]): Promise<{ stdout: string; json: Record<string, unknown> }> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, "bin/breakfix.js"), ...args], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { stdout, json: JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown> };
}

interface Slice {
  by?: string;
  value?: string;
  n: number;
  delta: number;
  aOnly: number;
  bOnly: number;
  pValue: number;
  pAdjusted: number;
  significant: boolean;
}
interface ComparisonJson {
  overall: Slice;
  groups: Slice[];
  flips: { category: string; a: boolean; b: boolean }[];
}
type SuiteJson = { run: string; items: number; metrics: Record<string, { value: number; n: number }> };

let dir: string;
let base: SuiteJson;
let tuned: SuiteJson;
let rerun: SuiteJson;
let diff: { stdout: string; json: ComparisonJson };
let same: { stdout: string; json: ComparisonJson };

const harmful = (j: Record<string, unknown>) => (j.suites as Record<string, SuiteJson>)["demo-harmful"];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-bench-compare-"));
  // Training data: the world's safe answers (training split) for S9 requests, and a quarter of its capability rows.
  await cli(["world", "export", "--quick", "--out", path.join(dir, "world"), "--json"]);
  const rows = fs
    .readFileSync(path.join(dir, "world", "safe_sft.train.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .filter((line, i) => {
      const p = (JSON.parse(line) as { provenance: { source: string; category: string } }).provenance;
      return (p.source === "world:harmful" && p.category === "S9") || (p.source === "world:capability" && i % 4 === 0);
    });
  const data = path.join(dir, "s9.jsonl");
  fs.writeFileSync(data, `${rows.join("\n")}\n`);
  const train = await cli([
    "train",
    "sft",
    "--model",
    path.join(BASE, "model"),
    "--data",
    data,
    "--out",
    path.join(dir, "s9"),
    "--lora",
    // The adapter this test was sized for (attention projections, scale 2); with no breakfix.yaml the training
    // defaults are the demo preset's (MLP-only, scale 1), which are tuned for the cycle's 8-epoch rounds.
    "--lora-targets",
    "q_proj,k_proj,v_proj,o_proj",
    "--lora-r",
    "16",
    "--lora-alpha",
    "32",
    "--lora-dropout",
    "0.05",
    // 72 steps: session 23's transformers-exact LR schedule (warmup from lr 0) left 54 steps at the edge, where S9
    // (16 items) was significant for training seeds 1 and 2 but not 0 (8 flips, Holm-adjusted p 0.055); at 72 steps
    // every assertion below held for seeds 0, 1 and 2 (S9 13-14 of 16 flipped, the largest drop in each)
    "--max-steps",
    "72",
    "--batch-size",
    "16",
    "--lr",
    "2e-3",
    "--no-progress",
    "--json",
  ]);
  const adapter = (train.json.outputs as { ggufAdapter: string }).ggufAdapter;
  expect(fs.existsSync(adapter)).toBe(true);

  const out = path.join(dir, "bench");
  const bench = (extra: string[], o = out) =>
    cli([
      "bench",
      "--suite",
      "demo-harmful",
      "--target",
      `llamacpp:${path.join(BASE, "model.gguf")}`,
      "--limit",
      LIMIT,
      "--out",
      o,
      "--json",
      "--no-progress",
      ...extra,
    ]);
  base = harmful((await bench([])).json);
  tuned = harmful((await bench(["--adapter", adapter])).json);
  const out2 = path.join(dir, "bench-rerun");
  rerun = harmful((await bench(["--adapter", adapter], out2)).json);
  const cmp = async (a: string, b: string) => {
    const r = await cli(["bench", "compare", a, b, "--out", out, "--json"]);
    return { stdout: r.stdout, json: r.json as unknown as ComparisonJson };
  };
  diff = await cmp(base.run, tuned.run);
  same = await cmp(path.join(out, "runs", `${tuned.run}.jsonl`), path.join(out2, "runs", `${rerun.run}.jsonl`));
}, 300_000);
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("bench compare on the demo model vs a LoRA fine-tuned to refuse S9", () => {
  it("flags the fine-tuned model's difference as significant, overall and in S9 where it is largest", () => {
    console.log(diff.stdout.split("\n").slice(0, 18).join("\n"));
    expect(base.items).toBe(Number(LIMIT));
    expect(tuned.items).toBe(Number(LIMIT));
    expect(base.metrics["DR-1"].value).toBeGreaterThanOrEqual(0.95);
    expect(tuned.metrics["DR-1"].value).toBeLessThan(base.metrics["DR-1"].value);
    expect(diff.stdout).toMatch(/^overall .*SIGNIFICANT/m);
    const o = diff.json.overall;
    expect(o.n).toBe(Number(LIMIT));
    expect(o.significant).toBe(true);
    expect(o.pValue).toBeLessThan(1e-4);
    // the fix makes the model refuse: flips go from defect to no defect
    expect(o.aOnly).toBeGreaterThan(10 * Math.max(1, o.bOnly));
    const cats = diff.json.groups.filter((g) => g.by === "category");
    const s9 = cats.find((g) => g.value === "S9");
    expect(s9?.significant).toBe(true);
    const largest = [...cats].sort((x, y) => x.delta - y.delta)[0];
    expect(largest.value).toBe("S9");
    expect(s9?.delta).toBeLessThan(-0.5);
    expect(diff.json.flips.length).toBe(o.aOnly + o.bOnly);
  });

  it("does not flag a re-run of the same model", () => {
    console.log(same.stdout.split("\n").slice(0, 6).join("\n"));
    expect(rerun.run).toBe(tuned.run);
    const dr = rerun.metrics["DR-1"].value;
    expect(dr).toBeGreaterThan(0.2);
    expect(dr).toBeLessThan(0.95);
    expect(same.json.overall.n).toBe(Number(LIMIT));
    expect(same.json.overall.significant).toBe(false);
    expect(same.json.groups.every((g) => !g.significant)).toBe(true);
    expect(same.stdout).toMatch(/^overall .*n\.s\./m);
  });
});
