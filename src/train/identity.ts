/**
 * What a training output folder is a run of (issue 23): a hash of the data file contents, the base model's
 * fingerprint and the settings that decide the weights, recorded in OUT/identity.json when the run starts.
 * `breakfix train` resumes only a folder of the same run; a folder of another run (or one written before identities
 * existed) is refused with the differences named, or cleared first when the caller says so (`--overwrite`).
 */
import { createHash, randomUUID } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { heldLockTokens, lockHolderAlive } from "../store/store.ts";

export const IDENTITY_FILE = "identity.json";

/** What a run writes into its output folder: all of it is removed by `clearRunOutputs`, nothing else is. */
export const RUN_OUTPUTS = [
  "checkpoints",
  "metrics.jsonl",
  "run.json",
  "adapter",
  "adapter.gguf",
  "model",
  IDENTITY_FILE,
] as const;

export interface RunIdentity {
  version: 1;
  /** sha256 of the training data file's bytes. */
  data: string;
  /** sha256 of the eval file's bytes, or null when the eval rows are a hashed share of the data. */
  evalData: string | null;
  /** The model folder's content fingerprint (models/fingerprint.ts: config, weights, tokenizer files). */
  model: string;
  /** The settings that decide the weights (flat, JSON values). */
  settings: Record<string, unknown>;
}

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** Flattens nested settings to dotted keys (so a difference names the setting, e.g. `lora.r`). */
export function flatSettings(o: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v))
      Object.assign(out, flatSettings(v as Record<string, unknown>, key));
    else out[key] = v;
  }
  return out;
}

export function identityHash(id: RunIdentity): string {
  const settings = Object.fromEntries(Object.entries(id.settings).sort(([a], [b]) => a.localeCompare(b)));
  return sha256(JSON.stringify({ ...id, settings }));
}

const short = (h: string | null) => (h === null ? "none" : h.slice(0, 12));
const show = (v: unknown) => (v === undefined ? "(unset)" : JSON.stringify(v));

/** Human-readable differences between the recorded identity and this run's. */
export function identityDiff(was: RunIdentity, now: RunIdentity): string[] {
  const out: string[] = [];
  if (was.data !== now.data) out.push(`the data file's contents (sha256 ${short(was.data)} -> ${short(now.data)})`);
  if (was.evalData !== now.evalData)
    out.push(`the eval data (sha256 ${short(was.evalData)} -> ${short(now.evalData)})`);
  if (was.model !== now.model) out.push(`the model (fingerprint ${short(was.model)} -> ${short(now.model)})`);
  const keys = [...new Set([...Object.keys(was.settings ?? {}), ...Object.keys(now.settings)])].sort();
  for (const k of keys) {
    const a = was.settings?.[k];
    const b = now.settings[k];
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${k}: ${show(a)} -> ${show(b)}`);
  }
  return out;
}

/** The output folder holds another run (or one without an identity) and the caller did not ask to overwrite it. */
export class OutputFolderError extends Error {
  constructor(
    readonly outDir: string,
    readonly differences: readonly string[],
  ) {
    super(
      `${outDir} holds ${differences.length ? "a training run with different inputs" : "training outputs with no recorded identity"}, so it cannot be resumed${
        differences.length ? `: ${differences.join("; ")}` : ""
      }. Use another --out, or --overwrite to delete its checkpoints and exports and start clean.`,
    );
    this.name = "OutputFolderError";
  }
}

function readIdentity(outDir: string): RunIdentity | undefined {
  const f = join(outDir, IDENTITY_FILE);
  if (!existsSync(f)) return undefined;
  try {
    const v = JSON.parse(readFileSync(f, "utf8")) as RunIdentity;
    return v && v.version === 1 && typeof v.data === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

export function clearRunOutputs(outDir: string): void {
  for (const f of RUN_OUTPUTS) rmSync(join(outDir, f), { recursive: true, force: true });
}

/**
 * Makes `outDir` ready for the run `id`: an empty folder or one of the same run is kept (resume); anything else is
 * refused, or cleared when `overwrite`. Records the identity. Returns whether an earlier state of the run was found.
 */
export function claimOutputFolder(outDir: string, id: RunIdentity, overwrite: boolean): "fresh" | "same" | "cleared" {
  const present = RUN_OUTPUTS.filter((f) => existsSync(join(outDir, f)));
  const was = readIdentity(outDir);
  let state: "fresh" | "same" | "cleared" = "fresh";
  if (was && identityHash(was) === identityHash(id)) state = "same";
  else if (present.length > 0) {
    if (!overwrite) throw new OutputFolderError(outDir, was ? identityDiff(was, id) : []);
    clearRunOutputs(outDir);
    state = "cleared";
  }
  writeFileSync(join(outDir, IDENTITY_FILE), `${JSON.stringify(id, null, 2)}\n`);
  return state;
}

export const LOCK_FILE = ".lock";

export interface FolderLockHolder {
  pid: number;
  host: string;
  at: string;
  token?: string;
}

/**
 * Locks an output folder for one training run (issue 23: two `breakfix train` runs on one --out both trained and
 * wrote the same files). The lock is OUT/.lock, created exclusively and holding the owner's pid, host and a token;
 * a second run waits while a live process holds it (`onWait` once) and takes over a lock whose process is gone on this
 * host (kill -9; or its pid is this process's, reused after a container restart, on a lock this process never took:
 * store.ts lockHolderAlive). Returns the release function. Limit: two processes that find the same stale lock at the
 * same moment can both take it over; a live holder is never displaced.
 */
export async function lockOutputFolder(
  outDir: string,
  o: { pollMs?: number; onWait?: (holder: FolderLockHolder) => void } = {},
): Promise<() => void> {
  const file = join(outDir, LOCK_FILE);
  const token = randomUUID();
  let told = false;
  for (;;) {
    try {
      const fd = openSync(file, "wx");
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString(), token }));
      } finally {
        closeSync(fd);
      }
      heldLockTokens.add(token);
      return () => {
        heldLockTokens.delete(token);
        try {
          if ((JSON.parse(readFileSync(file, "utf8")) as { token?: string }).token === token) unlinkSync(file);
        } catch {
          // already gone, or taken over: nothing of ours to release
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let holder: FolderLockHolder | undefined;
    try {
      holder = JSON.parse(readFileSync(file, "utf8")) as FolderLockHolder;
    } catch {
      // being written right now (or removed): look again shortly
    }
    // stale: its process is gone, or it names this process's pid but not a lock this process took (pid reuse)
    if (holder && !lockHolderAlive(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (holder && !told) {
      told = true;
      o.onWait?.(holder);
    }
    await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 250));
  }
}
