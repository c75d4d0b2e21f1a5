/**
 * The breakfix program: the subcommands each stage registers from src/cli/commands/, and the composition root's one
 * hook. main.ts runs it; tests build it without running it.
 */
import { Command } from "commander";
import { commands } from "./commands/index.ts";
import { withExitScheme } from "./errors.ts";
import { registerPluginsFor } from "./plugins.ts";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("breakfix")
    .description("Safety-align language models with the break-fix cycle: measure, break, identify, curate, post-train.")
    .version("0.1.0")
    .showHelpAfterError()
    // The composition root: the demo world is a plug-in (its seeds, judge, curation sources and suites, named world
    // and demo), registered before a command's action runs so every command can name it, except the commands that
    // never resolve a plug-in name (plugins.ts); the cycle and the stage folders never import world/. Imported then,
    // as the actions are (errors.ts lazyAction): help, --version and the usage errors commander reports never load it.
    .hook("preAction", (_program, action) => registerPluginsFor(action));
  for (const register of commands) register(program);
  // One exit-code scheme for everything commander itself rejects (unknown commands and options): 2.
  return withExitScheme(program);
}
