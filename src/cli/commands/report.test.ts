/** `breakfix report` and `breakfix findings` only read: a workspace with no store is a usage error, and stays empty. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CliError } from "../errors.ts";
import { findingsAction } from "./findings.action.ts";
import { reportAction } from "./report.action.ts";

const dir = mkdtempSync(path.join(tmpdir(), "bf-readonly-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function usageError(run: () => unknown): Promise<CliError> {
  const e = await Promise.resolve()
    .then(run)
    .then(
      () => undefined,
      (x: unknown) => x,
    );
  expect(e).toBeInstanceOf(CliError);
  expect((e as CliError).exitCode).toBe(2);
  return e as CliError;
}

describe("read-only commands create no workspace", () => {
  it("findings and report on a missing or empty workspace: a usage error naming it, nothing created", async () => {
    const missing = path.join(dir, "missing");
    const empty = path.join(dir, "empty");
    mkdirSync(empty);
    for (const ws of [missing, empty]) {
      const f = await usageError(() => findingsAction(undefined, { workspace: ws, top: "20" }));
      expect(f.message).toMatch(/^findings: no red-team campaign in the workspace/);
      expect(f.message).toContain(path.join(ws, "breakfix.db"));
      const r = await usageError(() => reportAction(undefined, { workspace: ws }));
      expect(r.message).toMatch(/^report: no cycle run in /);
      expect(r.message).toContain(path.join(ws, "breakfix.db"));
    }
    expect(existsSync(missing)).toBe(false);
    expect(readdirSync(empty)).toEqual([]);
  });
});
