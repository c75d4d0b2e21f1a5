/** The break stage: converters, framings, personas, multi-turn attacks, campaigns and identify (public entry point). */
export * from "./campaign/index.ts";
export * from "./converters/index.ts";
export * from "./findings-schema.ts";
export * from "./framings/index.ts";
export * from "./gcg/index.ts";
export * from "./identify.ts";
export * from "./multiturn/index.ts";
export * from "./outcome.ts";
export * from "./persona-file.ts";
export * from "./personas.ts";
export * from "./seeds.ts";
export * from "./techniques.ts";
