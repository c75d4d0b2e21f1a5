/**
 * `--no-progress` means the same on every long command, and without it a long command reports progress with an ETA
 * (on stderr; off a terminal one plain line at most every two seconds and at the end). Real child processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
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
