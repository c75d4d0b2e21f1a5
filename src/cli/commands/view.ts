/**
 * `breakfix view [--workspace DIR] [--config FILE] [--port N] [--open]`: the local dashboard over a workspace store
 * (src/view/; default: the config's workspace), on 127.0.0.1 only. Prints the URL; runs until interrupted.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { loadConfigWithSource } from "../../config/load.ts";
import { DB_FILENAME } from "../../store/store.ts";
import { startView } from "../../view/index.ts";
import { CliError, intFlag, usageOnError } from "../errors.ts";

function openBrowser(url: string): void {
  const cmd = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const child = spawn(cmd, [url], { stdio: "ignore", detached: true });
    child.on("error", () => process.stderr.write(`could not start ${cmd}; open ${url} yourself\n`));
    child.unref();
  } catch {
    process.stderr.write(`could not start ${cmd}; open ${url} yourself\n`);
  }
}

export function registerView(program: Command): void {
  program
    .command("view")
    .description("local dashboard over the workspace store: runs, rounds, findings, conversations, human review")
    .option("--workspace <dir>", "workspace whose store to show (default: the config's)")
    .option("--config <file>", "breakfix.yaml to read the workspace from")
    .option("--port <n>", "port on 127.0.0.1 (0 = any free port)", "8790")
    .option("--open", "open the dashboard in the default browser")
    .option("--reviewer <name>", "default reviewer name in review forms")
    .action(async (flags: { workspace?: string; config?: string; port: string; open?: boolean; reviewer?: string }) => {
      const port = intFlag("port", flags.port, 0, 65535);
      // as every other command: --workspace, else the config's (a config error is a usage error naming the file)
      const ws = path.resolve(
        flags.workspace ?? usageOnError("", () => loadConfigWithSource(flags.config).config.workspace),
      );
      if (!existsSync(path.join(ws, DB_FILENAME)))
        throw new CliError(`no store at ${path.join(ws, DB_FILENAME)}: run a stage first, or pass --workspace DIR`, 2);
      let server: Awaited<ReturnType<typeof startView>>;
      try {
        server = await startView({ workspace: ws, port, reviewer: flags.reviewer ?? process.env.USER });
      } catch (e) {
        throw new CliError(`cannot serve on 127.0.0.1:${port}: ${(e as Error).message}`, 1);
      }
      process.stdout.write(`breakfix view: ${server.url} (workspace ${ws}); Ctrl-C stops it\n`);
      if (flags.open) openBrowser(server.url);
      await new Promise<void>((resolve) => {
        const stop = () => {
          void server.close().then(resolve);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
