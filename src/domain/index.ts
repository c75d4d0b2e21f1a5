export * from "./hash.ts";
export * from "./random.ts";
export * from "./schemas.ts";
export * from "./severity.ts";
export * from "./stats.ts";
export * from "./taxonomy.ts";
export * from "./types.ts";
