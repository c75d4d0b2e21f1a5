/**
 * Users' command lines (deploy commands, trainer commands): placeholders filled in shell-quoted, and the command run
 * through /bin/sh with its output streamed line by line, a time limit, and an error that names the config key, the
 * exit status and the last lines of output. One helper for every place that runs a user's command.
 */
import { spawn } from "node:child_process";

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * Fills {placeholder}s with shell-quoted values (values may be computed on first use); an unknown placeholder is an
 * error naming the key. Names in `raw` are inserted as they are (already a list of quoted words).
 */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, string | (() => string)>>,
  known: readonly string[],
  key: string,
  raw: readonly string[] = [],
): string {
  return template.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    if (!known.includes(name)) throw new Error(`${key}: unknown placeholder {${name}}; known: ${known.join(", ")}`);
    const v = values[name];
    const text = typeof v === "function" ? v() : (v ?? "");
    return raw.includes(name) ? text : shellQuote(text);
  });
}

/** Runs a command to completion through /bin/sh; rejects naming `key` with the exit status and the last output. */
export function runShell(
  command: string,
  o: { key: string; timeoutMs: number; log: (line: string) => void; cwd?: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], { cwd: o.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const onData = (b: Buffer) => {
      for (const line of b.toString("utf8").split("\n").filter(Boolean)) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        o.log(line);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const why = signal
        ? `killed by ${signal}${signal === "SIGKILL" ? `, over ${o.timeoutMs} ms` : ""}`
        : `exit ${code}`;
      reject(new Error(`${o.key} failed (${why})${tail.length ? `: ${tail.slice(-3).join(" | ")}` : ""}`));
    });
  });
}
