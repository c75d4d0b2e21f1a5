/**
 * Which commands load the plug-ins. The demo world is a plug-in (its seed set, judge, curation sources and suites,
 * named `world` and `demo`), registered before a command's action runs so that any command can name it. The commands
 * below never resolve a plug-in name (their actions import none of the four registries: `plugins.test.ts` reads
 * their import graphs), so they skip it: importing the world and its registries costs about 0.8 s and 1.1 CPU-seconds
 * per command, paid by a user's own `train`, `serve` or `data pull` for a world it never uses.
 */
import type { Command } from "commander";

/** Top-level commands whose actions resolve no plug-in name. */
export const PLUGIN_FREE_COMMANDS: readonly string[] = ["config", "data", "findings", "gguf", "init", "serve", "train"];

/** Whether `command` (the one whose action is about to run) may resolve plug-in names: false below a plug-in-free
 *  top-level command. */
export function needsPlugins(command: Command): boolean {
  let top = command;
  while (top.parent?.parent) top = top.parent;
  return !PLUGIN_FREE_COMMANDS.includes(top.name());
}

/** Registers the plug-ins the CLI ships (today the demo world) when `command` needs them; once per process. */
export async function registerPluginsFor(command: Command): Promise<void> {
  if (needsPlugins(command)) (await import("../world/plugin.ts")).registerWorldPlugin();
}
