/**
 * ResponseCache over the workspace store's `cache` table (src/store): the persistent cache in the store, as the
 * issue asks. Writes are buffered and committed in one store transaction per event-loop turn (or every 256 rows);
 * `get` sees buffered rows. The stored value is the answer plus the request (messages and parameters, never keys or
 * headers) for audit.
 */
import type { Store } from "../../store/index.ts";
import {
  type CacheableRequest,
  type CachedResponse,
  type ResponseCache,
  WriteBehind,
  type WriteBehindOptions,
} from "./cache.ts";

interface StoredValue extends CachedResponse {
  request?: CacheableRequest;
}

export class StoreResponseCache implements ResponseCache {
  private readonly pending = new Map<string, { modelId: string; value: StoredValue }>();
  private readonly writer: WriteBehind;

  constructor(
    private readonly store: Store,
    private readonly opts: { storeRequests?: boolean } & WriteBehindOptions = {},
  ) {
    this.writer = new WriteBehind(
      () => this.pending.size,
      () => this.commit(),
      opts,
    );
  }

  get(key: string): CachedResponse | undefined {
    const p = this.pending.get(key);
    if (p) return strip(p.value);
    const v = this.store.cache.get<StoredValue>(key);
    return v ? strip(v) : undefined;
  }

  put(key: string, modelId: string, request: CacheableRequest, value: CachedResponse): void {
    if (this.pending.has(key)) return;
    const stored: StoredValue = this.opts.storeRequests === false ? { ...value } : { ...value, request };
    this.pending.set(key, { modelId, value: stored });
    this.writer.touched();
  }

  /** Commits buffered rows now. */
  flush(): void {
    this.writer.flushNow();
  }

  private commit(): void {
    // The store was closed under us (callers should close the cache first): nothing can be written any more.
    if (!this.store.db.open) return;
    const batch = [...this.pending];
    this.store.transaction(() => {
      for (const [key, { modelId, value }] of batch) this.store.cache.put(key, value, modelId);
    });
    for (const [key] of batch) this.pending.delete(key);
  }

  size(): number {
    this.flush();
    return this.store.cache.count();
  }

  close(): void {
    this.writer.dispose();
  }
}

function strip(v: StoredValue): CachedResponse {
  return {
    content: v.content,
    finishReason: v.finishReason,
    ...(v.filter ? { filter: v.filter } : {}),
    model: v.model,
    promptTokens: v.promptTokens,
    completionTokens: v.completionTokens,
  };
}
