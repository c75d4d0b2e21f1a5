/**
 * `breakfix judge calibrate`: run a judge over human-labelled data and report its agreement with the labels, next to
 * a baseline judge. `breakfix judge list`: the judges. `breakfix judge run`: judge one prompt/response pair. The
 * actions are in judge.action.ts, loaded when one runs.
 */
import type { Command } from "commander";
import { CALIBRATION_DATA, JUDGE_NAMES } from "../../judges/names.ts";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./judge.action.ts");

export function registerJudge(program: Command): void {
  const before = program.commands.length;
  const judge = program.command("judge").description("judges: refusal detection, LLM judges, ensembles, calibration");
  judge
    .command("calibrate")
    .description("run a judge over human-labelled data and report agreement (accuracy, P/R/F1, kappa, confusion)")
    .requiredOption(
      "--judge <name>",
      `judge name or expression: ${JUDGE_NAMES.join(", ")}, cascade(A,B), majority(A,B,C), max(A,B)`,
    )
    .requiredOption("--data <name>", `labelled data: ${CALIBRATION_DATA.join(", ")}`)
    .option(
      "--path <dir>",
      "folder of files in the data's format (default: the shared copy); for --data reviews, the workspace holding them",
    )
    .option("--json", "print a JSON summary as the last line")
    .option("--model <spec>", "judge model for LLM judges: URL#model, builtin:DIR or llamacpp:FILE.gguf")
    .option("--api-key-env <var>", "environment variable holding the judge model's API key")
    .option("--baseline <name>", "baseline judge reported alongside ('none' to skip)", "gcg-substring")
    .option(
      "--dev <groups>",
      "comma-separated source groups used for development; the rest are reported as held-out ('none': no split)",
      "gpt4",
    )
    .option("--workspace <dir>", "workspace whose store receives the results (default: the config's)")
    .option("--config <file>", "breakfix.yaml to read the workspace from")
    .option("--no-store", "do not write results to the workspace store")
    .option("--concurrency <n>", "concurrent judge calls", "4")
    .option("--retries <n>", "retries of a malformed LLM-judge answer before it is recorded as unjudged", "2")
    .option("--no-progress", "no progress output")
    .action(cliAction(lazyAction(async () => (await actions()).calibrateAction)));
  judge
    .command("list")
    .description("list the judges")
    .action(cliAction(lazyAction(async () => (await actions()).listAction)));
  judge
    .command("run")
    .description("judge one response; prints the judgement as JSON")
    .requiredOption("--judge <name>", "judge name or expression")
    .requiredOption("--prompt <text>", "the user request")
    .requiredOption("--response <text>", "the response to judge")
    .option("--model <spec>", "judge model for LLM judges")
    .option("--api-key-env <var>", "environment variable holding the judge model's API key")
    .option("--retries <n>", "retries of a malformed answer", "2")
    .action(cliAction(lazyAction(async () => (await actions()).runAction)));
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
