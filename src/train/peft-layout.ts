/**
 * PEFT names an adapter's modules as the Hugging Face model names its layers; our engine keeps every family in the
 * Llama layout (nn/model.ts splits Phi-3's fused projections on load and fuses them on save). So a Phi-3 adapter is
 * converted on its way out to PEFT and on its way in:
 *
 *   qkv_proj     = [q_proj; k_proj; v_proj]   rows, [(H + 2 KV) hd, D]
 *   gate_up_proj = [gate_proj; up_proj]       rows, [2 I, D]
 *
 * Out (fuse): the members' LoRAs as one LoRA of the fused module, exactly:
 *   A = [A_q; A_k; A_v]                [m r, D]        (members the adapter has; m of them)
 *   B = blockdiag(B_q, B_k, B_v)       [(H + 2 KV) hd, m r]   (zero rows for a member it lacks)
 * so B A stacks each member's B_i A_i. Every module is then padded to the largest rank R (zero rows of A, zero
 * columns of B: the same delta) and lora_alpha becomes alpha R / r, which keeps the scale alpha / r. One rank for
 * every module is read the same by PEFT, vLLM and any loader that ignores PEFT's rank_pattern.
 * In (split): a fused LoRA of rank R gives each member rank R, A shared, B's rows of that member.
 *
 * Targets may name either layout on Phi-3 (`fusedTargets` / `engineTargets`): "qkv_proj" adapts q_proj, k_proj and
 * v_proj in our engine; "q_proj" alone exports as a qkv_proj whose k and v rows are zero.
 */
import type { LlamaConfig, Weights } from "../nn/llama.ts";
import type { LoraConfig } from "./lora.ts";

interface FusedModule {
  /** the fused leaf name, e.g. "qkv_proj" */
  fused: string;
  /** its members in row order, e.g. ["q_proj", "k_proj", "v_proj"] */
  members: readonly string[];
  /** each member's output rows */
  rows: (c: LlamaConfig) => number[];
}

const PHI3: readonly FusedModule[] = [
  {
    fused: "qkv_proj",
    members: ["q_proj", "k_proj", "v_proj"],
    rows: (c) => [c.numHeads * c.headDim, c.numKvHeads * c.headDim, c.numKvHeads * c.headDim],
  },
  { fused: "gate_up_proj", members: ["gate_proj", "up_proj"], rows: (c) => [c.intermediateSize, c.intermediateSize] },
];

/** The fused modules of a family as Hugging Face saves it (none but Phi-3's). */
export function fusedModules(model: Pick<LlamaConfig, "modelType">): readonly FusedModule[] {
  return model.modelType === "phi3" ? PHI3 : [];
}

/** Target leaves in the engine's layout: a fused name stands for its members. */
export function engineTargets(model: Pick<LlamaConfig, "modelType">, targets: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of targets) {
    const f = fusedModules(model).find((m) => m.fused === t);
    for (const leaf of f ? f.members : [t]) out.add(leaf);
  }
  return [...out];
}

/**
 * Target leaves in the Hugging Face layout: a member stands for its fused module. For a trainer that adapts the
 * Hugging Face model (TRL + PEFT) "q_proj" alone then adapts all of qkv_proj: PEFT cannot adapt part of a module.
 */
export function fusedTargets(model: Pick<LlamaConfig, "modelType">, targets: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of targets) out.add(fusedModules(model).find((m) => m.members.includes(t))?.fused ?? t);
  return [...out];
}

type Tensor = { shape: readonly number[]; data: ArrayLike<number> };
const A_ = ".lora_A.weight";
const B_ = ".lora_B.weight";

/** `module` = "<prefix>.<leaf>": its prefix and leaf. */
function splitName(module: string): [string, string] {
  const i = module.lastIndexOf(".");
  return [module.slice(0, i), module.slice(i + 1)];
}

/** The modules (names without the .lora_A/B.weight tail) of an adapter, in a stable order. */
function adapterModules(adapter: Weights): string[] {
  return [...adapter.keys()].filter((n) => n.endsWith(A_)).map((n) => n.slice(0, -A_.length));
}

/** A [rows, r] matrix widened to [rows, R] with zero columns (B), or a [r, cols] one to [R, cols] with zero rows (A). */
function padRank(t: Tensor, R: number, kind: "A" | "B"): { shape: number[]; data: Float32Array } {
  if (kind === "A") {
    const [r, cols] = t.shape;
    const data = new Float32Array(R * cols);
    data.set(Float32Array.from(t.data).subarray(0, r * cols));
    return { shape: [R, cols], data };
  }
  const [rows, r] = t.shape;
  const data = new Float32Array(rows * R);
  for (let o = 0; o < rows; o++) for (let k = 0; k < r; k++) data[o * R + k] = Number(t.data[o * r + k]);
  return { shape: [rows, R], data };
}

/** Our adapter (engine layout) as PEFT writes it for the model's family. Unchanged for every family but Phi-3. */
export function toPeftLayout(
  model: LlamaConfig,
  adapter: Weights,
  cfg: LoraConfig,
): { weights: Weights; config: LoraConfig } {
  const fused = fusedModules(model);
  if (
    fused.length === 0 ||
    !adapterModules(adapter).some((m) => fused.some((f) => f.members.includes(splitName(m)[1])))
  )
    return { weights: adapter, config: cfg };
  // per module: [A, B] before padding
  const parts = new Map<string, [Tensor, Tensor]>();
  const done = new Set<string>();
  for (const module of adapterModules(adapter)) {
    const [prefix, leaf] = splitName(module);
    const f = fused.find((x) => x.members.includes(leaf));
    if (!f) {
      parts.set(module, [adapter.get(module + A_)!, adapter.get(module + B_)!]);
      continue;
    }
    const target = `${prefix}.${f.fused}`;
    if (done.has(target)) continue;
    done.add(target);
    const rows = f.rows(model);
    const present = f.members.map((m) => {
      const a = adapter.get(`${prefix}.${m}${A_}`);
      const b = adapter.get(`${prefix}.${m}${B_}`);
      return a && b ? { a, b } : null;
    });
    const ranks = present.map((p) => (p ? p.a.shape[0] : 0));
    const rank = ranks.reduce((s, r) => s + r, 0);
    const inF = present.find((p) => p)!.a.shape[1];
    const outF = rows.reduce((s, r) => s + r, 0);
    const A = new Float32Array(rank * inF); // [m r, D]
    const B = new Float32Array(outF * rank); // [sum rows, m r], block-diagonal
    let k0 = 0;
    let o0 = 0;
    present.forEach((p, i) => {
      if (p) {
        if (p.b.shape[0] !== rows[i])
          throw new Error(`${prefix}.${f.members[i]}: lora_B has ${p.b.shape[0]} rows, the model's ${rows[i]}`);
        A.set(Float32Array.from(p.a.data), k0 * inF);
        const r = ranks[i];
        for (let o = 0; o < rows[i]; o++)
          for (let k = 0; k < r; k++) B[(o0 + o) * rank + k0 + k] = Number(p.b.data[o * r + k]);
      }
      k0 += ranks[i];
      o0 += rows[i];
    });
    parts.set(target, [
      { shape: [rank, inF], data: A },
      { shape: [outF, rank], data: B },
    ]);
  }
  const R = Math.max(...[...parts.values()].map(([a]) => a.shape[0]));
  const weights: Weights = new Map();
  for (const [module, [a, b]] of [...parts].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    weights.set(module + A_, padRank(a, R, "A"));
    weights.set(module + B_, padRank(b, R, "B"));
  }
  return {
    weights,
    config: { ...cfg, r: R, alpha: (cfg.alpha * R) / cfg.r, targetModules: fusedTargets(model, cfg.targetModules) },
  };
}

/** A PEFT adapter of the model's family in our engine's layout (fused modules split). Unchanged but for Phi-3. */
export function fromPeftLayout(
  model: LlamaConfig,
  adapter: Weights,
  cfg: LoraConfig,
): { weights: Weights; config: LoraConfig } {
  const fused = fusedModules(model);
  if (fused.length === 0) return { weights: adapter, config: cfg };
  const weights: Weights = new Map();
  for (const module of adapterModules(adapter)) {
    const a = adapter.get(module + A_)!;
    const b = adapter.get(module + B_);
    if (!b) throw new Error(`adapter has ${module}${A_} but no ${module}${B_}`);
    const [prefix, leaf] = splitName(module);
    const f = fused.find((x) => x.fused === leaf);
    if (!f) {
      weights.set(module + A_, a);
      weights.set(module + B_, b);
      continue;
    }
    const rows = f.rows(model);
    const total = rows.reduce((s, r) => s + r, 0);
    if (b.shape[0] !== total)
      throw new Error(`${module}: lora_B has ${b.shape[0]} rows, the model's ${f.fused} ${total}`);
    const r = b.shape[1];
    const all = Float32Array.from(b.data);
    let o0 = 0;
    f.members.forEach((m, i) => {
      weights.set(`${prefix}.${m}${A_}`, a);
      weights.set(`${prefix}.${m}${B_}`, { shape: [rows[i], r], data: all.slice(o0 * r, (o0 + rows[i]) * r) });
      o0 += rows[i];
    });
  }
  return { weights, config: { ...cfg, targetModules: engineTargets(model, cfg.targetModules) } };
}
