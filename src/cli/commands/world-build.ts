/** `breakfix world build [--quick]`: reproduce the demo model organism from the world's seed. */
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { buildWorldModel } from "../../world/build.ts";
import { CliError } from "../errors.ts";

export function registerWorldBuild(program: Command): void {
  const world = program.commands.find((c) => c.name() === "world") ?? program.command("world");
  world
    .command("build")
    .description("Train the demo model organism (tokenizer + Llama model) from the world's seed; re-run to resume.")
    .option("--out <dir>", "output folder (model/ = Hugging Face folder, model.gguf)", "artifacts/demo-world")
    .option("--quick", "a much smaller model in a couple of minutes (for tests)")
    .option("--seed <n>", "world and training seed", "1")
    .option("--json", "print the build summary as one JSON object on the last line")
    .action(async (o: { out: string; quick?: boolean; seed: string; json?: boolean }) => {
      const seed = Number(o.seed);
      if (!Number.isInteger(seed) || seed < 0)
        throw new CliError(`--seed must be a non-negative integer, got '${o.seed}'`);
      const tty = process.stderr.isTTY;
      const bar = new SingleBar(
        {
          format: "{bar} step {value}/{total} | loss {loss} | {tps} tok/s | ETA {eta_formatted}",
          stream: process.stderr,
        },
        undefined,
      );
      let started = false;
      const summary = await buildWorldModel({
        outDir: o.out,
        quick: o.quick,
        seed,
        log: (l) => process.stderr.write(`${l}\n`),
        events: {
          onResume: (step) => process.stderr.write(`resuming the training run at step ${step}\n`),
          onStep: (m, total) => {
            if (tty) {
              if (!started) bar.start(total, m.step - 1, { loss: "-", tps: "-" });
              started = true;
              bar.update(m.step, { loss: m.loss.toFixed(3), tps: Math.round(m.tokens_per_s) });
            } else if (m.step % 20 === 0 || m.step === total) {
              process.stderr.write(
                `step ${m.step}/${total} loss ${m.loss.toFixed(3)} ${Math.round(m.tokens_per_s)} tok/s\n`,
              );
            }
          },
        },
      });
      if (started) bar.stop();
      process.stdout.write(
        `built ${summary.modelDir} (${(summary.params / 1e6).toFixed(2)}M parameters, ${summary.trainSteps} steps, eval loss ${summary.evalLoss?.toFixed(3)}) ` +
          `and ${summary.gguf} in ${summary.seconds.toFixed(0)} s\n`,
      );
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
}
