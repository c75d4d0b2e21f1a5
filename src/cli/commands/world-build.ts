/** `breakfix world build [--quick]`: reproduce the demo model organism from the world's seed. */
import path from "node:path";
import type { Command } from "commander";
import { DEMO_MODEL_DIR } from "../../models/registry.ts";
import { buildWorldModel } from "../../world/build.ts";
import { intFlag } from "../errors.ts";
import { progressReporter } from "../progress.ts";

export function registerWorldBuild(program: Command): void {
  const world = program.commands.find((c) => c.name() === "world") ?? program.command("world");
  world
    .command("build")
    .description("Train the demo model organism (tokenizer + Llama model) from the world's seed; re-run to resume.")
    .option("--out <dir>", "output folder (model/ = Hugging Face folder, model.gguf)", path.dirname(DEMO_MODEL_DIR))
    .option("--quick", "a much smaller model in a couple of minutes (for tests)")
    .option("--seed <n>", "world and training seed", "1")
    .option("--json", "print the build summary as one JSON object on the last line")
    .action(async (o: { out: string; quick?: boolean; seed: string; json?: boolean }) => {
      const seed = intFlag("seed", o.seed, 0);
      const progress = progressReporter<{ step: number; total: number; loss: number; tps: number }>(true, {
        format: "{bar} step {value}/{total} | loss {loss} | {tps} tok/s | ETA {eta_formatted}",
        done: (p) => p.step,
        total: (p) => p.total,
        payload: (p) => ({ loss: p.loss.toFixed(3), tps: Math.round(p.tps) }),
        line: (p) => `step ${p.step}/${p.total} loss ${p.loss.toFixed(3)} ${Math.round(p.tps)} tok/s`,
      });
      const summary = await buildWorldModel({
        outDir: o.out,
        quick: o.quick,
        seed,
        log: (l) => process.stderr.write(`${l}\n`),
        events: {
          onResume: (step) => process.stderr.write(`resuming the training run at step ${step}\n`),
          onStep: (m, total) => progress.update({ step: m.step, total, loss: m.loss, tps: m.tokens_per_s }),
        },
      });
      progress.stop();
      process.stdout.write(
        `built ${summary.modelDir} (${(summary.params / 1e6).toFixed(2)}M parameters, ${summary.trainSteps} steps, eval loss ${summary.evalLoss?.toFixed(3)}) ` +
          `and ${summary.gguf} in ${summary.seconds.toFixed(0)} s\n`,
      );
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
}
