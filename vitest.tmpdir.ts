/**
 * vitest globalSetup: every test file's temporary folders (os.tmpdir(): workspaces, stores, model copies, llama-server
 * logs) go under one folder per `vitest run`, removed when the run ends, so `npm test` leaves nothing in /tmp (the
 * two demo cycle tests alone used to leave 470 + 176 MB a run). Workers are forked after this runs and inherit TMPDIR.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export default function setup(): () => void {
  // Each project of the run (unit, parity) inherits this setup and vitest calls it once per project: the first call
  // makes the run's folder, the others use it.
  if (process.env.BREAKFIX_VITEST_TMPDIR) return () => {};
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(path.join(tmpdir(), "breakfix-vitest-"));
  process.env.TMPDIR = dir;
  process.env.BREAKFIX_VITEST_TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    delete process.env.BREAKFIX_VITEST_TMPDIR;
    rmSync(dir, { recursive: true, force: true });
  };
}
