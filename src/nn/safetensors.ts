/**
 * safetensors read (F32, F16, BF16 -> Float32Array) and write (F32 or F16), single file or sharded with
 * `model.safetensors.index.json`. Format: u64 LE header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the data buffer.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { HostTensor } from "./ir.ts";

export type StDtype = "F32" | "F16" | "BF16";
export type TensorMap = Map<string, HostTensor>;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half -> float */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float -> IEEE half bits, round to nearest even (as torch's .half()). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++;
  return sign | r;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Parse one safetensors buffer; `source` names the file in errors. */
export function parseSafetensors(
  buf: Uint8Array,
  source = "safetensors",
): { tensors: TensorMap; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error(`${source}: too short for a safetensors header`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (8 + n > buf.length) throw new Error(`${source}: header length ${n} exceeds the file size ${buf.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${source}: header is not JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const tensors: TensorMap = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as HeaderEntry;
    if (!e || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets))
      throw new Error(`${source}: tensor "${name}": bad header entry`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [start, end] = e.data_offsets;
    const width = e.dtype === "F32" ? 4 : e.dtype === "F16" || e.dtype === "BF16" ? 2 : 0;
    if (!width) throw new Error(`${source}: tensor "${name}": dtype ${e.dtype} not supported (F32, F16, BF16)`);
    if (end - start !== count * width || base + end > buf.length) {
      throw new Error(
        `${source}: tensor "${name}": offsets [${start}, ${end}] do not fit shape [${e.shape}] ${e.dtype}`,
      );
    }
    const data = new Float32Array(count);
    const off = base + start;
    if (e.dtype === "F32") {
      for (let i = 0; i < count; i++) data[i] = dv.getFloat32(off + 4 * i, true);
    } else if (e.dtype === "F16") {
      for (let i = 0; i < count; i++) data[i] = halfToFloat(dv.getUint16(off + 2 * i, true));
    } else {
      for (let i = 0; i < count; i++) {
        u32[0] = dv.getUint16(off + 2 * i, true) << 16;
        data[i] = f32[0];
      }
    }
    tensors.set(name, { shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** Serialize tensors (sorted by name, like the Python library) as F32 or F16. */
export function serializeSafetensors(
  tensors: TensorMap,
  dtype: "F32" | "F16" = "F32",
  metadata?: Record<string, string>,
): Uint8Array {
  const names = [...tensors.keys()].sort();
  const width = dtype === "F32" ? 4 : 2;
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const bytes = t.data.length * width;
    header[name] = { dtype, shape: [...t.shape], data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    if (dtype === "F32") {
      for (let i = 0; i < d.length; i++, p += 4) dv.setFloat32(p, d[i], true);
    } else {
      for (let i = 0; i < d.length; i++, p += 2) dv.setUint16(p, floatToHalf(d[i]), true);
    }
  }
  return out;
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function readSafetensorsFile(path: string): { tensors: TensorMap; metadata: Record<string, string> } {
  return parseSafetensors(readFileSync(path), path);
}

export const INDEX_FILE = "model.safetensors.index.json";

/**
 * Write `dir/model.safetensors`, or shards `model-0000i-of-0000n.safetensors` + index when the data exceeds
 * `maxShardBytes`.
 */
export function saveSafetensors(
  dir: string,
  tensors: TensorMap,
  opts: { dtype?: "F32" | "F16"; maxShardBytes?: number; metadata?: Record<string, string> } = {},
): string[] {
  const dtype = opts.dtype ?? "F32";
  const width = dtype === "F32" ? 4 : 2;
  const max = opts.maxShardBytes ?? Number.POSITIVE_INFINITY;
  const metadata = { format: "pt", ...(opts.metadata ?? {}) };
  const names = [...tensors.keys()].sort();
  const shards: string[][] = [[]];
  let size = 0;
  let total = 0;
  for (const n of names) {
    const bytes = tensors.get(n)!.data.length * width;
    if (size > 0 && size + bytes > max) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(n);
    size += bytes;
    total += bytes;
  }
  if (shards.length === 1) {
    writeAtomic(join(dir, "model.safetensors"), serializeSafetensors(tensors, dtype, metadata));
    return ["model.safetensors"];
  }
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  const pad = (i: number) => String(i).padStart(5, "0");
  shards.forEach((group, i) => {
    const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    const sub: TensorMap = new Map(group.map((n) => [n, tensors.get(n)!]));
    writeAtomic(join(dir, file), serializeSafetensors(sub, dtype, metadata));
    for (const n of group) weightMap[n] = file;
    files.push(file);
  });
  writeAtomic(
    join(dir, INDEX_FILE),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
  );
  return files;
}

/** Load all tensors of a checkpoint directory (single file or sharded). */
export function loadSafetensors(dir: string): TensorMap {
  const indexPath = join(dir, INDEX_FILE);
  let index: { weight_map?: Record<string, string> } | undefined;
  try {
    index = JSON.parse(readFileSync(indexPath, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`${indexPath}: ${(e as Error).message}`);
  }
  if (!index) return readSafetensorsFile(join(dir, "model.safetensors")).tensors;
  if (!index.weight_map || typeof index.weight_map !== "object") throw new Error(`${indexPath}: missing "weight_map"`);
  const out: TensorMap = new Map();
  const files = [...new Set(Object.values(index.weight_map))];
  for (const f of files) {
    for (const [n, t] of readSafetensorsFile(join(dir, f)).tensors) out.set(n, t);
  }
  for (const n of Object.keys(index.weight_map))
    if (!out.has(n)) throw new Error(`${indexPath}: tensor "${n}" not found in ${index.weight_map[n]}`);
  return out;
}
