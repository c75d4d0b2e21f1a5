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
