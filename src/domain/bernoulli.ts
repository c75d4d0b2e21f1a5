/**
 * Bernoulli fills on SplitMix32's stream: `out[i] = next() < p ? hit : miss`, drawing exactly what that loop would
 * draw, with the generator's state passed in and returned. Two implementations of one function:
 *
 * - `bernoulliFillScalar`: plain JS. The state stays a local int32 and `next() < p` is compared as integers:
 *   `z / 2^32 < p` <=> `z - 2^31 < p * 2^32 - 2^31` (all exact in doubles), and `z - 2^31` is `z ^ 0x80000000` read
 *   as int32, so nothing leaves V8's small-integer range (~2.8 ns a draw here, against ~7.5 for the `next()` loop).
 * - a WebAssembly SIMD kernel (4 lanes; ~0.5 ns a draw plus a copy out of its memory), used by `bernoulliFill`
 *   where the runtime has WebAssembly SIMD (Node 16.4+). SplitMix32 is a counter generator: draw k of a stream whose
 *   state is s is mix(s + k * 0x9e3779b9), so four lanes start at s + G .. s + 4G and step by 4G.
 *
 * Both are checked against the `next()` loop by `bernoulli.test.ts`. LoRA dropout draws millions of these per training
 * step (`train/lora.ts`), which is why this is not just the loop.
 */

import { FMIX32_C1, FMIX32_C2 } from "./hash.ts";

const GOLDEN = 0x9e3779b9 | 0;
/** Floats per kernel call: 4 MiB of kernel memory, copied out after each call. */
const CHUNK = 1 << 20;

/** The integer form of the test `z < p * 2^32` for z in [0, 2^32), as a flipped (signed) threshold. */
function flippedThreshold(p: number): number {
  return p * 4294967296 - 2147483648;
}

/** The plain-JS fill; returns the new state. */
export function bernoulliFillScalar(
  out: Float32Array,
  state: number,
  p: number,
  hit: number,
  miss: number,
  from = 0,
): number {
  const threshold = flippedThreshold(p);
  let s = state | 0;
  for (let i = from; i < out.length; i++) {
    s = (s + GOLDEN) | 0;
    // fmix32 (hash.ts) written out with literal multipliers: calling it, or reading its imported constants, halved
    // this loop's speed here (21-24 against 12-13 ms for 4.6M draws). bernoulli.test.ts pins it to next().
    let z = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    out[i] = (z ^ (z >>> 16) ^ 0x80000000) < threshold ? hit : miss;
  }
  return s >>> 0;
}

// ---- the SIMD kernel: fill(ptr, groups, state, threshold, hitBits, missBits) writes groups x 4 floats at ptr ----

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function i32x4Const(a: number, b: number, c: number, d: number): number[] {
  const bytes = new Uint8Array(new Int32Array([a, b, c, d]).buffer);
  return [0xfd, 0x0c, ...bytes];
}

function kernelBytes(): Uint8Array {
  const simd = (op: number) => [0xfd, ...uleb(op)];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const tee = (i: number) => [0x22, i];
  const i32 = (v: number) => [0x41, ...sleb(v)];
  const [SPLAT, LT_S, XOR, BITSELECT, SHR_U, ADD, MUL, STORE] = [17, 57, 81, 82, 173, 174, 181, 11];
  // params: 0 ptr, 1 groups, 2 state, 3 threshold, 4 hit bits, 5 miss bits; locals: 6 lanes, 7 step, 8 z,
  // 9 threshold x4, 10 hit x4, 11 miss x4 (v128), 12 end (i32).
  const [PTR, GROUPS, STATE, THR, HIT, MISS, LANES, STEP, Z, THR4, HIT4, MISS4, END] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
  ];
  const G = GOLDEN;
  const mix = (shift: number) => [...tee(Z), ...get(Z), ...i32(shift), ...simd(SHR_U), ...simd(XOR)];
  const body = [
    ...[2, 6, 0x7b, 1, 0x7f], // locals: 6 x v128, 1 x i32
    ...get(STATE),
    ...simd(SPLAT),
    ...i32x4Const(G, Math.imul(2, G), Math.imul(3, G), Math.imul(4, G)),
    ...simd(ADD),
    ...set(LANES),
    ...i32(Math.imul(4, G)),
    ...simd(SPLAT),
    ...set(STEP),
    ...get(THR),
    ...simd(SPLAT),
    ...set(THR4),
    ...get(HIT),
    ...simd(SPLAT),
    ...set(HIT4),
    ...get(MISS),
    ...simd(SPLAT),
    ...set(MISS4),
    ...get(PTR),
    ...get(GROUPS),
    ...i32(4),
    0x74 /* i32.shl */,
    0x6a /* i32.add */,
    ...set(END),
    0x02,
    0x40, // block
    ...get(PTR),
    ...get(END),
    0x4f /* i32.ge_u */,
    0x0d,
    0 /* br_if block */,
    0x03,
    0x40, // loop
    // fmix32 (hash.ts) on 4 lanes: z = lanes ^ (lanes >>> 16); z *= C1; z ^= z >>> 13; z *= C2; z ^= z >>> 16; then z ^= 2^31
    ...get(LANES),
    ...get(LANES),
    ...i32(16),
    ...simd(SHR_U),
    ...simd(XOR),
    ...i32x4Const(FMIX32_C1, FMIX32_C1, FMIX32_C1, FMIX32_C1),
    ...simd(MUL),
    ...mix(13),
    ...i32x4Const(FMIX32_C2, FMIX32_C2, FMIX32_C2, FMIX32_C2),
    ...simd(MUL),
    ...mix(16),
    ...i32x4Const(-0x80000000, -0x80000000, -0x80000000, -0x80000000),
    ...simd(XOR),
    ...get(THR4),
    ...simd(LT_S),
    ...set(Z),
    ...get(PTR),
    ...get(HIT4),
    ...get(MISS4),
    ...get(Z),
    ...simd(BITSELECT),
    ...simd(STORE),
    4,
    0,
    ...get(LANES),
    ...get(STEP),
    ...simd(ADD),
    ...set(LANES),
    ...get(PTR),
    ...i32(16),
    0x6a,
    ...tee(PTR),
    ...get(END),
    0x49 /* i32.lt_u */,
    0x0d,
    0 /* br_if loop */,
    0x0b, // end loop
    0x0b, // end block
    0x0b, // end function
  ];
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, "latin1")];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]), // type: (i32 x 6) -> ()
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0, 1]), // one memory, at least one page
    ...section(7, [2, ...name("fill"), 0, 0, ...name("memory"), 2, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** The part of the WebAssembly JS API used here (the project's TypeScript lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

interface Kernel {
  fill: (ptr: number, groups: number, state: number, threshold: number, hit: number, miss: number) => void;
  memory: WasmMemory;
}

let kernel: Kernel | null | undefined;

/** The SIMD kernel, or null where WebAssembly SIMD is missing (then the scalar fill serves). */
export function simdKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!wasm) throw new Error("no WebAssembly");
    const instance = new wasm.Instance(new wasm.Module(kernelBytes()));
    const { fill, memory } = instance.exports as unknown as Kernel;
    const pages = Math.ceil((CHUNK * 4) / 65536);
    memory.grow(pages - memory.buffer.byteLength / 65536);
    kernel = { fill, memory };
  } catch {
    kernel = null;
  }
  return kernel;
}

const bits = new Float32Array(2);
const bitsI = new Int32Array(bits.buffer);

/**
 * `out[i] = next() < p ? hit : miss` on SplitMix32's stream from `state`; returns the new state. The SIMD kernel
 * where available, else the scalar loop: the same values either way.
 */
export function bernoulliFill(out: Float32Array, state: number, p: number, hit: number, miss: number): number {
  const k = simdKernel();
  const t = flippedThreshold(p);
  // As integers: zf < t <=> zf < ceil(t); thresholds outside int32 mean "always" or "never" (p >= 1 or p <= 0).
  const T = Math.ceil(t);
  if (!k || T >= 2147483648 || T <= -2147483648) return bernoulliFillScalar(out, state, p, hit, miss);
  bits[0] = hit;
  bits[1] = miss;
  const scratch = new Float32Array(k.memory.buffer, 0, CHUNK);
  let s = state | 0;
  let done = 0;
  while (out.length - done >= 4) {
    const n = Math.min(CHUNK, (out.length - done) & ~3);
    k.fill(0, n >> 2, s, T, bitsI[0], bitsI[1]);
    s = (s + Math.imul(n, GOLDEN)) | 0;
    out.set(n === CHUNK ? scratch : scratch.subarray(0, n), done);
    done += n;
  }
  return bernoulliFillScalar(out, s >>> 0, p, hit, miss, done);
}
