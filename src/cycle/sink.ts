/**
 * A benchmark ResultsSink over the workspace store: each suite record is an artefact (kind "bench.record") keyed by
 * the runner's record key, so a killed measurement resumes item by item and never writes a record twice. The run
 * index is a second artefact per record (kind "bench.run-item", key = run id + record key).
 */
import type { ItemRecord, ResultsSink } from "../benchmarks/types.ts";
import type { Store } from "../store/store.ts";

export const BENCH_RECORD_KIND = "bench.record";

export class StoreSink implements ResultsSink {
  constructor(private readonly store: Store) {}

  async getMany(keys: readonly string[]): Promise<Map<string, ItemRecord>> {
    const out = new Map<string, ItemRecord>();
    for (const k of keys) {
      const r = this.store.artifacts.get<ItemRecord>(BENCH_RECORD_KIND, { hash: k });
      if (r) out.set(k, r);
    }
    return out;
  }

  async putMany(records: readonly ItemRecord[]): Promise<void> {
    this.store.transaction(() => {
      for (const r of records) this.store.artifacts.put(BENCH_RECORD_KIND, { hash: r.key }, r, r.runId);
    });
  }

  async listRun(runId: string): Promise<ItemRecord[]> {
    return this.store.artifacts.list<ItemRecord>(BENCH_RECORD_KIND, runId).map((r) => r.value);
  }
}
