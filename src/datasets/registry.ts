/** Every built-in dataset loader, by name (what `breakfix data list` shows). */
import type { Probe } from "../domain/types.ts";
import { advbench, advbenchStrings } from "./loaders/advbench.ts";
import { ailuminate } from "./loaders/ailuminate.ts";
import { catqa } from "./loaders/catqa.ts";
import { doNotAnswer } from "./loaders/do-not-answer.ts";
import { harmbench, harmbenchTest, harmbenchVal } from "./loaders/harmbench.ts";
import { hhRlhfHarmless } from "./loaders/hh-rlhf.ts";
import { jailbreakbench } from "./loaders/jailbreakbench.ts";
import { multijail } from "./loaders/multijail.ts";
import { simplesafetytests } from "./loaders/simplesafetytests.ts";
import { strongreject, strongrejectSmall } from "./loaders/strongreject.ts";
import { xstest, xstestCompletions } from "./loaders/xstest.ts";
import type { DatasetLoader } from "./types.ts";

/** Loaders whose rows are probes (usable as benchmark suites and red-team seeds). */
export const PROBE_LOADERS: readonly DatasetLoader<Probe>[] = [
  xstest,
  advbench,
  harmbench,
  harmbenchTest,
  harmbenchVal,
  jailbreakbench,
  strongreject,
  strongrejectSmall,
  simplesafetytests,
  doNotAnswer,
  multijail,
  catqa,
  ailuminate,
];

/** A loader of any row type (the registry is heterogeneous; each entry is fully typed where it is defined). */
export type AnyLoader = DatasetLoader<unknown>;

export const LOADERS: readonly AnyLoader[] = [...PROBE_LOADERS, xstestCompletions, advbenchStrings, hhRlhfHarmless];

/**
 * The shared-folder name of each dataset (the folder under ../shared/datasets or the pull cache): variants of one
 * benchmark (harmbench-test, strongreject-small, xstest-completions) share their benchmark's folder.
 */
export function folderOf(name: string): string {
  const map: Record<string, string> = {
    "harmbench-test": "harmbench",
    "harmbench-val": "harmbench",
    "strongreject-small": "strongreject",
    "advbench-strings": "advbench",
    "xstest-completions": "xstest",
  };
  return map[name] ?? name;
}

export function datasetNames(): string[] {
  return LOADERS.map((l) => l.info.name);
}

export function findLoader(name: string): AnyLoader | undefined {
  return LOADERS.find((l) => l.info.name === name);
}

/** The loader called `name`; throws listing the known names. */
export function getLoader(name: string): AnyLoader {
  const l = findLoader(name);
  if (!l) throw new Error(`unknown dataset '${name}'; known: ${datasetNames().join(", ")}`);
  return l;
}

/** The probe loader called `name` (for benchmark suites and red-team seeds). */
export function getProbeLoader(name: string): DatasetLoader<Probe> {
  const l = PROBE_LOADERS.find((x) => x.info.name === name);
  if (!l) {
    throw new Error(
      `'${name}' is not a probe dataset; probe datasets: ${PROBE_LOADERS.map((x) => x.info.name).join(", ")}`,
    );
  }
  return l;
}
