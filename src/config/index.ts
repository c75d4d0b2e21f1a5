export * from "./load.ts";
export * from "./schema.ts";
export { STARTER_CONFIG } from "./starter.ts";
