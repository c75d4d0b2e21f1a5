export * from "./chain.ts";
export * from "./encoding.ts";
export * from "./model.ts";
export * from "./obfuscation.ts";
export * from "./registry.ts";
export * from "./smuggling.ts";
export * from "./split.ts";
export * from "./types.ts";
