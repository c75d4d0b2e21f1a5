/**
 * The breakfix command line. Each stage registers its own subcommands from a module in src/cli/commands/;
 * this file only assembles them, so stages stay independent. Registering is light: a command's action and its stage
 * are imported when the command runs (commands/X.action.ts), so start-up loads no stage.
 */
import { Command } from "commander";
import { commands } from "./commands/index.ts";
import { CliError, errorText, withExitScheme } from "./errors.ts";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("breakfix")
    .description("Safety-align language models with the break-fix cycle: measure, break, identify, curate, post-train.")
    .version("0.1.0")
    .showHelpAfterError()
    // The composition root: the demo world is a plug-in (its seeds, judge, curation sources and suites, named world
    // and demo), registered before any command's action runs so every command can name it; the cycle and the stage
    // folders never import world/. Imported then, as the actions are (errors.ts lazyAction): help, --version and the
    // usage errors commander reports never load it.
    .hook("preAction", async () => (await import("../world/plugin.ts")).registerWorldPlugin());
  for (const register of commands) register(program);
  // One exit-code scheme for everything commander itself rejects (unknown commands and options): 2.
  return withExitScheme(program);
}

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
