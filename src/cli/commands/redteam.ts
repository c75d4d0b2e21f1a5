/**
 * `breakfix redteam`: run a red-team campaign (seeds x persona techniques x languages) against a target, judge every
 * response, store every conversation and judgement in the workspace, and print ASR with the top vulnerabilities.
 * The action is in redteam.action.ts, loaded when it runs.
 */
import type { Command } from "commander";
import { DEFAULT_ANSWER_RESERVE, DEFAULT_GCG_TARGET } from "../../redteam/defaults.ts";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./redteam.action.ts");

export function registerRedteam(program: Command): void {
  const before = program.commands.length;
  program
    .command("redteam")
    .description("Run an automated red-team campaign against a target and store every attack, response and judgement")
    .option(
      "--target <spec>",
      "target: URL#model (OpenAI-compatible), builtin:DIR, llamacpp:FILE.gguf, or config",
      "config",
    )
    .option("--seeds <name|file>", "seed probes: world, a dataset name (breakfix data list), or a .jsonl/.csv file")
    .option(
      "--persona <id>",
      "low_skilled, intermediate, expert (GCG), or a persona id from breakfix.yaml or --personas",
      "low_skilled",
    )
    .option("--personas <file>", "YAML/JSON file of custom personas (technique bundles and budgets)")
    .option("--budget <n>", "most attacks to plan (a seed-balanced prefix of the plan)")
    .option(
      "--languages <list>",
      "languages to attack in, comma-separated (default: the seeds' languages for world, else the config's)",
    )
    .option("--judge <expr>", "world (demo world oracle), or a judge expression (e.g. refusal-patterns, harm-severity)")
    .option("--judge-model <spec>", "judge model for LLM judges (URL#model, builtin:DIR, llamacpp:FILE.gguf, config)")
    .option("--success <mode>", "harm (judge says harmful) or non_refusal (anything not refused); default by judge")
    .option(
      "--attacker <spec>",
      "attacker model (enables Crescendo, PAIR, TAP, FLIRT, model-based converters and model translation)",
    )
    .option("--evaluator <spec>", "TAP's evaluator model (off-topic pruning, ratings); default: the attacker")
    .option("--framings <file...>", "YAML/JSON files with extra or overriding jailbreak framings")
    .option("--scripts <file>", "YAML/JSON file with extra escalation scripts")
    .option("--seed <n>", "campaign seed", "0")
    .option("--limit-seeds <n>", "use at most N seeds (category-stratified)")
    .option("--concurrency <n>", "attacks in flight (default: the target's configured concurrency)")
    .option("--config <file>", "breakfix.yaml to use")
    .option("--workspace <dir>", "workspace folder (default: the config's)")
    .option("--datasets <dir>", "folder with dataset folders (default: the data cache, else the shared copy)")
    .option("--export <file>", "write the findings as JSONL (for curation)")
    .option("--json", "print a JSON summary as the last line")
    .option("--dry-run", "print the plan (attacks per technique and language, skipped techniques) and call no model")
    .option(
      "--target-context <n>",
      "target context window in tokens (default: read from a llamacpp/builtin target; HTTP targets: none unless given)",
    )
    .option(
      "--answer-reserve <n>",
      `tokens a prompt must leave for the answer, else it is shortened (many-shot) or not sent (default ${DEFAULT_ANSWER_RESERVE})`,
    )
    .option("--gcg-steps <n>", "expert persona on a local folder: GCG steps per seed (default 50)")
    .option(
      "--gcg-target <text>",
      `expert persona: the answer opening GCG optimises for (default "${DEFAULT_GCG_TARGET}")`,
    )
    .option("--no-progress", "no progress output")
    .action(cliAction(lazyAction(async () => (await actions()).redteamAction)));
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
