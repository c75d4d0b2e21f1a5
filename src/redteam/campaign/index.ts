export * from "./campaign.ts";
export * from "./memory-store.ts";
export * from "./metrics.ts";
export * from "./plan.ts";
export * from "./run.ts";
export * from "./sqlite-store.ts";
export * from "./types.ts";
