/**
 * `breakfix report [RUN]`: rebuilds a cycle run's report.md and report.html from the store alone. RUN is a run id
 * (or a unique prefix of one); default: the latest cycle run of the workspace. The action is in report.action.ts,
 * loaded when it runs.
 */
import type { Command } from "commander";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./report.action.ts");

export function registerReport(program: Command): void {
  const before = program.commands.length;
  program
    .command("report [run]")
    .description("Rebuild a cycle run's report (report.md, self-contained report.html) from the store")
    .option("--config <file>", "breakfix.yaml to use")
    .option("--workspace <dir>", "workspace folder (default: the config's)")
    .option("--out <dir>", "where to write the report (default: the run's folder)")
    .action(cliAction(lazyAction(async () => (await actions()).reportAction)));
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
