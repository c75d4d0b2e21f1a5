/**
 * `breakfix data pull`: downloads a dataset's files from their public URLs into a cache folder.
 *
 * - Each file is streamed into a temporary file beside its destination while its sha256 is computed, checked against
 *   the pinned checksum when one is known, then renamed into place (atomic on one filesystem), so an interrupted
 *   download never leaves a truncated file under the real name.
 * - `<cache>/<folder>/.breakfix-pull.json` records each file's sha256, size, URL and time; a file whose bytes still
 *   match it is not downloaded again (unless `force`).
 * - After downloading, the dataset is loaded once to prove the files parse.
 * - A file whose registry URL is on a moving branch (RemoteFile.moving; sources.yaml lists these exceptions) that fails
 *   its checksum or the row count gets an error that says so, with the reason and how to override.
 * - `from` replaces each file's URL with `<from>/<file name>` (a mirror, or a `file://` folder: used by the tests,
 *   since there is no network here).
 */
import { createHash, randomBytes } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { fileSha256 } from "../domain/file-hash.ts";
import { folderOf } from "./registry.ts";
import type { DatasetLoader, RemoteFile } from "./types.ts";

export const MANIFEST = ".breakfix-pull.json";

export interface ManifestEntry {
  sha256: string;
  bytes: number;
  url: string;
  fetchedAt: string;
}
export type Manifest = Record<string, ManifestEntry>;

export interface PullProgress {
  file: string;
  received: number;
  total?: number;
}

export interface PullOptions {
  /** Cache root; files land in `<cacheDir>/<dataset folder>/`. */
  cacheDir: string;
  /** Base URL to fetch every file from instead of its own URL (mirror or file:// folder). */
  from?: string;
  force?: boolean;
  /** Check pinned checksums (default true). */
  verify?: boolean;
  onProgress?: (p: PullProgress) => void;
  fetchImpl?: typeof fetch;
  /** Attempts per file for network errors and HTTP 429/5xx (default 3). */
  attempts?: number;
}

export interface PulledFile {
  name: string;
  path: string;
  url: string;
  sha256: string;
  bytes: number;
  status: "downloaded" | "cached";
}

export interface PullResult {
  dir: string;
  files: PulledFile[];
  rows: number;
}

function readManifest(dir: string): Manifest {
  const f = path.join(dir, MANIFEST);
  if (!existsSync(f)) return {};
  try {
    return JSON.parse(readFileSync(f, "utf8")) as Manifest;
  } catch {
    return {};
  }
}

function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** The URL a file is fetched from. */
export function sourceUrl(file: RemoteFile, from?: string): string {
  if (!from) return file.url;
  const base = from.endsWith("/") ? from : `${from}/`;
  return new URL(file.name.split("/").map(encodeURIComponent).join("/"), base).toString();
}

class HttpError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

async function openSource(url: string, fetchImpl: typeof fetch): Promise<{ stream: Readable; total?: number }> {
  const u = new URL(url);
  if (u.protocol === "file:") {
    const p = fileURLToPath(u);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st?.isFile()) throw new HttpError(`${url}: no such file`, false);
    return { stream: createReadStream(p), total: st.size };
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new HttpError(`${url}: unsupported URL scheme`, false);
  let res: Response;
  try {
    res = await fetchImpl(url, { redirect: "follow", signal: AbortSignal.timeout(600_000) });
  } catch (err) {
    throw new HttpError(`${url}: ${(err as Error).message}`, true);
  }
  if (!res.ok || !res.body) {
    throw new HttpError(`${url}: HTTP ${res.status} ${res.statusText}`, res.status === 429 || res.status >= 500);
  }
  const len = Number(res.headers.get("content-length"));
  return {
    stream: Readable.fromWeb(res.body as import("node:stream/web").ReadableStream),
    total: Number.isFinite(len) && len > 0 ? len : undefined,
  };
}

async function download(
  url: string,
  dest: string,
  name: string,
  opts: PullOptions,
): Promise<{ sha256: string; bytes: number; tmp: string }> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  const attempts = opts.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const tmp = `${dest}.part-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      const { stream, total } = await openSource(url, fetchImpl);
      const hash = createHash("sha256");
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          bytes += chunk.length;
          opts.onProgress?.({ file: name, received: bytes, total });
          cb(null, chunk);
        },
      });
      await pipeline(stream, meter, createWriteStream(tmp));
      return { sha256: hash.digest("hex"), bytes, tmp };
    } catch (err) {
      rmSync(tmp, { force: true });
      const retryable = err instanceof HttpError ? err.retryable : true;
      if (!retryable || attempt >= attempts) throw err;
      await sleep(500 * 2 ** (attempt - 1));
    }
  }
}

/** Downloads (or finds cached) every file of a dataset, verifies it, and loads it once. */
export async function pullDataset<T>(loader: DatasetLoader<T>, opts: PullOptions): Promise<PullResult> {
  const dir = path.join(opts.cacheDir, folderOf(loader.info.name));
  mkdirSync(dir, { recursive: true });
  const manifest = readManifest(dir);
  const files: PulledFile[] = [];
  for (const f of loader.info.files) {
    const dest = path.join(dir, ...f.name.split("/"));
    mkdirSync(path.dirname(dest), { recursive: true });
    const url = sourceUrl(f, opts.from);
    const known = manifest[f.name];
    if (!opts.force && known && existsSync(dest)) {
      const sha = fileSha256(dest);
      if (sha === known.sha256 && (!f.sha256 || opts.verify === false || f.sha256 === sha)) {
        files.push({ name: f.name, path: dest, url: known.url, sha256: sha, bytes: known.bytes, status: "cached" });
        continue;
      }
    }
    const got = await download(url, dest, f.name, opts);
    const tmp = got.tmp;
    if (f.sha256 && opts.verify !== false && got.sha256 !== f.sha256) {
      rmSync(tmp, { force: true });
      const why = f.moving
        ? `. Its registry URL ${f.url} is on a moving branch, not a pinned revision (${f.moving}), so upstream may have ` +
          "changed the file since the checksum was recorded; pass --no-verify to accept the changed file, or --from a " +
          "folder or mirror holding the reviewed copy"
        : "; pass --no-verify to accept a changed upstream file";
      throw new Error(
        `${loader.info.name}: checksum mismatch for ${f.name} from ${url}: expected sha256 ${f.sha256}, got ${got.sha256} (nothing was written)${why}`,
      );
    }
    renameSync(tmp, dest);
    manifest[f.name] = { sha256: got.sha256, bytes: got.bytes, url, fetchedAt: new Date().toISOString() };
    writeAtomic(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    files.push({ name: f.name, path: dest, url, sha256: got.sha256, bytes: got.bytes, status: "downloaded" });
  }
  // What this pull downloaded is removed again when the copy proves bad, so a later pull fetches it anew instead of
  // reporting it cached.
  const fresh = files.filter((f) => f.status === "downloaded");
  const discardFresh = () => {
    for (const f of fresh) {
      rmSync(f.path, { force: true });
      delete manifest[f.name];
    }
    if (fresh.length) writeAtomic(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  };
  let rows: unknown[];
  try {
    rows = await loader.load(dir);
  } catch (err) {
    // A file that does not parse (e.g. an HTML page served for a gated file with no pinned checksum).
    discardFresh();
    throw err;
  }
  // Some upstream files have no pinned checksum (the registry says which): the row count is then the one check
  // that the copy is the benchmark the registry describes.
  if (opts.verify !== false && rows.length !== loader.info.rows) {
    discardFresh();
    const where = fresh.length ? "the downloaded files were removed" : "from the cached files";
    const moving = loader.info.files.filter((f) => f.moving && !f.sha256).map((f) => f.name);
    const note = moving.length
      ? `; ${moving.join(", ")}: registry URL on a moving branch, not a pinned revision, so upstream may have changed ` +
        "(sources.yaml says why); --from a folder or mirror holding the reviewed copy avoids it"
      : "";
    throw new Error(
      `${loader.info.name}: expected ${loader.info.rows} rows, loaded ${rows.length} (${where}; pass --no-verify to accept a changed upstream file${note})`,
    );
  }
  return { dir, files, rows: rows.length };
}
