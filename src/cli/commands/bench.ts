/**
 * `breakfix bench`: run benchmark suites against a target and print a table (with --json, the last line is one JSON
 * object: per suite, each metric's value and interval); `breakfix bench compare A B`: paired comparison of two runs;
 * `breakfix bench list`: the suites and groups. The actions are in bench.action.ts, loaded when one runs.
 */
import fs from "node:fs";
import type { Command } from "commander";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./bench.action.ts");

/** GGUF files up to this size get BENCH_SEQUENCES parallel sequences by default; larger ones the provider's 4. */
export const SMALL_GGUF_BYTES = 2 * 1024 ** 3;
/**
 * Parallel llama.cpp sequences a bench run uses when --sequences is not given: 16 for a small GGUF (the demo model:
 * 16 sequences ran the demo suites about 3x faster than 4 on 2 cores), 4 for larger files, whose KV cache per
 * sequence (2048 tokens) costs far more memory.
 */
export const BENCH_SEQUENCES = 16;
export function benchSequencesFor(file: string): number {
  let bytes: number;
  try {
    bytes = fs.statSync(file).size;
  } catch {
    return 4; // the provider reports the missing file with its own message
  }
  return bytes <= SMALL_GGUF_BYTES ? BENCH_SEQUENCES : 4;
}

export function registerBench(program: Command): void {
  const before = program.commands.length;
  const bench = program
    .command("bench")
    .description("Run benchmark suites against a target; `bench compare A B` compares two runs")
    .option("--config <file>", "breakfix.yaml to read (default: ./breakfix.yaml when present, else the demo defaults)")
    .option("--suite <names>", "suites or groups, comma-separated (see `bench list`); default: benchmarks.suites")
    .option(
      "--target <spec>",
      "target: URL#model (OpenAI-compatible, e.g. breakfix serve), builtin:DIR, llamacpp:FILE.gguf, or config (the default: the config's target)",
    )
    .option(
      "--judge <expr>",
      "judge of every non-demo suite: refusal-patterns (default), harm-severity, strongreject, harmbench, " +
        "llama-guard-3, xstest-grader, or an ensemble such as 'cascade(refusal-patterns, harm-severity)'",
    )
    .option(
      "--adapter <path>",
      "LoRA adapter of a local target: a GGUF adapter file (llamacpp:) or a PEFT folder (builtin:), as `train` writes",
    )
    .option(
      "--judge-model <spec>",
      "the model LLM judges run on (URL#model, builtin:DIR, llamacpp:FILE.gguf, or config: the default, the config's judge model)",
    )
    .option(
      "--samples <n>",
      "samples per probe (needs --temperature > 0; intervals become a cluster bootstrap); default benchmarks.samples",
    )
    .option("--confidence <level>", "confidence level of the intervals (default: benchmarks.confidence, 0.95)")
    .option("--simulator <spec>", "simulated-user model for the multiturn suite (URL#model)")
    .option("--grader <spec>", "LLM that grades ungroundedness of summaries (URL#model)")
    .option("--probes <file>", "your own probe file (JSONL/CSV: prompt, category, language, label, id, answer)")
    .option("--map <spec>", "column mapping of --probes, e.g. prompt=question,label=lbl")
    .option(
      "--datasets <dir>",
      "folder with one sub-folder per dataset (default: the config's dataCache when it exists (data pull fills it), else the shared copy)",
    )
    .option("--limit <n>", "run a seeded random subset of n items per suite")
    .option("--concurrency <n>", "requests in flight per model (default: the provider's own)")
    .option(
      "--sequences <n>",
      `parallel sequences of a local target (llama.cpp; builtin: batch size); default for llama.cpp: --concurrency, else ${BENCH_SEQUENCES} for a GGUF up to 2 GiB, 4 above`,
    )
    .option("--max-tokens <n>", "max new tokens per answer (default: the config's target.maxTokens)")
    .option("--temperature <t>", "sampling temperature (0 = greedy)", "0")
    .option("--system-prompt <text>", "a system prompt put before every probe")
    .option("--framings <files...>", "extra jailbreak framing files (YAML/JSON)")
    .option("--api-key-env <name>", "environment variable holding the API key of the endpoints")
    .option(
      "--workspace <dir>",
      "workspace whose store receives the results (<workspace>/breakfix.db, JSONL export in <workspace>/bench/runs); " +
        "default: the config's",
    )
    .option(
      "--out <dir>",
      "a results folder of its own instead of a workspace: DIR/breakfix.db plus a JSONL export in DIR/runs; resumable",
    )
    .option("--groups", "print every breakdown row, not just the overall metrics")
    .option("--no-progress", "no progress output")
    .option("--json", "print one JSON object as the last line")
    .action(cliAction(lazyAction(async () => (await actions()).benchAction)));

  bench
    .command("compare <a> <b>")
    .description("paired comparison of two runs of one suite (run ids, unique prefixes, or .jsonl files)")
    .option("--alpha <p>", "significance level", "0.05")
    .addHelpText(
      "after",
      "\n--workspace DIR, --out DIR (where the runs are) and --json are the bench options, e.g. bench compare A B --json",
    )
    .action(cliAction(lazyAction(async () => (await actions()).compareAction)));

  bench
    .command("show <run>")
    .description("a stored run: its metrics and some of its records (model text shown escaped)")
    .option("--records <n>", "records to show", "10")
    .option("--outcome <v>", "only records with this outcome: true, false or null")
    .action(cliAction(lazyAction(async () => (await actions()).showAction)));

  bench
    .command("list")
    .description("list the suites and groups")
    .action(cliAction(lazyAction(async () => (await actions()).listAction)));
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
