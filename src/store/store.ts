/**
 * The workspace database: one SQLite file per workspace (`<workspace>/breakfix.db`), WAL mode, versioned migrations
 * (see migrations.ts for the schema). Every record that costs model calls is keyed by the content hash of what
 * produced it, so a re-run computes the same key, `INSERT ... ON CONFLICT DO NOTHING` skips it, and no duplicate is
 * ever written. Records are append-only: nothing is UPDATEd; status changes are new rows in `states`.
 * Batches (`putMany`, `store.transaction`) are atomic: a crash mid-batch leaves none of the batch behind.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import type { z } from "zod";
import {
  type Attack,
  type Conversation,
  canonicalJson,
  contentHash,
  type Finding,
  type Judgement,
  type Metric,
  type Probe,
  probeSchema,
  type RefusalClass,
  type Response,
  type RoundRecord,
  type Vulnerability,
} from "../domain/index.ts";
import { pidStartTime, processAlive } from "../domain/shell.ts";
import { MIGRATIONS, type Migration } from "./migrations.ts";

type Db = Database.Database;
type SqlValue = string | number | null;

export const DB_FILENAME = "breakfix.db";

/** Where a record belongs: the run that wrote it, its round, and the record it derives from. */
export interface Scope {
  runId?: string;
  round?: number;
  parentHash?: string;
}

export interface Stored<T> {
  seq: number;
  hash: string;
  runId: string | null;
  round: number | null;
  parentHash: string | null;
  createdAt: string;
  value: T;
}

export interface PutResult {
  hash: string;
  /** false when a record with this hash already existed (the new value was not written). */
  inserted: boolean;
}

export interface BatchItem<T> {
  /** What produced the value (hashed with contentHash), or a precomputed hash via `{ hash }`. */
  key: unknown;
  value: T;
  scope?: Scope;
}

export interface BatchResult {
  inserted: number;
  skipped: number;
  hashes: string[];
}

/** A run of a stage or of the whole cycle. */
export interface RunRecord {
  kind: string;
  startedAt: string;
  /** Content hash of the resolved config the run used. */
  configHash?: string;
  args?: Record<string, unknown>;
}

export interface RunHandle {
  runId: string;
  /** The run existed before (this is a re-run that resumes it). */
  resumed: boolean;
  /** Its state before this start (e.g. "failed" or "running" after a crash). */
  previousState?: string;
}

/** One curated training row (SFT example, preference pair, ...) in a named dataset. */
export interface DatasetRow<T = unknown> {
  dataset: string;
  kind: string;
  row: T;
}

export interface TrainingRunRecord {
  kind: string;
  baseModel?: string;
  resultModel?: string;
  params: Record<string, unknown>;
}

/** What a human review is about: a stored record whose judgement the reviewer checked. */
export type ReviewTargetKind = "redteam.record" | "bench.record";

/**
 * A person's verdict on one judgement (append-only; the latest review of a target is the current one). `judged` is a
 * snapshot of what was judged and what the judge said, so a review can calibrate any judge on its own.
 */
export interface Review {
  targetKind: ReviewTargetKind;
  /** The target's artifact hash. */
  target: string;
  reviewer: string;
  /** Was the judge right? */
  verdict: "correct" | "wrong";
  /** The reviewer's own label (the right refusal class, e.g. "full_refusal"), required when the verdict is wrong. */
  label?: string;
  note?: string;
  /** ISO-8601 UTC time of the review. */
  at: string;
  judged: {
    judgeId: string;
    label: string;
    refusal?: RefusalClass;
    severity?: number;
    conversation: Conversation;
    response: string;
    category?: string;
    language?: string;
    probeId?: string;
    goal?: string;
  };
}

/** A judgement is stored with its response as parent (scope.parentHash). */
export type JudgementRecord = Judgement;

/** Precomputed key: pass `{ hash: "..." }` as a key to use that hash verbatim. */
export interface HashKey {
  hash: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The record key: a precomputed `{ hash }`, else contentHash(producer). */
export function keyHash(key: unknown): string {
  if (key && typeof key === "object" && !Array.isArray(key) && Object.keys(key).length === 1 && "hash" in key) {
    const h = (key as HashKey).hash;
    if (typeof h === "string" && HEX64.test(h)) return h;
  }
  return contentHash(key);
}

function now(): string {
  return new Date().toISOString();
}

interface TableSpec<T> {
  table: string;
  /** Copied-out columns used for filtering. */
  columns: Record<string, (value: T) => SqlValue>;
  schema?: z.ZodType;
}

interface Row {
  seq: number;
  hash: string;
  run_id: string | null;
  round: number | null;
  parent_hash: string | null;
  created_at: string;
  payload: string;
}

/** An append-only table of records keyed by content hash. */
export class RecordTable<T, F extends string = string> {
  private readonly insert: Database.Statement;
  private readonly byHash: Database.Statement;
  private readonly countAll: Database.Statement;
  private readonly cols: string[];

  constructor(
    private readonly db: Db,
    private readonly spec: TableSpec<T>,
  ) {
    this.cols = Object.keys(spec.columns);
    const all = ["hash", "run_id", "round", "parent_hash", "created_at", ...this.cols, "payload"];
    this.insert = db.prepare(
      `INSERT INTO ${spec.table} (${all.join(", ")}) VALUES (${all.map(() => "?").join(", ")}) ON CONFLICT(hash) DO NOTHING`,
    );
    this.byHash = db.prepare(`SELECT * FROM ${spec.table} WHERE hash = ?`);
    this.countAll = db.prepare(`SELECT COUNT(*) AS n FROM ${spec.table}`);
  }

  get name(): string {
    return this.spec.table;
  }

  /** The hash a record produced by `key` is stored under. */
  keyOf(key: unknown): string {
    return keyHash(key);
  }

  /** Writes a record unless one with the same key exists. Never overwrites. */
  put(key: unknown, value: T, scope: Scope = {}): PutResult {
    if (this.spec.schema) {
      const r = this.spec.schema.safeParse(value);
      if (!r.success) {
        throw new Error(
          `store: ${this.spec.table}: invalid record: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
      }
    }
    const hash = keyHash(key);
    const extra = this.cols.map((c) => this.spec.columns[c](value));
    const info = this.insert.run(
      hash,
      scope.runId ?? null,
      scope.round ?? null,
      scope.parentHash ?? null,
      now(),
      ...extra,
      canonicalJson(value),
    );
    return { hash, inserted: info.changes === 1 };
  }

  /** Writes a batch in one transaction: all of it lands, or (on a crash or error) none of it. */
  putMany(items: readonly BatchItem<T>[]): BatchResult {
    const run = this.db.transaction((batch: readonly BatchItem<T>[]) => {
      let inserted = 0;
      const hashes: string[] = [];
      for (const it of batch) {
        const r = this.put(it.key, it.value, it.scope);
        hashes.push(r.hash);
        if (r.inserted) inserted++;
      }
      return { inserted, skipped: batch.length - inserted, hashes };
    });
    return run.immediate(items);
  }

  has(key: unknown): boolean {
    return this.byHash.get(keyHash(key)) !== undefined;
  }

  /** The stored value for `key`, or undefined. */
  get(key: unknown): T | undefined {
    return this.getRecord(key)?.value;
  }

  getRecord(key: unknown): Stored<T> | undefined {
    const row = this.byHash.get(keyHash(key)) as Row | undefined;
    return row ? this.decode(row) : undefined;
  }

  count(filter: Partial<Record<F | "run_id" | "round" | "parent_hash", SqlValue>> = {}): number {
    if (Object.keys(filter).length === 0) return (this.countAll.get() as { n: number }).n;
    const { where, params } = this.where(filter);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM ${this.spec.table} ${where}`).get(...params) as { n: number }).n;
  }

  /** Records in insertion order, optionally filtered on copied-out columns. */
  list(
    filter: Partial<Record<F | "run_id" | "round" | "parent_hash", SqlValue>> = {},
    opts: { limit?: number; offset?: number } = {},
  ): Stored<T>[] {
    const { where, params } = this.where(filter);
    const rows = this.db
      .prepare(`SELECT * FROM ${this.spec.table} ${where} ORDER BY seq LIMIT ? OFFSET ?`)
      .all(...params, opts.limit ?? -1, opts.offset ?? 0) as Row[];
    return rows.map((r) => this.decode(r));
  }

  /** Iterates records in insertion order without loading them all. */
  *iterate(
    filter: Partial<Record<F | "run_id" | "round" | "parent_hash", SqlValue>> = {},
  ): IterableIterator<Stored<T>> {
    const { where, params } = this.where(filter);
    for (const r of this.db.prepare(`SELECT * FROM ${this.spec.table} ${where} ORDER BY seq`).iterate(...params)) {
      yield this.decode(r as Row);
    }
  }

  private where(filter: Record<string, SqlValue | undefined>): { where: string; params: SqlValue[] } {
    const allowed = new Set(["run_id", "round", "parent_hash", ...this.cols]);
    const parts: string[] = [];
    const params: SqlValue[] = [];
    for (const [k, v] of Object.entries(filter)) {
      if (v === undefined) continue;
      if (!allowed.has(k)) throw new Error(`store: ${this.spec.table} has no filter column '${k}'`);
      if (v === null) parts.push(`${k} IS NULL`);
      else {
        parts.push(`${k} = ?`);
        params.push(v);
      }
    }
    return { where: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
  }

  private decode(r: Row): Stored<T> {
    return {
      seq: r.seq,
      hash: r.hash,
      runId: r.run_id,
      round: r.round,
      parentHash: r.parent_hash,
      createdAt: r.created_at,
      value: JSON.parse(r.payload) as T,
    };
  }
}

/** Response cache for the models layer: key (usually contentHash of the request) -> JSON value. First write wins. */
export class ResponseCache {
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  private readonly countStmt: Database.Statement;

  constructor(db: Db) {
    this.getStmt = db.prepare("SELECT value FROM cache WHERE key = ?");
    this.putStmt = db.prepare(
      "INSERT INTO cache (key, model, created_at, value) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
    );
    this.countStmt = db.prepare("SELECT COUNT(*) AS n FROM cache");
  }

  /** The cache key of a request object. */
  keyOf(request: unknown): string {
    return keyHash(request);
  }

  get<V = unknown>(key: string): V | undefined {
    const row = this.getStmt.get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as V) : undefined;
  }

  /** Stores a value; returns false (and keeps the old value) if the key was already cached. */
  put(key: string, value: unknown, model?: string): boolean {
    return this.putStmt.run(key, model ?? null, now(), canonicalJson(value)).changes === 1;
  }

  count(): number {
    return (this.countStmt.get() as { n: number }).n;
  }
}

/** Generic artefacts: any stage can record JSON under (kind, hash). Append-only, first write wins. */
export class ArtifactTable {
  constructor(private readonly db: Db) {}

  put(kind: string, key: unknown, payload: unknown, runId?: string): PutResult {
    const hash = keyHash(key);
    const info = this.db
      .prepare(
        "INSERT INTO artifacts (kind, hash, run_id, created_at, payload) VALUES (?, ?, ?, ?, ?) ON CONFLICT(kind, hash) DO NOTHING",
      )
      .run(kind, hash, runId ?? null, now(), canonicalJson(payload));
    return { hash, inserted: info.changes === 1 };
  }

  get<V = unknown>(kind: string, key: unknown): V | undefined {
    const row = this.db.prepare("SELECT payload FROM artifacts WHERE kind = ? AND hash = ?").get(kind, keyHash(key)) as
      | { payload: string }
      | undefined;
    return row ? (JSON.parse(row.payload) as V) : undefined;
  }

  list<V = unknown>(kind: string, runId?: string): { hash: string; runId: string | null; value: V }[] {
    const rows = (
      runId === undefined
        ? this.db.prepare("SELECT hash, run_id, payload FROM artifacts WHERE kind = ? ORDER BY rowid").all(kind)
        : this.db
            .prepare("SELECT hash, run_id, payload FROM artifacts WHERE kind = ? AND run_id = ? ORDER BY rowid")
            .all(kind, runId)
    ) as { hash: string; run_id: string | null; payload: string }[];
    return rows.map((r) => ({ hash: r.hash, runId: r.run_id, value: JSON.parse(r.payload) as V }));
  }
}

export interface StateRow {
  seq: number;
  state: string;
  detail: unknown;
  createdAt: string;
}

/** Append-only state log: the current state of an entity is its latest row. */
export class StateLog {
  constructor(private readonly db: Db) {}

  set(entity: string, hash: string, state: string, detail?: unknown): void {
    this.db
      .prepare("INSERT INTO states (entity, entity_hash, state, detail, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(entity, hash, state, detail === undefined ? null : canonicalJson(detail), now());
  }

  current(entity: string, hash: string): StateRow | undefined {
    return this.history(entity, hash).at(-1);
  }

  history(entity: string, hash: string): StateRow[] {
    const rows = this.db
      .prepare("SELECT seq, state, detail, created_at FROM states WHERE entity = ? AND entity_hash = ? ORDER BY seq")
      .all(entity, hash) as { seq: number; state: string; detail: string | null; created_at: string }[];
    return rows.map((r) => ({
      seq: r.seq,
      state: r.state,
      detail: r.detail === null ? undefined : (JSON.parse(r.detail) as unknown),
      createdAt: r.created_at,
    }));
  }
}

/**
 * Applies pending migrations; refuses a database from a newer version of breakfix. The check and the migrations run
 * in one IMMEDIATE transaction, so processes opening a new workspace at the same time migrate it exactly once.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  const known = Math.max(0, ...migrations.map((m) => m.version));
  db.transaction(() => {
    db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    );
    const applied = new Set(
      (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version),
    );
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new Error(
        `store: ${db.name} has schema version ${newest} but this breakfix knows only up to ${known}; upgrade breakfix`,
      );
    }
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        m.version,
        m.name,
        now(),
      );
    }
  }).immediate();
  return known;
}

export interface OpenOptions {
  readonly?: boolean;
}

export class Store {
  readonly runs: RecordTable<RunRecord, "kind">;
  readonly rounds: RecordTable<RoundRecord, "idx" | "start_model">;
  readonly probes: RecordTable<Probe, "source" | "category" | "label" | "language">;
  readonly attacks: RecordTable<Attack, "persona" | "family" | "language">;
  readonly responses: RecordTable<Response, "model">;
  readonly judgements: RecordTable<JudgementRecord, "judge_id" | "label" | "severity" | "status">;
  readonly findings: RecordTable<Finding, "category" | "severity">;
  readonly vulnerabilities: RecordTable<Vulnerability, "category" | "family" | "language">;
  readonly datasetRows: RecordTable<DatasetRow, "dataset" | "kind">;
  readonly trainingRuns: RecordTable<TrainingRunRecord, "kind" | "base_model">;
  readonly metrics: RecordTable<Metric, "name" | "value">;
  readonly cache: ResponseCache;
  readonly artifacts: ArtifactTable;
  readonly states: StateLog;

  private constructor(readonly db: Db) {
    this.runs = new RecordTable(db, { table: "runs", columns: { kind: (r) => r.kind } });
    this.rounds = new RecordTable(db, {
      table: "rounds",
      columns: { idx: (r) => r.index, start_model: (r) => r.startModel },
    });
    this.probes = new RecordTable(db, {
      table: "probes",
      schema: probeSchema,
      columns: {
        source: (p) => p.source,
        category: (p) => p.category,
        label: (p) => p.label,
        language: (p) => p.language,
      },
    });
    this.attacks = new RecordTable(db, {
      table: "attacks",
      columns: { persona: (a) => a.persona, family: (a) => a.family, language: (a) => a.language },
    });
    this.responses = new RecordTable(db, { table: "responses", columns: { model: (r) => r.model } });
    this.judgements = new RecordTable(db, {
      table: "judgements",
      columns: {
        judge_id: (j) => j.judgeId,
        label: (j) => j.label,
        severity: (j) => j.severity ?? null,
        status: (j) => j.status,
      },
    });
    this.findings = new RecordTable(db, {
      table: "findings",
      columns: { category: (f) => f.category, severity: (f) => f.severity },
    });
    this.vulnerabilities = new RecordTable(db, {
      table: "vulnerabilities",
      columns: { category: (v) => v.category, family: (v) => v.family, language: (v) => v.language },
    });
    this.datasetRows = new RecordTable(db, {
      table: "dataset_rows",
      columns: { dataset: (d) => d.dataset, kind: (d) => d.kind },
    });
    this.trainingRuns = new RecordTable(db, {
      table: "training_runs",
      columns: { kind: (t) => t.kind, base_model: (t) => t.baseModel ?? null },
    });
    this.metrics = new RecordTable(db, {
      table: "metrics",
      columns: { name: (m) => m.name, value: (m) => (Number.isFinite(m.value) ? m.value : null) },
    });
    this.cache = new ResponseCache(db);
    this.artifacts = new ArtifactTable(db);
    this.states = new StateLog(db);
  }

  private reviewTable?: RecordTable<Review, "target_kind" | "target" | "reviewer" | "verdict">;

  /**
   * Human reviews of judgements (schema version 3; `breakfix view` writes them). Built on first use, so a read-only
   * store of an older workspace (no reviews table) still opens; use `hasTable("reviews")` to check first.
   */
  get reviews(): RecordTable<Review, "target_kind" | "target" | "reviewer" | "verdict"> {
    this.reviewTable ??= new RecordTable(this.db, {
      table: "reviews",
      columns: {
        target_kind: (r) => r.targetKind,
        target: (r) => r.target,
        reviewer: (r) => r.reviewer,
        verdict: (r) => r.verdict,
      },
    });
    return this.reviewTable;
  }

  /**
   * Takes the run lock `name` (schema version 4) unless a live process holds it. A lock whose holder is gone (its pid
   * no longer runs on this host, e.g. after kill -9, or runs a process that started after the holder did (version 5),
   * or it is this process's pid on a lock this process never took) is stale and taken over. Check and take are one IMMEDIATE
   * transaction, so of two processes racing for a free lock exactly one gets it. A lock held by another host is
   * always treated as live (its pid cannot be checked from here).
   */
  tryLock(name: string, detail?: string): { acquired: true; lock: RunLock } | { acquired: false; holder: LockHolder } {
    return this.transaction(() => {
      const row = this.db
        .prepare("SELECT name, pid, pid_start, host, token, acquired_at, detail FROM locks WHERE name = ?")
        .get(name) as
        | {
            name: string;
            pid: number;
            pid_start: string | null;
            host: string;
            token: string;
            acquired_at: string;
            detail: string | null;
          }
        | undefined;
      if (row && lockHolderAlive({ ...row, start: row.pid_start })) {
        const holder: LockHolder = { name, pid: row.pid, host: row.host, acquiredAt: row.acquired_at };
        if (row.detail !== null) holder.detail = row.detail;
        return { acquired: false as const, holder };
      }
      const token = randomUUID();
      this.db
        .prepare(
          "INSERT OR REPLACE INTO locks (name, pid, pid_start, host, token, acquired_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .run(name, process.pid, pidStartTime(process.pid), hostname(), token, now(), detail ?? null);
      heldLockTokens.add(token);
      const release = () => {
        heldLockTokens.delete(token);
        if (!this.db.open) return;
        this.db.prepare("DELETE FROM locks WHERE name = ? AND token = ?").run(name, token);
      };
      return { acquired: true as const, lock: { name, stale: row !== undefined, release } };
    });
  }

  /**
   * Takes the run lock `name`, waiting while a live process holds it (polling every `pollMs`, default 250 ms; up to
   * `timeoutMs`, default forever, then it throws naming the holder). `onWait` is called once, when the wait begins.
   */
  async waitLock(
    name: string,
    o: { detail?: string; pollMs?: number; timeoutMs?: number; onWait?: (holder: LockHolder) => void } = {},
  ): Promise<RunLock> {
    const started = Date.now();
    let told = false;
    for (;;) {
      const r = this.tryLock(name, o.detail);
      if (r.acquired) return r.lock;
      if (!told) {
        told = true;
        o.onWait?.(r.holder);
      }
      if (o.timeoutMs !== undefined && Date.now() - started >= o.timeoutMs)
        throw new Error(
          `lock ${name} is held by pid ${r.holder.pid} on ${r.holder.host} since ${r.holder.acquiredAt}${r.holder.detail ? ` (${r.holder.detail})` : ""}`,
        );
      await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 250));
    }
  }

  /** The current holder of a lock, if any (stale or not). */
  lockHolder(name: string): LockHolder | undefined {
    const row = this.db.prepare("SELECT pid, host, acquired_at, detail FROM locks WHERE name = ?").get(name) as
      | { pid: number; host: string; acquired_at: string; detail: string | null }
      | undefined;
    if (!row) return undefined;
    const holder: LockHolder = { name, pid: row.pid, host: row.host, acquiredAt: row.acquired_at };
    if (row.detail !== null) holder.detail = row.detail;
    return holder;
  }

  /** Whether the database has this table (an older, read-only opened workspace may lack newer ones). */
  hasTable(name: string): boolean {
    return (
      this.db.prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?").get(name) !==
      undefined
    );
  }

  /** Opens (creating if needed) `<workspaceDir>/breakfix.db` and applies pending migrations. */
  static open(workspaceDir: string, opts: OpenOptions = {}): Store {
    if (!opts.readonly) mkdirSync(workspaceDir, { recursive: true });
    return Store.openFile(path.join(workspaceDir, DB_FILENAME), opts);
  }

  /** Opens a database file directly (":memory:" works for tests). */
  static openFile(file: string, opts: OpenOptions = {}): Store {
    const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
    try {
      db.pragma("busy_timeout = 10000");
      if (!opts.readonly) {
        db.pragma("journal_mode = WAL");
        // NORMAL is safe against application crashes in WAL mode (only an OS crash can lose the last commits).
        db.pragma("synchronous = NORMAL");
        migrate(db);
      }
    } catch (err) {
      db.close();
      throw err;
    }
    return new Store(db);
  }

  /** Opens the store of a resolved config's workspace (`loadConfig().workspace`). */
  static forWorkspace(config: { workspace: string }, opts: OpenOptions = {}): Store {
    return Store.open(config.workspace, opts);
  }

  /**
   * Starts (or resumes) a run. The run id is the content hash of (kind, configHash, args), so running the same
   * command with the same config again resumes the same run and its content-keyed records are skipped. Each start
   * appends a "running" state; `resumed` says whether the run existed before.
   */
  beginRun(kind: string, opts: { configHash?: string; args?: Record<string, unknown> } = {}): RunHandle {
    const key = runKey(kind, opts);
    const record: RunRecord = { kind, startedAt: now() };
    if (opts.configHash) record.configHash = opts.configHash;
    if (opts.args) record.args = opts.args;
    return this.transaction(() => {
      const { hash, inserted } = this.runs.put(key, record);
      const previous = this.states.current("run", hash)?.state;
      this.states.set("run", hash, "running");
      return { runId: hash, resumed: !inserted, previousState: previous };
    });
  }

  /** The id beginRun gives a run of this kind, config hash and args, without starting it (e.g. to lock it first). */
  runIdOf(kind: string, opts: { configHash?: string; args?: Record<string, unknown> } = {}): string {
    return this.runs.keyOf(runKey(kind, opts));
  }

  /** Records a run's end state (appended; the run record itself is never changed). */
  endRun(runId: string, state: "done" | "failed" | "interrupted", detail?: unknown): void {
    this.states.set("run", runId, state, detail);
  }

  /** The latest state of a run ("running", "done", "failed", ...), or undefined for an unknown run. */
  runState(runId: string): string | undefined {
    return this.states.current("run", runId)?.state;
  }

  /**
   * Runs fn in one transaction (nesting uses savepoints). Everything fn writes lands together or not at all.
   * BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait (busy_timeout) instead of failing
   * with SQLITE_BUSY when a read in fn is followed by a write.
   */
  transaction<R>(fn: () => R): R {
    return this.db.transaction(fn).immediate();
  }

  schemaVersion(): number {
    const row = this.db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number | null };
    return row.v ?? 0;
  }

  journalMode(): string {
    return String(this.db.pragma("journal_mode", { simple: true }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function runKey(kind: string, opts: { configHash?: string; args?: Record<string, unknown> }) {
  return { kind, configHash: opts.configHash ?? null, args: opts.args ?? {} };
}

/** Who holds a run lock. */
export interface LockHolder {
  name: string;
  pid: number;
  host: string;
  acquiredAt: string;
  detail?: string;
}

/** A held run lock; `stale` says it was taken over from a process that had died holding it. */
export interface RunLock {
  name: string;
  stale: boolean;
  release(): void;
}

/**
 * The tokens of the locks this process holds, over every Store it opened. A lock row with this process's pid but a
 * token not in here was left by an earlier process that had the same pid (pid reuse: node as PID 1 in a restarted
 * container), so it is stale, not ours.
 */
export const heldLockTokens = new Set<string>();

/**
 * Whether a lock's holder may still hold it: another host's always (its pid cannot be checked from here); on this
 * host, this process when it holds the token, else a process with that pid that still runs and, when the holder's
 * start time was recorded (`start`, pidStartTime), started then: a later process that got the pid is not the holder.
 */
export function lockHolderAlive(h: { pid: number; host: string; token?: string; start?: string | null }): boolean {
  if (h.host !== hostname()) return true;
  if (h.pid === process.pid) return h.token !== undefined && heldLockTokens.has(h.token);
  return processAlive(h.pid, h.start);
}
