import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SplitMix32 } from "../domain/random.ts";
import { gradCheck } from "./gradcheck.ts";
import {
  buildForward,
  buildLoss,
  configFromHf,
  configToHf,
  initWeights,
  type LinearHook,
  type LlamaConfig,
  lossBatch,
  paramShapes,
  ropeInvFreq,
  type Weights,
} from "./llama.ts";
import { LlamaRunner, loadModel, type Objective, saveModel } from "./model.ts";
import { saveSafetensors } from "./safetensors.ts";
import { GraphBuilder, linear } from "./tensor.ts";

const tiny = (over: Partial<LlamaConfig> = {}): LlamaConfig => ({
  vocabSize: 11,
  hiddenSize: 8,
  intermediateSize: 12,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 2,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  maxPositionEmbeddings: 64,
  tieWordEmbeddings: false,
  ...over,
});

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "nn-llama-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("whole 2-layer model: finite-difference gradient check (float64)", () => {
  for (const tied of [false, true]) {
    it(`every parameter, GQA, padding + ignored labels, tied=${tied}`, () => {
      const cfg = tiny({ tieWordEmbeddings: tied, headDim: 4, hiddenSize: 8 });
      const B = 2;
      const T = 5;
      const b = new GraphBuilder();
      const g = buildLoss(cfg, b, B, T);
      const rng = new SplitMix32(3);
      const params: Record<string, Float64Array> = {};
      for (const [name, shape] of paramShapes(cfg)) {
        const v = new Float64Array(shape.reduce((a, c) => a * c, 1));
        // larger than HF init so that attention and norms are far from linear
        for (let i = 0; i < v.length; i++) v[i] = shape.length === 1 ? 1 + 0.3 * rng.normal() : 0.5 * rng.normal();
        params[name] = v;
      }
      const ids = [1, 5, 7, 2, 9, 3, 3, 8, 0, 0];
      const mask = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
      const labels = [-100, 5, 7, 2, 9, 3, 3, 8, -100, -100];
      const feeds = lossBatch(cfg, B, T, ids, mask, labels);
      const res = gradCheck(b.graph, g.loss.id, params, feeds);
      expect(res.checked).toBe([...paramShapes(cfg).values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0));
      expect(res.maxError, JSON.stringify(res.worst)).toBeLessThan(1e-6);
    });
  }
});

describe("LlamaRunner", () => {
  it("loss equals mean token CE over unmasked labels and sequence logps match per-sequence sums", async () => {
    const cfg = tiny();
    const w = initWeights(cfg, 1, 0.3);
    const runner = new LlamaRunner(cfg);
    const ids = [1, 5, 7, 2, 9, 3, 3, 8];
    const mask = [1, 1, 1, 1, 1, 1, 1, 1];
    const labels = [-100, 5, 7, 2, -100, 3, 8, -100];
    const r = await runner.lossAndGrads(w, { B: 2, T: 4, inputIds: ids, attentionMask: mask, labels });
    const logits = await runner.logits(w, 2, 4, ids, mask);
    const V = cfg.vocabSize;
    const lp = (bi: number, t: number, y: number) => {
      const o = (bi * 4 + t) * V;
      const row = Array.from(logits.data.subarray(o, o + V));
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
      return row[y] - lse;
    };
    const s0 = lp(0, 0, 5) + lp(0, 1, 7) + lp(0, 2, 2);
    const s1 = lp(1, 0, 3) + lp(1, 1, 8);
    expect(r.sequenceLogps[0]).toBeCloseTo(s0, 4);
    expect(r.sequenceLogps[1]).toBeCloseTo(s1, 4);
    expect(r.loss).toBeCloseTo(-(s0 + s1) / 5, 5);
    expect(r.grads.size).toBe(paramShapes(cfg).size);
  });

  it("names the bad field of a batch", () => {
    expect(() => lossBatch(tiny(), 2, 3, [1, 2, 3, 4, 5], [1, 1, 1, 1, 1, 1], [1, 2, 3, 4, 5, 6])).toThrow(
      /inputIds has 5 entries, expected B\*T = 2\*3 = 6/,
    );
    expect(() => lossBatch(tiny(), 1, 3, [1, 2, 3], [1, 1, 1], [1, 99, 3])).toThrow(
      /label 99 at \[0, 1\] outside \[0, 11\)/,
    );
  });

  it("right padding does not change the logits of real tokens", async () => {
    const cfg = tiny();
    const w = initWeights(cfg, 2, 0.3);
    const runner = new LlamaRunner(cfg);
    const short = await runner.logits(w, 1, 3, [4, 2, 9]);
    const padded = await runner.logits(w, 1, 5, [4, 2, 9, 0, 0], [1, 1, 1, 0, 0]);
    for (let i = 0; i < 3 * cfg.vocabSize; i++) expect(padded.data[i]).toBeCloseTo(short.data[i], 5);
  });
});

describe("custom objectives (DPO-shaped) on the loss graph", () => {
  const beta = 0.5;
  const dpo: Objective = {
    key: "dpo-test",
    build(g, b) {
      // batch = [chosen0, rejected0, chosen1, rejected1]; ref_logps from a frozen reference model
      const ref = b.input("ref_logps", [4]);
      const d = g.sequenceLogps.sub(ref).reshape([2, 2]);
      const margin = d.slice(1, 0, 1).sub(d.slice(1, 1, 2)); // [2,1]
      return margin.mul(beta).logSigmoid().mean().neg();
    },
  };
  const cfg = tiny();
  const ids = [1, 5, 7, 2, 9, 1, 5, 3, 3, 8, 3, 8, 4, 4, 0, 3, 8, 6, 1, 0];
  const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0];
  const labels = ids.map((t, i) => (mask[i] && i % 5 >= 2 ? t : -100));
  const batch = { B: 4, T: 5, inputIds: ids, attentionMask: mask, labels };
  const refLogps = Float32Array.of(-9.1, -8.7, -7.9, -8.2);

  it("loss value matches the formula applied to the sequence log-probs; sequenceLogps() needs no gradients", async () => {
    const w = initWeights(cfg, 12, 0.3);
    const runner = new LlamaRunner(cfg);
    const r = await runner.lossAndGrads(w, batch, {
      objective: dpo,
      feeds: { ref_logps: { shape: [4], data: refLogps } },
    });
    const s = await runner.sequenceLogps(w, batch);
    expect(Array.from(s).map((x) => x.toFixed(4))).toEqual(Array.from(r.sequenceLogps).map((x) => x.toFixed(4)));
    const m = (i: number) => s[2 * i] - refLogps[2 * i] - (s[2 * i + 1] - refLogps[2 * i + 1]);
    const expected = -(Math.log(1 / (1 + Math.exp(-beta * m(0)))) + Math.log(1 / (1 + Math.exp(-beta * m(1))))) / 2;
    expect(r.loss).toBeCloseTo(expected, 5);
  });

  it("finite-difference gradient check of the DPO objective through the whole model (float64)", () => {
    const b = new GraphBuilder();
    const g = buildLoss(cfg, b, 4, 5);
    const loss = dpo.build(g, b);
    const rng = new SplitMix32(13);
    const params: Record<string, Float64Array> = {};
    for (const [name, shape] of paramShapes(cfg)) {
      const v = new Float64Array(shape.reduce((a, c) => a * c, 1));
      for (let i = 0; i < v.length; i++) v[i] = shape.length === 1 ? 1 + 0.3 * rng.normal() : 0.5 * rng.normal();
      params[name] = v;
    }
    const feeds = { ...lossBatch(cfg, 4, 5, ids, mask, labels), ref_logps: { shape: [4], data: refLogps } };
    const res = gradCheck(b.graph, loss.id, params, feeds, { maxPerParam: 40 });
    expect(res.maxError, JSON.stringify(res.worst)).toBeLessThan(1e-6);
  });
});

describe("adapters through the linear hook", () => {
  it("a LoRA-style hook adds named parameters; B = 0 keeps the base logits; only trainable params get gradients", async () => {
    const cfg = tiny();
    const r = 2;
    const hook: LinearHook = (module, x, w) => {
      const base = linear(x, w);
      if (!module.endsWith("q_proj") && !module.endsWith("v_proj")) return base;
      const a = x.b.param(`${module}.lora_A.weight`, [r, w.shape[1]]);
      const bb = x.b.param(`${module}.lora_B.weight`, [w.shape[0], r]);
      return base.add(linear(linear(x, a), bb).mul(2));
    };
    const w = initWeights(cfg, 6, 0.3);
    const rng = new SplitMix32(8);
    const lora: Weights = new Map(w);
    for (let l = 0; l < cfg.numLayers; l++) {
      for (const m of ["q_proj", "v_proj"]) {
        const mod = `model.layers.${l}.self_attn.${m}`;
        const out = paramShapes(cfg).get(`${mod}.weight`)![0];
        lora.set(`${mod}.lora_A.weight`, {
          shape: [r, cfg.hiddenSize],
          data: Float32Array.from({ length: r * cfg.hiddenSize }, () => rng.normal()),
        });
        lora.set(`${mod}.lora_B.weight`, { shape: [out, r], data: new Float32Array(out * r) });
      }
    }
    const ids = [1, 5, 7, 2, 9, 3];
    const base = await new LlamaRunner(cfg).logits(w, 1, 6, ids);
    const runner = new LlamaRunner(cfg, undefined, hook, (n) => n.includes(".lora_"));
    const adapted = await runner.logits(lora, 1, 6, ids);
    expect(Array.from(adapted.data)).toEqual(Array.from(base.data));
    const res = await runner.lossAndGrads(lora, {
      B: 1,
      T: 6,
      inputIds: ids,
      attentionMask: [1, 1, 1, 1, 1, 1],
      labels: ids,
    });
    expect([...res.grads.keys()].sort()).toEqual([...lora.keys()].filter((n) => n.includes(".lora_")).sort());
    const norm = (n: string) => Math.hypot(...res.grads.get(n)!);
    expect(norm("model.layers.0.self_attn.q_proj.lora_A.weight")).toBe(0); // B = 0 blocks A's gradient
    expect(norm("model.layers.0.self_attn.q_proj.lora_B.weight")).toBeGreaterThan(0);
  });
});

describe("config.json and checkpoints", () => {
  it("round-trips the HF config and names a missing key", () => {
    const cfg = tiny({ bosTokenId: 1, eosTokenId: [2, 3] });
    expect(configFromHf(configToHf(cfg))).toEqual(cfg);
    const bad = configToHf(cfg);
    delete bad.hidden_size;
    expect(() => configFromHf(bad, "x/config.json")).toThrow(/x\/config.json: missing number "hidden_size"/);
    expect(() => configFromHf({ ...configToHf(cfg), rope_scaling: { type: "longrope" } })).toThrow(/rope_scaling/);
  });

  it("reads Llama 3.1 rope_scaling (llama3) and a sliding_window; refuses what it does not implement", () => {
    const hf = {
      ...configToHf(tiny({ headDim: 8, hiddenSize: 32, ropeTheta: 500000 })),
      rope_scaling: {
        rope_type: "llama3",
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 16,
      },
      sliding_window: 6,
    };
    const c = configFromHf(hf);
    expect(configFromHf(configToHf(c))).toEqual(c);
    const inv = ropeInvFreq(c);
    // wavelength 2*pi lies between 16/4 and 16/1: smoothed; the longer ones are divided by the factor
    const smooth = (16 / (2 * Math.PI) - 1) / 3;
    expect(inv[0]).toBeCloseTo((1 - smooth) / 8 + smooth, 6);
    expect(inv[1]).toBeCloseTo(500000 ** -0.25 / 8, 8);
    expect(inv[3]).toBeCloseTo(500000 ** -0.75 / 8, 10);
    // a window in a llama config.json makes it a Mistral (Llama + sliding window), now implemented
    expect(c).toMatchObject({ modelType: "mistral", slidingWindow: 6 });
    expect(() => buildForward(c, new GraphBuilder(), 1, 7)).not.toThrow();
    expect(() => configFromHf({ ...hf, rope_scaling: { rope_type: "yarn", factor: 4 } })).toThrow(
      /rope_scaling type "yarn"/,
    );
  });

  it("save -> load is bit-identical in F32, also sharded", () => {
    const cfg = tiny();
    const w = initWeights(cfg, 9);
    for (const maxShardBytes of [undefined, 600]) {
      const d = tmp();
      saveModel(d, cfg, w, { maxShardBytes });
      const back = loadModel(d);
      expect(back.config).toEqual(cfg);
      for (const [n, t] of w) {
        const u = back.weights.get(n)!;
        expect(
          Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(
            Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          ),
        ).toBe(true);
      }
      if (maxShardBytes)
        expect(JSON.parse(readFileSync(join(d, "model.safetensors.index.json"), "utf8")).weight_map).toBeTruthy();
    }
  });

  it("loads a Phi3ForCausalLM checkpoint by splitting qkv_proj and gate_up_proj", () => {
    const cfg = tiny();
    const w = initWeights(cfg, 4);
    const phi = new Map(w);
    for (let l = 0; l < cfg.numLayers; l++) {
      const p = `model.layers.${l}`;
      const cat = (names: string[]) => {
        const parts = names.map((n) => w.get(n)!);
        const data = new Float32Array(parts.reduce((a, t) => a + t.data.length, 0));
        let o = 0;
        for (const t of parts) {
          data.set(t.data as Float32Array, o);
          o += t.data.length;
        }
        for (const n of names) phi.delete(n);
        return { shape: [parts.reduce((a, t) => a + t.shape[0], 0), parts[0].shape[1]], data };
      };
      phi.set(
        `${p}.self_attn.qkv_proj.weight`,
        cat([`${p}.self_attn.q_proj.weight`, `${p}.self_attn.k_proj.weight`, `${p}.self_attn.v_proj.weight`]),
      );
      phi.set(`${p}.mlp.gate_up_proj.weight`, cat([`${p}.mlp.gate_proj.weight`, `${p}.mlp.up_proj.weight`]));
    }
    const d = tmp();
    saveSafetensors(d, phi);
    writeFileSync(
      join(d, "config.json"),
      JSON.stringify({ ...configToHf(cfg), architectures: ["Phi3ForCausalLM"], model_type: "phi3" }),
    );
    const back = loadModel(d);
    expect(back.architecture).toBe("Phi3ForCausalLM");
    for (const [n, t] of w) expect(Array.from(back.weights.get(n)!.data)).toEqual(Array.from(t.data));
  });

  it("names the tensor when a checkpoint does not match its config", () => {
    const cfg = tiny();
    const w = initWeights(cfg, 4);
    w.delete("model.layers.1.mlp.up_proj.weight");
    const d = tmp();
    saveSafetensors(d, w);
    writeFileSync(join(d, "config.json"), JSON.stringify(configToHf(cfg)));
    expect(() => loadModel(d)).toThrow(/missing tensor "model.layers.1.mlp.up_proj.weight"/);
  });
});
