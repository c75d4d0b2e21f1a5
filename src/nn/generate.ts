/**
 * Inference outside the autodiff graph: a plain-TypeScript forward of the decoder (every family option of llama.ts:
 * biases, q/k norms, Gemma's norms / scaling / soft-capping, sliding windows, local and longrope RoPE) with a KV
 * cache, and batched generation
 * (left padding, HF-style position ids = number of real tokens before), greedy or sampled (temperature, top-k,
 * top-p), stop tokens, stop strings, max tokens, seed.
 */

import { SplitMix32 } from "../domain/random.ts";
import { isSlidingLayer, type LlamaConfig, ropeAttentionFactor, ropeInvFreq, type Weights } from "./llama.ts";

/**
 * y[r, o] = sum_i x[r, i] * W[o, i] for W [out, in] row-major. Dot-product form (both operands contiguous), each W row
 * read once for all rows of x (4 rows at a time), so W streams through the cache once per call.
 */
function linearRows(x: Float32Array, rows: number, inF: number, w: Float32Array, outF: number): Float32Array {
  const y = new Float32Array(rows * outF);
  const r4 = rows - (rows % 4);
  for (let o = 0; o < outF; o++) {
    const wo = o * inF;
    let r = 0;
    for (; r < r4; r += 4) {
      const x0 = r * inF;
      const x1 = x0 + inF;
      const x2 = x1 + inF;
      const x3 = x2 + inF;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < inF; i++) {
        const wv = w[wo + i];
        s0 += x[x0 + i] * wv;
        s1 += x[x1 + i] * wv;
        s2 += x[x2 + i] * wv;
        s3 += x[x3 + i] * wv;
      }
      y[r * outF + o] = s0;
      y[(r + 1) * outF + o] = s1;
      y[(r + 2) * outF + o] = s2;
      y[(r + 3) * outF + o] = s3;
    }
    for (; r < rows; r++) {
      const xo = r * inF;
      let acc = 0;
      for (let i = 0; i < inF; i++) acc += x[xo + i] * w[wo + i];
      y[r * outF + o] = acc;
    }
  }
  return y;
}

/** RMSNorm of each D-sized row; `plusOne`: Gemma's (1 + w) scale. */
function rmsRows(
  x: Float32Array,
  rows: number,
  D: number,
  w: Float32Array,
  eps: number,
  plusOne = false,
): Float32Array {
  const y = new Float32Array(rows * D);
  const off = plusOne ? 1 : 0;
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    let ss = 0;
    for (let i = 0; i < D; i++) ss += x[o + i] * x[o + i];
    const inv = 1 / Math.sqrt(ss / D + eps);
    for (let i = 0; i < D; i++) y[o + i] = x[o + i] * inv * (w[i] + off);
  }
  return y;
}

function addBias(y: Float32Array, bias: Float32Array | undefined): Float32Array {
  if (!bias) return y;
  const n = bias.length;
  for (let i = 0; i < y.length; i++) y[i] += bias[i % n];
  return y;
}

/** A Llama forward over a growing KV cache for B sequences. */
export class KvDecoder {
  readonly B: number;
  readonly capacity: number;
  /** real tokens seen per sequence (= next position id) */
  readonly positions: Int32Array;
  /** cache length (same for all sequences; padded slots are masked) */
  length = 0;
  private readonly k: Float32Array[];
  private readonly v: Float32Array[];
  /** valid[b * capacity + j]: slot j of sequence b holds a real token */
  private readonly valid: Uint8Array;
  /** keyPos[b * capacity + j]: the position id of slot j (sliding windows compare position ids) */
  private readonly keyPos: Int32Array;
  private readonly W: (name: string) => Float32Array;
  private readonly weights: Weights;

  constructor(
    readonly cfg: LlamaConfig,
    weights: Weights,
    B: number,
    capacity: number,
  ) {
    this.B = B;
    this.capacity = capacity;
    this.positions = new Int32Array(B);
    const size = B * cfg.numKvHeads * capacity * cfg.headDim;
    this.k = Array.from({ length: cfg.numLayers }, () => new Float32Array(size));
    this.v = Array.from({ length: cfg.numLayers }, () => new Float32Array(size));
    this.valid = new Uint8Array(B * capacity);
    this.keyPos = new Int32Array(B * capacity);
    this.weights = weights;
    this.W = (name) => {
      const t = weights.get(name);
      if (!t) throw new Error(`KvDecoder: missing weight "${name}"`);
      return t.data as Float32Array;
    };
  }

  /** HF rotate-half RoPE on `heads` heads of row `row`; `af` multiplies cos and sin (longrope). */
  private rope(x: Float32Array, row: number, heads: number, pos: number, invFreq: Float64Array, af: number): void {
    const hd = this.cfg.headDim;
    const half = hd / 2;
    for (let h = 0; h < heads; h++) {
      const o = (row * heads + h) * hd;
      for (let i = 0; i < half; i++) {
        const a = Math.fround(pos * invFreq[i]);
        const c = Math.fround(Math.fround(Math.cos(a)) * af);
        const s = Math.fround(Math.fround(Math.sin(a)) * af);
        const x1 = x[o + i];
        const x2 = x[o + half + i];
        x[o + i] = x1 * c - x2 * s;
        x[o + half + i] = x2 * c + x1 * s;
      }
    }
  }

  /**
   * Append n tokens to every sequence (tokens [B*n]; real[B*n] = 0 marks left padding, which gets no position and is
   * never attended to). Returns logits of the last appended slot of each sequence, [B, V].
   */
  step(tokens: ArrayLike<number>, n: number, real?: ArrayLike<number>): Float32Array {
    const c = this.cfg;
    const { B } = this;
    const { hiddenSize: D, numHeads: H, numKvHeads: KV, headDim: hd, intermediateSize: I, vocabSize: V } = c;
    const R = H / KV;
    if (this.length + n > this.capacity) throw new Error(`KvDecoder: cache capacity ${this.capacity} exceeded`);
    const rows = B * n;
    const start = this.length;
    const pos = new Int32Array(rows);
    const emb = this.W("model.embed_tokens.weight");
    let x: Float32Array = new Float32Array(rows * D);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < n; t++) {
        const r = b * n + t;
        const tok = tokens[r];
        if (!(tok >= 0 && tok < V)) throw new Error(`token id ${tok} outside [0, ${V})`);
        const isReal = real ? real[r] !== 0 : true;
        this.valid[b * this.capacity + start + t] = isReal ? 1 : 0;
        this.keyPos[b * this.capacity + start + t] = this.positions[b];
        pos[r] = this.positions[b];
        if (isReal) this.positions[b]++;
        x.set(emb.subarray(tok * D, (tok + 1) * D), r * D);
      }
    }
    if (c.embedScale) {
      const s = Math.fround(Math.sqrt(D));
      for (let i = 0; i < x.length; i++) x[i] *= s;
    }
    const plusOne = c.normPlusOne === true;
    const eps = c.rmsNormEps;
    const bias = (name: string) => this.weights.get(name)?.data as Float32Array | undefined;
    // RoPE of this step (longrope switches to its long factors once max position id + 1 exceeds the original context)
    let seqLen = 0;
    for (let r = 0; r < rows; r++) seqLen = Math.max(seqLen, pos[r] + 1);
    const ropes = [false, true].map((local) => ({
      inv: ropeInvFreq(c, { local, seqLen }),
      af: ropeAttentionFactor(c, { local }),
    }));
    const scale = 1 / Math.sqrt(c.queryPreAttnScalar ?? hd);
    const cap = c.attnLogitSoftcap;
    const scores = new Float32Array(this.capacity);
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      const sliding = isSlidingLayer(c, l);
      const window = sliding ? c.slidingWindow! : Number.POSITIVE_INFINITY;
      const rp = ropes[sliding && c.ropeLocalTheta !== undefined ? 1 : 0];
      const h = rmsRows(x, rows, D, this.W(`${p}.input_layernorm.weight`), eps, plusOne);
      const q = addBias(
        linearRows(h, rows, D, this.W(`${p}.self_attn.q_proj.weight`), H * hd),
        bias(`${p}.self_attn.q_proj.bias`),
      );
      let k = addBias(
        linearRows(h, rows, D, this.W(`${p}.self_attn.k_proj.weight`), KV * hd),
        bias(`${p}.self_attn.k_proj.bias`),
      );
      const v = addBias(
        linearRows(h, rows, D, this.W(`${p}.self_attn.v_proj.weight`), KV * hd),
        bias(`${p}.self_attn.v_proj.bias`),
      );
      if (c.qkNorm) {
        q.set(rmsRows(q, rows * H, hd, this.W(`${p}.self_attn.q_norm.weight`), eps, plusOne));
        k = rmsRows(k, rows * KV, hd, this.W(`${p}.self_attn.k_norm.weight`), eps, plusOne);
      }
      for (let r = 0; r < rows; r++) {
        this.rope(q, r, H, pos[r], rp.inv, rp.af);
        this.rope(k, r, KV, pos[r], rp.inv, rp.af);
      }
      // write k, v into the cache [B, KV, capacity, hd]
      const K = this.k[l];
      const Vc = this.v[l];
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < n; t++) {
          for (let g = 0; g < KV; g++) {
            const dst = ((b * KV + g) * this.capacity + start + t) * hd;
            const src = ((b * n + t) * KV + g) * hd;
            K.set(k.subarray(src, src + hd), dst);
            Vc.set(v.subarray(src, src + hd), dst);
          }
        }
      }
      // attention of each new query over cache slots [0, start + t]
      const attn = new Float32Array(rows * H * hd);
      for (let b = 0; b < B; b++) {
        const validB = b * this.capacity;
        for (let t = 0; t < n; t++) {
          const r = b * n + t;
          const upto = start + t;
          // keys this query sees: real, not after it, and (sliding layers) fewer than `window` positions back
          const sees = (j: number) => this.valid[validB + j] === 1 && pos[r] - this.keyPos[validB + j] < window;
          for (let hh = 0; hh < H; hh++) {
            const g = Math.floor(hh / R);
            const qo = (r * H + hh) * hd;
            const kbase = (b * KV + g) * this.capacity;
            let mx = Number.NEGATIVE_INFINITY;
            for (let j = 0; j <= upto; j++) {
              if (!sees(j)) continue;
              const ko = (kbase + j) * hd;
              let s = 0;
              for (let i = 0; i < hd; i++) s += q[qo + i] * K[ko + i];
              s *= scale;
              if (cap !== undefined) s = Math.tanh(s / cap) * cap;
              scores[j] = s;
              if (s > mx) mx = s;
            }
            let sum = 0;
            for (let j = 0; j <= upto; j++) {
              if (!sees(j)) continue;
              const e = Math.exp(scores[j] - mx);
              scores[j] = e;
              sum += e;
            }
            const ao = (r * H + hh) * hd;
            if (sum === 0) continue; // a padding query with nothing to attend to: its output is never used
            for (let j = 0; j <= upto; j++) {
              if (!sees(j)) continue;
              const wgt = scores[j] / sum;
              const vo = (kbase + j) * hd;
              for (let i = 0; i < hd; i++) attn[ao + i] += wgt * Vc[vo + i];
            }
          }
        }
      }
      let o = linearRows(attn, rows, H * hd, this.W(`${p}.self_attn.o_proj.weight`), D);
      if (c.sandwichNorms) o = rmsRows(o, rows, D, this.W(`${p}.post_attention_layernorm.weight`), eps, plusOne);
      for (let i = 0; i < x.length; i++) x[i] += o[i];
      const norm2 = c.sandwichNorms ? `${p}.pre_feedforward_layernorm.weight` : `${p}.post_attention_layernorm.weight`;
      const h2 = rmsRows(x, rows, D, this.W(norm2), eps, plusOne);
      const gate = linearRows(h2, rows, D, this.W(`${p}.mlp.gate_proj.weight`), I);
      const up = linearRows(h2, rows, D, this.W(`${p}.mlp.up_proj.weight`), I);
      if (c.hiddenAct === "gelu_pytorch_tanh") {
        const k0 = Math.sqrt(2 / Math.PI);
        for (let i = 0; i < gate.length; i++) {
          const z = gate[i];
          gate[i] = 0.5 * z * (1 + Math.tanh(k0 * (z + 0.044715 * z * z * z))) * up[i];
        }
      } else for (let i = 0; i < gate.length; i++) gate[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
      let down = linearRows(gate, rows, I, this.W(`${p}.mlp.down_proj.weight`), D);
      if (c.sandwichNorms)
        down = rmsRows(down, rows, D, this.W(`${p}.post_feedforward_layernorm.weight`), eps, plusOne);
      for (let i = 0; i < x.length; i++) x[i] += down[i];
    }
    this.length += n;
    // final norm + head only for the last slot of each sequence
    const last = new Float32Array(B * D);
    for (let b = 0; b < B; b++) last.set(x.subarray((b * n + n - 1) * D, (b * n + n) * D), b * D);
    x = rmsRows(last, B, D, this.W("model.norm.weight"), eps, plusOne);
    const head = c.tieWordEmbeddings ? emb : this.W("lm_head.weight");
    const logits = linearRows(x, B, D, head, V);
    const fcap = c.finalLogitSoftcap;
    if (fcap !== undefined) for (let i = 0; i < logits.length; i++) logits[i] = Math.tanh(logits[i] / fcap) * fcap;
    return logits;
  }
}

export interface GenerateOptions {
  maxTokens: number;
  /** 0 or undefined: greedy */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** token ids that end a sequence (default: the config's eos_token_id); the stop token is not returned */
  stopTokens?: readonly number[];
  /** strings that end a sequence; needs `decode`; the text is cut before the stop string */
  stopStrings?: readonly string[];
  decode?: (ids: readonly number[]) => string;
  seed?: number;
  /** recompute the whole sequence every step instead of using the cache (for testing the cache) */
  noCache?: boolean;
}

export interface Generation {
  tokens: number[];
  text?: string;
  finishReason: "stop" | "length";
}

/**
 * Choose the next token from logits [V]: greedy when temperature is 0/undefined, else sample from
 * softmax(logits / temperature) restricted to the top-k tokens, then to the nucleus (smallest set of the most likely
 * tokens whose probability, renormalized within the top-k, reaches top-p), like HF's warpers in that order.
 * Linear time in V plus a sort of the few candidates above a probability threshold (lowered until it is exact).
 */
export function sampleToken(logits: Float32Array, opts: GenerateOptions, rng: SplitMix32): number {
  const V = logits.length;
  const temp = opts.temperature ?? 0;
  if (temp <= 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let mx = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < V; i++) if (logits[i] > mx) mx = logits[i];
  const p = new Float64Array(V); // unnormalized, max 1
  let z = 0;
  for (let i = 0; i < V; i++) {
    p[i] = Math.exp((logits[i] - mx) / temp);
    z += p[i];
  }
  const k = opts.topK && opts.topK > 0 ? Math.min(opts.topK, V) : V;
  const useP = opts.topP !== undefined && opts.topP < 1;
  if (k === V && !useP) {
    let u = rng.next() * z;
    for (let i = 0; i < V; i++) {
      u -= p[i];
      if (u <= 0) return i;
    }
    return V - 1;
  }
  // candidates above a threshold, sorted by probability (ties: lower id first); lower the threshold until the
  // top-k (or, without top-k, the nucleus) is guaranteed to lie inside them
  let kept: number[] = [];
  for (let t = 1e-3; ; t = t > 1e-12 ? t * 1e-3 : 0) {
    const cand: number[] = [];
    let mass = 0;
    for (let i = 0; i < V; i++) {
      if (p[i] >= t) {
        cand.push(i);
        mass += p[i];
      }
    }
    const enough = k < V ? cand.length >= k : mass >= (opts.topP ?? 1) * z;
    if (enough || t === 0) {
      cand.sort((a, b) => p[b] - p[a] || a - b);
      kept = cand.slice(0, k);
      break;
    }
  }
  let denom = z;
  if (k < V) {
    denom = 0;
    for (const i of kept) denom += p[i];
  }
  let n = kept.length;
  if (useP) {
    let cum = 0;
    for (let j = 0; j < kept.length; j++) {
      cum += p[kept[j]];
      if (cum >= opts.topP! * denom) {
        n = j + 1;
        break;
      }
    }
  }
  let total = 0;
  for (let j = 0; j < n; j++) total += p[kept[j]];
  let u = rng.next() * total;
  for (let j = 0; j < n; j++) {
    u -= p[kept[j]];
    if (u <= 0) return kept[j];
  }
  return kept[n - 1];
}

function stopTokenSet(cfg: LlamaConfig, opts: GenerateOptions): Set<number> {
  if (opts.stopTokens) return new Set(opts.stopTokens);
  const e = cfg.eosTokenId;
  return new Set(e === undefined ? [] : Array.isArray(e) ? e : [e]);
}

/** Generate continuations for several prompts at once (left padded). */
export function generate(
  cfg: LlamaConfig,
  weights: Weights,
  prompts: readonly (readonly number[])[],
  opts: GenerateOptions,
): Generation[] {
  const steps = generateSteps(cfg, weights, prompts, opts);
  for (;;) {
    const r = steps.next();
    // without isAborted no sequence ends "aborted"
    if (r.done) return r.value as Generation[];
  }
}

export interface AsyncGeneration {
  tokens: number[];
  text?: string;
  finishReason: Generation["finishReason"] | "aborted";
}

export interface AsyncGenerateOptions extends GenerateOptions {
  /**
   * Polled between decode steps: a sequence for which it returns true stops at once (finishReason "aborted"); when
   * every sequence has stopped the batch ends, so an abandoned request stops costing compute (issue 23).
   */
  isAborted?: (sequence: number) => boolean;
}

/**
 * generate() that yields to the event loop between decode steps (so sockets closing, timers and other requests are
 * seen while a batch runs) and stops sequences whose request was aborted. Same tokens as generate() otherwise.
 */
export async function generateAsync(
  cfg: LlamaConfig,
  weights: Weights,
  prompts: readonly (readonly number[])[],
  opts: AsyncGenerateOptions,
): Promise<AsyncGeneration[]> {
  const steps = generateSteps(cfg, weights, prompts, opts, opts.isAborted);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** The decoding loop, one yield per decode step (generate runs it through, generateAsync awaits between steps). */
function* generateSteps(
  cfg: LlamaConfig,
  weights: Weights,
  prompts: readonly (readonly number[])[],
  opts: GenerateOptions,
  isAborted?: (sequence: number) => boolean,
): Generator<void, AsyncGeneration[]> {
  if (opts.stopStrings?.length && !opts.decode) throw new Error("generate: stopStrings need a decode function");
  const B = prompts.length;
  if (B === 0) return [];
  for (const [i, p] of prompts.entries()) if (p.length === 0) throw new Error(`generate: prompt ${i} is empty`);
  const L = Math.max(...prompts.map((p) => p.length));
  const rng = new SplitMix32(opts.seed ?? 0);
  const stops = stopTokenSet(cfg, opts);
  const out: AsyncGeneration[] = prompts.map(() => ({ tokens: [], finishReason: "length" }));
  const done = new Array<boolean>(B).fill(false);
  const padded = (seqs: readonly (readonly number[])[], len: number) => {
    const toks = new Int32Array(B * len);
    const real = new Uint8Array(B * len);
    seqs.forEach((s, b) => {
      const off = len - s.length;
      for (let t = 0; t < s.length; t++) {
        toks[b * len + off + t] = s[t];
        real[b * len + off + t] = 1;
      }
    });
    return { toks, real };
  };
  const abortCheck = () => {
    if (!isAborted) return;
    for (let b = 0; b < B; b++)
      if (!done[b] && isAborted(b)) {
        done[b] = true;
        out[b].finishReason = "aborted";
      }
  };
  abortCheck();
  if (done.every(Boolean)) return out;
  let dec = new KvDecoder(cfg, weights, B, L + opts.maxTokens);
  const first = padded(prompts, L);
  let logits = dec.step(first.toks, L, first.real);
  yield;
  abortCheck();
  const V = cfg.vocabSize;
  for (let step = 0; step < opts.maxTokens; step++) {
    const next = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      const tok = sampleToken(logits.subarray(b * V, (b + 1) * V), opts, rng);
      next[b] = tok;
      const g = out[b];
      if (stops.has(tok)) {
        done[b] = true;
        g.finishReason = "stop";
        continue;
      }
      g.tokens.push(tok);
      if (opts.stopStrings?.length && opts.decode) {
        const text = opts.decode(g.tokens);
        let cut = -1;
        for (const s of opts.stopStrings) {
          const at = text.indexOf(s);
          if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0) {
          g.text = text.slice(0, cut);
          g.finishReason = "stop";
          done[b] = true;
        }
      }
    }
    if (done.every(Boolean) || step === opts.maxTokens - 1) break;
    if (opts.noCache) {
      const seqs = prompts.map((p, b) => [...p, ...out[b].tokens]);
      const len = Math.max(...seqs.map((s) => s.length));
      dec = new KvDecoder(cfg, weights, B, len);
      const all = padded(seqs, len);
      logits = dec.step(all.toks, len, all.real);
    } else {
      // finished sequences keep feeding a masked dummy token so the batch stays rectangular
      const real = new Uint8Array(B);
      for (let b = 0; b < B; b++) real[b] = done[b] ? 0 : 1;
      logits = dec.step(next, 1, real);
    }
    yield;
    abortCheck();
    if (done.every(Boolean)) break;
  }
  if (opts.decode) for (const g of out) if (g.text === undefined) g.text = opts.decode(g.tokens);
  return out;
}
