/** `breakfix world ...`: the demo world. `world show` prints its families, sizes, categories, languages, examples. */
import type { Command } from "commander";
import { QUICK_CORPUS_CONFIG } from "../../world/corpus.ts";
import { exportWorld } from "../../world/export.ts";
import { FAMILIES, type Family, generateWorld } from "../../world/generate.ts";
import { renderWorldSummary, summarizeWorld } from "../../world/show.ts";
import { CliError, intFlag } from "../errors.ts";

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
      const seed = intFlag("seed", opts.seed, 0);
      const examples = intFlag("examples", opts.examples, 0);
      if (opts.family !== undefined && !(FAMILIES as readonly string[]).includes(opts.family))
        throw new CliError(`--family must be one of ${FAMILIES.join(", ")}, got '${opts.family}'`);
      const summary = summarizeWorld(generateWorld({ seed }), examples, opts.family as Family | undefined);
      process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `${renderWorldSummary(summary)}\n`);
    });
  world
    .command("export")
    .description(
      "Write the base corpus, safe SFT and DPO data (TRL conversational JSONL), the red-team seeds and held-out " +
        "probes (Probe JSONL), tokenizer texts and a manifest into a folder.",
    )
    .requiredOption("--out <dir>", "output folder (created if missing)")
    .option("--seed <n>", "world seed", "1")
    .option("--size <n>", "conversations in the base corpus (default 20000)")
    .option("--quick", `a small corpus (${QUICK_CORPUS_CONFIG.size} conversations) for tests`)
    .option("--json", "print the manifest as one JSON object")
    .action((opts: { out: string; seed: string; size?: string; quick?: boolean; json?: boolean }) => {
      const seed = intFlag("seed", opts.seed, 0);
      const size = intFlag("size", opts.size, 1) ?? (opts.quick ? QUICK_CORPUS_CONFIG.size : undefined);
      const manifest = exportWorld(generateWorld({ seed }), opts.out, size === undefined ? {} : { size });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(manifest)}\n`);
        return;
      }
      for (const [name, f] of Object.entries(manifest.files))
        process.stdout.write(
          `${name.padEnd(24)} ${String(f.rows).padStart(7)} rows  sha256 ${f.sha256.slice(0, 12)}\n`,
        );
      const c = manifest.corpus;
      process.stdout.write(
        `base corpus: ${c.conversations} conversations, ${c.chars} chars, ~${c.tokens} tokens (estimate), ` +
          `max ${c.maxTokens} per conversation; manifest.json written to ${opts.out}\n`,
      );
    });
}
