/**
 * `redteam --dry-run --json` ends with one JSON object (the plan), as --json does on every command; the text plan stays
 * above it, and nothing is written. Real child process.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBreakfix } from "../testing.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "redteam-dry-json-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("redteam --dry-run --json", () => {
  it("prints the plan as one JSON object on the last stdout line and writes nothing", async () => {
    const r = await runBreakfix(["redteam", "--seeds", "world", "--limit-seeds", "6", "--dry-run", "--json"], {
      cwd: tmp,
      env: { BREAKFIX_CONFIG: "" },
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    const plan = JSON.parse(lines.at(-1)!);
    expect(plan.dryRun).toBe(true);
    expect(plan.persona).toBe("low_skilled");
    expect(plan.seeds).toBe(6);
    const attacks = plan.attacks as { technique: string; language: string; count: number }[];
    const total = attacks.reduce((n, a) => n + a.count, 0);
    expect(total).toBeGreaterThan(0);
    expect(plan.total).toBe(total);
    expect(lines[0]).toBe(`plan: ${total} attacks from 6 seeds, persona low_skilled (no model called)`);
    expect(Array.isArray(plan.skipped)).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
