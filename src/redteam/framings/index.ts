export * from "./apply.ts";
export * from "./builtin.ts";
export * from "./load.ts";
export * from "./types.ts";
