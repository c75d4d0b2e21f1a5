/**
 * The workspace a command reads or writes: `--workspace DIR` when given (resolved against the working directory),
 * else the config's `workspace` (breakfix.yaml's, or the demo preset's when no file is found). A config that cannot be
 * read is a usage error (exit 2) naming the file and the key. The one lookup of every command with a --workspace flag
 * (and of bench's, which has none). Imported by action modules only (it loads the config schema).
 */
import path from "node:path";
import { loadConfigWithSource } from "../config/load.ts";
import { usageOnError } from "./errors.ts";

export function workspaceOf(o: { workspace?: string; config?: string }): string {
  return o.workspace
    ? path.resolve(o.workspace)
    : usageOnError("", () => loadConfigWithSource(o.config).config.workspace);
}
