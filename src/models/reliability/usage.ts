/**
 * Usage and cost accounting for one run: per model, how many calls, cache hits, retries, failures, tokens and cost
 * (from a per-model price table in USD per million tokens). Cache hits cost nothing; their would-be cost is reported
 * as `savedUsd`. Snapshots are plain JSON for the store and reports; they hold no secrets.
 */
import type { Usage } from "../../domain/types.ts";

export interface Pricing {
  /** USD per 1M prompt tokens. */
  inputPerMTok: number;
  /** USD per 1M completion tokens. */
  outputPerMTok: number;
}

export interface ModelUsage {
  modelId: string;
  /** Logical requests that returned a result (from the backend or the cache). */
  requests: number;
  cacheHits: number;
  /** HTTP/engine attempts actually sent (first tries + retries). */
  attempts: number;
  retries: number;
  /** Logical requests that failed after all retries. */
  failures: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  savedUsd: number;
  /** Sum of latencies of non-cached results, ms. */
  latencyMsTotal: number;
}

export class UsageMeter {
  private readonly byModel = new Map<string, ModelUsage>();
  constructor(private readonly prices: Record<string, Pricing> = {}) {}

  setPricing(modelId: string, pricing: Pricing): void {
    this.prices[modelId] = pricing;
  }

  private entry(modelId: string): ModelUsage {
    let e = this.byModel.get(modelId);
    if (!e) {
      e = {
        modelId,
        requests: 0,
        cacheHits: 0,
        attempts: 0,
        retries: 0,
        failures: 0,
        promptTokens: 0,
        completionTokens: 0,
        costUsd: 0,
        savedUsd: 0,
        latencyMsTotal: 0,
      };
      this.byModel.set(modelId, e);
    }
    return e;
  }

  private cost(modelId: string, usage: Usage): number {
    const p = this.prices[modelId];
    if (!p) return 0;
    return (usage.promptTokens * p.inputPerMTok + usage.completionTokens * p.outputPerMTok) / 1e6;
  }

  attempt(modelId: string, isRetry: boolean): void {
    const e = this.entry(modelId);
    e.attempts++;
    if (isRetry) e.retries++;
  }

  success(modelId: string, usage: Usage, cached: boolean, latencyMs: number): void {
    const e = this.entry(modelId);
    e.requests++;
    if (cached) {
      e.cacheHits++;
      e.savedUsd += this.cost(modelId, usage);
      return;
    }
    e.promptTokens += usage.promptTokens;
    e.completionTokens += usage.completionTokens;
    e.costUsd += this.cost(modelId, usage);
    e.latencyMsTotal += latencyMs;
  }

  failure(modelId: string): void {
    this.entry(modelId).failures++;
  }

  snapshot(): { models: ModelUsage[]; totalCostUsd: number; totalSavedUsd: number } {
    const models = [...this.byModel.values()].map((m) => ({ ...m }));
    return {
      models,
      totalCostUsd: models.reduce((s, m) => s + m.costUsd, 0),
      totalSavedUsd: models.reduce((s, m) => s + m.savedUsd, 0),
    };
  }
}
