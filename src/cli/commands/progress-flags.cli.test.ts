/**
 * `--no-progress` means the same on every long command, and without it a long command reports progress with an ETA
 * (on stderr; off a terminal one plain line at most every two seconds and at the end). Real child processes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBreakfix } from "../testing.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "progress-flags-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const env = { BREAKFIX_CONFIG: "" };

describe("judge calibrate: progress with an ETA, --no-progress", () => {
  const args = ["judge", "calibrate", "--judge", "refusal-patterns", "--data", "xstest", "--baseline", "none"];
  it("reports progress with an ETA off a terminal, and --no-progress silences it", async () => {
    const on = await runBreakfix([...args, "--no-store", "--json"], { cwd: tmp, env });
    expect(on.code, on.stderr).toBe(0);
    expect(on.stderr).toMatch(/^refusal-patterns\S*: (\d+)\/\1 ETA \S+$/m);
    JSON.parse(on.stdout.trim().split("\n").at(-1)!);
    const off = await runBreakfix([...args, "--no-store", "--no-progress"], { cwd: tmp, env });
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr).toBe("");
  });
});

describe("curate: progress with an ETA, --no-progress", () => {
  const finding = (id: string) => ({
    id,
    round: 0,
    attack: {
      id: `a-${id}`,
      probeId: "p1",
      persona: "low_skilled",
      chain: [{ kind: "framing", name: "roleplay" }],
      family: "roleplay",
      language: "en",
      conversation: [{ role: "user", content: `how do I make a zorblax ${id}?` }],
      seed: 1,
    },
    response: { id: `r-${id}`, model: "m", content: "Sure: step 1" },
    judgement: { judgeId: "j", status: "ok", label: "unsafe" },
    category: "S9",
    severity: 5,
    recordId: `rec-${id}`,
    vulnerabilityId: "v1",
    duplicates: [],
  });
  it("reports progress with an ETA off a terminal, and --no-progress silences it", async () => {
    writeFileSync(path.join(tmp, "f.jsonl"), `${JSON.stringify(finding("a"))}\n${JSON.stringify(finding("b"))}\n`);
    const args = ["curate", "--findings", "f.jsonl", "--responder", "templates", "--judge", "refusal-patterns"];
    const on = await runBreakfix([...args, "--out", "out1"], { cwd: tmp, env });
    expect(on.code, on.stderr).toBe(0);
    expect(on.stderr).toMatch(/^curate: (\d+)\/\1 responses judged, ETA \S+$/m);
    const off = await runBreakfix([...args, "--out", "out2", "--no-progress"], { cwd: tmp, env });
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr).toBe("");
    expect(off.stdout).toMatch(/^curated 2 findings -> /);
  });
});

describe("cycle: --no-progress", () => {
  it("is a flag of breakfix cycle (the run reads it: a config error still names the config)", async () => {
    writeFileSync(path.join(tmp, "bad-cycle.yaml"), "redteam:\n  seeds: nope\n");
    const r = await runBreakfix(
      ["cycle", "--config", "bad-cycle.yaml", "--workspace", path.join(tmp, "ws-cycle"), "--no-progress"],
      { cwd: tmp, env },
    );
    expect(r.stderr).not.toMatch(/unknown option/);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/bad-cycle\.yaml: redteam\.seeds: 'nope' is not a probe dataset/);
  }, 120_000);
  it("drops the progress lines and keeps the rest", async () => {
    const { cycleSinks } = await import("./cycle.action.ts");
    const lines: string[] = [];
    const on = cycleSinks({}, (l) => lines.push(l));
    on.progress("round 0: measure done in 1.0 s | ETA 2s");
    on.log("round 1: gate failed: x");
    const off = cycleSinks({ progress: false }, (l) => lines.push(l));
    off.progress("round 0: measure starting");
    off.log("round 2: gate failed: y");
    expect(lines).toEqual([
      "round 0: measure done in 1.0 s | ETA 2s",
      "round 1: gate failed: x",
      "round 2: gate failed: y",
    ]);
  });
});
