/**
 * The download registry: sources.yaml says where `breakfix data pull` fetches each dataset file, the sha256 of the
 * reviewed copy, and whether the URL is pinned to an immutable revision or is an explicit exception on a moving branch
 * (`moving`, with the reason). Loaders take their `info.files` from here, so URLs, revisions and checksums live in one
 * data file.
 */
import path from "node:path";
import { z } from "zod";
import { loadDataFile } from "../domain/data-file.ts";
import type { RemoteFile } from "./types.ts";

export const SOURCES_FILE = path.join(import.meta.dirname, "sources.yaml");

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a lower-case hex sha256");
/** A full git commit id (a branch or tag name can move). */
const HEX40 = /^[0-9a-f]{40}$/;
const commit = z.string().regex(HEX40, "expected a 40-hex commit");

/**
 * Where a file was checked: a fetched copy of `repo` at `commit`, and the sha256 of `git show <commit>:<path>` there.
 * For a pinned URL, the URL's commit; for HarmBench and StrongREJECT (upstream not fetchable), the repository the
 * reviewed shared copy was taken from (`note` says so).
 */
const verifiedSchema = z.strictObject({
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name"),
  commit,
  path: z.string().min(1),
  sha256,
  note: z.string().min(1).optional(),
});

const entrySchema = z.strictObject({
  url: z.url(),
  sha256: sha256.optional(),
  moving: z.string().min(20).optional(),
  verified: verifiedSchema.optional(),
});

const schema = z.record(z.string(), z.record(z.string(), entrySchema));

export type SourceEntry = z.output<typeof entrySchema>;
export type VerifiedAt = z.output<typeof verifiedSchema>;

/** One row of sources.yaml with its folder and file name. */
export interface RegistryEntry extends SourceEntry {
  folder: string;
  name: string;
}

let cache: z.output<typeof schema> | undefined;
function sources(): z.output<typeof schema> {
  cache ??= loadDataFile(SOURCES_FILE, schema);
  return cache;
}

/** Every row of sources.yaml, in file order. */
export function registryEntries(): RegistryEntry[] {
  return Object.entries(sources()).flatMap(([folder, files]) =>
    Object.entries(files).map(([name, e]) => ({ folder, name, ...e })),
  );
}

/** The sources.yaml row of `name` in dataset folder `folder`; throws when there is none. */
export function sourceOf(folder: string, name: string): SourceEntry {
  const e = sources()[folder]?.[name];
  if (!e) throw new Error(`${SOURCES_FILE}: no entry for ${folder}/${name}`);
  return e;
}

/** The RemoteFile `data pull` fetches for `name` in `folder` (url, sha256 and, off a pinned revision, `moving`). */
export function remoteFile(folder: string, name: string): RemoteFile {
  const e = sourceOf(folder, name);
  return {
    name,
    url: e.url,
    ...(e.sha256 ? { sha256: e.sha256 } : {}),
    ...(e.moving ? { moving: e.moving } : {}),
  };
}

/**
 * Whether a URL names an immutable revision: `raw.githubusercontent.com/OWNER/REPO/<commit>/...` or
 * `huggingface.co/datasets/OWNER/REPO/resolve/<commit>/...` with a full 40-hex commit (a branch or tag can move).
 */
export function isPinnedUrl(url: string): boolean {
  const u = new URL(url);
  const parts = u.pathname.split("/").filter(Boolean);
  if (u.hostname === "raw.githubusercontent.com") return parts.length >= 4 && HEX40.test(parts[2]);
  if (u.hostname === "huggingface.co") {
    return parts[0] === "datasets" && parts[3] === "resolve" && parts.length >= 6 && HEX40.test(parts[4]);
  }
  return false;
}
