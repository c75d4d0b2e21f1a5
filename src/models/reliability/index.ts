export * from "./backoff.ts";
export * from "./cache.ts";
export * from "./rate-limiter.ts";
export * from "./reliable.ts";
export * from "./semaphore.ts";
export * from "./store-cache.ts";
export * from "./usage.ts";
export * from "./usage-store.ts";
