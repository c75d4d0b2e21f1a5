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
 * The folder of dataset folders read when none is given (`bench`, `data show`): the config's dataCache when a
 * breakfix.yaml was found and the cache exists (`data pull` fills it), else the shared copy.
 */
export function defaultDatasetsDir(dataCache: string, configFound: boolean): string {
  return configFound && existsSync(dataCache) ? dataCache : sharedDatasetsDir();
}
