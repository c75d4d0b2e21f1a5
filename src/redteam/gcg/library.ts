/**
 * Where GCG results live: per-step progress (resume) and found suffixes (replay) in the workspace store's append-only
 * `artifacts` table, keyed by content hash (insert-or-skip), and the suffix library the `gcg_suffix` converter reads.
 */
import { contentHash } from "../../domain/hash.ts";
import type { Store } from "../../store/store.ts";
import type { GcgProgressStore, GcgPrompt, GcgResult, GcgStepRecord } from "./gcg.ts";

export const GCG_STEP_KIND = "gcg.step";
export const GCG_SUFFIX_KIND = "gcg.suffix";

/** Per-step progress in the store: one artifact per (run key, step). */
export class StoreGcgProgress implements GcgProgressStore {
  constructor(private readonly store: Store) {}
  get(runKey: string, step: number): GcgStepRecord | undefined {
    return this.store.artifacts.get<GcgStepRecord>(GCG_STEP_KIND, { runKey, step });
  }
  put(runKey: string, record: GcgStepRecord): void {
    this.store.artifacts.put(GCG_STEP_KIND, { runKey, step: record.step }, record);
  }
}

/** A found suffix as stored (one per GCG run). */
export interface StoredSuffix {
  runKey: string;
  /** the white-box model it was optimised on */
  model: string;
  prompts: GcgPrompt[];
  suffix: string;
  success: boolean;
  successStep: number | null;
  steps: number;
  loss: number;
}

export function saveSuffix(store: Store, model: string, prompts: readonly GcgPrompt[], r: GcgResult): StoredSuffix {
  const s: StoredSuffix = {
    runKey: r.runKey,
    model,
    prompts: [...prompts],
    suffix: r.suffix,
    success: r.success,
    successStep: r.successStep,
    steps: r.steps,
    loss: r.loss,
  };
  store.artifacts.put(GCG_SUFFIX_KIND, { runKey: r.runKey }, s);
  return s;
}

export function storedSuffixes(store: Store): StoredSuffix[] {
  return store.artifacts.list<StoredSuffix>(GCG_SUFFIX_KIND).map((r) => r.value);
}

/**
 * What the `gcg_suffix` converter draws from when it has no `suffix` parameter: suffixes found for a prompt (exact
 * text) first, else a universal one drawn by the attack's seed.
 */
export interface GcgSuffixLibrary {
  /** prompt text -> suffix optimised for that prompt */
  byPrompt: Readonly<Record<string, string>>;
  /** suffixes meant for any prompt (universal runs, or every successful one as a transfer attempt) */
  universal: readonly string[];
}

/**
 * A library from stored suffixes (successful ones; all of them when none succeeded), in store order: for a prompt with
 * several suffixes the latest stored is used; every suffix is also in the universal pool (a transfer attempt).
 */
export function libraryFromStored(suffixes: readonly StoredSuffix[]): GcgSuffixLibrary {
  const ok = suffixes.filter((s) => s.success);
  const use = ok.length > 0 ? ok : suffixes;
  const byPrompt: Record<string, string> = {};
  // the most recent suffix for a prompt wins (stored in order: the latest model attacked, e.g. the newest round)
  for (const s of use) if (s.prompts.length === 1) byPrompt[s.prompts[0].prompt] = s.suffix;
  const multi = use.filter((s) => s.prompts.length > 1).map((s) => s.suffix);
  const universal = [...new Set([...multi, ...use.map((s) => s.suffix)])];
  return { byPrompt, universal };
}

/**
 * What a library is, for attack and campaign ids: its suffixes by prompt and its universal pool in order (a draw picks
 * from the pool by position). Suffixes stored since a campaign ran change it, so the campaign sends them instead of
 * being served the records of the old ones.
 */
export function gcgLibraryKey(library: GcgSuffixLibrary): string {
  return contentHash({ gcgLibrary: { byPrompt: library.byPrompt, universal: library.universal } });
}
