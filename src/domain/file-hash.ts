/**
 * sha256 of files, streamed in 8 MiB reads (a GGUF or a dataset of many GiB never sits in memory) and remembered for
 * the process, keyed by each file's real path, device, inode, size and mtime (ns): a file hashed again costs a stat.
 * A file written in the last 2 s is not remembered ("racy" in git's sense): mtime ticks are coarse, so a rewrite of the
 * same size within one tick would keep the old key. Files are always hashed whole: a checksum over sampled blocks
 * would miss a change to a few bytes (a fine-tune of a few tensors).
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import path from "node:path";

const CHUNK = 8 << 20;
const RACY_MS = 2000;
const memo = new Map<string, string>();

function statKey(file: string): { key: string; settled: boolean } {
  const s = statSync(file, { bigint: true });
  return {
    key: `${realpathSync(file)}\0${s.dev}\0${s.ino}\0${s.size}\0${s.mtimeNs}`,
    settled: Date.now() - Number(s.mtimeMs) > RACY_MS,
  };
}

function hashFileInto(h: Hash, file: string): void {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n = readSync(fd, buf, 0, CHUNK, null); n > 0; n = readSync(fd, buf, 0, CHUNK, null))
      h.update(n === CHUNK ? buf : buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

function memoized(scheme: "bytes" | "named", files: readonly string[], compute: () => string): string {
  const stats = files.map(statKey);
  const key = [scheme, ...stats.map((s) => s.key)].join("\n");
  const known = memo.get(key);
  if (known !== undefined) return known;
  const digest = compute();
  if (stats.every((s) => s.settled)) memo.set(key, digest);
  return digest;
}

/** sha256 (hex) of a file's bytes. */
export function fileSha256(file: string): string {
  return memoized("bytes", [file], () => {
    const h = createHash("sha256");
    hashFileInto(h, file);
    return h.digest("hex");
  });
}

/** sha256 (hex) over (name, bytes) of each named file of `dir`, in the order given. */
export function namedFilesSha256(dir: string, names: readonly string[]): string {
  const files = names.map((f) => path.join(dir, f));
  return memoized("named", files, () => {
    const h = createHash("sha256");
    names.forEach((f, i) => {
      h.update(f);
      hashFileInto(h, files[i]);
    });
    return h.digest("hex");
  });
}
