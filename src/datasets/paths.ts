import { existsSync } from "node:fs";
import path from "node:path";

/** The repository root (src/datasets -> ../..). */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");

/** The shared read-only benchmark data: $BREAKFIX_DATASETS, else ../shared/datasets beside the repository. */
export function sharedDatasetsDir(): string {
  const env = process.env.BREAKFIX_DATASETS;
  return env ? path.resolve(env) : path.resolve(REPO_ROOT, "../shared/datasets");
}

/**
 * The folder of dataset folders every command reads when none is given (bench, data show, redteam, curate, the
 * cycle): the config's dataCache wherever it exists, else the shared copy. Decision: `breakfix data pull` fills the
 * config's dataCache (the preset's `.breakfix/data` when no breakfix.yaml is found), so what the user pulled is what
 * every command reads, whether or not a config file was found; bench and data show used to ignore a pulled cache with
 * no config file while redteam, curate and the cycle read it, so two commands could measure different copies.
 */
export function defaultDatasetsDir(dataCache: string): string {
  return existsSync(dataCache) ? dataCache : sharedDatasetsDir();
}
