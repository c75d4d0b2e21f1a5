/**
 * The actions of `breakfix init` and `breakfix config check` (registered in config.ts), loaded when one runs.
 * init writes a commented breakfix.yaml: the cycle on your own model (default), a preset's file (e.g. demo: the demo
 * recipe, in the same format), or every key at its default. config check validates a config file (default
 * ./breakfix.yaml, or the demo defaults when there is none) and prints the resolved configuration as YAML; an invalid
 * file exits 2 with one `FILE: key.path: expected ...` line per problem. The printed YAML never shows a key written
 * inside a URL (a baseUrl's user-info or query: models/secrets.ts redactUrl) and shows invisible characters escaped.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
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
import { CliError } from "../errors.ts";

export const CONFIG_EXIT_INVALID = 2;

export function initAction(flags: { file: string; force?: boolean; preset?: string; allKeys?: boolean }): void {
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
}

export function configCheckAction(file: string | undefined): void {
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
}
