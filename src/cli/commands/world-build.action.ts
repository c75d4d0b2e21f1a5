/**
 * The action of `breakfix world build` (registered in world-build.ts), loaded when it runs: trains the demo model
 * organism (or its attacker) from the world's seed, with a progress bar, resuming a run that was stopped.
 */
import path from "node:path";
import { DEMO_ATTACKER_DIR, DEMO_MODEL_DIR } from "../../models/registry.ts";
import { buildAttackerModel } from "../../world/attacker.ts";
import { buildWorldModel } from "../../world/build.ts";
import { CliError, intFlag } from "../errors.ts";
import { progressReporter } from "../progress.ts";

export async function buildAction(o: {
  out?: string;
  quick?: boolean;
  attacker?: boolean;
  seed: string;
  json?: boolean;
}): Promise<void> {
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
}
