/**
 * safetensors read (F32, F16, BF16 -> Float32Array) and write (F32 or F16), single file or sharded with
 * `model.safetensors.index.json`. Format: u64 LE header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the data buffer.
 */
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
  writeSync,
} from "node:fs";
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

/** Random access to the bytes of a safetensors source (a buffer or an open file). */
type ByteSource = { size: number; read(offset: number, length: number): Uint8Array };

function decodeTensor(bytes: Uint8Array, dtype: string, count: number): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(count);
  if (dtype === "F32") {
    for (let i = 0; i < count; i++) data[i] = dv.getFloat32(4 * i, true);
  } else if (dtype === "F16") {
    for (let i = 0; i < count; i++) data[i] = halfToFloat(dv.getUint16(2 * i, true));
  } else {
    for (let i = 0; i < count; i++) {
      u32[0] = dv.getUint16(2 * i, true) << 16;
      data[i] = f32[0];
    }
  }
  return data;
}

function parseSource(src: ByteSource, source: string): { tensors: TensorMap; metadata: Record<string, string> } {
  if (src.size < 8) throw new Error(`${source}: too short for a safetensors header`);
  const head = src.read(0, 8);
  const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > src.size) throw new Error(`${source}: header length ${n} exceeds the file size ${src.size}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(src.read(8, n)));
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
    if (!e || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw new Error(`${source}: tensor "${name}": bad header entry`);
    }
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [start, end] = e.data_offsets;
    const width = e.dtype === "F32" ? 4 : e.dtype === "F16" || e.dtype === "BF16" ? 2 : 0;
    if (!width) throw new Error(`${source}: tensor "${name}": dtype ${e.dtype} not supported (F32, F16, BF16)`);
    if (end - start !== count * width || base + end > src.size) {
      throw new Error(
        `${source}: tensor "${name}": offsets [${start}, ${end}] do not fit shape [${e.shape}] ${e.dtype}`,
      );
    }
    tensors.set(name, { shape: e.shape, data: decodeTensor(src.read(base + start, end - start), e.dtype, count) });
  }
  return { tensors, metadata };
}

/** Parse one safetensors buffer; `source` names the file in errors. */
export function parseSafetensors(
  buf: Uint8Array,
  source = "safetensors",
): { tensors: TensorMap; metadata: Record<string, string> } {
  return parseSource({ size: buf.length, read: (o, l) => buf.subarray(o, o + l) }, source);
}

function encodeTensor(d: HostTensor["data"], dtype: "F32" | "F16"): Uint8Array {
  const width = dtype === "F32" ? 4 : 2;
  const out = new Uint8Array(d.length * width);
  const dv = new DataView(out.buffer);
  if (dtype === "F32") for (let i = 0; i < d.length; i++) dv.setFloat32(4 * i, d[i], true);
  else for (let i = 0; i < d.length; i++) dv.setUint16(2 * i, floatToHalf(d[i]), true);
  return out;
}

/** The 8-byte length + JSON header (padded to 8 bytes) for `tensors` sorted by name, like the Python library. */
function encodeHeader(
  tensors: TensorMap,
  dtype: "F32" | "F16",
  metadata?: Record<string, string>,
): { head: Uint8Array; names: string[]; dataBytes: number } {
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
  const head = new Uint8Array(8 + hb.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(hb.length), true);
  head.set(hb, 8);
  return { head, names, dataBytes: off };
}

/** Serialize tensors (sorted by name) as F32 or F16 into one buffer (small files; see writeSafetensorsFile). */
export function serializeSafetensors(
  tensors: TensorMap,
  dtype: "F32" | "F16" = "F32",
  metadata?: Record<string, string>,
): Uint8Array {
  const { head, names, dataBytes } = encodeHeader(tensors, dtype, metadata);
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head, 0);
  let p = head.length;
  for (const name of names) {
    const b = encodeTensor(tensors.get(name)!.data, dtype);
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** Write one safetensors file tensor by tensor (no whole-file buffer, so files over 2 GiB work), atomically. */
export function writeSafetensorsFile(
  path: string,
  tensors: TensorMap,
  dtype: "F32" | "F16" = "F32",
  metadata?: Record<string, string>,
): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    const { head, names } = encodeHeader(tensors, dtype, metadata);
    writeSync(fd, head);
    for (const name of names) writeSync(fd, encodeTensor(tensors.get(name)!.data, dtype));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Read one safetensors file with positioned reads (no whole-file buffer, so shards over 2 GiB work). */
export function readSafetensorsFile(path: string): { tensors: TensorMap; metadata: Record<string, string> } {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const read = (offset: number, length: number) => {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, offset + got);
        if (n === 0) throw new Error(`${path}: unexpected end of file`);
        got += n;
      }
      return buf;
    };
    return parseSource({ size, read }, path);
  } finally {
    closeSync(fd);
  }
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
    writeSafetensorsFile(join(dir, "model.safetensors"), tensors, dtype, metadata);
    return ["model.safetensors"];
  }
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  const pad = (i: number) => String(i).padStart(5, "0");
  shards.forEach((group, i) => {
    const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    const sub: TensorMap = new Map(group.map((n) => [n, tensors.get(n)!]));
    writeSafetensorsFile(join(dir, file), sub, dtype, metadata);
    for (const n of group) weightMap[n] = file;
    files.push(file);
  });
  writeAtomic(
    join(dir, INDEX_FILE),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
  );
  return files;
}

/**
 * A sharded checkpoint's index (`dir/model.safetensors.index.json`): its weight map and the shard files it names (in
 * the order first named); undefined when the folder has none. Throws naming the index when it cannot be read or has
 * no weight_map.
 */
export function readShardIndex(
  dir: string,
): { path: string; weightMap: Record<string, string>; shards: string[] } | undefined {
  const indexPath = join(dir, INDEX_FILE);
  let index: { weight_map?: Record<string, string> } | undefined;
  try {
    index = JSON.parse(readFileSync(indexPath, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`${indexPath}: ${(e as Error).message}`);
  }
  if (!index) return undefined;
  if (!index.weight_map || typeof index.weight_map !== "object") throw new Error(`${indexPath}: missing "weight_map"`);
  return { path: indexPath, weightMap: index.weight_map, shards: [...new Set(Object.values(index.weight_map))] };
}

/** Load all tensors of a checkpoint directory (single file or sharded). */
export function loadSafetensors(dir: string): TensorMap {
  const index = readShardIndex(dir);
  if (!index) return readSafetensorsFile(join(dir, "model.safetensors")).tensors;
  const out: TensorMap = new Map();
  for (const f of index.shards) {
    for (const [n, t] of readSafetensorsFile(join(dir, f)).tensors) out.set(n, t);
  }
  for (const n of Object.keys(index.weightMap))
    if (!out.has(n)) throw new Error(`${index.path}: tensor "${n}" not found in ${index.weightMap[n]}`);
  return out;
}
