import type { Command } from "commander";

/** A command module adds its subcommands to the program. Add one line per stage below. */
export type RegisterCommands = (program: Command) => void;

export const commands: RegisterCommands[] = [];
