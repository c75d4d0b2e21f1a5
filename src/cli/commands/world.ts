/**
 * `breakfix world ...`: the demo world. `world show` prints its families, sizes, categories, languages, examples.
 * The actions are in world.action.ts, loaded when one runs.
 */
import type { Command } from "commander";
import { FAMILIES, QUICK_CORPUS_SIZE } from "../../world/constants.ts";
import { lazyAction } from "../errors.ts";

const actions = () => import("./world.action.ts");

export function registerWorldCommands(program: Command): void {
  const world = program.command("world").description("The demo world: a synthetic world and its model organism.");
  world
    .command("show")
    .description("Print the world's families, sizes, splits, categories, languages and examples (placeholders only).")
    .option("--seed <n>", "world seed", "1")
    .option("--examples <n>", "examples per family", "2")
    .option("--family <name>", `show examples of one family only (${FAMILIES.join(", ")})`)
    .option("--json", "print the summary as one JSON object")
    .action(lazyAction(async () => (await actions()).showAction));
  world
    .command("export")
    .description(
      "Write the base corpus, safe SFT and DPO data (TRL conversational JSONL), the red-team seeds and held-out " +
        "probes (Probe JSONL), tokenizer texts and a manifest into a folder.",
    )
    .requiredOption("--out <dir>", "output folder (created if missing)")
    .option("--seed <n>", "world seed", "1")
    .option("--size <n>", "conversations in the base corpus (default 20000)")
    .option("--quick", `a small corpus (${QUICK_CORPUS_SIZE} conversations) for tests`)
    .option("--json", "print the manifest as one JSON object")
    .action(lazyAction(async () => (await actions()).exportAction));
}
