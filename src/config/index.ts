export * from "./load.ts";
export * from "./schema.ts";
export { OWN_MODEL_STARTER, STARTER_CONFIG } from "./starter.ts";
