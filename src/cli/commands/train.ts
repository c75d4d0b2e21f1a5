/**
 * `breakfix train sft|dpo --model DIR --data FILE.jsonl --out DIR [...]`: post-training on conversational JSONL.
 * Defaults come from the config's `training` section; flags override. The action is in train.action.ts, loaded when
 * it runs.
 */
import type { Command } from "commander";
import { LOCAL_ROWS } from "../../train/backends/rows.ts";
import { cliAction, lazyAction, withExitScheme } from "../errors.ts";

const actions = () => import("./train.action.ts");

export function registerTrain(program: Command): void {
  const before = program.commands.length;
  const train = program.command("train").description("post-train a model: SFT, then DPO (full or LoRA)");
  for (const method of ["sft", "dpo"] as const) {
    train
      .command(method)
      .description(
        method === "sft" ? "supervised fine-tuning on {messages} rows" : "DPO on {prompt, chosen, rejected} rows",
      )
      .requiredOption(
        "--model <dir>",
        "Hugging Face model folder (config.json, safetensors, tokenizer) or hf:ORG/NAME[@REV]",
      )
      .requiredOption("--data <file>", "training rows, JSONL in TRL's conversational format")
      .requiredOption("--out <dir>", "output folder (checkpoints, metrics.jsonl, exports); re-run to resume")
      .option("--eval-data <file>", "held-out rows (default: a hashed share of --data)")
      .option(
        "--eval-fraction <x>",
        `share of rows held out when there is no --eval-data (default ${LOCAL_ROWS.evalFraction}, as the cycle: none)`,
      )
      .option("--config <file>", "breakfix.yaml for defaults")
      .option("--lora", "train a LoRA adapter")
      .option("--full", "full fine-tuning")
      .option("--lora-r <n>")
      .option("--lora-alpha <x>")
      .option("--lora-dropout <p>")
      .option("--lora-targets <list>", "comma-separated module names, e.g. q_proj,v_proj")
      .option("--lr <x>")
      .option("--epochs <n>")
      .option("--batch-size <n>")
      .option("--grad-accum <n>")
      .option("--max-steps <n>")
      .option("--max-length <n>", "drop rows longer than this many tokens")
      .option("--beta <x>", "DPO beta")
      .option("--loss <kind>", "DPO loss: sigmoid, ipo or sft_dpo")
      .option("--sft-alpha <x>", "weight of the SFT term in sft_dpo")
      .option("--seed <n>")
      .option("--checkpoint-every <n>", "optimizer steps between checkpoints (default: the cycle's)")
      .option("--eval-every <n>", "optimizer steps between evaluations (default 0: at the end)")
      .option(
        "--loss-on <which>",
        `assistant, last_assistant or all (default ${LOCAL_ROWS.lossOn}, as the cycle: earlier assistant turns are context)`,
      )
      .option("--merged-model", "under LoRA, also write the merged model folder")
      .option(
        "--overwrite",
        "--out holds another run (other data, model or settings): delete its checkpoints and exports, start clean",
      )
      .option("--json", "print a JSON summary as the last line")
      .option("--no-progress", "no progress bar")
      .action(cliAction(lazyAction(async () => (await actions()).trainAction.bind(null, method))));
  }
  // one exit-code scheme for every command (errors.ts)
  for (const c of program.commands.slice(before)) withExitScheme(c);
}
