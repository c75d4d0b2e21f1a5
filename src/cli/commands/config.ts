/**
 * `breakfix init [--preset NAME | --all-keys] [--file F] [--force]`: writes a commented breakfix.yaml: the cycle on
 * your own model (default), a preset's file (e.g. demo: the demo recipe, in the same format), or every key at its
 * default.
 * `breakfix config check [FILE]`: validates a config file (default ./breakfix.yaml, or the demo defaults when there
 * is none) and prints the resolved configuration as YAML; an invalid file exits 2 with one
 * `FILE: key.path: expected ...` line per problem. The printed YAML never shows a key written inside a URL (a
 * baseUrl's user-info or query: models/secrets.ts redactUrl) and shows invisible characters escaped.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import {
  ConfigError,
  checkConfigFiles,
  configToYaml,
  loadConfigWithSource,
  OWN_MODEL_STARTER,
  presetFile,
  presetNames,
  STARTER_CONFIG,
} from "../../config/index.ts";
import { redactedForTerminal, redactUrl } from "../../models/secrets.ts";
import { CliError, cliAction, withExitScheme } from "../errors.ts";

export const CONFIG_EXIT_INVALID = 2;

export function registerConfigCommands(program: Command): void {
  const before = program.commands.length;
  program
    .command("init")
    .description("Write a commented starter breakfix.yaml (the cycle on your own model, a preset, or every key)")
    .option("--file <path>", "where to write it", "breakfix.yaml")
    .option("--preset <name>", `write a preset's file instead (${presetNames().join(", ")})`)
    .option("--all-keys", "write every key at its default instead")
    .option("--force", "overwrite an existing file")
    .action(
      cliAction((flags: { file: string; force?: boolean; preset?: string; allKeys?: boolean }) => {
        const file = path.resolve(flags.file);
        if (existsSync(file) && !flags.force) {
          throw new CliError(`${flags.file} already exists; pass --force to overwrite it`, 2);
        }
        if (flags.preset && !presetNames().includes(flags.preset))
          throw new CliError(`--preset: unknown preset '${flags.preset}'; presets: ${presetNames().join(", ")}`, 2);
        const text = flags.preset
          ? readFileSync(presetFile(flags.preset, process.cwd()), "utf8")
          : flags.allKeys
            ? STARTER_CONFIG
            : OWN_MODEL_STARTER;
        const tmp = `${file}.tmp-${process.pid}`;
        writeFileSync(tmp, text);
        renameSync(tmp, file);
        process.stdout.write(`wrote ${flags.file}; check it with: breakfix config check ${flags.file}\n`);
      }),
    );

  const config = program.command("config").description("Inspect and validate breakfix.yaml");
  config
    .command("check [file]")
    .description("Validate a config file and print the resolved configuration (defaults filled in) as YAML")
    .action(
      cliAction((file: string | undefined) => {
        try {
          const { config: resolved, file: used } = loadConfigWithSource(file);
          // A config whose files are missing is not valid: the run would fail later, after paying for a model call.
          const missing = checkConfigFiles(resolved);
          if (missing.length) {
            const shown = used ? path.relative(process.cwd(), used) || used : "(demo preset)";
            throw new ConfigError(
              shown,
              missing.map((m) => `${shown}: ${m}`),
            );
          }
          const head = `# ${used ? `${path.relative(process.cwd(), used) || used}: valid` : "no breakfix.yaml: the demo preset"}\n`;
          // a key written inside a URL (https://user:KEY@host, ?api_key=KEY) is never printed; the file is the user's
          process.stdout.write(redactedForTerminal(redactUrl(head + configToYaml(resolved))));
        } catch (err) {
          if (err instanceof ConfigError) throw new CliError(err.message, CONFIG_EXIT_INVALID);
          throw err;
        }
      }),
    );
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
