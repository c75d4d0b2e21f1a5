/**
 * `breakfix curate --findings FILE --out DIR`: findings (as `breakfix redteam --export` writes them) -> judged safe
 * responses, SFT rows, DPO pairs, over-refusal counter-data, dedup + decontamination against every benchmark probe
 * set the config reports, balancing and a train/validation split. Writes sft.jsonl, dpo.jsonl (TRL conversational
 * formats), sft.val.jsonl, dpo.val.jsonl, card.md, card.json and removed.jsonl. The action is in curate.action.ts,
 * loaded when it runs.
 */
import type { Command } from "commander";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./curate.action.ts");

export function registerCurate(program: Command): void {
  const before = program.commands.length;
  program
    .command("curate")
    .description("Turn red-team findings into SFT and DPO fix data (with counter-data, dedup and decontamination)")
    .option("--findings <file>", "findings JSONL (breakfix redteam --export)")
    .option("--out <dir>", "output folder")
    .option(
      "--responder <spec>",
      "world (the demo world's refusals), templates, or a model (URL#model, builtin:DIR)",
      "world",
    )
    .option("--judge <expr>", "judge checking every written response: world, or a judge expression", "world")
    .option("--round <n>", "round number recorded in each row's provenance", "0")
    .option("--seed <n>", "seed for sampling, balancing and the split", "0")
    .option("--counter-ratio <x>", "counter-data rows per safety row (default: the config's curation.counterDataRatio)")
    .option(
      "--against <datasets>",
      "extra dataset names to decontaminate against, comma-separated, or 'all' (every probe set in the datasets folder)",
    )
    .option("--config <file>", "breakfix.yaml to use")
    .option("--datasets <dir>", "folder with dataset folders (default: the data cache, else the shared copy)")
    .option("--json", "print the card as one JSON object on the last line")
    .option("--no-progress", "no progress output")
    .action(cliAction(lazyAction(async () => (await actions()).curateAction)));
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
