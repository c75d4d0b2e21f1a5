import type { Command } from "commander";
import { registerConfigCommands } from "./config.ts";
import { registerData } from "./data.ts";
import { registerServe } from "./serve.ts";

/** A command module adds its subcommands to the program. Add one line per stage below. */
export type RegisterCommands = (program: Command) => void;

export const commands: RegisterCommands[] = [registerConfigCommands, registerData, registerServe];
