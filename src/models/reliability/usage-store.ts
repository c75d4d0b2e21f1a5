/**
 * Per-run usage and cost in the workspace store: snapshots of a UsageMeter saved as `model-usage` artifacts
 * (append-only; one row per save, so a resumed run adds a snapshot instead of overwriting). Snapshots hold model
 * ids, counts, tokens and dollars: never keys or headers.
 */
import type { Store } from "../../store/index.ts";
import type { ModelUsage, UsageMeter } from "./usage.ts";

export const USAGE_ARTIFACT = "model-usage";

export interface UsageRecord {
  runId: string;
  /** What this snapshot covers, e.g. "round-2/break". */
  label?: string;
  savedAt: string;
  models: ModelUsage[];
  totalCostUsd: number;
  totalSavedUsd: number;
}

export function saveUsage(store: Store, runId: string, meter: UsageMeter, label?: string): UsageRecord {
  const record: UsageRecord = { runId, label, savedAt: new Date().toISOString(), ...meter.snapshot() };
  store.artifacts.put(USAGE_ARTIFACT, { runId, label: label ?? null, savedAt: record.savedAt }, record, runId);
  return record;
}

/** Every usage snapshot saved for a run, oldest first. */
export function listUsage(store: Store, runId: string): UsageRecord[] {
  return store.artifacts.list<UsageRecord>(USAGE_ARTIFACT, runId).map((r) => r.value);
}
