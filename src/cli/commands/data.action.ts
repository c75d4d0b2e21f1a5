/**
 * The actions of `breakfix data list|show|pull` (registered in data.ts), loaded when one runs: list the built-in
 * loaders; load a dataset (or your own CSV/JSONL file, NAME "custom", with a column mapping) and count its rows by
 * category, label and language; download a dataset from its public source into the cache, verified and atomically
 * written, with a progress bar per file.
 */
import { statSync } from "node:fs";
import path from "node:path";
import cliProgress from "cli-progress";
import { ConfigError, loadConfig, loadConfigWithSource } from "../../config/index.ts";
import {
  DatasetError,
  folderOf,
  formatSummary,
  genericLoader,
  getLoader,
  LOADERS,
  type PullProgress,
  parseMappingSpec,
  pullDataset,
  summarize,
} from "../../datasets/index.ts";
import { defaultDatasetsDir } from "../../datasets/paths.ts";
import { CliError, runFailed } from "../errors.ts";

function cacheDir(flag: string | undefined, configFile: string | undefined): string {
  if (flag) return path.resolve(flag);
  try {
    return loadConfig(configFile).dataCache;
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}

/** Where `data show NAME` reads a dataset given no --path: where `bench` reads it (the cache, else the shared copy). */
function showDir(configFile: string | undefined): string {
  try {
    return defaultDatasetsDir(loadConfigWithSource(configFile).config.dataCache);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}

function asCliError(err: unknown): never {
  if (err instanceof DatasetError) throw new CliError(err.message);
  throw err;
}

export function dataListAction(flags: { json?: boolean }): void {
  const rows = LOADERS.map((l) => ({
    name: l.info.name,
    kind: l.info.kind,
    rows: l.info.rows,
    license: l.info.license,
    title: l.info.title,
    folder: folderOf(l.info.name),
  }));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  const w = Math.max(...rows.map((r) => r.name.length));
  const k = Math.max(...rows.map((r) => r.kind.length));
  for (const r of rows) {
    process.stdout.write(
      `${r.name.padEnd(w)}  ${r.kind.padEnd(k)}  ${String(r.rows).padStart(5)}  ${r.title} [${r.license}]\n`,
    );
  }
  process.stdout.write(
    `\n${rows.length} datasets. Plus "custom": your own CSV/JSONL (data show custom --path F --map ...).\n`,
  );
}

export async function dataShowAction(
  name: string,
  flags: { path?: string; map?: string; config?: string; json?: boolean },
): Promise<void> {
  let loader: ReturnType<typeof getLoader>;
  let where: string;
  if (name === "custom") {
    if (!flags.path || !flags.map) throw new CliError("data show custom needs --path FILE and --map SPEC");
    try {
      loader = genericLoader(parseMappingSpec(flags.map));
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    where = path.resolve(flags.path);
  } else {
    try {
      loader = getLoader(name);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    where = flags.path ? path.resolve(flags.path) : path.join(showDir(flags.config), folderOf(name));
    // A file of the dataset given as --path means its folder.
    if (flags.path && statSync(where, { throwIfNoEntry: false })?.isFile()) where = path.dirname(where);
  }
  const rows = await loader.load(where).catch(asCliError);
  const s = summarize(loader, rows);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(s)}\n`);
  } else {
    process.stdout.write(`${formatSummary(s)}\n`);
  }
}

export async function dataPullAction(
  name: string,
  flags: { cache?: string; from?: string; force?: boolean; verify: boolean; config?: string },
): Promise<void> {
  const all = name === "all";
  const loaders = all ? [...LOADERS] : [getLoaderOrFail(name)];
  const cache = cacheDir(flags.cache, flags.config);
  for (const l of loaders) {
    // With "all", --from is the root that holds one folder per dataset (like ../shared/datasets).
    const from = flags.from && all ? new URL(`${folderOf(l.info.name)}/`, withSlash(flags.from)).href : flags.from;
    const progress = new FileProgress(l.info.name);
    const r = await pullDataset(l, {
      cacheDir: cache,
      from,
      force: flags.force,
      verify: flags.verify,
      onProgress: (p) => progress.update(p),
    })
      .catch((err: unknown) => {
        if (err instanceof DatasetError) {
          throw runFailed(`${l.info.name}: downloaded files do not parse:\n${err.message}`);
        }
        if (err instanceof Error) throw runFailed(err.message);
        throw err;
      })
      .finally(() => progress.stop());
    for (const f of r.files) {
      process.stdout.write(
        `${l.info.name}: ${f.status} ${f.name} (${f.bytes} bytes, sha256 ${f.sha256.slice(0, 12)}...)\n`,
      );
    }
    process.stdout.write(`${l.info.name}: ${r.rows} rows in ${r.dir}\n`);
  }
}

function withSlash(u: string): string {
  return u.endsWith("/") ? u : `${u}/`;
}

/** One progress bar (bytes, percentage, ETA) per file being downloaded, on stderr when it is a terminal. */
class FileProgress {
  private bar: cliProgress.SingleBar | undefined;
  private file = "";

  constructor(private readonly dataset: string) {}

  update(p: PullProgress): void {
    if (!process.stderr.isTTY) return;
    if (p.file !== this.file) {
      this.stop();
      this.file = p.file;
      this.bar = new cliProgress.SingleBar(
        {
          format: ` ${this.dataset}/${p.file} [{bar}] {percentage}% | {value}/{total} bytes | ETA {eta_formatted}`,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(p.total ?? 0, 0);
    }
    if (p.total && this.bar?.getTotal() !== p.total) this.bar?.setTotal(p.total);
    this.bar?.update(p.received);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

function getLoaderOrFail(name: string): ReturnType<typeof getLoader> {
  try {
    return getLoader(name);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
