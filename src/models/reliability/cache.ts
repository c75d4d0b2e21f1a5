/**
 * The persistent response cache: key = contentHash(model id, messages, parameters) -> the model's answer, so re-runs
 * and resumes cost nothing. `ResponseCache` is the small interface the reliability wrapper needs; MemoryResponseCache
 * is for tests and one-off runs, SqliteResponseCache persists (better-sqlite3, WAL) in a table of its own that can
 * live in the workspace database. Only successful answers are cached; API keys never reach the cache (requests are
 * stored without headers or provider options).
 */
import Database from "better-sqlite3";
import { contentHash } from "../../domain/hash.ts";
import type { ContentFilter } from "../../domain/types.ts";
import type { AnswerSettings, ChatRequest, ChatResult, SamplingParams } from "../types.ts";

export interface CachedResponse {
  content: string;
  finishReason: ChatResult["finishReason"];
  /** The content filter's categories of a blocked answer (ChatResult.filter), when the provider named them. */
  filter?: ContentFilter;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

export interface ResponseCache {
  get(key: string): CachedResponse | undefined;
  put(key: string, modelId: string, request: CacheableRequest, value: CachedResponse): void;
  /** Number of entries (for tests and `breakfix` status output). */
  size(): number;
  close?(): void;
}

/**
 * The part of a request that determines the answer (no signal, no cache flags): its messages, every sampling and
 * output parameter it sets (temperature, topP, topK, maxTokens, stop, seed, jsonSchema: ChatRequest has no tools or
 * other response formats), and the model's own settings that change the answer to it (ChatModel.answerSettings, e.g.
 * the structured-output mode), only when there are any.
 */
export interface CacheableRequest {
  messages: ChatRequest["messages"];
  params: Record<string, unknown>;
  settings?: AnswerSettings;
}

export function cacheableRequest(req: ChatRequest, settings?: AnswerSettings): CacheableRequest {
  const params: Record<string, unknown> = {};
  if (req.temperature !== undefined) params.temperature = req.temperature;
  if (req.topP !== undefined) params.topP = req.topP;
  if (req.topK !== undefined) params.topK = req.topK;
  if (req.maxTokens !== undefined) params.maxTokens = req.maxTokens;
  if (req.stop !== undefined && req.stop.length > 0) params.stop = req.stop;
  if (req.seed !== undefined) params.seed = req.seed;
  if (req.jsonSchema !== undefined) params.jsonSchema = req.jsonSchema;
  const messages = req.messages.map((m) => ({ role: m.role, content: m.content }));
  return settings && Object.keys(settings).length > 0 ? { messages, params, settings } : { messages, params };
}

/**
 * The answer settings of a remote provider (ChatModel.answerSettings): its structured-output mode, for a request with
 * a jsonSchema only, and its own sampling defaults that the request leaves unset. Undefined when there are none.
 */
export function providerAnswerSettings(
  request: ChatRequest,
  structuredOutput: string | boolean,
  defaults: SamplingParams | undefined,
): AnswerSettings | undefined {
  const out: Record<string, string | number | boolean | null> = {};
  if (request.jsonSchema) out.structuredOutput = structuredOutput;
  for (const [k, v] of Object.entries(defaults ?? {}) as [keyof SamplingParams, unknown][])
    if (v !== undefined && request[k] === undefined)
      out[`default.${k}`] = typeof v === "number" ? v : JSON.stringify(v);
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The cache key: contentHash of (model id, messages, parameters, and the model's answer settings when it has any).
 * A request without answer settings hashes exactly as before they were keyed, so existing caches still answer it.
 */
export function cacheKey(modelId: string, req: CacheableRequest): string {
  const base = { v: 1, model: modelId, messages: req.messages, params: req.params };
  return contentHash(req.settings && Object.keys(req.settings).length > 0 ? { ...base, settings: req.settings } : base);
}

export class MemoryResponseCache implements ResponseCache {
  private readonly map = new Map<string, CachedResponse>();
  get(key: string): CachedResponse | undefined {
    return this.map.get(key);
  }
  put(key: string, _modelId: string, _request: CacheableRequest, value: CachedResponse): void {
    if (!this.map.has(key)) this.map.set(key, value);
  }
  size(): number {
    return this.map.size;
  }
}

const TABLE = "model_response_cache";

/**
 * Shared write-behind policy of the persistent caches: buffered rows are committed in one transaction every
 * `flushMs` (default 50 ms) or every `maxPending` rows (default 512), on `size()`/`close()`, and at process exit.
 * A crash loses at most the last interval of cache rows (re-asked on resume; never a wrong answer).
 */
export interface WriteBehindOptions {
  flushMs?: number;
  maxPending?: number;
}

/** Live write-behind buffers, flushed by one process "exit" hook (not one listener per cache). */
const liveWriters = new Set<WriteBehind>();
let exitHooked = false;

export class WriteBehind {
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly pendingCount: () => number,
    private readonly commit: () => void,
    private readonly opts: WriteBehindOptions = {},
  ) {
    liveWriters.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.once("exit", () => {
        for (const w of liveWriters) w.flushNow();
      });
    }
  }
  /** Call after buffering a row. */
  touched(): void {
    if (this.pendingCount() >= (this.opts.maxPending ?? 512)) this.flushNow();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flushNow(), this.opts.flushMs ?? 50);
      this.timer.unref();
    }
  }
  flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingCount() > 0) this.commit();
  }
  dispose(): void {
    this.flushNow();
    liveWriters.delete(this);
  }
}

/**
 * SQLite cache. Give it a path (it opens its own connection, WAL) or an open better-sqlite3 Database (e.g. the
 * workspace store's). Writes are write-behind batched (see WriteBehind) and `get` sees buffered rows, so readers
 * never miss a write and bulk runs pay one commit per batch. INSERT ... ON CONFLICT DO NOTHING keeps the first
 * answer for a key (append-only, never UPDATE).
 */
export class SqliteResponseCache implements ResponseCache {
  readonly db: Database.Database;
  private readonly ownsDb: boolean;
  private readonly pending = new Map<string, { modelId: string; request: string; value: CachedResponse }>();
  private readonly writer: WriteBehind;
  private readonly getStmt: Database.Statement<[string]>;
  private readonly putStmt: Database.Statement<unknown[]>;
  private readonly countStmt: Database.Statement<[]>;
  private readonly flushTx: () => void;

  constructor(dbOrPath: string | Database.Database, writeBehind: WriteBehindOptions = {}) {
    if (typeof dbOrPath === "string") {
      this.db = new Database(dbOrPath);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = NORMAL");
      this.ownsDb = true;
    } else {
      this.db = dbOrPath;
      this.ownsDb = false;
    }
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      key TEXT PRIMARY KEY,
      model_id TEXT NOT NULL,
      request_json TEXT NOT NULL,
      content TEXT NOT NULL,
      finish_reason TEXT NOT NULL,
      model TEXT NOT NULL,
      prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      filter_json TEXT
    )`);
    // a table made before blocked answers kept their filter's categories gets the column (null: none recorded)
    const columns = this.db.prepare(`PRAGMA table_info(${TABLE})`).all() as { name: string }[];
    if (!columns.some((c) => c.name === "filter_json"))
      this.db.exec(`ALTER TABLE ${TABLE} ADD COLUMN filter_json TEXT`);
    this.getStmt = this.db.prepare(
      `SELECT content, finish_reason, model, prompt_tokens, completion_tokens, filter_json FROM ${TABLE} WHERE key = ?`,
    );
    this.putStmt = this.db.prepare(
      `INSERT INTO ${TABLE} (key, model_id, request_json, content, finish_reason, model, prompt_tokens, completion_tokens, ` +
        "created_at, filter_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
    );
    this.countStmt = this.db.prepare(`SELECT COUNT(*) AS n FROM ${TABLE}`);
    this.flushTx = this.db.transaction(() => {
      const now = new Date().toISOString();
      for (const [key, { modelId, request, value }] of this.pending) {
        this.putStmt.run(
          key,
          modelId,
          request,
          value.content,
          value.finishReason,
          value.model,
          value.promptTokens,
          value.completionTokens,
          now,
          value.filter ? JSON.stringify(value.filter) : null,
        );
      }
      this.pending.clear();
    });
    this.writer = new WriteBehind(
      () => this.pending.size,
      () => {
        if (this.db.open) this.flushTx();
      },
      writeBehind,
    );
  }

  get(key: string): CachedResponse | undefined {
    const p = this.pending.get(key);
    if (p) return p.value;
    const row = this.getStmt.get(key) as
      | {
          content: string;
          finish_reason: string;
          model: string;
          prompt_tokens: number;
          completion_tokens: number;
          filter_json: string | null;
        }
      | undefined;
    if (!row) return undefined;
    return {
      content: row.content,
      finishReason: row.finish_reason as CachedResponse["finishReason"],
      ...(row.filter_json ? { filter: JSON.parse(row.filter_json) as ContentFilter } : {}),
      model: row.model,
      promptTokens: row.prompt_tokens,
      completionTokens: row.completion_tokens,
    };
  }

  put(key: string, modelId: string, request: CacheableRequest, value: CachedResponse): void {
    if (this.pending.has(key)) return;
    this.pending.set(key, { modelId, request: JSON.stringify(request), value });
    this.writer.touched();
  }

  /** Commits buffered rows now. */
  flush(): void {
    this.writer.flushNow();
  }

  size(): number {
    this.flush();
    return (this.countStmt.get() as { n: number }).n;
  }

  close(): void {
    this.writer.dispose();
    if (this.ownsDb && this.db.open) this.db.close();
  }
}
