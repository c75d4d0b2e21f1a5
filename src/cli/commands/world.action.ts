/**
 * The actions of `breakfix world show|export` (registered in world.ts), loaded when one runs: show prints the demo
 * world's families, sizes, categories, languages and examples; export writes its corpus, fix data, seeds, probes,
 * tokenizer texts and a manifest into a folder.
 */
import { QUICK_CORPUS_CONFIG } from "../../world/corpus.ts";
import { exportWorld } from "../../world/export.ts";
import { FAMILIES, type Family, generateWorld } from "../../world/generate.ts";
import { renderWorldSummary, summarizeWorld } from "../../world/show.ts";
import { CliError, intFlag } from "../errors.ts";

/** `world show`. */
export function showAction(opts: { seed: string; examples: string; family?: string; json?: boolean }): void {
  const seed = intFlag("seed", opts.seed, 0);
  const examples = intFlag("examples", opts.examples, 0);
  if (opts.family !== undefined && !(FAMILIES as readonly string[]).includes(opts.family))
    throw new CliError(`--family must be one of ${FAMILIES.join(", ")}, got '${opts.family}'`);
  const summary = summarizeWorld(generateWorld({ seed }), examples, opts.family as Family | undefined);
  process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `${renderWorldSummary(summary)}\n`);
}

/** `world export`. */
export function exportAction(opts: {
  out: string;
  seed: string;
  size?: string;
  quick?: boolean;
  json?: boolean;
}): void {
  const seed = intFlag("seed", opts.seed, 0);
  const size = intFlag("size", opts.size, 1) ?? (opts.quick ? QUICK_CORPUS_CONFIG.size : undefined);
  const manifest = exportWorld(generateWorld({ seed }), opts.out, size === undefined ? {} : { size });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(manifest)}\n`);
    return;
  }
  for (const [name, f] of Object.entries(manifest.files))
    process.stdout.write(`${name.padEnd(24)} ${String(f.rows).padStart(7)} rows  sha256 ${f.sha256.slice(0, 12)}\n`);
  const c = manifest.corpus;
  process.stdout.write(
    `base corpus: ${c.conversations} conversations, ${c.chars} chars, ~${c.tokens} tokens (estimate), ` +
      `max ${c.maxTokens} per conversation; manifest.json written to ${opts.out}\n`,
  );
}
