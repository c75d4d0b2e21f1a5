/**
 * The GGUF v3 container (ggml's docs/gguf.md): a little-endian header, typed key/value metadata, tensor infos, then
 * tensor data, each tensor aligned to `general.alignment` (32 unless the file says otherwise).
 *
 *   magic "GGUF" | u32 version=3 | u64 tensor_count | u64 kv_count
 *   kv_count x   (string key, u32 value_type, value)
 *   tensor_count x (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)
 *   padding to alignment, then tensor data (offsets are relative to this point)
 *
 * Strings are u64 length + UTF-8 bytes (no terminator). `ne` lists dimensions innermost first: a row-major
 * (numpy/PyTorch) tensor of shape [rows, cols] has ne = [cols, rows]; the bytes are the same.
 *
 * This module knows nothing about models: `llama.ts` maps a Hugging Face Llama onto it.
 */
import { closeSync, openSync, readSync, writeSync } from "node:fs";

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** gguf_type: the value types of metadata. */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueTypeId = (typeof GgufValueType)[keyof typeof GgufValueType];

/** The ggml tensor types this writer emits (F32, F16); the reader also names a few others for error messages. */
export const GgmlType = { F32: 0, F16: 1 } as const;
export type GgmlTypeId = (typeof GgmlType)[keyof typeof GgmlType];

/** A typed scalar metadata value. */
export type GgufScalar =
  | { type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64"; value: number }
  | { type: "u64" | "i64"; value: bigint | number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string };

/** A metadata value: a scalar or an array of one scalar type. */
export type GgufValue =
  | GgufScalar
  | { type: "array"; itemType: "string"; value: readonly string[] }
  | { type: "array"; itemType: "i32" | "u32" | "f32"; value: readonly number[] | Int32Array | Float32Array };

/** Shorthands for building metadata. */
export const kv = {
  u32: (value: number): GgufValue => ({ type: "u32", value }),
  i32: (value: number): GgufValue => ({ type: "i32", value }),
  f32: (value: number): GgufValue => ({ type: "f32", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  str: (value: string): GgufValue => ({ type: "string", value }),
  strings: (value: readonly string[]): GgufValue => ({ type: "array", itemType: "string", value }),
  i32s: (value: readonly number[] | Int32Array): GgufValue => ({ type: "array", itemType: "i32", value }),
  f32s: (value: readonly number[] | Float32Array): GgufValue => ({ type: "array", itemType: "f32", value }),
};

/** A tensor to write: row-major F32 data with its (numpy-order) shape, stored as `type`. */
export interface GgufTensorIn {
  name: string;
  /** Row-major shape, outermost first (PyTorch order). Written reversed as ggml `ne`. */
  shape: readonly number[];
  data: Float32Array;
  type: GgmlTypeId;
}

const SCALAR_TYPE_IDS: Record<GgufScalar["type"], GgufValueTypeId> = {
  u8: GgufValueType.UINT8,
  i8: GgufValueType.INT8,
  u16: GgufValueType.UINT16,
  i16: GgufValueType.INT16,
  u32: GgufValueType.UINT32,
  i32: GgufValueType.INT32,
  f32: GgufValueType.FLOAT32,
  bool: GgufValueType.BOOL,
  string: GgufValueType.STRING,
  u64: GgufValueType.UINT64,
  i64: GgufValueType.INT64,
  f64: GgufValueType.FLOAT64,
};

/** float32 -> IEEE half bits, round to nearest even; overflow -> inf, NaN kept. */
export function f32ToF16Bits(x: number): number {
  F32[0] = x;
  const b = U32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflows to zero
    mant |= 0x800000; // implicit bit
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m; // a carry into the exponent field is the correct rounding
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** IEEE half bits -> number. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Round every value through F16 (what an F16 file stores), e.g. to build the reference for an F16 export. */
export function roundToF16(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = f16BitsToF32(f32ToF16Bits(data[i]));
  return out;
}

/** A growable little-endian byte buffer for the header. */
class ByteSink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  i8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.length);
    this.length += 1;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.length);
    this.length += 2;
  }
  i16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16LE(v, this.length);
    this.length += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  f32(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }
  u64(v: bigint | number): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  i64(v: bigint | number): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  str(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeScalar(sink: ByteSink, v: GgufScalar): void {
  switch (v.type) {
    case "u8":
      sink.u8(v.value);
      return;
    case "i8":
      sink.i8(v.value);
      return;
    case "u16":
      sink.u16(v.value);
      return;
    case "i16":
      sink.i16(v.value);
      return;
    case "u32":
      sink.u32(v.value);
      return;
    case "i32":
      sink.i32(v.value);
      return;
    case "f32":
      sink.f32(v.value);
      return;
    case "f64":
      sink.f64(v.value);
      return;
    case "u64":
      sink.u64(v.value);
      return;
    case "i64":
      sink.i64(v.value);
      return;
    case "bool":
      sink.u8(v.value ? 1 : 0);
      return;
    case "string":
      sink.str(v.value);
      return;
  }
}

function checkValue(key: string, v: GgufValue): void {
  const intRange: Partial<Record<GgufScalar["type"], [number, number]>> = {
    u8: [0, 255],
    i8: [-128, 127],
    u16: [0, 65535],
    i16: [-32768, 32767],
    u32: [0, 0xffffffff],
    i32: [-0x80000000, 0x7fffffff],
  };
  if (v.type === "array") {
    if (v.itemType === "i32" || v.itemType === "u32") {
      const [lo, hi] = intRange[v.itemType]!;
      for (const x of v.value as Iterable<number>) {
        if (!Number.isInteger(x) || x < lo || x > hi) throw new Error(`gguf key "${key}": ${x} is not a ${v.itemType}`);
      }
    }
    return;
  }
  const r = intRange[v.type];
  if (r && (typeof v.value !== "number" || !Number.isInteger(v.value) || v.value < r[0] || v.value > r[1])) {
    throw new Error(`gguf key "${key}": ${String(v.value)} is not a ${v.type}`);
  }
}

function bytesPerElement(type: GgmlTypeId): number {
  return type === GgmlType.F32 ? 4 : 2;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Serialise the header (everything before the tensor data), padded to the alignment. */
export function encodeGgufHeader(
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly Pick<GgufTensorIn, "name" | "shape" | "type">[],
  alignment = GGUF_DEFAULT_ALIGNMENT,
): { header: Buffer; offsets: number[]; dataBytes: number } {
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(tensors.length);
  sink.u64(metadata.size);
  for (const [key, v] of metadata) {
    checkValue(key, v);
    sink.str(key);
    if (v.type === "array") {
      sink.u32(GgufValueType.ARRAY);
      const itemId = SCALAR_TYPE_IDS[v.itemType];
      sink.u32(itemId);
      sink.u64(v.value.length);
      for (const x of v.value) {
        if (v.itemType === "string") sink.str(x as string);
        else writeScalar(sink, { type: v.itemType, value: x as number });
      }
    } else {
      sink.u32(SCALAR_TYPE_IDS[v.type]);
      writeScalar(sink, v);
    }
  }
  const names = new Set<string>();
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`gguf: duplicate tensor name "${t.name}"`);
    names.add(t.name);
    if (Buffer.byteLength(t.name) > 63) throw new Error(`gguf: tensor name "${t.name}" is longer than 63 bytes`);
    if (t.shape.length < 1 || t.shape.length > 4 || t.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(`gguf: tensor "${t.name}" has a bad shape [${t.shape.join(", ")}]`);
    }
    sink.str(t.name);
    sink.u32(t.shape.length);
    for (let i = t.shape.length - 1; i >= 0; i--) sink.u64(t.shape[i]);
    sink.u32(t.type);
    sink.u64(offset);
    offsets.push(offset);
    const n = t.shape.reduce((a, b) => a * b, 1);
    offset = alignUp(offset + n * bytesPerElement(t.type), alignment);
  }
  sink.pad(alignment);
  return { header: Buffer.from(sink.bytes()), offsets, dataBytes: offset };
}

/** The bytes of one tensor as stored (F32 little-endian, or F16 bits). */
export function encodeTensorData(t: GgufTensorIn): Buffer {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) {
    throw new Error(`gguf: tensor "${t.name}" has ${t.data.length} values for shape [${t.shape.join(", ")}]`);
  }
  if (t.type === GgmlType.F32) {
    const out = Buffer.alloc(n * 4);
    for (let i = 0; i < n; i++) out.writeFloatLE(t.data[i], i * 4);
    return out;
  }
  const out = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) out.writeUInt16LE(f32ToF16Bits(t.data[i]), i * 2);
  return out;
}

/**
 * Write a GGUF file. Tensors are encoded and written one at a time, so peak memory is the header plus one tensor.
 * `general.alignment` in `metadata` (a u32) sets the alignment; default 32.
 */
export function writeGguf(path: string, metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensorIn[]) {
  const al = metadata.get("general.alignment");
  const alignment = al && al.type === "u32" ? al.value : GGUF_DEFAULT_ALIGNMENT;
  const { header, offsets } = encodeGgufHeader(metadata, tensors, alignment);
  const fd = openSync(path, "w");
  try {
    writeAll(fd, header);
    let pos = 0;
    for (let i = 0; i < tensors.length; i++) {
      if (offsets[i] > pos) {
        writeAll(fd, Buffer.alloc(offsets[i] - pos));
        pos = offsets[i];
      }
      const bytes = encodeTensorData(tensors[i]);
      writeAll(fd, bytes);
      pos += bytes.length;
    }
    const end = alignUp(pos, alignment);
    if (end > pos) writeAll(fd, Buffer.alloc(end - pos));
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, b: Buffer): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

// ------------------------------------------------------------------------------------------------------------------
// Reader (for inspection, tests and re-import). Reads the whole file; GGUF files we read here are ours (small).

export interface GgufTensorInfo {
  name: string;
  /** Row-major shape (outermost first), i.e. ggml ne reversed. */
  shape: number[];
  type: number;
  /** Absolute byte offset of the data in the file. */
  offset: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, unknown>;
  tensors: GgufTensorInfo[];
  /** Decode one tensor (F32 or F16) into F32. */
  read(name: string): Float32Array;
}

export function readGguf(path: string): GgufFile {
  const fd = openSync(path, "r");
  let buf: Buffer;
  try {
    const chunks: Buffer[] = [];
    const chunk = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n <= 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    buf = Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
  return parseGguf(buf, path);
}

/** [elements per block, bytes per block] of ggml tensor types (ggml.c type_traits); unknown types: undefined. */
const GGML_BLOCKS: Record<number, [number, number]> = {
  0: [1, 4], // F32
  1: [1, 2], // F16
  2: [32, 18], // Q4_0
  3: [32, 20], // Q4_1
  6: [32, 22], // Q5_0
  7: [32, 24], // Q5_1
  8: [32, 34], // Q8_0
  9: [32, 36], // Q8_1
  10: [256, 84], // Q2_K
  11: [256, 110], // Q3_K
  12: [256, 144], // Q4_K
  13: [256, 176], // Q5_K
  14: [256, 210], // Q6_K
  15: [256, 292], // Q8_K
  30: [1, 2], // BF16
};

function tensorBytes(type: number, elements: number): number | undefined {
  const b = GGML_BLOCKS[type];
  return b ? Math.ceil(elements / b[0]) * b[1] : undefined;
}

export function parseGguf(buf: Buffer, label = "<buffer>"): GgufFile {
  let p = 0;
  const need = (n: number) => {
    if (p + n > buf.length) throw new Error(`${label}: truncated GGUF at byte ${p}`);
  };
  const u32 = () => {
    need(4);
    const v = buf.readUInt32LE(p);
    p += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = buf.readBigUInt64LE(p);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${label}: u64 too large at byte ${p - 8}`);
    return Number(v);
  };
  const str = () => {
    const n = u64();
    need(n);
    const s = buf.toString("utf8", p, p + n);
    p += n;
    return s;
  };
  const scalar = (t: number): unknown => {
    switch (t) {
      case GgufValueType.UINT8:
        need(1);
        return buf.readUInt8(p++);
      case GgufValueType.INT8:
        need(1);
        return buf.readInt8(p++);
      case GgufValueType.UINT16:
        need(2);
        p += 2;
        return buf.readUInt16LE(p - 2);
      case GgufValueType.INT16:
        need(2);
        p += 2;
        return buf.readInt16LE(p - 2);
      case GgufValueType.UINT32:
        return u32();
      case GgufValueType.INT32:
        need(4);
        p += 4;
        return buf.readInt32LE(p - 4);
      case GgufValueType.FLOAT32:
        need(4);
        p += 4;
        return buf.readFloatLE(p - 4);
      case GgufValueType.BOOL:
        need(1);
        return buf.readUInt8(p++) !== 0;
      case GgufValueType.STRING:
        return str();
      case GgufValueType.UINT64:
        return u64();
      case GgufValueType.INT64:
        need(8);
        p += 8;
        return Number(buf.readBigInt64LE(p - 8));
      case GgufValueType.FLOAT64:
        need(8);
        p += 8;
        return buf.readDoubleLE(p - 8);
      default:
        throw new Error(`${label}: unknown GGUF value type ${t} at byte ${p}`);
    }
  };
  if (u32() !== GGUF_MAGIC) throw new Error(`${label}: not a GGUF file (bad magic)`);
  const version = u32();
  if (version !== 2 && version !== 3) throw new Error(`${label}: unsupported GGUF version ${version}`);
  const nTensors = u64();
  const nKv = u64();
  const metadata = new Map<string, unknown>();
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const t = u32();
    if (t === GgufValueType.ARRAY) {
      const it = u32();
      const n = u64();
      const arr: unknown[] = new Array(n);
      for (let j = 0; j < n; j++) arr[j] = scalar(it);
      metadata.set(key, arr);
    } else metadata.set(key, scalar(t));
  }
  const rel: { name: string; shape: number[]; type: number; offset: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const ne: number[] = [];
    for (let d = 0; d < nd; d++) ne.push(u64());
    const type = u32();
    const offset = u64();
    rel.push({ name, shape: ne.reverse(), type, offset });
  }
  const alignment = (metadata.get("general.alignment") as number | undefined) ?? GGUF_DEFAULT_ALIGNMENT;
  const dataStart = alignUp(p, alignment);
  const tensors = rel.map((t) => ({ ...t, offset: dataStart + t.offset }));
  // A file cut short after its header still parses above: every tensor's data must lie inside the file (issue 23:
  // `gguf inspect` on a truncated file used to succeed).
  for (const t of tensors) {
    const elements = t.shape.reduce((a, b) => a * b, 1);
    const bytes = tensorBytes(t.type, elements);
    const end = t.offset + (bytes ?? 1);
    if (end > buf.length)
      throw new Error(
        `${label}: truncated GGUF: tensor ${t.name} needs bytes ${t.offset}..${end} but the file has ${buf.length}`,
      );
  }
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return {
    version,
    metadata,
    tensors,
    read(name: string): Float32Array {
      const t = byName.get(name);
      if (!t) throw new Error(`${label}: no tensor "${name}"`);
      const n = t.shape.reduce((a, b) => a * b, 1);
      const out = new Float32Array(n);
      if (t.type === GgmlType.F32) {
        if (t.offset + 4 * n > buf.length) throw new Error(`${label}: tensor "${name}" runs past the end`);
        for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(t.offset + 4 * i);
      } else if (t.type === GgmlType.F16) {
        if (t.offset + 2 * n > buf.length) throw new Error(`${label}: tensor "${name}" runs past the end`);
        for (let i = 0; i < n; i++) out[i] = f16BitsToF32(buf.readUInt16LE(t.offset + 2 * i));
      } else throw new Error(`${label}: tensor "${name}" has ggml type ${t.type}; only F32 and F16 are decoded`);
      return out;
    },
  };
}
