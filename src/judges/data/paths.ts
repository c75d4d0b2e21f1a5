import { existsSync } from "node:fs";
import path from "node:path";

/** The repository root (src/judges/data -> ../../..). */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");

/** The shared read-only benchmark data folder: $BREAKFIX_DATASETS, else ../shared/datasets beside the repo. */
export function sharedDatasetsDir(): string {
  const env = process.env.BREAKFIX_DATASETS;
  if (env) return path.resolve(env);
  return path.resolve(REPO_ROOT, "../shared/datasets");
}

export const XSTEST_COMPLETIONS_DIR = (): string => path.join(sharedDatasetsDir(), "xstest/human_labelled_completions");

export function hasSharedXstest(): boolean {
  return existsSync(XSTEST_COMPLETIONS_DIR());
}
