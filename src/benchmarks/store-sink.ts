/**
 * Benchmark results in the workspace's SQLite store (src/store/), the database the rest of the cycle uses, with the
 * JSONL files kept as an export beside it.
 *
 * - `StoreSink`: item records in the store's append-only `artifacts` table (kind "bench.record", keyed by the
 *   record's resume key, run id in the indexed `run_id` column); each batch is one transaction, so a kill leaves
 *   either the whole batch or none of it. `breakfix bench` and the cycle's measurements both write through it, so a
 *   killed measurement resumes item by item and never writes a record twice. Run summaries are kind "bench.summary" (one row per finished invocation,
 *   keyed by its content; the latest is the current one), and every metric of a summary also goes to the store's
 *   `metrics` table under the bench run id, so reports and the cycle read them with the other metrics.
 * - `BenchResults`: the store as the primary sink plus a `JsonlDirSink` export (`runs/<run>.jsonl` and
 *   `<run>.summary.json`, what `bench compare FILE.jsonl` and other tools read). Resume looks in both and repairs
 *   either side from the other, so results written before the store existed, or a JSONL export cut short by a kill
 *   between the two writes, are never run again and end up in both places.
 */
import type { Store } from "../store/store.ts";
import type { JsonlDirSink, RunSummary } from "./sink.ts";
import type { ItemRecord, ResultsSink } from "./types.ts";

export const BENCH_RECORD_KIND = "bench.record";
export const BENCH_SUMMARY_KIND = "bench.summary";

const HEX64 = /^[0-9a-f]{64}$/;
/** The store key of a record: its resume key verbatim (a content hash), else the hash of it. */
const keyOf = (key: string): unknown => (HEX64.test(key) ? { hash: key } : { benchRecord: key });

export class StoreSink implements ResultsSink {
  constructor(readonly store: Store) {}

  async getMany(keys: readonly string[], runId?: string): Promise<Map<string, ItemRecord>> {
    const out = new Map<string, ItemRecord>();
    if (runId !== undefined) {
      // the runner always knows its run: one indexed scan instead of a lookup per key
      const stored = new Map<string, ItemRecord>();
      for (const r of this.store.artifacts.list<ItemRecord>(BENCH_RECORD_KIND, runId)) stored.set(r.value.key, r.value);
      for (const k of keys) {
        const r = stored.get(k);
        if (r) out.set(k, r);
      }
      return out;
    }
    for (const k of keys) {
      const r = this.store.artifacts.get<ItemRecord>(BENCH_RECORD_KIND, keyOf(k));
      if (r) out.set(k, r);
    }
    return out;
  }

  async putMany(records: readonly ItemRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.store.transaction(() => {
      for (const r of records) this.store.artifacts.put(BENCH_RECORD_KIND, keyOf(r.key), r, r.runId);
    });
  }

  async listRun(runId: string): Promise<ItemRecord[]> {
    return this.store.artifacts.list<ItemRecord>(BENCH_RECORD_KIND, runId).map((r) => r.value);
  }

  /** Run ids with records in the store, sorted. */
  listRunIds(): string[] {
    const rows = this.store.db
      .prepare("SELECT DISTINCT run_id FROM artifacts WHERE kind = ? AND run_id IS NOT NULL ORDER BY run_id")
      .all(BENCH_RECORD_KIND) as { run_id: string }[];
    return rows.map((r) => r.run_id);
  }

  /** Stores a run summary and its metrics (metrics rows keyed by run, summary content and name: re-runs add none). */
  writeSummary(summary: RunSummary): void {
    const { finishedAt: _f, ...content } = summary;
    this.store.transaction(() => {
      const { hash } = this.store.artifacts.put(BENCH_SUMMARY_KIND, { benchSummary: content }, summary, summary.runId);
      this.store.metrics.putMany(
        summary.metrics.map((m) => ({
          key: { benchMetric: summary.runId, summary: hash, name: m.name },
          value: m,
          scope: { runId: summary.runId, parentHash: hash },
        })),
      );
    });
  }

  /** The latest summary of a run. */
  readSummary(runId: string): RunSummary | undefined {
    return this.store.artifacts.list<RunSummary>(BENCH_SUMMARY_KIND, runId).at(-1)?.value;
  }
}

/** Resolves an exact run id or a unique prefix of one among `ids`. */
export function resolveRunRef(ref: string, ids: readonly string[], where: string): string {
  if (ids.includes(ref)) return ref;
  const matches = ids.filter((id) => id.startsWith(ref));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) throw new Error(`no run '${ref}' in ${where} (runs: ${ids.length})`);
  throw new Error(`run reference '${ref}' is ambiguous: ${matches.slice(0, 5).join(", ")}`);
}

/** The store as the primary results sink, the JSONL folder as its export; see the file comment. */
export class BenchResults implements ResultsSink {
  readonly db: StoreSink;

  constructor(
    store: Store,
    readonly jsonl: JsonlDirSink,
  ) {
    this.db = new StoreSink(store);
  }

  async getMany(keys: readonly string[], runId?: string): Promise<Map<string, ItemRecord>> {
    const [inDb, inFiles] = await Promise.all([this.db.getMany(keys, runId), this.jsonl.getMany(keys, runId)]);
    const toDb = [...inFiles.values()].filter((r) => !inDb.has(r.key));
    const toFiles = [...inDb.values()].filter((r) => !inFiles.has(r.key));
    await this.db.putMany(toDb);
    await this.jsonl.putMany(toFiles);
    const out = new Map(inDb);
    for (const r of toDb) out.set(r.key, r);
    return out;
  }

  /** The store first (one transaction), then the export. */
  async putMany(records: readonly ItemRecord[]): Promise<void> {
    await this.db.putMany(records);
    await this.jsonl.putMany(records);
  }

  async listRun(runId: string): Promise<ItemRecord[]> {
    const fromDb = await this.db.listRun(runId);
    return fromDb.length > 0 ? fromDb : this.jsonl.listRun(runId);
  }

  listRunIds(): string[] {
    return [...new Set([...this.db.listRunIds(), ...this.jsonl.listRunIds()])].sort();
  }

  writeSummary(summary: RunSummary): void {
    this.db.writeSummary(summary);
    this.jsonl.writeSummary(summary);
  }

  readSummary(runId: string): RunSummary | undefined {
    return this.db.readSummary(runId) ?? this.jsonl.readSummary(runId);
  }

  resolveRun(ref: string): string {
    return resolveRunRef(ref, this.listRunIds(), `the store or ${this.jsonl.dir}`);
  }
}
