export * from "./migrations.ts";
export * from "./store.ts";
