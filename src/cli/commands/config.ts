/**
 * `breakfix init [--file F] [--force]`: writes the commented starter breakfix.yaml.
 * `breakfix config check [FILE]`: validates a config file (default ./breakfix.yaml, or the demo defaults when there
 * is none) and prints the resolved configuration as YAML; an invalid file exits 2 with one
 * `FILE: key.path: expected ...` line per problem.
 */
import { existsSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { ConfigError, configToYaml, loadConfigWithSource, STARTER_CONFIG } from "../../config/index.ts";
import { CliError } from "../errors.ts";

export const CONFIG_EXIT_INVALID = 2;

export function registerConfigCommands(program: Command): void {
  program
    .command("init")
    .description("Write a commented starter breakfix.yaml (the demo defaults)")
    .option("--file <path>", "where to write it", "breakfix.yaml")
    .option("--force", "overwrite an existing file")
    .action((flags: { file: string; force?: boolean }) => {
      const file = path.resolve(flags.file);
      if (existsSync(file) && !flags.force) {
        throw new CliError(`${flags.file} already exists; pass --force to overwrite it`);
      }
      const tmp = `${file}.tmp-${process.pid}`;
      writeFileSync(tmp, STARTER_CONFIG);
      renameSync(tmp, file);
      process.stdout.write(`wrote ${flags.file}; check it with: breakfix config check ${flags.file}\n`);
    });

  const config = program.command("config").description("Inspect and validate breakfix.yaml");
  config
    .command("check [file]")
    .description("Validate a config file and print the resolved configuration (defaults filled in) as YAML")
    .action((file: string | undefined) => {
      try {
        const { config: resolved, file: used } = loadConfigWithSource(file);
        process.stdout.write(
          `# ${used ? `${path.relative(process.cwd(), used) || used}: valid` : "no breakfix.yaml: the demo defaults"}\n`,
        );
        process.stdout.write(configToYaml(resolved));
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(err.message, CONFIG_EXIT_INVALID);
        throw err;
      }
    });
}
