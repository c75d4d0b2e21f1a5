/**
 * `breakfix view [--workspace DIR] [--config FILE] [--port N] [--open]`: the local dashboard over a workspace store
 * (src/view/; default: the config's workspace), on 127.0.0.1 only. Prints the URL; runs until interrupted. The action
 * is in view.action.ts, loaded when it runs.
 */
import type { Command } from "commander";
import { lazyAction } from "../errors.ts";

const actions = () => import("./view.action.ts");

export function registerView(program: Command): void {
  program
    .command("view")
    .description("local dashboard over the workspace store: runs, rounds, findings, conversations, human review")
    .option("--workspace <dir>", "workspace whose store to show (default: the config's)")
    .option("--config <file>", "breakfix.yaml to read the workspace from")
    .option("--port <n>", "port on 127.0.0.1 (0 = any free port)", "8790")
    .option("--open", "open the dashboard in the default browser")
    .option("--reviewer <name>", "default reviewer name in review forms")
    .action(lazyAction(async () => (await actions()).viewAction));
}
