/**
 * `breakfix cycle`: rounds of measure -> break -> identify -> curate -> post-train, driven by breakfix.yaml (no file:
 * the demo preset, presets/demo.yaml), until the release gates pass or the round budget is spent. What a run does and
 * prints is described with its action, in cycle.action.ts, loaded when it runs.
 */
import type { Command } from "commander";
import { lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./cycle.action.ts");

export function registerCycle(program: Command): void {
  const cmd = program
    .command("cycle")
    .description("Run the break-fix cycle (measure, break, identify, curate, post-train) until the release gates pass")
    .option("--config <file>", "breakfix.yaml (default: found in this folder; none = the demo preset)")
    .option(
      "--model <dir>",
      "base model to train, a Hugging Face folder or hf:ORG/NAME[@REV] (default: training.model, or the target's)",
    )
    .option("--workspace <dir>", "workspace folder (default: the config's)")
    .option("--rounds <n>", "rounds after the base model (default: the config's cycle.rounds)")
    .option(
      "--suite-limit <n>",
      "seeded subset of items per measured suite, per split x slice stratum (dev/test x slice)",
    )
    .option("--seeds-per-category <n>", "red-team seeds per harm category each round")
    .option("--max-attacks <n>", "most attacks per persona campaign each round")
    .option("--max-tokens <n>", "generation cap for the target")
    .option("--train-max-steps <n>", "cap on optimizer steps per training stage")
    .option("--safety-set-rows <n>", "prompts drawn from curation.safetySet each round (0: none)")
    .option("--personas <list>", "red-team personas each round, comma-separated")
    .option(
      "--engine <name>",
      "how local round models run: llamacpp (default: a GGUF export through llama.cpp) or builtin (no native code)",
    )
    .option(
      "--seeds <n>",
      "training seeds: run the rounds once per seed (training.seed, +1, ...) and report mean ± sd over seeds",
    )
    .option("--no-progress", "no progress output (steps starting and done, counts with an ETA)")
    .option(
      "--json",
      'print {"runId", "rounds": [...], "releaseCandidate"} as one JSON object on the last line (several seeds: {"seeds": [...], "aggregate"})',
    )
    .action(lazyAction(async () => (await actions()).cycleAction));
  withExitScheme(cmd);
}
