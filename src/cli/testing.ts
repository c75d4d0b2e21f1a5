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
  /** Called with the stderr seen so far, each time more arrives. */
  onStderr?: (stderr: string) => void;
  /** Environment variables set for the child (over this process's). */
  env?: NodeJS.ProcessEnv;
}

export function runBreakfix(args: readonly string[], o: CliRunOptions): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BREAKFIX_BIN, ...args], {
      cwd: o.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      ...(o.env ? { env: { ...process.env, ...o.env } } : {}),
    });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      o.onStderr?.(stderr);
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
 *
 * With `hold`, the overlap no longer depends on the machine's load: `take` blocks the runs' progress (the test takes the
 * lock they contend for, or holds its model server's answers) and returns the release, which comes once `waiters`
 * runs say they wait. Holding the lock: both wait (2), then one runs and the other waits for that run's lock. Holding
 * the answers: the run that took the lock is stuck on its first request while the other waits (1). Without `hold` the
 * overlap is up to the scheduler: a short run can finish before the other process has started (two vitest workers on
 * two cores did that).
 */
export async function runTwoAtOnce(
  args: readonly string[],
  o: CliRunOptions,
  waitedText: string,
  hold?: { take: () => Promise<() => void>; waiters: 1 | 2 },
): Promise<{ runs: CliRun[]; waited: CliRun[]; seconds: number }> {
  const t0 = Date.now();
  let runs: CliRun[];
  if (hold) {
    const release = await hold.take();
    const waiting = [false, false];
    let released = false;
    const free = () => {
      if (!released) {
        released = true;
        release();
      }
    };
    const start = (k: number) =>
      runBreakfix(args, {
        ...o,
        onStderr: (s) => {
          o.onStderr?.(s);
          waiting[k] = s.includes(waitedText);
          if (waiting.filter(Boolean).length >= hold.waiters) free();
        },
      }).finally(free); // a run that exits early must not leave the other blocked on what the test holds
    runs = await Promise.all([start(0), start(1)]);
  } else runs = await Promise.all([runBreakfix(args, o), runBreakfix(args, o)]);
  const seconds = (Date.now() - t0) / 1000;
  for (const r of runs) if (r.code !== 0) throw new Error(`breakfix ${args[0]} exited ${r.code}: ${r.stderr}`);
  const waited = runs.filter((r) => r.stderr.includes(waitedText));
  const expected = hold?.waiters ?? 1;
  if (waited.length !== expected)
    throw new Error(`expected ${expected} run(s) to wait for the lock, got ${waited.length}`);
  return { runs, waited, seconds };
}

/**
 * A gate for a test's stub model server (runTwoAtOnce's `hold` with `waiters: 1`): the server awaits `wait()` before
 * each answer; `take` closes the gate and returns the function that opens it again.
 */
export function answerGate(): { wait: () => Promise<void>; take: () => Promise<() => void> } {
  let held: Promise<void> | undefined;
  return {
    wait: () => held ?? Promise.resolve(),
    take: async () => {
      let open = () => {};
      held = new Promise<void>((r) => {
        open = r;
      });
      return () => {
        held = undefined;
        open();
      };
    },
  };
}
