/**
 * Exports a small trained-looking model (merged checkpoint + PEFT adapter) and compares our logits with Hugging Face
 * transformers and peft through perf/hf_compare.py. transformers and peft are not installed on the project's CPU
 * machines (no PyPI there): the script then says so in its JSON line instead of pretending.
 *   npm run perf:hf -- [--python /path/to/python]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SplitMix32 } from "../src/domain/random.ts";
import { RefExecutor } from "../src/nn/executor-ref.ts";
import { buildForward, forwardBatch, initWeights, type LlamaConfig } from "../src/nn/llama.ts";
import { saveModel } from "../src/nn/model.ts";
import { GraphBuilder } from "../src/nn/tensor.ts";
import { exportMerged, exportPeft } from "../src/train/export.ts";
import { initLora, type LoraConfig } from "../src/train/lora.ts";

const argv = process.argv.slice(2);
const python = argv.includes("--python") ? argv[argv.indexOf("--python") + 1] : "python3";
const cfg: LlamaConfig = {
  vocabSize: 128,
  hiddenSize: 64,
  intermediateSize: 128,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  maxPositionEmbeddings: 128,
  tieWordEmbeddings: false,
};
const dir = mkdtempSync(join(tmpdir(), "bf-hf-"));
const base = join(dir, "base");
const weights = initWeights(cfg, 1, 0.05);
saveModel(base, cfg, weights);
const lora: LoraConfig = { r: 8, alpha: 16, dropout: 0, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"] };
const adapter = initLora(cfg, lora, 2);
const rng = new SplitMix32(3);
for (const [n, t] of adapter)
  if (n.includes("lora_B")) for (let i = 0; i < t.data.length; i++) t.data[i] = (rng.next() - 0.5) * 0.2;
exportPeft(join(dir, "adapter"), adapter, lora, base);
exportMerged(join(dir, "merged"), cfg, weights, base, { weights: adapter, config: lora });
const B = 2;
const T = 12;
const ids = Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
const b = new GraphBuilder();
const g = buildForward(cfg, b, B, T);
const merged = new Map(weights);
const { mergeLora } = await import("../src/train/lora.ts");
for (const [n, t] of mergeLora(weights, adapter, cfg, lora)) merged.set(n, t);
const [logits] = await new RefExecutor()
  .compile(b.graph, [g.logits.id])
  .run({ ...Object.fromEntries(merged), ...forwardBatch(B, T, ids) });
const nested = Array.from({ length: B }, (_, i) =>
  Array.from({ length: T }, (_, t) =>
    Array.from(logits.data.slice((i * T + t) * cfg.vocabSize, (i * T + t + 1) * cfg.vocabSize)),
  ),
);
writeFileSync(join(dir, "ours.json"), JSON.stringify({ logits: nested }));
writeFileSync(
  join(dir, "job.json"),
  JSON.stringify({
    base,
    merged: join(dir, "merged"),
    adapter: join(dir, "adapter"),
    ours: join(dir, "ours.json"),
    input_ids: Array.from({ length: B }, (_, i) => ids.slice(i * T, (i + 1) * T)),
  }),
);
const probe = spawnSync(python, ["-c", "import transformers, peft"], { encoding: "utf8" });
if (probe.status !== 0) {
  console.log(JSON.stringify({ ran: false, reason: `transformers/peft not importable with ${python}`, exports: dir }));
} else {
  const r = spawnSync(python, [resolve(import.meta.dirname, "hf_compare.py"), join(dir, "job.json")], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  const res = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  console.log(
    JSON.stringify({
      ran: true,
      ...res,
      ok: res.transformers_merged_max_abs_diff < 1e-4 && res.peft_adapter_max_abs_diff < 1e-4,
    }),
  );
}
