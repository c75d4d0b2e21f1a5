/**
 * Users' command lines (deploy commands, trainer commands): placeholders filled in shell-quoted, and the command run
 * through /bin/sh with its output streamed line by line, a time limit, and an error that names the config key, the
 * exit status and the last lines of output. One helper for every place that runs a user's command. The command runs in
 * its own process group, so that the time limit stops everything it started (see runShell and the interrupts below).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { escapeForTerminal } from "./escape.ts";

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * Fills {placeholder}s with shell-quoted values (values may be computed on first use); an unknown placeholder is an
 * error naming the key. Names in `raw` are inserted as they are (already a list of quoted words).
 *
 * A value is quoted for where it stands: single quotes protect a value only outside other quotes. Inside "...", '...',
 * a here-document or a comment, `'$(cmd)'` would run `cmd` (double quotes, here-documents), end the comment at a
 * newline, or reach a nested `sh -c '...'` unquoted; so there a value that needs quoting is an error naming the key and
 * the placeholder (values that need none, plain paths and numbers, are filled as they are). `$(...)` and backticks
 * start a fresh quoting context, where the quoted value is right again (as is a quoted here-document, `<<'EOF'`).
 */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, string | (() => string)>>,
  known: readonly string[],
  key: string,
  raw: readonly string[] = [],
): string {
  const fill = (name: string, quoted: string | null): string => {
    if (!known.includes(name)) throw new Error(`${key}: unknown placeholder {${name}}; known: ${known.join(", ")}`);
    const v = values[name];
    const text = typeof v === "function" ? v() : (v ?? "");
    const out = raw.includes(name) ? text : shellQuote(text);
    if (quoted === null) return out;
    if (text !== "" && (raw.includes(name) || out !== text))
      throw new Error(
        `${key}: {${name}} stands inside ${quoted}, where its value (which needs quoting) cannot be quoted safely; ` +
          `write {${name}} outside quotes: breakfix quotes every value itself`,
      );
    return text;
  };
  return fillShellTemplate(template, fill);
}

type Context =
  | { t: "code" | "sq" | "dq" | "comment" }
  | { t: "bq" | "par" }
  | { t: "brace"; quoted: boolean }
  | { t: "heredoc"; delim: string; tabs: boolean; literal: boolean };

const CONTEXT_NAME: Record<string, string> = {
  sq: "single quotes",
  dq: "double quotes",
  comment: "a comment",
  heredoc: "a here-document",
  brace: "a parameter expansion in double quotes",
};

/**
 * Walks a command template the way /bin/sh reads it (quotes, backslashes, `$(...)`, backticks, `${...}`, comments,
 * here-documents) and replaces each {name} with fill(name, where): where is null for a place where a shell-quoted word
 * is read as one word, else the name of the quoting around it.
 */
function fillShellTemplate(template: string, fill: (name: string, quoted: string | null) => string): string {
  const stack: Context[] = [{ t: "code" }];
  const pending: { delim: string; tabs: boolean; literal: boolean }[] = [];
  let out = "";
  let i = 0;
  const top = () => stack[stack.length - 1];
  /** Enters a two-character opener's context (`$(`, `${`); returns the characters to copy. */
  const open = (c: Context) => {
    stack.push(c);
    return 2;
  };
  // where a quoted word stays one word (a quoted here-document's body is literal, or a script for `sh <<'EOF'`)
  const isCode = (c: Context) =>
    c.t === "code" ||
    c.t === "bq" ||
    c.t === "par" ||
    (c.t === "brace" && !c.quoted) ||
    (c.t === "heredoc" && c.literal);
  while (i < template.length) {
    const c = top();
    // a here-document's line that is its delimiter ends it
    if (c.t === "heredoc" && (i === 0 || template[i - 1] === "\n")) {
      const end = template.indexOf("\n", i);
      const line = template.slice(i, end < 0 ? undefined : end);
      if ((c.tabs ? line.replace(/^\t+/, "") : line) === c.delim) {
        stack.pop();
        out += line;
        i += line.length;
        continue;
      }
    }
    const ph = /^\{([a-z_]+)\}/.exec(template.slice(i));
    if (ph) {
      out += fill(ph[1], isCode(c) ? null : (CONTEXT_NAME[c.t] ?? c.t));
      i += ph[0].length;
      continue;
    }
    const ch = template[i];
    const two = template.slice(i, i + 2);
    let n = 1;
    if (c.t === "sq") {
      if (ch === "'") stack.pop();
    } else if (c.t === "comment") {
      if (ch === "\n") {
        stack.pop();
        continue;
      }
    } else if (c.t === "heredoc" && c.literal) {
      // nothing is special before the delimiter line
    } else if (c.t === "dq" || c.t === "heredoc" || (c.t === "brace" && c.quoted)) {
      if (ch === "\\") n = 2;
      else if (ch === '"' && c.t === "dq") stack.pop();
      else if (ch === "}" && c.t === "brace") stack.pop();
      else if (ch === "`") stack.push({ t: "bq" });
      else if (two === "$(") n = open({ t: "par" });
      else if (two === "${") n = open({ t: "brace", quoted: true });
    } else {
      // code: unquoted, in $(...), in backticks or in an unquoted ${...}
      const prev = i === 0 ? "\n" : template[i - 1];
      if (ch === "\\") n = 2;
      else if (ch === "'") stack.push({ t: "sq" });
      else if (ch === '"') stack.push({ t: "dq" });
      else if (ch === "`" && c.t === "bq") stack.pop();
      else if (ch === "`") stack.push({ t: "bq" });
      else if (two === "$(") n = open({ t: "par" });
      else if (two === "${") n = open({ t: "brace", quoted: false });
      else if (ch === "(" && c.t === "par") stack.push({ t: "par" });
      else if (ch === ")" && c.t === "par") stack.pop();
      else if (ch === "}" && c.t === "brace") stack.pop();
      else if (ch === "#" && c.t !== "brace" && /[\s;&|()<>]/.test(prev)) stack.push({ t: "comment" });
      else if (template.startsWith("<<<", i)) n = 3;
      else if (two === "<<") {
        const op = /^<<(-?)[ \t]*((?:[^\s;&|<>()'"\\]|'[^']*'|"[^"]*"|\\.)+)/.exec(template.slice(i));
        if (op) {
          pending.push({ delim: op[2].replace(/['"\\]/g, ""), tabs: op[1] === "-", literal: /['"\\]/.test(op[2]) });
          n = op[0].length;
        } else n = 2;
      } else if (ch === "\n" && pending.length > 0) {
        out += ch;
        i++;
        // here-documents start on the next line, in the order their operators came
        for (const h of pending.splice(0).reverse()) stack.push({ t: "heredoc", ...h });
        continue;
      }
    }
    out += template.slice(i, i + n);
    i += n;
  }
  return out;
}

export interface RunShellOptions {
  /** The config key of the command, named in every error. */
  key: string;
  timeoutMs: number;
  /** The config key of the time limit, named when it is exceeded (e.g. training.command.timeoutMs). */
  timeoutKey?: string;
  log: (line: string) => void;
  cwd?: string;
  /** Between SIGTERM and SIGKILL of a timed-out command's process group (default 5 s). */
  killGraceMs?: number;
  /**
   * Applied to each output line before it is logged or quoted in an error (e.g. redactSecrets: the command inherits
   * the environment, and a deploy command gets the target's URL).
   */
  redact?: (line: string) => string;
}

/** The most characters of one output line that a log line or an error shows. */
const MAX_LINE = 2000;

const KILL_GRACE_MS = 5_000;
/**
 * After the shell exits, how long its output may still arrive before the pipes are let go: something it left running
 * (a deploy command's server started with `&`) may hold them open for good.
 */
const DRAIN_MS = 1_000;

/** The fields of /proc/PID/stat after the command name: [0] state, [1] ppid, [2] pgrp, ..., [19] start time. */
function procStat(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** A process's start time (Linux /proc, in clock ticks since boot): tells a reused pid from the process that had it. */
export function pidStartTime(pid: number): string | null {
  return procStat(pid)?.[19] ?? null;
}

/**
 * Whether the process `pid` runs: it exists (EPERM: as another user), is no zombie, and, with `start` (its
 * pidStartTime when it was started), is that very process, not a later one that got the pid. Without /proc (macOS)
 * the signal check is all there is.
 */
export function processAlive(pid: number, start?: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const f = procStat(pid);
  if (!f) return !existsSync("/proc/self/stat");
  if (f[0] === "Z" || f[0] === "X") return false;
  return !start || f[19] === start;
}

/**
 * Whether any process of the group `pgid` is still running. On Linux from /proc, not counting zombies: an orphan killed
 * in a container whose PID 1 does not reap stays a zombie, yet holds nothing and runs nothing. With `leaderStart` (the
 * leader's pidStartTime when it was started), a live leader that started at another time is another process that got
 * the pid, and the group is not ours (a pgid is not reused while a member lives). Elsewhere: kill(-pgid, 0).
 */
export function groupAlive(pgid: number, leaderStart?: string | null): boolean {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  let member = false;
  for (const pid of pids) {
    const f = procStat(pid);
    if (!f) continue; // gone meanwhile
    if (Number(f[2]) !== pgid || f[0] === "Z" || f[0] === "X") continue;
    if (Number(pid) === pgid && leaderStart) return f[19] === leaderStart;
    member = true;
  }
  return member;
}

/** Sends `signal` to the process group `pgid`, if it still exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

/**
 * SIGTERM to the whole group, SIGKILL to what is left after the grace, then up to 2 s for it to go; resolves with the
 * last signal sent (the caller checks groupAlive if it must know the group is gone). `leaderStart`: see groupAlive.
 */
export async function stopGroup(pgid: number, graceMs: number, leaderStart?: string | null): Promise<NodeJS.Signals> {
  signalGroup(pgid, "SIGTERM");
  const until = Date.now() + graceMs;
  while (groupAlive(pgid, leaderStart) && Date.now() < until) await sleep(25);
  if (!groupAlive(pgid, leaderStart)) return "SIGTERM";
  signalGroup(pgid, "SIGKILL");
  const killed = Date.now() + 2_000;
  while (groupAlive(pgid, leaderStart) && Date.now() < killed) await sleep(10);
  return "SIGKILL";
}

/*
 * Interrupts. A command runs in its own process group (so that a timeout can stop everything it started), which puts it
 * outside the terminal's foreground group: Ctrl-C (SIGINT) or a hang-up (SIGHUP) would reach this process only and leave
 * the trainer running, orphaned, and a re-run would then train into the same folder beside it. So while commands run,
 * SIGINT, SIGTERM and SIGHUP are passed on to their groups; and when nothing else in this process listens for the signal,
 * this process then dies of it as it would have without the listener (exit status 128 + n, as before).
 */
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const liveGroups = new Set<number>();
const forward = (signal: NodeJS.Signals) => {
  for (const pgid of liveGroups) signalGroup(pgid, signal);
  if (process.listenerCount(signal) === 1) {
    unlistenSignals();
    process.kill(process.pid, signal);
  }
};

function unlistenSignals(): void {
  for (const s of FORWARDED) process.off(s, forward);
}

function track(pgid: number): void {
  if (liveGroups.size === 0) for (const s of FORWARDED) process.on(s, forward);
  liveGroups.add(pgid);
}

function untrack(pgid: number): void {
  if (!liveGroups.delete(pgid) || liveGroups.size > 0) return;
  unlistenSignals();
}

/**
 * Runs a command to completion through /bin/sh; rejects naming `key` with the exit status and the last output. Past
 * `timeoutMs` the command's whole process group (the shell and everything it started) gets SIGTERM, then SIGKILL after
 * `killGraceMs`, and the call rejects once the group is gone. SIGTERM first: a trainer may save a checkpoint that the
 * re-run resumes from.
 */
export function runShell(command: string, o: RunShellOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    // detached: the shell leads its own process group, so the timeout reaches the trainer too, not only /bin/sh
    const child = spawn("/bin/sh", ["-c", command], { cwd: o.cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const pgid = child.pid;
    if (pgid !== undefined) track(pgid);
    const tail: string[] = [];
    let logging = true;
    const onData = (b: Buffer) => {
      if (!logging) return;
      for (const raw of b.toString("utf8").split(/\r?\n/).filter(Boolean)) {
        // The command's output may echo data, model output or the environment: redacted, then shown as one
        // terminal-safe line (escape sequences and carriage returns as visible marks), never raw.
        const line = escapeForTerminal(o.redact ? o.redact(raw) : raw, { oneLine: true, max: MAX_LINE });
        tail.push(line);
        if (tail.length > 20) tail.shift();
        o.log(line);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drain);
      if (pgid !== undefined) untrack(pgid);
      err ? reject(err) : resolve();
    };
    const lastLines = () => (tail.length ? `: ${tail.slice(-3).join(" | ")}` : "");
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pgid === undefined) return;
      void stopGroup(pgid, o.killGraceMs ?? KILL_GRACE_MS).then(async (signal) => {
        // The group is gone: its last output is read as the pipes close. Whatever still holds them left the group
        // (setsid): after a moment, stop reading rather than wait for it.
        if (child.stdout.readable || child.stderr.readable)
          await new Promise((r) => {
            child.once("close", r);
            setTimeout(r, 500);
          });
        child.stdout.destroy();
        child.stderr.destroy();
        settle(
          new Error(
            `${o.key} failed (ran over ${o.timeoutKey ?? "its time limit"} ${o.timeoutMs} ms; its process group was stopped with ${signal})${lastLines()}`,
          ),
        );
      });
    }, o.timeoutMs);
    let drain: NodeJS.Timeout | undefined;
    child.on("error", (e) => settle(e));
    child.on("exit", (code, signal) => {
      if (timedOut) return; // the timeout settles, once the group is gone
      clearTimeout(timer);
      const done = () =>
        code === 0
          ? settle()
          : settle(new Error(`${o.key} failed (${signal ? `killed by ${signal}` : `exit ${code}`})${lastLines()}`));
      child.on("close", done);
      // Something the command left running holds the pipes: settle without it. Its output is still read (so it never
      // blocks on a full pipe) but neither logged nor keeping this process alive; it is not ours to kill.
      drain = setTimeout(() => {
        logging = false;
        for (const s of [child.stdout, child.stderr]) {
          s.resume();
          (s as { unref?: () => void }).unref?.();
        }
        done();
      }, DRAIN_MS);
    });
  });
}
