/**
 * `train --out` is guarded by the run's identity (issue 23): a folder resumes only a run of the same data, model and
 * settings; any other is refused naming what differs, or cleared with overwrite (which also removes the old LoRA
 * adapter, so a full fine-tune never exports LoRA tensors).
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readSafetensorsFile } from "../nn/safetensors.ts";
import { IDENTITY_FILE, OutputFolderError } from "./identity.ts";
import { writeJsonl } from "./jsonl.ts";
import { isLoraParam } from "./lora.ts";
import { type RunOptions, runTraining } from "./run.ts";
import { makeTinyModelDir, mapWord, SIGMA_1, words } from "./testing.ts";
import { DEFAULT_TRAIN } from "./trainer.ts";

const dir = mkdtempSync(join(tmpdir(), "bf-identity-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = words(16, 5).map((w) => ({
  messages: [
    { role: "user", content: `Map ${w}` },
    { role: "assistant", content: mapWord(w, SIGMA_1) },
  ],
}));
const model = join(dir, "model");
makeTinyModelDir(
  model,
  rows.flatMap((r) => r.messages.map((m) => m.content)),
);
const data = join(dir, "sft.jsonl");
writeJsonl(data, rows);

function opts(out: string, over: Partial<RunOptions["train"]> = {}, overwrite = false): RunOptions {
  return {
    method: "sft",
    modelDir: model,
    dataFile: data,
    outDir: out,
    evalFraction: 0,
    maxLength: 128,
    lossOn: "assistant",
    overwrite,
    train: {
      ...DEFAULT_TRAIN,
      objective: { kind: "sft" },
      lr: 3e-3,
      batchSize: 4,
      maxSteps: 2,
      lora: { r: 2, alpha: 4, dropout: 0, targetModules: ["q_proj", "v_proj"] },
      ...over,
    },
  };
}

async function refusal(o: RunOptions): Promise<OutputFolderError> {
  const err = await runTraining(o).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OutputFolderError);
  return err as OutputFolderError;
}

describe("train --out guarded by the run's identity", () => {
  it("resumes only the same run; refuses other data, settings or method naming the difference; overwrite starts clean", async () => {
    const out = join(dir, "out");
    const first = await runTraining(opts(out));
    expect(first.steps).toBe(2);
    expect(existsSync(join(out, IDENTITY_FILE))).toBe(true);
    expect(existsSync(join(out, "adapter.gguf"))).toBe(true);

    // the same run again: accepted (resumes at its final checkpoint)
    const again = await runTraining({ ...opts(out), train: { ...opts(out).train, checkpointEvery: 1, evalEvery: 1 } });
    expect(again.steps).toBe(2);

    // other hyperparameters
    const lr = await refusal(opts(out, { lr: 1e-3 }));
    expect(lr.message).toContain(`${out} holds a training run with different inputs`);
    expect(lr.differences).toEqual(["lr: 0.003 -> 0.001"]);
    expect(lr.message).toContain("--overwrite");

    // full fine-tuning on a LoRA folder
    const full = await refusal(opts(out, { lora: undefined }));
    expect(full.differences).toContain('lora: (unset) -> "none"');
    expect(full.differences.some((d) => d.startsWith("lora.r: 2 -> (unset)"))).toBe(true);

    // other data contents under the same file name
    const changed = join(dir, "sft2.jsonl");
    writeFileSync(changed, readFileSync(data));
    appendFileSync(changed, `${JSON.stringify(rows[0])}\n`);
    const d = await refusal({ ...opts(out), dataFile: changed });
    expect(d.differences).toHaveLength(1);
    expect(d.differences[0]).toMatch(/^the data file's contents \(sha256 [0-9a-f]{12} -> [0-9a-f]{12}\)$/);

    // overwrite: a clean full fine-tune with no stale adapter and no LoRA tensor in the model
    const clean = await runTraining(opts(out, { lora: undefined }, true));
    expect(clean.steps).toBe(2);
    expect(clean.outputs.adapter).toBeUndefined();
    expect(existsSync(join(out, "adapter"))).toBe(false);
    expect(existsSync(join(out, "adapter.gguf"))).toBe(false);
    const tensors = readSafetensorsFile(join(out, "model", "model.safetensors")).tensors;
    expect([...tensors.keys()].filter(isLoraParam)).toEqual([]);
    const metrics = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n");
    expect(metrics.map((l) => JSON.parse(l).step)).toEqual([1, 2]);
  }, 120_000);

  it("refuses a folder of training outputs with no recorded identity", async () => {
    const out = join(dir, "legacy");
    mkdirSync(join(out, "checkpoints"), { recursive: true });
    writeFileSync(join(out, "checkpoints", "latest"), "2");
    const err = await refusal(opts(out));
    expect(err.message).toContain("training outputs with no recorded identity");
    expect(existsSync(join(out, "checkpoints", "latest"))).toBe(true);
    // an unrelated file in the folder is not ours to judge or delete
    const other = join(dir, "other");
    mkdirSync(other);
    writeFileSync(join(other, "notes.txt"), "mine");
    await runTraining(opts(other));
    expect(readFileSync(join(other, "notes.txt"), "utf8")).toBe("mine");
  }, 120_000);
});
