/**
 * `bench --target config` and `--judge-model config` name the config's target and judge sections, as the one model-spec
 * syntax (cli/model-spec.ts) says and `redteam --target config` does. The sections here name a missing folder, so the
 * error proves which model was opened, and nothing loads or runs. Real child processes.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBreakfix } from "../testing.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "bench-target-config-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
writeFileSync(
  path.join(tmp, "bf.yaml"),
  "target:\n  provider: builtin\n  model: ./no-such-target\njudge:\n  provider: builtin\n  model: ./no-such-judge\n",
);
const bench = ["bench", "--config", "bf.yaml", "--suite", "demo-harmful", "--limit", "1"];
const opts = { cwd: tmp, env: { BREAKFIX_CONFIG: "" } };

describe("bench: 'config' as a model spec", () => {
  it("--target config opens the config's target, as no --target does", async () => {
    const r = await runBreakfix([...bench, "--target", "config"], opts);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("target (from builtin:");
    expect(r.stderr).toContain("no-such-target");
    expect(existsSync(path.join(tmp, ".breakfix"))).toBe(false);
  });

  it("--judge-model config opens the config's judge section", async () => {
    const target = ["--target", "http://127.0.0.1:9/v1#x", "--judge", "harm-severity"];
    const r = await runBreakfix([...bench, ...target, "--judge-model", "config"], opts);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("judge (from builtin:");
    expect(r.stderr).toContain("no-such-judge");
    expect(existsSync(path.join(tmp, ".breakfix"))).toBe(false);
  });
});
