/**
 * Exit codes, the same for every command (issue 23):
 *   0  the command did what it was asked;
 *   1  the run failed (a model call, a download, a training step; or items left unfinished: re-run to resume);
 *   2  usage or configuration error: a bad flag or value, an unknown name (persona, judge, suite), an invalid
 *      breakfix.yaml, a missing or malformed input file, an output folder of another run. Nothing was run.
 */
import { type Command, CommanderError } from "commander";
import { redactedForTerminal } from "../models/secrets.ts";

export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_USAGE = 2;

/** An error meant for the user: printed without a stack trace, exits with exitCode (default: a usage error). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: typeof EXIT_RUN_FAILED | typeof EXIT_USAGE = EXIT_USAGE,
  ) {
    super(message);
  }
}

/** A run that failed (exit 1), as opposed to a command that could not start (exit 2). */
export function runFailed(message: string): CliError {
  return new CliError(message, EXIT_RUN_FAILED);
}

/**
 * Error classes thrown below the CLI that always mean "fix your input" (exit 2), recognised by name so this file does
 * not import every stage: config validation, scenario wiring, data files, train output folders, dataset files.
 */
const USAGE_ERRORS = new Set([
  "ConfigError",
  "ScenarioConfigError",
  "DataFileError",
  "OutputFolderError",
  "DatasetError",
  "ZodError",
]);

/** The CliError an error becomes: CliErrors as they are, input errors exit 2, anything else is a failed run (1). */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const name = e.name !== "Error" ? e.name : e.constructor.name;
  const out = new CliError(e.message, USAGE_ERRORS.has(name) || USAGE_ERRORS.has(e.constructor.name) ? 2 : 1);
  if (e.stack) out.stack = e.stack;
  return out;
}

/**
 * An error's text as the CLI prints it on stderr: known secrets redacted, and control, escape and invisible characters
 * shown as visible marks (line breaks kept). Messages quote data files, model answers and servers' replies (a JSON
 * parse error quotes the bad line as it is), so none of it may reach the terminal raw.
 */
export function errorText(text: string): string {
  return redactedForTerminal(text);
}

/** Wraps a command action so every error leaves with the exit-code scheme above. */
export function cliAction<A extends unknown[]>(fn: (...args: A) => unknown): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      throw toCliError(err);
    }
  };
}

/**
 * A command action imported when the command runs, not when it is registered: `load` returns the action from its
 * module, e.g. `async () => (await import("./bench.action.ts")).benchAction`. Registering a command (name, options,
 * help text) then loads none of its stage, so `--help`, `--version` and the usage errors commander reports load no
 * stage, and a command loads only its own. The action gets commander's arguments as they are.
 */
export function lazyAction<A extends unknown[]>(
  load: () => Promise<(...args: A) => unknown>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const action = await load();
    await action(...args);
  };
}

/**
 * Commander's own errors (unknown option or subcommand, missing argument or required option, bad choice) exit 2
 * instead of commander's 1; help and version still exit 0. Applies to `cmd` and every command below it. A program that
 * installed its own exit handler (`exitOverride()`, as in-process tests do) keeps it, called with the mapped code.
 */
export function withExitScheme<C extends Command>(cmd: C): C {
  // Commander copies a parent's handler into each subcommand when it is created; it has no public getter for it.
  const inherited = (cmd as unknown as { _exitCallback?: ((e: CommanderError) => void) | null })._exitCallback;
  cmd.exitOverride((err) => {
    const code = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (inherited) inherited(new CommanderError(code, err.code, err.message));
    process.exit(code);
  });
  for (const sub of cmd.commands) withExitScheme(sub);
  return cmd;
}

/** A number flag: finite, within [min, max], an integer when asked; otherwise a usage error naming the flag. */
export function numberFlag(
  flag: string,
  v: string | number,
  o: { min?: number; max?: number; integer?: boolean; minExclusive?: boolean; maxExclusive?: boolean } = {},
): number {
  const n = typeof v === "number" ? v : v.trim() === "" ? Number.NaN : Number(v);
  const what = `${o.integer ? "an integer" : "a number"}${rangeText(o)}`;
  const bad =
    !Number.isFinite(n) ||
    (o.integer && !Number.isInteger(n)) ||
    (o.min !== undefined && (o.minExclusive ? n <= o.min : n < o.min)) ||
    (o.max !== undefined && (o.maxExclusive ? n >= o.max : n > o.max));
  if (bad) throw new CliError(`${flag.startsWith("-") ? flag : `--${flag}`}: expected ${what}, got "${v}"`, EXIT_USAGE);
  return n;
}

/**
 * Runs fn (sync or async); an error it throws becomes a usage error (exit 2) with the message prefixed, e.g. by the
 * flag whose value could not be used.
 */
export function usageOnError<T>(prefix: string, fn: () => T): T {
  const usage = (e: unknown): never => {
    throw new CliError(`${prefix}${(e as Error).message}`, EXIT_USAGE);
  };
  try {
    const out = fn();
    return (out instanceof Promise ? out.catch(usage) : out) as T;
  } catch (e) {
    return usage(e);
  }
}

/** An integer flag >= min (and <= max): the one integer check of every command; undefined stays undefined. */
export function intFlag(flag: string, v: string | number, min?: number, max?: number): number;
export function intFlag(flag: string, v: string | number | undefined, min?: number, max?: number): number | undefined;
export function intFlag(flag: string, v: string | number | undefined, min = 0, max?: number): number | undefined {
  return v === undefined
    ? undefined
    : numberFlag(flag, v, { min, integer: true, ...(max === undefined ? {} : { max }) });
}

function rangeText(o: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean }): string {
  const lo = o.min === undefined ? "" : `${o.minExclusive ? ">" : ">="} ${o.min}`;
  const hi = o.max === undefined ? "" : `${o.maxExclusive ? "<" : "<="} ${o.max}`;
  return lo && hi ? ` ${lo} and ${hi}` : lo || hi ? ` ${lo || hi}` : "";
}
