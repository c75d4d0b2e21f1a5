/**
 * `breakfix cycle` names where its config came from in a scenario error (a name that cannot be resolved, a model
 * folder that cannot be read), as the config's own errors do: the --config file, $BREAKFIX_CONFIG's file, or the
 * preset used when no file is found; never a breakfix.yaml that was not read. Real processes of the shipped CLI.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBreakfix } from "../testing.ts";

const dir = mkdtempSync(path.join(tmpdir(), "bf-cycle-source-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BAD_SEEDS = "redteam:\n  seeds: nope\n";

describe("breakfix cycle: scenario errors name the config's source", () => {
  it("--config's file, $BREAKFIX_CONFIG's file, or the preset", async () => {
    mkdirSync(path.join(dir, "conf"), { recursive: true });
    writeFileSync(path.join(dir, "conf", "given.yaml"), BAD_SEEDS);
    writeFileSync(path.join(dir, "conf", "from-env.yaml"), BAD_SEEDS);
    const ws = (n: string) => ["--workspace", path.join(dir, `ws-${n}`)];
    const [given, env, preset] = await Promise.all([
      runBreakfix(["cycle", "--config", "conf/given.yaml", ...ws("given")], { cwd: dir }),
      runBreakfix(["cycle", ...ws("env")], { cwd: dir, env: { BREAKFIX_CONFIG: "conf/from-env.yaml" } }),
      runBreakfix(["cycle", "--model", path.join(dir, "no-such-model"), ...ws("preset")], { cwd: dir }),
    ]);
    expect(given.code, given.stderr).toBe(2);
    expect(given.stderr).toMatch(/conf\/given\.yaml: redteam\.seeds: 'nope' is not a probe dataset/);
    expect(env.code, env.stderr).toBe(2);
    expect(env.stderr).toMatch(/conf\/from-env\.yaml: redteam\.seeds: 'nope' is not a probe dataset/);
    expect(preset.code, preset.stderr).toBe(2);
    expect(preset.stderr).toMatch(/\(preset demo\): --model: .*no-such-model is not a Hugging Face model folder/);
    for (const r of [given, env, preset]) expect(r.stderr).not.toContain("breakfix.yaml");
  }, 120_000);
});
