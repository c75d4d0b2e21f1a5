import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  floatToHalf,
  halfToFloat,
  loadSafetensors,
  parseSafetensors,
  readSafetensorsFile,
  saveSafetensors,
  serializeSafetensors,
  type TensorMap,
} from "./safetensors.ts";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "nn-st-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sample = (): TensorMap =>
  new Map([
    ["b.weight", { shape: [2, 3], data: Float32Array.of(1, -2.5, 3.25, 1e-8, -0, 65504) }],
    ["a.bias", { shape: [1], data: Float32Array.of(Math.PI) }],
  ]);

describe("float16 conversion", () => {
  it("matches IEEE half bit patterns, with round-to-nearest-even, subnormals, overflow, inf and nan", () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // rounds up to inf
    expect(floatToHalf(Number.POSITIVE_INFINITY)).toBe(0x7c00);
    expect(floatToHalf(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(floatToHalf(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(floatToHalf(2 ** -26)).toBe(0); // below half of it
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(floatToHalf(-0)).toBe(0x8000);
    for (let h = 0; h < 0x7c00; h += 7) expect(floatToHalf(halfToFloat(h))).toBe(h);
  });
});

describe("safetensors", () => {
  it("the header is 8-byte aligned JSON with sorted names and metadata; F32 round trip is exact", () => {
    const buf = serializeSafetensors(sample(), "F32", { format: "pt" });
    const n = Number(new DataView(buf.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
    expect(Object.keys(header)).toEqual(["__metadata__", "a.bias", "b.weight"]);
    expect(header["a.bias"]).toEqual({ dtype: "F32", shape: [1], data_offsets: [0, 4] });
    const back = parseSafetensors(buf);
    expect(back.metadata).toEqual({ format: "pt" });
    for (const [k, t] of sample()) expect(Array.from(back.tensors.get(k)!.data)).toEqual(Array.from(t.data));
  });

  it("file writes stream tensor by tensor and read back identically to the in-memory form; F16 rounds", () => {
    const d = tmp();
    saveSafetensors(d, sample(), { dtype: "F16" });
    const bytes = readFileSync(join(d, "model.safetensors"));
    expect(Buffer.from(serializeSafetensors(sample(), "F16", { format: "pt" })).equals(bytes)).toBe(true);
    const t = readSafetensorsFile(join(d, "model.safetensors")).tensors.get("a.bias")!;
    expect(t.data[0]).toBe(halfToFloat(floatToHalf(Math.PI)));
  });

  it("reads BF16 (upper 16 bits of float32)", () => {
    const header = JSON.stringify({ x: { dtype: "BF16", shape: [2], data_offsets: [0, 4] } });
    const buf = new Uint8Array(8 + header.length + 4);
    const dv = new DataView(buf.buffer);
    dv.setBigUint64(0, BigInt(header.length), true);
    buf.set(new TextEncoder().encode(header), 8);
    dv.setUint16(8 + header.length, 0x3fc0, true); // 1.5
    dv.setUint16(8 + header.length + 2, 0xc040, true); // -3
    expect(Array.from(parseSafetensors(buf).tensors.get("x")!.data)).toEqual([1.5, -3]);
  });

  it("shards by size with an index that names every tensor's file", () => {
    const d = tmp();
    const files = saveSafetensors(d, sample(), { maxShardBytes: 8 });
    expect(files).toEqual(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
    const index = JSON.parse(readFileSync(join(d, "model.safetensors.index.json"), "utf8"));
    expect(index.weight_map).toEqual({ "a.bias": files[0], "b.weight": files[1] });
    expect(index.metadata.total_size).toBe(28);
    const back = loadSafetensors(d);
    expect([...back.keys()].sort()).toEqual(["a.bias", "b.weight"]);
  });

  it("names the file and tensor on bad input", () => {
    const d = tmp();
    const p = join(d, "bad.safetensors");
    const good = serializeSafetensors(sample());
    writeFileSync(p, good.subarray(0, good.length - 4));
    expect(() => readSafetensorsFile(p)).toThrow(/bad.safetensors: tensor "b.weight": offsets/);
    const header = JSON.stringify({ x: { dtype: "I64", shape: [1], data_offsets: [0, 8] } });
    const buf = new Uint8Array(8 + header.length + 8);
    new DataView(buf.buffer).setBigUint64(0, BigInt(header.length), true);
    buf.set(new TextEncoder().encode(header), 8);
    expect(() => parseSafetensors(buf, "m.safetensors")).toThrow(/m.safetensors: tensor "x": dtype I64 not supported/);
    writeFileSync(
      join(d, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: { y: "missing.safetensors" } }),
    );
    expect(() => loadSafetensors(d)).toThrow(/missing.safetensors/);
  });
});
