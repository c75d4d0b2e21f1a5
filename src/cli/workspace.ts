/**
 * The workspace a command reads or writes: `--workspace DIR` when given (resolved against the working directory),
 * else the config's `workspace` (breakfix.yaml's, or the demo preset's when no file is found). A config that cannot be
 * read is a usage error (exit 2) naming the file and the key. The one lookup of every command with a --workspace flag
 * (bench has one too). Imported by action modules only (it loads the config schema).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { loadConfigWithSource } from "../config/load.ts";
import { DB_FILENAME, Store } from "../store/store.ts";
import { CliError, usageOnError } from "./errors.ts";

export function workspaceOf(o: { workspace?: string; config?: string }): string {
  return o.workspace
    ? path.resolve(o.workspace)
    : usageOnError("", () => loadConfigWithSource(o.config).config.workspace);
}

/**
 * The store of a workspace for a command that only reads it, never created here. With `missing` (findings, report):
 * a store that exists is opened as every command opens it (a store of an older version is migrated, as before, so its
 * tables are there to read), and no store is a usage error (exit 2) with `missing`'s text (it gets the store's path).
 * Without `missing` (a red-team dry run, which must write nothing): opened read-only, or undefined when there is none.
 */
export function existingStore(workspace: string, missing: (file: string) => string): Store;
export function existingStore(workspace: string): Store | undefined;
export function existingStore(workspace: string, missing?: (file: string) => string): Store | undefined {
  const file = path.join(workspace, DB_FILENAME);
  if (existsSync(file)) return missing ? Store.open(workspace) : Store.open(workspace, { readonly: true });
  if (missing) throw new CliError(missing(file), 2);
  return undefined;
}
