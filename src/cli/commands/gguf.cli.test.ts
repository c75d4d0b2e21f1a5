/** `breakfix gguf export|inspect` through the real bin script, and the exported file loads in llama.cpp. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PHI3_CHAT_TEMPLATE, PHI3_SPECIAL_TOKENS, saveTokenizer, trainBpe } from "../../nn/bpe.ts";
import { LlamaCppRunner } from "../../nn/gguf/llamacpp.ts";
import { initWeights, type LlamaConfig } from "../../nn/llama.ts";
import { saveModel } from "../../nn/model.ts";

const REPO = path.resolve(import.meta.dirname, "../../..");
const BIN = path.join(REPO, "bin", "breakfix.js");
const dir = mkdtempSync(path.join(tmpdir(), "gguf-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function breakfix(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("breakfix gguf", () => {
  it("exports a model folder that llama.cpp loads and inspects it", async () => {
    const bpe = trainBpe(
      ["the model refuses unsafe requests. ", "hello world, hello model! "].flatMap((s) => [s, s]),
      {
        vocabSize: 300,
        specialTokens: [...PHI3_SPECIAL_TOKENS],
      },
    );
    const cfg: LlamaConfig = {
      vocabSize: bpe.vocab.size,
      hiddenSize: 32,
      intermediateSize: 64,
      numLayers: 1,
      numHeads: 2,
      numKvHeads: 1,
      headDim: 16,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      maxPositionEmbeddings: 128,
      tieWordEmbeddings: true,
      eosTokenId: bpe.vocab.get("<|endoftext|>"),
    };
    const modelDir = path.join(dir, "model");
    saveModel(modelDir, cfg, initWeights(cfg, 1, 0.1));
    saveTokenizer(modelDir, bpe, { eosToken: "<|endoftext|>", chatTemplate: PHI3_CHAT_TEMPLATE });
    const out = path.join(dir, "m.gguf");
    const r = breakfix(["gguf", "export", modelDir, "--out", out, "--dtype", "f16"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote .*m\.gguf \(\d+ tensors, f16\)/);

    const info = breakfix(["gguf", "inspect", out, "--json"]);
    expect(info.code).toBe(0);
    const j = JSON.parse(info.stdout.trim().split("\n").at(-1)!);
    expect(j.metadata["general.architecture"]).toBe("llama");
    expect(j.metadata["general.file_type"]).toBe(1);
    expect(j.tensors).toContain(`token_embd.weight [${cfg.vocabSize}, 32] F16`);
    expect(j.tensors.some((t: string) => t.startsWith("output.weight"))).toBe(false); // tied

    const runner = await LlamaCppRunner.load(out, { sequences: 1, contextSize: 64 });
    try {
      expect(runner.model.fileInfo.metadata.tokenizer.chat_template).toBe(PHI3_CHAT_TEMPLATE);
      const [g] = await runner.generate([runner.tokenize("hello model", false)], { maxTokens: 4 });
      expect(g.tokens.length).toBeGreaterThan(0);
    } finally {
      await runner.dispose();
    }
  });

  it("names the problem on bad input", () => {
    const r = breakfix(["gguf", "export", path.join(dir, "missing")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/missing/);
    writeFileSync(path.join(dir, "bad.gguf"), "not a gguf");
    const i = breakfix(["gguf", "inspect", path.join(dir, "bad.gguf")]);
    expect(i.code).not.toBe(0);
    expect(i.stderr).toMatch(/not a GGUF|truncated/);
    const d = breakfix(["gguf", "export", dir, "--dtype", "q4"]);
    expect(d.stderr).toMatch(/--dtype must be f32 or f16/);
    expect([r.code, i.code, d.code]).toEqual([2, 2, 2]);
  });

  it("refuses a GGUF cut short after its header, naming the file (exit 2)", () => {
    const whole = readFileSync(path.join(dir, "m.gguf"));
    const cut = path.join(dir, "cut.gguf");
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.9)));
    const r = breakfix(["gguf", "inspect", cut]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(cut);
    expect(r.stderr).toMatch(/truncated GGUF: tensor \S+ needs bytes/);
    const ok = breakfix(["gguf", "inspect", path.join(dir, "m.gguf")]);
    expect(ok.code).toBe(0);
  });
});
