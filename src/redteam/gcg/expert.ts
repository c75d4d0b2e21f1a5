/**
 * The expert persona's suffixes: against a local Hugging Face folder (white box) GCG runs on every seed first (stored
 * per step, so a killed run resumes; found suffixes stored for later replays); against any other target (llama.cpp,
 * HTTP: black box) the suffixes stored in the workspace are replayed (transfer). Returns undefined when there are none.
 */
import path from "node:path";
import type { Probe } from "../../domain/types.ts";
import type { Executor } from "../../nn/ir.ts";
import type { Store } from "../../store/store.ts";
import { DEFAULT_GCG_TARGET } from "../defaults.ts";
import { type GcgOptions, type GcgStepRecord, runGcg } from "./gcg.ts";
import {
  type GcgSuffixLibrary,
  libraryFromStored,
  type StoredSuffix,
  StoreGcgProgress,
  saveSuffix,
  storedSuffixes,
} from "./library.ts";
import { isLocalHfFolder, loadWhiteBox } from "./whitebox.ts";

/** The default target answer GCG optimises for (defaults.ts: "Sure.", the paper's affirmative opening, shortened). */
export { DEFAULT_GCG_TARGET };

export interface ExpertArgs {
  /** the campaign's target: provider and model (a folder for builtin) */
  target: { provider: string; model: string };
  seeds: readonly Probe[];
  store: Store;
  /** the answer opening to optimise for, per seed (default DEFAULT_GCG_TARGET) */
  targetText?: (p: Probe) => string;
  options?: GcgOptions;
  executor: () => Executor;
  log?: (line: string) => void;
  onStep?: (seed: number, r: GcgStepRecord, steps: number) => void;
}

/** The local folder of a white-box target, or undefined. */
export function whiteBoxFolder(target: { provider: string; model: string }): string | undefined {
  if (target.provider !== "builtin") return undefined;
  const dir = path.resolve(target.model);
  return isLocalHfFolder(dir) ? dir : undefined;
}

/**
 * What expertSuffixes would do, said without running GCG or writing anything (a dry run's plan): on a white-box
 * target GCG would search a suffix per seed, so the plan has suffixes; on any other target the stored ones (`stored`,
 * none when the workspace has no store yet) would be replayed, and the plan has suffixes only when there are some.
 */
export function plannedExpertSuffixes(
  target: { provider: string; model: string },
  seeds: number,
  steps: number,
  stored: readonly StoredSuffix[],
): { available: boolean; note: string } {
  const folder = whiteBoxFolder(target);
  if (folder)
    return {
      available: true,
      note: `gcg: suffixes would be searched on the white-box target ${folder} (${seeds} seeds x ${steps} steps; ${stored.length} suffixes stored in the workspace); a dry run runs no GCG`,
    };
  return {
    available: stored.length > 0,
    note: `gcg: black-box target; ${stored.length} stored suffixes would be replayed`,
  };
}

export async function expertSuffixes(a: ExpertArgs): Promise<GcgSuffixLibrary | undefined> {
  const folder = whiteBoxFolder(a.target);
  if (folder) {
    const wb = loadWhiteBox(folder);
    const executor = a.executor();
    let found = 0;
    for (const [i, p] of a.seeds.entries()) {
      const prompts = [{ prompt: p.prompt, target: a.targetText?.(p) ?? DEFAULT_GCG_TARGET }];
      const r = await runGcg({
        target: wb,
        prompts,
        executor,
        options: a.options,
        progress: new StoreGcgProgress(a.store),
        onStep: (s, n) => a.onStep?.(i, s, n),
      });
      saveSuffix(a.store, wb.id, prompts, r);
      if (r.success) found++;
      a.log?.(
        `gcg ${i + 1}/${a.seeds.length} ${p.id}: ${r.success ? `success at step ${r.successStep}` : "no success"}`,
      );
    }
    a.log?.(`gcg: ${found}/${a.seeds.length} seeds broken on the white-box target`);
    const mine = storedSuffixes(a.store).filter((s) => s.model === wb.id);
    return libraryFromStored(mine);
  }
  const stored = storedSuffixes(a.store);
  a.log?.(`gcg: black-box target; replaying ${stored.length} stored suffixes`);
  return stored.length ? libraryFromStored(stored) : undefined;
}
