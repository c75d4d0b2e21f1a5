/**
 * Frozen weights in f16 (half.ts): a LoRA step whose base weights are fed as float16 tensors equals the f32 step on
 * the same (f16-representable) weights, for tied and untied embeddings; every frozen matrix is a float16 input and
 * every use has its own Cast (no shared f32 copy onnxruntime could keep alive across the step).
 */
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../domain/random.ts";
import { initLora, type LoraConfig, loraHook } from "../../train/lora.ts";
import type { HostTensor } from "../ir.ts";
import { buildLoss, initWeights, type LlamaConfig, lossBatch } from "../llama.ts";
import { halfToFloat } from "../safetensors.ts";
import { GraphBuilder } from "../tensor.ts";
import { OnnxExecutor } from "./executor.ts";
import { halfTensor, toF16Bits } from "./half.ts";
import { decodeModel } from "./lower.ts";
import { OnnxTrainStep } from "./train-step.ts";

const base: LlamaConfig = {
  vocabSize: 61,
  hiddenSize: 32,
  intermediateSize: 64,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 8,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  maxPositionEmbeddings: 64,
  tieWordEmbeddings: false,
};
const B = 2;
const T = 12;
const lcfg: LoraConfig = {
  r: 4,
  alpha: 8,
  dropout: 0,
  targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"],
};

/** round every value through f16, so the f32 and f16 runs see the same weights */
function f16Rounded(t: HostTensor): HostTensor {
  return { shape: t.shape, data: Float32Array.from(toF16Bits(t.data), halfToFloat) };
}

for (const tied of [false, true]) {
  describe(`LoRA step with f16 frozen weights (${tied ? "tied" : "untied"} embeddings)`, () => {
    it("equals the f32 step on the same weights for 2 steps", async () => {
      const cfg = { ...base, tieWordEmbeddings: tied };
      const b = new GraphBuilder();
      const g = buildLoss(cfg, b, B, T, loraHook(cfg, lcfg, false));
      const frozen = new Map([...initWeights(cfg, 3)].map(([n, t]) => [n, f16Rounded(t)]));
      const adapter = initLora(cfg, lcfg, 4);
      // B starts at zero: give it values so the LoRA path contributes from the first step
      const rand = mulberry32(9);
      for (const [n, t] of adapter)
        if (n.includes("lora_B")) for (let i = 0; i < t.data.length; i++) t.data[i] = (rand() - 0.5) * 0.1;
      const trainable = [...adapter.keys()];
      const ids = Array.from({ length: B * T }, () => Math.floor(rand() * cfg.vocabSize));
      const feeds = lossBatch(cfg, B, T, ids, new Array(B * T).fill(1), ids);
      const ex = new OnnxExecutor();
      const results: { losses: number[]; lora: Map<string, HostTensor> }[] = [];
      for (const dtype of ["f32", "f16"] as const) {
        const step = OnnxTrainStep.compile(ex, b.graph, g.loss.id, trainable, { frozenDtype: dtype, maxGradNorm: 1 });
        if (dtype === "f16") {
          const model = decodeModel(
            ex.modelBytes((step as unknown as { compiled: { key: string } }).compiled.key)!,
          ) as {
            graph: {
              input: { name: string; type: { tensor_type: { elem_type: number } } }[];
              node: { op_type: string; input: string[] }[];
            };
          };
          const halfInputs = model.graph.input.filter((i) => i.type.tensor_type.elem_type === 10).map((i) => i.name);
          const matrices = [...frozen].filter(([, t]) => t.shape.length === 2).map(([n]) => n);
          for (const n of matrices) expect(halfInputs).toContain(n);
          // one Cast per use: no cast input is read twice
          const casts = model.graph.node.filter((n) => n.op_type === "Cast").map((n) => n.input[0]);
          expect(new Set(casts).size).toBe(casts.length);
        }
        const weights = new Map<string, HostTensor | ReturnType<typeof halfTensor>>();
        for (const [n, t] of frozen) weights.set(n, dtype === "f16" && t.shape.length === 2 ? halfTensor(t) : t);
        for (const [n, t] of adapter) weights.set(n, { shape: t.shape, data: Float32Array.from(t.data) });
        const state = new Map();
        const losses: number[] = [];
        for (let i = 0; i < 2; i++) losses.push((await step.run(weights, state, feeds, 1e-2)).loss);
        results.push({ losses, lora: new Map(trainable.map((n) => [n, weights.get(n) as HostTensor])) });
        await step.dispose();
      }
      const [a, h] = results;
      for (let i = 0; i < 2; i++) expect(h.losses[i]).toBeCloseTo(a.losses[i], 5);
      let maxDiff = 0;
      for (const n of trainable) {
        const x = a.lora.get(n)!.data;
        const y = h.lora.get(n)!.data;
        for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
      }
      expect(maxDiff).toBeLessThan(1e-5);
    });
  });
}
