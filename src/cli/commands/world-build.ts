/** `breakfix world build [--quick] [--attacker]`: reproduce the demo model organism (or its attacker) from the seed. */
import path from "node:path";
import type { Command } from "commander";
import { DEMO_ATTACKER_DIR, DEMO_MODEL_DIR } from "../../models/registry.ts";
import { buildAttackerModel } from "../../world/attacker.ts";
import { buildWorldModel } from "../../world/build.ts";
import { CliError, intFlag } from "../errors.ts";
import { progressReporter } from "../progress.ts";

export function registerWorldBuild(program: Command): void {
  const world = program.commands.find((c) => c.name() === "world") ?? program.command("world");
  world
    .command("build")
    .description("Train the demo model organism (tokenizer + Llama model) from the world's seed; re-run to resume.")
    .option("--out <dir>", "output folder (model/ = Hugging Face folder, model.gguf); default: the package's")
    .option("--quick", "a much smaller model in a couple of minutes (for tests; needs --out)")
    .option("--attacker", "build the demo's attacker organism (PAIR, TAP, Crescendo offline) instead of the target")
    .option("--seed <n>", "world and training seed", "1")
    .option("--json", "print the build summary as one JSON object on the last line")
    .action(async (o: { out?: string; quick?: boolean; attacker?: boolean; seed: string; json?: boolean }) => {
      const seed = intFlag("seed", o.seed, 0);
      // The test-size model never replaces the committed organism by default: every demo command would then run on it.
      if (o.quick && o.out === undefined)
        throw new CliError(
          "world build --quick needs --out DIR: without it the quick model would replace the committed demo organism (artifacts/demo-world/)",
          2,
        );
      const out = o.out ?? path.dirname(o.attacker ? DEMO_ATTACKER_DIR : DEMO_MODEL_DIR);
      const progress = progressReporter<{ step: number; total: number; loss: number; tps: number }>(true, {
        format: "{bar} step {value}/{total} | loss {loss} | {tps} tok/s | ETA {eta_formatted}",
        done: (p) => p.step,
        total: (p) => p.total,
        payload: (p) => ({ loss: p.loss.toFixed(3), tps: Math.round(p.tps) }),
        line: (p) => `step ${p.step}/${p.total} loss ${p.loss.toFixed(3)} ${Math.round(p.tps)} tok/s`,
      });
      const events = {
        onResume: (step: number) => process.stderr.write(`resuming the training run at step ${step}\n`),
        onStep: (m: { step: number; loss: number; tokens_per_s: number }, total: number) =>
          progress.update({ step: m.step, total, loss: m.loss, tps: m.tokens_per_s }),
      };
      const log = (l: string) => process.stderr.write(`${l}\n`);
      const summary = o.attacker
        ? await buildAttackerModel({ outDir: out, seed, log, events })
        : await buildWorldModel({ outDir: out, quick: o.quick, seed, log, events });
      progress.stop();
      process.stdout.write(
        `built ${summary.modelDir} (${(summary.params / 1e6).toFixed(2)}M parameters, ${summary.trainSteps} steps, eval loss ${summary.evalLoss?.toFixed(3)}) ` +
          `and ${summary.gguf} in ${summary.seconds.toFixed(0)} s\n`,
      );
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
}
