/**
 * The breakfix command line: runs the program (program.ts: the subcommands each stage registers from
 * src/cli/commands/, so stages stay independent) and maps errors to exit codes. Registering is light: a command's
 * action and its stage are imported when the command runs (commands/X.action.ts), so start-up loads no stage.
 */
import { CliError, errorText } from "./errors.ts";
import { buildProgram } from "./program.ts";

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`breakfix: ${errorText(msg)}\n`);
    if (process.env.BREAKFIX_DEBUG && err instanceof Error && err.stack)
      process.stderr.write(`${errorText(err.stack)}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  }
}

await main(process.argv);
