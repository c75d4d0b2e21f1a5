/**
 * runShell with real processes: /bin/sh, the commands it starts, and (for interrupts) a real Node process running it.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fillTemplate, groupAlive, pidStartTime, processAlive, runShell } from "./shell.ts";

let dir: string;
/** Pids the tests' commands wrote; any still running after a test is killed (by pid). */
const started: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "bf-shell-"));
});
afterEach(() => {
  for (const pid of started.splice(0))
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
});

/** Running (not a zombie: an orphan killed here may stay one when PID 1 does not reap). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    try {
      process.kill(pid, 0);
      return !existsSync("/proc"); // no /proc entry on Linux: gone
    } catch {
      return false;
    }
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

function pidFile(name: string): number {
  const pid = Number(readFileSync(path.join(dir, name), "utf8").trim());
  started.push(pid);
  return pid;
}

describe("fillTemplate", () => {
  const KNOWN = ["model_dir", "round", "args"];
  /** Fills `template` and runs it through a real /bin/sh in the test folder; returns its stdout. */
  const sh = (template: string, model_dir: string) =>
    execFileSync("/bin/sh", ["-c", fillTemplate(template, { model_dir, round: "1" }, KNOWN, "deploy.command")], {
      cwd: dir,
      encoding: "utf8",
    });
  const PAYLOADS = [
    "/m/$(touch PWNED)",
    "/m/`touch PWNED`",
    "a b'c\"d",
    "x;touch PWNED",
    "m\ntouch PWNED #",
    "-rf",
    "*",
    "$HOME ~ {round}",
    "",
  ];

  it("an unquoted placeholder is one word holding exactly the value, whatever it holds", () => {
    for (const v of PAYLOADS) {
      expect(sh("printf '[%s]' {model_dir}", v)).toBe(`[${v}]`);
      expect(sh("printf '[%s]' $(printf '%s' {model_dir} | wc -c)", v).replace(/ /g, "")).toBe(
        `[${Buffer.byteLength(v)}]`,
      );
    }
    expect(existsSync(path.join(dir, "PWNED"))).toBe(false);
  });

  it("inside quotes, a comment or a here-document, a value that needs quoting is refused, never run", () => {
    // each of these ran `touch PWNED` when the value was filled in single-quoted: the quotes around the placeholder
    // (or a nested `sh -c '...'`, a comment's newline, an expanding here-document) undo them
    const templates = [
      'printf %s "{model_dir}"',
      "sh -c 'printf %s {model_dir}'",
      "printf %s {round} # model {model_dir}",
      "cat <<EOF\n{model_dir}\nEOF",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell template, not a JavaScript one
      'printf %s "${X:-{model_dir}}"',
      'printf %s "$(printf %s "{model_dir}")"',
    ];
    for (const t of templates)
      for (const v of ["/m/$(touch PWNED)", "/m/`touch PWNED`", "m\ntouch PWNED #", "a'b"])
        expect(() => sh(t, v), `${t} with ${v}`).toThrow(
          /deploy\.command: \{model_dir\} stands inside .*write \{model_dir\} outside quotes/,
        );
    expect(existsSync(path.join(dir, "PWNED"))).toBe(false);
  });

  it("plain values inside quotes are filled as they are; $(...) and backticks quote again; a quoted here-document is literal", () => {
    expect(sh('printf %s "{model_dir}"', "/models/round-1")).toBe("/models/round-1");
    expect(sh("sh -c 'printf %s {model_dir}'", "/models/r1")).toBe("/models/r1");
    expect(sh('printf %s "{model_dir}"', "")).toBe("");
    expect(sh('printf "[%s]" "$(printf %s {model_dir})"', "a b$(touch PWNED)")).toBe("[a b$(touch PWNED)]");
    expect(sh('printf [%s] "`printf %s {model_dir}`"', "x;touch PWNED")).toBe("[x;touch PWNED]");
    expect(sh("cat <<'EOF'\n{model_dir}\nEOF", "/m/$(touch PWNED)")).toBe("'/m/$(touch PWNED)'\n");
    // a bash here-string is no here-document (dash, /bin/sh here, has none)
    expect(fillTemplate("cat <<< {model_dir}", { model_dir: "a b" }, KNOWN, "k")).toBe("cat <<< 'a b'");
    expect(sh('printf %s \\"{model_dir}', "a b")).toBe('"a b');
    expect(existsSync(path.join(dir, "PWNED"))).toBe(false);
    // raw names (already a list of quoted words) cannot stand inside quotes
    expect(() => fillTemplate('run "{args}"', { args: "'a b' c" }, KNOWN, "k", ["args"])).toThrow(
      /\{args\} stands inside double quotes/,
    );
    expect(fillTemplate("run {args}", { args: "'a b' c" }, KNOWN, "k", ["args"])).toBe("run 'a b' c");
  });
});

describe("runShell", () => {
  it("resolves on exit 0 with every line logged; a failing status names the key and the last lines", async () => {
    const lines: string[] = [];
    await runShell("echo one; echo two >&2; printf 'three'", {
      key: "deploy.command",
      timeoutMs: 10_000,
      log: (l) => lines.push(l),
    });
    expect(lines.sort()).toEqual(["one", "three", "two"]); // two pipes: no order between them
    await expect(
      runShell("echo a; echo b; echo c; echo d; exit 3", { key: "deploy.command", timeoutMs: 10_000, log: () => {} }),
    ).rejects.toThrow("deploy.command failed (exit 3): b | c | d");
  });

  it("output is shown, never interpreted: escape sequences and carriage returns become marks, redact runs first", async () => {
    const lines: string[] = [];
    // an OSC 52 clipboard write, a CSI screen clear, a carriage return over the line, and a key in the environment
    const run = `printf 'a\\033]52;c;ZXZpbA==\\007b\\n'; printf '\\033[2Jc\\rd\\r\\n'; echo "key $BF_KEY"; exit 3`;
    process.env.BF_KEY = "sk-shell-secret-0123456789"; // the command inherits the environment
    const err = await runShell(run, {
      key: "deploy.command",
      timeoutMs: 10_000,
      log: (l) => lines.push(l),
      redact: (l) => l.split("sk-shell-secret-0123456789").join("[REDACTED]"),
    })
      .catch((e: Error) => e)
      .finally(() => delete process.env.BF_KEY);
    expect(lines).toEqual(["a\\u{1b}]52;c;ZXZpbA==\\u{7}b", "\\u{1b}[2Jc\\u{d}d", "key [REDACTED]"]);
    expect((err as Error).message).toBe(
      "deploy.command failed (exit 3): a\\u{1b}]52;c;ZXZpbA==\\u{7}b | \\u{1b}[2Jc\\u{d}d | key [REDACTED]",
    );
  });

  it("a timed-out command is stopped with everything it started: rejects soon after the limit, nothing survives", async () => {
    // The trainer stands for a grandchild holding the output pipes: /bin/sh -c -> sh (exec sleep).
    const lines: string[] = [];
    const t0 = Date.now();
    const err = await runShell(
      "echo $$ > shell.pid; echo start; sh -c 'echo $$ > trainer.pid; exec sleep 30'; echo after",
      {
        key: "training.command.run",
        timeoutMs: 500,
        timeoutKey: "training.command.timeoutMs",
        cwd: dir,
        log: (l) => lines.push(l),
      },
    ).catch((e: Error) => e);
    const elapsed = Date.now() - t0;
    const shell = pidFile("shell.pid");
    const trainer = pidFile("trainer.pid");
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      "training.command.run failed (ran over training.command.timeoutMs 500 ms; its process group was stopped with SIGTERM): start",
    );
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(3_000);
    expect(alive(trainer)).toBe(false);
    expect(groupAlive(shell)).toBe(false);
    expect(lines).toEqual(["start"]);
  }, 15_000);

  it("SIGTERM first: a trainer that saves on SIGTERM gets to, and its last words are logged", async () => {
    const lines: string[] = [];
    const err = await runShell(`sh -c 'trap "echo saving checkpoint; exit 1" TERM; while :; do sleep 0.05; done'`, {
      key: "training.command.run",
      timeoutMs: 300,
      killGraceMs: 5_000,
      cwd: dir,
      log: (l) => lines.push(l),
    }).catch((e: Error) => e);
    // (the shell may also report its killed `sleep` as "Terminated", on the other pipe)
    expect((err as Error).message).toMatch(/stopped with SIGTERM\): .*saving checkpoint/);
    expect(lines).toContain("saving checkpoint");
  }, 15_000);

  it("a grandchild that ignores SIGTERM gets SIGKILL after the grace", async () => {
    const t0 = Date.now();
    const err = await runShell(
      `echo $$ > shell.pid; sh -c 'trap "" TERM; echo $$ > stubborn.pid; while :; do sleep 0.05; done'`,
      { key: "training.command.run", timeoutMs: 300, killGraceMs: 400, cwd: dir, log: () => {} },
    ).catch((e: Error) => e);
    const elapsed = Date.now() - t0;
    const stubborn = pidFile("stubborn.pid");
    expect((err as Error).message).toMatch(/over its time limit 300 ms; its process group was stopped with SIGKILL/);
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(elapsed).toBeLessThan(3_000);
    expect(alive(stubborn)).toBe(false);
    expect(groupAlive(pidFile("shell.pid"))).toBe(false);
  }, 15_000);

  it("a command that leaves a process holding its output resolves once the shell exits, and leaves it running", async () => {
    // e.g. a deploy command that starts a server with `&`: not ours to kill, and not ours to wait for
    const lines: string[] = [];
    const t0 = Date.now();
    await runShell("sleep 30 & echo $! > server.pid; echo started", {
      key: "deploy.command",
      timeoutMs: 10_000,
      cwd: dir,
      log: (l) => lines.push(l),
    });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(lines).toEqual(["started"]);
    expect(alive(pidFile("server.pid"))).toBe(true); // killed by afterEach
  }, 15_000);

  // A terminal's Ctrl-C goes to the foreground process group: here the Node process's own group (it is started
  // detached for that), which no longer holds the command. The signal must still reach the command, and Node must
  // still die of it (no other listener).
  it.each([
    ["SIGINT to the terminal's group", "SIGINT", true],
    ["SIGTERM to the Node process", "SIGTERM", false],
  ] as const)(
    "%s stops the running command and the process dies of it",
    async (_, signal, toGroup) => {
      const code = `
      import { runShell } from ${JSON.stringify(path.join(import.meta.dirname, "shell.ts"))};
      await runShell("sh -c 'echo $$ > trainer.pid; exec sleep 30'", {
        key: "training.command.run", timeoutMs: 60000, cwd: ${JSON.stringify(dir)}, log: console.log,
      });
      console.log("resolved");`;
      const node: ChildProcess = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      let out = "";
      node.stdout?.on("data", (b: Buffer) => {
        out += b.toString();
      });
      node.stderr?.on("data", (b: Buffer) => {
        out += b.toString();
      });
      const exited = new Promise<NodeJS.Signals | number | null>((r) => node.on("exit", (c, s) => r(s ?? c)));
      expect(await until(() => existsSync(path.join(dir, "trainer.pid")), 10_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 100)); // the pid file is written just before the exec
      const trainer = pidFile("trainer.pid");
      expect(alive(trainer)).toBe(true);
      process.kill(toGroup ? -node.pid! : node.pid!, signal);
      expect(await exited).toBe(signal);
      expect(out).not.toContain("resolved");
      expect(await until(() => !alive(trainer), 2_000)).toBe(true);
    },
    20_000,
  );
});

describe("processAlive", () => {
  it("a running process is alive; one with another start time (a reused pid), an exited one or a zombie is not", async () => {
    // `sh` starts a short sleep in the background, then becomes `sleep 5`, which never reaps it: a zombie for 5 s.
    const child = spawn("/bin/sh", ["-c", "sleep 0.1 & echo $!; exec sleep 5"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    started.push(child.pid!);
    const zombie = await new Promise<number>((resolve) =>
      child.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    const start = pidStartTime(child.pid!);
    expect(start).toMatch(/^\d+$/);
    expect(processAlive(child.pid!)).toBe(true);
    expect(processAlive(child.pid!, start)).toBe(true);
    expect(processAlive(child.pid!, `${start}0`)).toBe(false);
    expect(await until(() => readFileSync(`/proc/${zombie}/stat`, "utf8").includes(") Z "), 3_000)).toBe(true);
    expect(processAlive(zombie)).toBe(false);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(processAlive(child.pid!)).toBe(false);
  });
});
