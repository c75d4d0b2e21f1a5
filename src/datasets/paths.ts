import path from "node:path";

/** The repository root (src/datasets -> ../..). */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");

/** The shared read-only benchmark data: $BREAKFIX_DATASETS, else ../shared/datasets beside the repository. */
export function sharedDatasetsDir(): string {
  const env = process.env.BREAKFIX_DATASETS;
  return env ? path.resolve(env) : path.resolve(REPO_ROOT, "../shared/datasets");
}
