/**
 * `breakfix world build [--quick] [--attacker]`: reproduce the demo model organism (or its attacker) from the seed.
 * The action is in world-build.action.ts, loaded when it runs.
 */
import type { Command } from "commander";
import { lazyAction } from "../errors.ts";

const actions = () => import("./world-build.action.ts");

export function registerWorldBuild(program: Command): void {
  const world = program.commands.find((c) => c.name() === "world") ?? program.command("world");
  world
    .command("build")
    .description("Train the demo model organism (tokenizer + Llama model) from the world's seed; re-run to resume.")
    .option("--out <dir>", "output folder (model/ = Hugging Face folder, model.gguf); default: the package's")
    .option("--quick", "a much smaller model in a couple of minutes (for tests; needs --out)")
    .option("--attacker", "build the demo's attacker organism (PAIR, TAP, Crescendo offline) instead of the target")
    .option("--seed <n>", "world and training seed", "1")
    .option("--json", "print the build summary as one JSON object on the last line")
    .action(lazyAction(async () => (await actions()).buildAction));
}
