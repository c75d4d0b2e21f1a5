/**
 * `hf:ORG/NAME[@REV]` model specs: download a model folder from the Hugging Face Hub into the standard cache, through
 * the Hub's client library (`@huggingface/hub`: `modelInfo` for the revision's commit, `listFiles` for the file list
 * with sizes and hashes, `getHFHubCachePath` / `getRepoFolderName` for the cache layout), and return the snapshot
 * folder, which every local loader reads like any other HF folder.
 *
 * Cache layout (shared with Python's huggingface_hub, so users' existing downloads are reused):
 *   $HF_HUB_CACHE (default $HF_HOME/hub, default ~/.cache/huggingface/hub)/models--ORG--NAME/
 *     refs/REV                 the commit hash a branch or tag resolved to
 *     blobs/ETAG               file contents (ETAG = sha256 for LFS files, the git blob sha1 otherwise)
 *     blobs/ETAG.incomplete    a partial download; the next call continues it with an HTTP Range request
 *     snapshots/COMMIT/FILE -> ../../blobs/ETAG (relative symlinks)
 * A spec whose ref (or commit) is already cached with a usable model (config.json and every safetensors shard) makes
 * no request at all: pin `@COMMIT` or delete `refs/main` to pick up a newer main. HF_HUB_OFFLINE=1 never asks the Hub.
 * Only the files a local model needs are fetched (top-level *.json, *.safetensors, *.txt, *.jinja, *.model, *.tiktoken;
 * not onnx/, gguf or pickle weights). Every file is checked against the Hub's hash (sha256 for LFS files, git blob
 * sha1 otherwise) before it enters blobs/.
 *
 * The library's own `downloadFileToCacheDir` neither resumes nor reports progress, so the byte transfer is ours:
 * GET /ORG/NAME/resolve/COMMIT/FILE with `Range: bytes=N-` when N bytes are already in the .incomplete file (206 ->
 * append, 200 -> start over), progress with an ETA on stderr. HF_ENDPOINT names the Hub (default
 * https://huggingface.co); HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, or the $HF_HOME/token file) is sent as a Bearer token
 * and registered as a secret so it is redacted from every log line.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { lstat, mkdir, open, readFile, readlink, rename, stat, symlink, unlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { getHFHubCachePath, getRepoFolderName, listFiles, modelInfo } from "@huggingface/hub";
import { etaText } from "../domain/eta.ts";
import { readShardIndex } from "../nn/safetensors.ts";
import { ModelError } from "./errors.ts";
import { redactedForTerminal, redactSecrets, registerSecret } from "./secrets.ts";

export interface HubSpec {
  /** "ORG/NAME" */
  repo: string;
  /** branch, tag or commit hash; default "main" */
  revision: string;
}

const SPEC = /^hf:([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([^\s@]+))?$/;
const COMMIT = /^[0-9a-f]{40}$/;

/** `hf:ORG/NAME[@REV]` -> {repo, revision}; undefined for anything else (a folder, a file, a model name). */
export function parseHubSpec(spec: string): HubSpec | undefined {
  if (!spec.startsWith("hf:")) return undefined;
  const m = SPEC.exec(spec);
  // The revision names a file under the cache's refs/ (a branch may hold "/", as refs/pr/1 does): no segment of it may
  // climb out of there ("..", "."), be empty, or hold a backslash.
  const badRevision =
    m?.[2] !== undefined && (m[2].includes("\\") || m[2].split("/").some((x) => x === "" || x === "." || x === ".."));
  if (!m || m[1].includes("..") || badRevision)
    throw new ModelError(`"${spec}": expected hf:ORG/NAME or hf:ORG/NAME@REVISION (a branch, tag or commit)`, "config");
  return { repo: m[1], revision: m[2] ?? "main" };
}

export const isHubSpec = (spec: string): boolean => spec.startsWith("hf:");

export interface HubProgress {
  file: string;
  /** bytes of this call's files already on disk (including resumed parts) */
  done: number;
  total: number;
  /** bytes per second over this call's transfer */
  rate: number;
  etaMs: number | null;
}

export interface HubOptions {
  /** environment for HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** cache root (default: the library's getHFHubCachePath, which reads HF_HUB_CACHE / HF_HOME) */
  cacheDir?: string;
  fetch?: typeof fetch;
  /** progress callback (default: a line on stderr at most every 2 s with bytes, rate and ETA) */
  onProgress?: (p: HubProgress) => void;
  /** other messages (default: stderr) */
  log?: (line: string) => void;
}

function hubEnv(env: NodeJS.ProcessEnv) {
  const home = env.HF_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"), "huggingface");
  let token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  if (!token) {
    const file = env.HF_TOKEN_PATH ?? path.join(home, "token");
    if (existsSync(file)) token = readFileSync(file, "utf8").trim() || undefined;
  }
  if (token) registerSecret(token);
  const cache = env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE ?? path.join(home, "hub");
  const offline = ["1", "true", "yes", "on"].includes(String(env.HF_HUB_OFFLINE ?? "").toLowerCase());
  return { hubUrl: (env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, ""), token, cache, offline };
}

/** Files a local model folder needs (top level only). */
export function wantedFile(p: string): boolean {
  if (p.includes("/")) return false;
  if (p === "consolidated.safetensors") return false; // Mistral's duplicate of the HF-named weights
  return /\.(json|safetensors|txt|jinja|model|tiktoken)$/.test(p) || p === "tokenizer.model";
}

/** A cached snapshot folder holds a loadable model: config.json and every safetensors file its index names. */
function usableSnapshot(dir: string): boolean {
  if (!existsSync(path.join(dir, "config.json"))) return false;
  try {
    const index = readShardIndex(dir);
    if (index) return index.shards.every((f) => existsSync(path.join(dir, f)));
  } catch {
    return false;
  }
  return existsSync(path.join(dir, "model.safetensors"));
}

/** The snapshot folder of a cached ref or commit, when it holds a usable model (no request). */
export function cachedSnapshot(spec: HubSpec, cacheDir: string): string | undefined {
  const repoDir = path.join(cacheDir, getRepoFolderName({ type: "model", name: spec.repo }));
  let commit = spec.revision;
  if (!COMMIT.test(commit)) {
    const ref = path.join(repoDir, "refs", spec.revision);
    if (!existsSync(ref)) return undefined;
    commit = readFileSync(ref, "utf8").trim();
  }
  const dir = path.join(repoDir, "snapshots", commit);
  return usableSnapshot(dir) ? dir : undefined;
}

interface TreeFile {
  path: string;
  size: number;
  /** sha256 (LFS) or git blob sha1 */
  etag: string;
  kind: "sha256" | "git-sha1";
}

/** Hash a file as the Hub names it: sha256 of the bytes (LFS) or git's blob sha1 ("blob SIZE\0" + bytes). */
async function fileHash(file: string, kind: TreeFile["kind"], size: number): Promise<string> {
  const h = createHash(kind === "sha256" ? "sha256" : "sha1");
  if (kind === "git-sha1") h.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

function progressPrinter(log: (l: string) => void): (p: HubProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 2000 && p.done < p.total) return;
    last = now;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    log(
      `hub: ${p.file} ${mb(p.done)}/${mb(p.total)} MB (${((100 * p.done) / Math.max(1, p.total)).toFixed(0)}%), ` +
        `${mb(p.rate)} MB/s, ETA ${etaText(p.etaMs)}`,
    );
  };
}

/** Link snapshots/COMMIT/FILE to ../../blobs/ETAG (relative, as huggingface_hub does; a copy where links fail). */
async function linkIntoSnapshot(blob: string, pointer: string): Promise<void> {
  await mkdir(path.dirname(pointer), { recursive: true });
  const rel = path.relative(path.dirname(pointer), blob);
  try {
    const st = await lstat(pointer);
    if (st.isSymbolicLink() && (await readlink(pointer)) === rel) return;
    await unlink(pointer);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  try {
    await symlink(rel, pointer);
  } catch {
    await writeFile(pointer, await readFile(blob));
  }
}

/**
 * Download `spec` into the cache (or find it there) and return the snapshot folder. Resumes partial files; checks
 * every file's hash; never logs the token.
 */
export async function downloadHubModel(spec: HubSpec, o: HubOptions = {}): Promise<string> {
  const env = hubEnv(o.env ?? process.env);
  // Lines name the repository's files, and a repository's owner chooses their names: shown, never interpreted.
  const log = (l: string) =>
    (o.log ?? ((s: string) => process.stderr.write(`${s}\n`)))(redactedForTerminal(l, { oneLine: true }));
  const cacheDir = o.cacheDir ?? (o.env ? env.cache : getHFHubCachePath());
  const label = `hf:${spec.repo}@${spec.revision}`;
  const hit = cachedSnapshot(spec, cacheDir);
  if (hit) return hit;
  if (env.offline) throw new ModelError(`${label}: not in the cache ${cacheDir} and HF_HUB_OFFLINE is set`, "config");
  const doFetch = o.fetch ?? fetch;
  const creds = { hubUrl: env.hubUrl, fetch: doFetch, ...(env.token ? { accessToken: env.token } : {}) };
  const fail = (what: string, e: unknown): never => {
    throw new ModelError(`${label}: ${what} at ${env.hubUrl}: ${redactSecrets((e as Error).message)}`, "config");
  };

  // 1. the commit of the revision (GET /api/models/ORG/NAME/revision/REV)
  let commit = spec.revision;
  try {
    const info = await modelInfo({ ...creds, name: spec.repo, revision: spec.revision, additionalFields: ["sha"] });
    commit = String((info as { sha?: string }).sha ?? "");
  } catch (e) {
    fail("cannot read the model's revision", e);
  }
  if (!COMMIT.test(commit))
    throw new ModelError(`${label}: the Hub answered no commit hash for the revision`, "config");
  const repoDir = path.join(cacheDir, getRepoFolderName({ type: "model", name: spec.repo }));
  const snapshot = path.join(repoDir, "snapshots", commit);

  // 2. the files with sizes and hashes (GET /api/models/ORG/NAME/tree/COMMIT)
  const files: TreeFile[] = [];
  try {
    for await (const e of listFiles({ ...creds, repo: { type: "model", name: spec.repo }, revision: commit })) {
      if (e.type !== "file" || !wantedFile(e.path)) continue;
      if (e.lfs) files.push({ path: e.path, size: e.lfs.size, etag: e.lfs.oid, kind: "sha256" });
      else files.push({ path: e.path, size: e.size, etag: String(e.oid), kind: "git-sha1" });
    }
  } catch (e) {
    fail("cannot list the model's files", e);
  }
  if (!files.some((f) => f.path === "config.json"))
    throw new ModelError(`${label}: the repository has no config.json (not a transformers model)`, "config");

  // 3. the bytes, resumable, hash-checked
  const total = files.reduce((a, f) => a + f.size, 0);
  const onProgress = o.onProgress ?? progressPrinter(log);
  const blobsDir = path.join(repoDir, "blobs");
  await mkdir(blobsDir, { recursive: true });
  let done = 0;
  let fetched = 0;
  const started = Date.now();
  for (const f of files) {
    const blob = path.join(blobsDir, f.etag);
    const pointer = path.join(snapshot, f.path);
    if (!existsSync(blob)) {
      await downloadBlob(f, blob, `${env.hubUrl}/${spec.repo}/resolve/${commit}/${encodeURI(f.path)}`, {
        fetch: doFetch,
        token: env.token,
        label,
        log,
        onBytes(fileDone) {
          const rate = fetched / Math.max(1e-3, (Date.now() - started) / 1000);
          const now = done + fileDone;
          onProgress({ file: f.path, done: now, total, rate, etaMs: rate > 0 ? ((total - now) / rate) * 1000 : null });
        },
        onFetched(n) {
          fetched += n;
        },
      });
    }
    done += f.size;
    await linkIntoSnapshot(blob, pointer);
  }
  onProgress({ file: "done", done: total, total, rate: 0, etaMs: 0 });
  // the ref is written last, so a killed download is never mistaken for a complete one
  if (spec.revision !== commit) {
    await mkdir(path.join(repoDir, "refs"), { recursive: true });
    await writeFile(path.join(repoDir, "refs", spec.revision), commit);
  }
  return snapshot;
}

interface BlobDownload {
  fetch: typeof fetch;
  token?: string;
  label: string;
  log: (l: string) => void;
  onBytes(fileDone: number): void;
  onFetched(n: number): void;
}

/** One file into blobs/ETAG via blobs/ETAG.incomplete, continuing a partial one with a Range request. */
async function downloadBlob(f: TreeFile, blob: string, url: string, d: BlobDownload): Promise<void> {
  const part = `${blob}.incomplete`;
  let have = 0;
  try {
    have = (await stat(part)).size;
  } catch {}
  if (have > f.size) have = 0;
  const headers: Record<string, string> = { "Accept-Encoding": "identity" };
  if (d.token) headers.Authorization = `Bearer ${d.token}`;
  if (have > 0) headers.Range = `bytes=${have}-`;
  let res: Response;
  try {
    res = await d.fetch(url, { headers, redirect: "follow" });
  } catch (e) {
    throw new ModelError(
      `${d.label}: ${f.path}: ${redactSecrets((e as Error).message)} (run again to resume)`,
      "network",
    );
  }
  if (res.status === 416 && have === f.size) {
    await res.body?.cancel();
  } else {
    if (!res.ok || !res.body)
      throw new ModelError(
        `${d.label}: ${f.path}: HTTP ${res.status} ${res.statusText}`.trim(),
        res.status >= 500 ? "server" : res.status === 401 || res.status === 403 ? "auth" : "client",
      );
    const resumed = res.status === 206 && have > 0;
    if (have > 0)
      d.log(
        resumed
          ? `hub: ${f.path}: resuming at ${have} of ${f.size} bytes`
          : `hub: ${f.path}: no range support, restarting`,
      );
    if (!resumed) have = 0;
    const fh = await open(part, resumed ? "a" : "w");
    try {
      d.onBytes(have);
      const reader = res.body.getReader();
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (e) {
          throw new ModelError(
            `${d.label}: ${f.path}: connection lost after ${have} of ${f.size} bytes (${redactSecrets((e as Error).message)}); run again to resume`,
            "network",
          );
        }
        if (chunk.done) break;
        await fh.write(chunk.value);
        have += chunk.value.length;
        d.onFetched(chunk.value.length);
        d.onBytes(have);
      }
    } finally {
      await fh.close();
    }
  }
  const size = (await stat(part)).size;
  if (size !== f.size)
    throw new ModelError(`${d.label}: ${f.path}: got ${size} of ${f.size} bytes; run again to resume`, "network");
  const got = await fileHash(part, f.kind, f.size);
  if (got !== f.etag) {
    await unlink(part);
    throw new ModelError(
      `${d.label}: ${f.path}: ${f.kind} ${got} does not match the Hub's ${f.etag}; deleted, run again`,
      "network",
    );
  }
  await rename(part, blob);
}

/**
 * A model spec as a local folder: `hf:ORG/NAME[@REV]` is downloaded (or found in the cache); anything else is
 * returned unchanged (a folder path, a .gguf file, `demo`).
 */
export async function resolveModelSpec(spec: string, o: HubOptions = {}): Promise<string> {
  const hub = parseHubSpec(spec);
  return hub ? downloadHubModel(hub, o) : spec;
}
