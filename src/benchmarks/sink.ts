/**
 * Results sinks: where item records go. The runner only needs `ResultsSink`; here are an in-memory sink (tests,
 * library use) and an append-only JSONL directory sink (one file per run under DIR/runs/), resumable after a crash:
 * a torn last line left by a kill is cut off on open, so those items are simply run again.
 * The SQLite store (src/store/) stands behind the same interface in store-sink.ts (what `breakfix bench` uses, with
 * this JSONL folder as its export).
 */
import fs from "node:fs";
import path from "node:path";
import type { ItemRecord, ResultsSink, SuiteMetric } from "./types.ts";

export class MemorySink implements ResultsSink {
  readonly records = new Map<string, ItemRecord>();
  async getMany(keys: readonly string[]): Promise<Map<string, ItemRecord>> {
    const out = new Map<string, ItemRecord>();
    for (const k of keys) {
      const r = this.records.get(k);
      if (r) out.set(k, r);
    }
    return out;
  }
  async putMany(records: readonly ItemRecord[]): Promise<void> {
    for (const r of records) if (!this.records.has(r.key)) this.records.set(r.key, r);
  }
  async listRun(runId: string): Promise<ItemRecord[]> {
    return [...this.records.values()].filter((r) => r.runId === runId);
  }
}

/** Summary of a finished run, written beside its records. */
export interface RunSummary {
  runId: string;
  suite: string;
  target: string;
  judge: string;
  sampling: Record<string, unknown>;
  items: number;
  finishedAt: string;
  metrics: SuiteMetric[];
}

const RUN_ID_RE = /^[A-Za-z0-9._@-]+$/;

function checkRunId(runId: string): void {
  if (!RUN_ID_RE.test(runId)) throw new Error(`invalid run id '${runId}'`);
}

/** Cuts a file back to its last newline (drops a torn last line); returns the kept text. */
function repairTail(file: string): string {
  const text = fs.readFileSync(file, "utf8");
  if (text.length === 0 || text.endsWith("\n")) return text;
  const keep = text.slice(0, text.lastIndexOf("\n") + 1);
  fs.truncateSync(file, Buffer.byteLength(keep, "utf8"));
  return keep;
}

/**
 * Reads a run's JSONL record file (e.g. one copied from another machine). A record whose key appears again is counted
 * once (the first copy): an export doubled by two concurrent runs (issue 23) must not count each item twice.
 */
export function readRecordsFile(file: string): ItemRecord[] {
  return uniqueByKey(parseRecords(file, fs.readFileSync(file, "utf8")));
}

function uniqueByKey(records: readonly ItemRecord[]): ItemRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    if (seen.has(r.key)) return false;
    seen.add(r.key);
    return true;
  });
}

function parseRecords(file: string, text: string): ItemRecord[] {
  const out: ItemRecord[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    const r = rec as Partial<ItemRecord>;
    if (typeof r !== "object" || r === null || typeof r.key !== "string" || typeof r.runId !== "string") {
      throw new Error(`${file}:${i + 1}: not an item record (missing key or runId)`);
    }
    out.push(rec as ItemRecord);
  }
  return out;
}

export class JsonlDirSink implements ResultsSink {
  private readonly runsDir: string;
  private readonly loaded = new Map<string, Map<string, ItemRecord>>();

  constructor(readonly dir: string) {
    this.runsDir = path.join(dir, "runs");
    fs.mkdirSync(this.runsDir, { recursive: true });
  }

  runFile(runId: string): string {
    checkRunId(runId);
    return path.join(this.runsDir, `${runId}.jsonl`);
  }

  summaryFile(runId: string): string {
    checkRunId(runId);
    return path.join(this.runsDir, `${runId}.summary.json`);
  }

  private run(runId: string): Map<string, ItemRecord> {
    let m = this.loaded.get(runId);
    if (m) return m;
    m = new Map();
    const file = this.runFile(runId);
    if (fs.existsSync(file)) {
      const all = parseRecords(file, repairTail(file));
      for (const r of all) if (!m.has(r.key)) m.set(r.key, r);
      // Resume repairs a doubled export (two runs that appended the same records before run locks existed): the file
      // is rewritten atomically with each record once, in first-seen order.
      if (m.size < all.length) {
        const tmp = `${file}.dedup-${process.pid}`;
        fs.writeFileSync(tmp, [...m.values()].map((r) => `${JSON.stringify(r)}\n`).join(""));
        fs.renameSync(tmp, file);
      }
    }
    this.loaded.set(runId, m);
    return m;
  }

  /** Looks keys up in one run when given (the runner always knows it), else in every run. */
  async getMany(keys: readonly string[], runId?: string): Promise<Map<string, ItemRecord>> {
    const out = new Map<string, ItemRecord>();
    const runs = runId ? [runId] : this.listRunIds();
    for (const id of runs) {
      const m = this.run(id);
      for (const k of keys) {
        const r = m.get(k);
        if (r && !out.has(k)) out.set(k, r);
      }
    }
    return out;
  }

  async putMany(records: readonly ItemRecord[]): Promise<void> {
    const byRun = new Map<string, ItemRecord[]>();
    for (const r of records) {
      const m = this.run(r.runId);
      if (m.has(r.key)) continue;
      m.set(r.key, r);
      const list = byRun.get(r.runId) ?? [];
      list.push(r);
      byRun.set(r.runId, list);
    }
    for (const [runId, list] of byRun) {
      // One write per batch: a kill leaves at most one torn line, which the next open cuts off.
      fs.appendFileSync(this.runFile(runId), list.map((r) => `${JSON.stringify(r)}\n`).join(""));
    }
  }

  async listRun(runId: string): Promise<ItemRecord[]> {
    return [...this.run(runId).values()];
  }

  listRunIds(): string[] {
    if (!fs.existsSync(this.runsDir)) return [];
    return fs
      .readdirSync(this.runsDir)
      .filter((f) => f.endsWith(".jsonl"))
      .map((f) => f.slice(0, -".jsonl".length))
      .sort();
  }

  writeSummary(summary: RunSummary): void {
    const file = this.summaryFile(summary.runId);
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(summary, null, 2)}\n`);
    fs.renameSync(tmp, file);
  }

  readSummary(runId: string): RunSummary | undefined {
    const file = this.summaryFile(runId);
    if (!fs.existsSync(file)) return undefined;
    return JSON.parse(fs.readFileSync(file, "utf8")) as RunSummary;
  }

  /** Resolves a run reference: an exact run id or a unique prefix of one. */
  resolveRun(ref: string): string {
    const ids = this.listRunIds();
    if (ids.includes(ref)) return ref;
    const matches = ids.filter((id) => id.startsWith(ref));
    if (matches.length === 1) return matches[0];
    if (matches.length === 0) throw new Error(`no run '${ref}' in ${this.runsDir} (runs: ${ids.length})`);
    throw new Error(`run reference '${ref}' is ambiguous: ${matches.slice(0, 5).join(", ")}`);
  }
}
