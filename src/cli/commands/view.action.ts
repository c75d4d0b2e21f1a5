/**
 * The action of `breakfix view` (registered in view.ts), loaded when it runs: the local dashboard over a workspace
 * store (src/view/; default: the config's workspace), on 127.0.0.1 only; prints the URL and runs until interrupted.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { DB_FILENAME } from "../../store/store.ts";
import { startView } from "../../view/index.ts";
import { CliError, intFlag } from "../errors.ts";
import { workspaceOf } from "../workspace.ts";

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

export async function viewAction(flags: {
  workspace?: string;
  config?: string;
  port: string;
  open?: boolean;
  reviewer?: string;
}): Promise<void> {
  const port = intFlag("port", flags.port, 0, 65535);
  // as every other command: --workspace, else the config's (a config error is a usage error naming the file)
  const ws = workspaceOf(flags);
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
}
