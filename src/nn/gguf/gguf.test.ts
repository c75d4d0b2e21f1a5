import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  encodeGgufHeader,
  f16BitsToF32,
  f32ToF16Bits,
  GGUF_MAGIC,
  GgmlType,
  type GgufValue,
  kv,
  parseGguf,
  readGguf,
  roundToF16,
  writeGguf,
} from "./gguf.ts";

const dir = mkdtempSync(join(tmpdir(), "gguf-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("f16 conversion", () => {
  it("encodes known values exactly (IEEE half)", () => {
    expect(f32ToF16Bits(0)).toBe(0x0000);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff); // max half
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // rounds to +inf
    expect(f32ToF16Bits(Number.POSITIVE_INFINITY)).toBe(0x7c00);
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f32ToF16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(f32ToF16Bits(2 ** -26)).toBe(0x0000); // below half of the smallest subnormal
    expect(f32ToF16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16Bits(Number.NaN) & 0x3ff).not.toBe(0);
    // 1 + 2^-11 is exactly between 1 and 1 + 2^-10: ties to even (1.0)
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3 * 2^-11 is between 1 + 2^-10 (odd) and 1 + 2^-9 (even): ties to even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it("round-trips every half value and rounds floats to the nearest half", () => {
    for (let h = 0; h < 0x10000; h++) {
      const e = (h >>> 10) & 0x1f;
      if (e === 0x1f && h & 0x3ff) continue; // NaNs
      expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
    }
    // nearest: for random floats in the normal range the rounding error is at most half an ulp
    let seed = 7;
    for (let i = 0; i < 20000; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const x = ((seed / 2 ** 32) * 2 - 1) * 1000;
      const r = f16BitsToF32(f32ToF16Bits(x));
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(x))) - 10);
      expect(Math.abs(r - Math.fround(x))).toBeLessThanOrEqual(ulp / 2 + 1e-12);
    }
  });
});

describe("GGUF container", () => {
  it("writes the documented header layout", () => {
    const meta = new Map<string, GgufValue>([["general.architecture", kv.str("llama")]]);
    const { header, offsets } = encodeGgufHeader(meta, [
      { name: "a", shape: [3], type: GgmlType.F32 },
      { name: "b", shape: [2, 5], type: GgmlType.F16 },
    ]);
    expect(header.readUInt32LE(0)).toBe(GGUF_MAGIC);
    expect(header.toString("ascii", 0, 4)).toBe("GGUF");
    expect(header.readUInt32LE(4)).toBe(3);
    expect(header.readBigUInt64LE(8)).toBe(2n);
    expect(header.readBigUInt64LE(16)).toBe(1n);
    expect(header.length % 32).toBe(0);
    expect(offsets).toEqual([0, 32]); // 12 bytes of "a" padded to 32
  });

  it("round-trips metadata of every kind and F32/F16 tensors, with aligned offsets", () => {
    const meta = new Map<string, GgufValue>([
      ["general.architecture", kv.str("llama")],
      ["x.u32", kv.u32(4000000000)],
      ["x.i32", kv.i32(-5)],
      ["x.f32", kv.f32(0.25)],
      ["x.bool", kv.bool(true)],
      ["x.u64", { type: "u64", value: 2n ** 40n }],
      ["x.f64", { type: "f64", value: Math.PI }],
      ["x.strings", kv.strings(["a", "ß", "🙂", ""])],
      ["x.i32s", kv.i32s(Int32Array.of(1, -2, 3))],
      ["x.f32s", kv.f32s([0.5, -1.5])],
      ["x.u8", { type: "u8", value: 200 }],
      ["x.i16", { type: "i16", value: -300 }],
    ]);
    const a = Float32Array.from({ length: 7 }, (_, i) => i * 0.1 - 0.3);
    const b = Float32Array.from({ length: 6 }, (_, i) => (i - 2) * 1.37);
    const path = join(dir, "rt.gguf");
    writeGguf(path, meta, [
      { name: "a", shape: [7], data: a, type: GgmlType.F32 },
      { name: "b.weight", shape: [2, 3], data: b, type: GgmlType.F16 },
    ]);
    const f = readGguf(path);
    expect(f.version).toBe(3);
    expect(f.metadata.get("general.architecture")).toBe("llama");
    expect(f.metadata.get("x.u32")).toBe(4000000000);
    expect(f.metadata.get("x.i32")).toBe(-5);
    expect(f.metadata.get("x.f32")).toBe(0.25);
    expect(f.metadata.get("x.bool")).toBe(true);
    expect(f.metadata.get("x.u64")).toBe(2 ** 40);
    expect(f.metadata.get("x.f64")).toBe(Math.PI);
    expect(f.metadata.get("x.strings")).toEqual(["a", "ß", "🙂", ""]);
    expect(f.metadata.get("x.i32s")).toEqual([1, -2, 3]);
    expect(f.metadata.get("x.f32s")).toEqual([0.5, -1.5]);
    expect(f.metadata.get("x.u8")).toBe(200);
    expect(f.metadata.get("x.i16")).toBe(-300);
    expect(f.tensors.map((t) => [t.name, t.shape, t.type])).toEqual([
      ["a", [7], 0],
      ["b.weight", [2, 3], 1],
    ]);
    for (const t of f.tensors) expect(t.offset % 32).toBe(0);
    expect(Array.from(f.read("a"))).toEqual(Array.from(a));
    expect(Array.from(f.read("b.weight"))).toEqual(Array.from(roundToF16(b)));
    // ggml ne is innermost first: [2, 3] is stored as ne = [3, 2]
    const raw = readFileSync(path);
    const again = parseGguf(raw);
    expect(again.tensors[1].shape).toEqual([2, 3]);
    expect(raw.length % 32).toBe(0);
  });

  it("rejects bad input with the offending name", () => {
    const meta = new Map<string, GgufValue>();
    expect(() => encodeGgufHeader(meta, [{ name: "t", shape: [0], type: 0 }])).toThrow(/"t" has a bad shape/);
    expect(() =>
      encodeGgufHeader(meta, [
        { name: "t", shape: [1], type: 0 },
        { name: "t", shape: [1], type: 0 },
      ]),
    ).toThrow(/duplicate tensor name "t"/);
    expect(() => encodeGgufHeader(new Map([["k", kv.u32(-1)]]), [])).toThrow(/key "k"/);
    expect(() =>
      writeGguf(join(dir, "bad.gguf"), meta, [{ name: "w", shape: [2, 2], data: new Float32Array(3), type: 0 }]),
    ).toThrow(/"w" has 3 values/);
    expect(() => parseGguf(Buffer.from("GGML0000"))).toThrow(/not a GGUF|truncated/);
  });
});
