/**
 * Trainer parity with PyTorch (src/train/parity/dpo_ref.py on Debian python3-torch): the DPO losses (sft_dpo's SFT
 * term written as TRL's pooled cross-entropy) and their gradients on the same tiny model and batch, and a PEFT adapter
 * exported by us, loaded by PEFT's tensor names.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SplitMix32 } from "../domain/random.ts";
import { RefExecutor } from "../nn/executor-ref.ts";
import { buildForward, forwardBatch, initWeights, type LlamaConfig } from "../nn/llama.ts";
import { saveModel } from "../nn/model.ts";
import { readSafetensorsFile } from "../nn/safetensors.ts";
import { GraphBuilder } from "../nn/tensor.ts";
import { tinyLlama } from "../nn/testing.ts";
import { exportPeft } from "./export.ts";
import { initLora, type LoraConfig, loraHook } from "./lora.ts";
import { ObjectiveRunner, padBatch } from "./objective.ts";

const PY = "/usr/bin/python3";
const REF = resolve(import.meta.dirname, "parity/dpo_ref.py");

const cfg: LlamaConfig = tinyLlama({ intermediateSize: 56 });

function pairsBatch() {
  const rng = new SplitMix32(4);
  const P = 3;
  const seqs = Array.from({ length: 2 * P }, (_, i) => {
    const len = 8 + (i % 3) * 3;
    const ids = Array.from({ length: len }, () => rng.int(cfg.vocabSize));
    const promptLen = 4 + (i % P);
    return { ids, labels: ids.map((t, k) => (k < promptLen ? -100 : t)) };
  });
  return padBatch(seqs, 16, 0);
}

function runRef(job: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), "bf-train-parity-"));
  const jobFile = join(dir, "job.json");
  const out = join(dir, "out.safetensors");
  writeFileSync(jobFile, JSON.stringify({ ...job, out }));
  execFileSync(PY, [REF, jobFile], { stdio: "pipe" });
  return readSafetensorsFile(out).tensors;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12);
}

describe("trainer parity with PyTorch", () => {
  for (const loss of ["sigmoid", "ipo", "sft_dpo"] as const) {
    it(`${loss} DPO loss and every parameter gradient match (relative error < 1e-4)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "bf-dpo-"));
      // sft_dpo: TRL's weights [1, 1] (the trl backend's), so the SFT term is checked at full weight
      const sftAlpha = loss === "sft_dpo" ? 1 : 0;
      const weights = initWeights(cfg, 7, 0.05);
      saveModel(dir, cfg, weights);
      const batch = pairsBatch();
      // reference log-probs: a slightly different model, so the policy/reference ratio is not zero
      const refRunner = new ObjectiveRunner(cfg, { kind: "sft" }, () => true);
      const refLogps = await refRunner.sequenceLogps(initWeights(cfg, 8, 0.05), batch);
      const runner = new ObjectiveRunner(cfg, { kind: "dpo", loss, beta: 0.2, sftAlpha }, () => true);
      const ours = await runner.step(weights, batch, refLogps);
      const ref = runRef({
        mode: "dpo",
        loss,
        beta: 0.2,
        sft_alpha: sftAlpha,
        dir,
        B: batch.B,
        T: batch.T,
        input_ids: Array.from(batch.inputIds),
        attention_mask: Array.from(batch.attentionMask),
        labels: Array.from(batch.labels),
        ref_logps: Array.from(refLogps),
      });
      const torchLoss = ref.get("loss")!.data[0];
      console.log(`${loss}: loss ours ${ours.loss} torch ${torchLoss}`);
      expect(Math.abs(ours.loss - torchLoss) / Math.abs(torchLoss)).toBeLessThan(1e-4);
      expect(relErr(ours.sequenceLogps, ref.get("logps")!.data)).toBeLessThan(1e-5);
      let worst = 0;
      for (const [n, g] of ours.grads) {
        const e = relErr(g, ref.get(`grad.${n}`)!.data);
        worst = Math.max(worst, e);
        expect(e, n).toBeLessThan(1e-4);
      }
      console.log(`${loss}: worst gradient relative error ${worst.toExponential(2)} over ${ours.grads.size} tensors`);
    });
  }

  // Phi-3 as Hugging Face saves it: the reference reads the fused qkv_proj / gate_up_proj (grouped-query attention,
  // so q's rows differ from k's and v's), and our engine's split adapter must be written fused to apply there.
  const families: [string, LlamaConfig, number][] = [
    ["Llama", cfg, 6],
    ["Phi-3 (fused qkv_proj, gate_up_proj)", tinyLlama({ modelType: "phi3", intermediateSize: 56 }), 4],
  ];
  for (const [family, model, applied] of families)
    it(`a PEFT adapter we export gives the same logits in PyTorch (PEFT tensor names mapped): ${family}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "bf-peft-"));
      const weights = initWeights(model, 9, 0.05);
      saveModel(dir, model, weights);
      const lora: LoraConfig = { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj", "up_proj"] };
      const adapter = initLora(model, lora, 3);
      const rng = new SplitMix32(12);
      for (const [n, t] of adapter)
        if (n.includes("lora_B")) for (let i = 0; i < t.data.length; i++) t.data[i] = (rng.next() - 0.5) * 0.2;
      const adapterDir = join(dir, "adapter");
      exportPeft(adapterDir, adapter, lora, dir, model);
      const B = 2;
      const T = 9;
      const ids = Array.from({ length: B * T }, () => rng.int(model.vocabSize));
      const b = new GraphBuilder();
      const g = buildForward(model, b, B, T, loraHook(model, lora, false));
      const [logits] = await new RefExecutor()
        .compile(b.graph, [g.logits.id])
        .run({ ...Object.fromEntries(weights), ...Object.fromEntries(adapter), ...forwardBatch(B, T, ids) });
      const ref = runRef({
        mode: "peft",
        dir,
        adapter_dir: adapterDir,
        B,
        T,
        input_ids: ids,
        attention_mask: ids.map(() => 1),
        labels: ids,
      });
      expect(ref.get("applied")!.data[0]).toBe(applied);
      const tl = ref.get("logits")!.data;
      let maxDiff = 0;
      for (let i = 0; i < tl.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tl[i] - logits.data[i]));
      console.log(`PEFT adapter logits (${family}) max abs diff ${maxDiff.toExponential(2)}`);
      expect(maxDiff).toBeLessThan(1e-4);
    });
});
