export * from "./budget.ts";
export * from "./crescendo.ts";
export * from "./flirt.ts";
export * from "./pair.ts";
export * from "./parse.ts";
export * from "./scripted.ts";
export * from "./tap.ts";
export * from "./types.ts";
