/**
 * `breakfix init [--preset NAME | --all-keys] [--file F] [--force]`: writes a commented breakfix.yaml.
 * `breakfix config check [FILE]`: validates a config file and prints the resolved configuration as YAML.
 * What each does is in config.action.ts, loaded when it runs.
 */
import type { Command } from "commander";
import { presetNames } from "../../config/presets.ts";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./config.action.ts");

export function registerConfigCommands(program: Command): void {
  const before = program.commands.length;
  program
    .command("init")
    .description("Write a commented starter breakfix.yaml (the cycle on your own model, a preset, or every key)")
    .option("--file <path>", "where to write it", "breakfix.yaml")
    .option("--preset <name>", `write a preset's file instead (${presetNames().join(", ")})`)
    .option("--all-keys", "write every key at its default instead")
    .option("--force", "overwrite an existing file")
    .action(cliAction(lazyAction(async () => (await actions()).initAction)));

  const config = program.command("config").description("Inspect and validate breakfix.yaml");
  config
    .command("check [file]")
    .description("Validate a config file and print the resolved configuration (defaults filled in) as YAML")
    .action(cliAction(lazyAction(async () => (await actions()).configCheckAction)));
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
