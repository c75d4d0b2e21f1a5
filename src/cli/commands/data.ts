/**
 * `breakfix data list|show|pull`: the benchmark datasets.
 *   data list [--json]                              the built-in loaders
 *   data show NAME [--path DIR|FILE] [--map SPEC] [--json]
 *                                                   counts by category, label and language (read where bench reads
 *                                                   the dataset, without --path); with --json the last
 *                                                   line is one JSON object {name,total,by_label,by_category,by_language}.
 *                                                   NAME "custom" reads your own CSV/JSONL file with a column mapping.
 *   data pull NAME|all [--cache DIR] [--from URL] [--force] [--no-verify]
 *                                                   download from the public source into the cache (default: the
 *                                                   config's dataCache), verified and atomically written; --from is
 *                                                   the dataset's folder (or, with "all", the folder of folders)
 * The actions are in data.action.ts, loaded when one runs.
 */
import type { Command } from "commander";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./data.action.ts");

export function registerData(program: Command): void {
  const before = program.commands.length;
  const data = program.command("data").description("Benchmark datasets: list, show counts, pull from the source");

  data
    .command("list")
    .description("List the built-in dataset loaders")
    .option("--json", "print one JSON array")
    .action(cliAction(lazyAction(async () => (await actions()).dataListAction)));

  data
    .command("show <name>")
    .description("Load a dataset and count its rows by category, label and language")
    .option(
      "--path <dir>",
      "folder with the dataset's files (default: as every command reads it: <dataCache>/<folder> when the config's " +
        "dataCache exists, else the shared copy), or the file for 'custom'",
    )
    .option("--map <spec>", "column mapping for 'custom', e.g. prompt=question,category=harm,label=label,meta=a+b")
    .option("--config <file>", "breakfix.yaml to read dataCache from")
    .option("--json", "end with one JSON line: {name,total,by_label,by_category,by_language}")
    .action(cliAction(lazyAction(async () => (await actions()).dataShowAction)));

  data
    .command("pull <name>")
    .description("Download a dataset (or 'all') from its public source into the cache, with checksums")
    .option("--cache <dir>", "cache folder (default: dataCache from breakfix.yaml, .breakfix/data)")
    .option("--from <url>", "fetch every file from this base URL instead (a mirror or a file:// folder)")
    .option("--force", "download again even when the cached copy is intact")
    .option(
      "--no-verify",
      "accept files whose sha256 differs from the pinned one, or whose row count differs from the registry's",
    )
    .option("--config <file>", "breakfix.yaml to read dataCache from")
    .action(cliAction(lazyAction(async () => (await actions()).dataPullAction)));
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
