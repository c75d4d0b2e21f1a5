/**
 * Test helper: runs the real `breakfix` CLI (bin/breakfix.js) as a child process and collects its output. Used by the
 * end-to-end tests that must exercise the shipped entry point, not an in-process command.
 */
import { spawn } from "node:child_process";
import path from "node:path";

export const BREAKFIX_BIN = path.resolve(import.meta.dirname, "../../bin/breakfix.js");

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time in milliseconds. */
  ms: number;
  /** Whether killOn matched and the child was sent SIGKILL. */
  killed: boolean;
}

export interface CliRunOptions {
  cwd: string;
  /** Send SIGKILL as soon as the stderr seen so far matches. */
  killOn?: RegExp;
}

export function runBreakfix(args: readonly string[], o: CliRunOptions): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BREAKFIX_BIN, ...args], { cwd: o.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      if (o.killOn && !killed && o.killOn.test(stderr)) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started, killed }));
  });
}

/**
 * Two identical invocations started at once (the workspace-lock tests): both must exit 0, and exactly one must have
 * waited for the other's lock, which its stderr says with `waitedText`. Returns the runs and the wall time in seconds.
 */
export async function runTwoAtOnce(
  args: readonly string[],
  o: CliRunOptions,
  waitedText: string,
): Promise<{ runs: CliRun[]; waited: CliRun[]; seconds: number }> {
  const t0 = Date.now();
  const runs = await Promise.all([runBreakfix(args, o), runBreakfix(args, o)]);
  const seconds = (Date.now() - t0) / 1000;
  for (const r of runs) if (r.code !== 0) throw new Error(`breakfix ${args[0]} exited ${r.code}: ${r.stderr}`);
  const waited = runs.filter((r) => r.stderr.includes(waitedText));
  if (waited.length !== 1) throw new Error(`expected one run to wait for the other's lock, got ${waited.length}`);
  return { runs, waited, seconds };
}
