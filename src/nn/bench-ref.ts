/**
 * Forward / backward time of the reference executor on a ~5M-parameter Llama, batch 8 x 256 (issue 3 figure).
 * usage: npx tsx src/nn/bench-ref.ts [--batch 8] [--seq 256] [--repeat 1]; prints one JSON object as its last line.
 */
import { parseArgs } from "node:util";
import { SplitMix32 } from "../domain/random.ts";
import { runIfMain } from "../domain/script.ts";
import { appendGradients } from "./autodiff.ts";
import { RefExecutor } from "./executor-ref.ts";
import { buildLoss, countParams, initWeights, type LlamaConfig, lossBatch } from "./llama.ts";
import { GraphBuilder } from "./tensor.ts";

export const CONFIG_5M: LlamaConfig = {
  vocabSize: 4096,
  hiddenSize: 256,
  intermediateSize: 688,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 4,
  headDim: 64,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  maxPositionEmbeddings: 512,
  tieWordEmbeddings: false,
};

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batch: { type: "string", default: "8" },
      seq: { type: "string", default: "256" },
      repeat: { type: "string", default: "1" },
    },
  });
  const B = Number(values.batch);
  const T = Number(values.seq);
  const cfg = CONFIG_5M;
  const w = initWeights(cfg, 0);
  const rng = new SplitMix32(1);
  const ids = Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
  const feeds = { ...Object.fromEntries(w), ...lossBatch(cfg, B, T, ids, new Array(B * T).fill(1), ids) };
  const b = new GraphBuilder();
  const g = buildLoss(cfg, b, B, T);
  const fwdNodes = b.graph.nodes.length;
  const names = [...g.params.keys()];
  const grads = appendGradients(
    b.graph,
    g.loss.id,
    names.map((n) => g.params.get(n)!.id),
  );
  const ex = new RefExecutor();
  const fwd = ex.compile(b.graph, [g.loss.id]);
  const step = ex.compile(b.graph, [g.loss.id, ...grads]);
  step.profiling = true;
  let fwdS = Number.POSITIVE_INFINITY;
  let fwdCpu = Number.POSITIVE_INFINITY;
  let stepCpu = Number.POSITIVE_INFINITY;
  let stepS = Number.POSITIVE_INFINITY;
  let loss = 0;
  for (let r = 0; r < Number(values.repeat); r++) {
    let t0 = performance.now();
    let c0 = process.cpuUsage();
    loss = fwd.runSync(feeds)[0].data[0];
    fwdS = Math.min(fwdS, (performance.now() - t0) / 1000);
    fwdCpu = Math.min(fwdCpu, cpuSeconds(c0));
    process.stderr.write(`forward ${fwdS.toFixed(2)} s (loss ${loss.toFixed(4)})\n`);
    t0 = performance.now();
    c0 = process.cpuUsage();
    step.runSync(feeds);
    stepS = Math.min(stepS, (performance.now() - t0) / 1000);
    stepCpu = Math.min(stepCpu, cpuSeconds(c0));
    process.stderr.write(`forward+backward ${stepS.toFixed(2)} s\n`);
  }
  console.log(
    JSON.stringify({
      executor: ex.name,
      params: countParams(cfg),
      batch: B,
      seq: T,
      graphNodes: { forward: fwdNodes, total: b.graph.nodes.length },
      forwardSeconds: fwdS,
      forwardBackwardSeconds: stepS,
      // wall time suffers when other jobs share the cores; CPU time (user + system) of this process does not
      forwardCpuSeconds: fwdCpu,
      forwardBackwardCpuSeconds: stepCpu,
      // wall seconds per op kind, summed over all repeats of the forward+backward step
      secondsByOp: Object.fromEntries(
        [...step.profile].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v * 100) / 100]),
      ),
      tokensPerSecondTrain: (B * T) / stepS,
      loss,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}

runIfMain(import.meta.filename, () => main());
