/** `breakfix world ...`: the demo world. `world show` prints its families, sizes, categories, languages, examples. */
import type { Command } from "commander";
import { FAMILIES, type Family, generateWorld } from "../../world/generate.ts";
import { renderWorldSummary, summarizeWorld } from "../../world/show.ts";
import { CliError } from "../errors.ts";

function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export function registerWorldCommands(program: Command): void {
  const world = program.command("world").description("The demo world: a synthetic world and its model organism.");
  world
    .command("show")
    .description("Print the world's families, sizes, splits, categories, languages and examples (placeholders only).")
    .option("--seed <n>", "world seed", "1")
    .option("--examples <n>", "examples per family", "2")
    .option("--family <name>", `show examples of one family only (${FAMILIES.join(", ")})`)
    .option("--json", "print the summary as one JSON object")
    .action((opts: { seed: string; examples: string; family?: string; json?: boolean }) => {
      const seed = intOption("seed", opts.seed, 0);
      const examples = intOption("examples", opts.examples, 0);
      if (opts.family !== undefined && !(FAMILIES as readonly string[]).includes(opts.family))
        throw new CliError(`--family must be one of ${FAMILIES.join(", ")}, got '${opts.family}'`);
      const summary = summarizeWorld(generateWorld({ seed }), examples, opts.family as Family | undefined);
      process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `${renderWorldSummary(summary)}\n`);
    });
}
