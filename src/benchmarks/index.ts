/** Public entry of the benchmark stage: suites, runner, metrics, comparison, sinks and the suite registry. */
export * from "./compare.ts";
export * from "./demo.ts";
export * from "./metrics.ts";
export * from "./multiturn/groundedness.ts";
export * from "./multiturn/suite.ts";
export * from "./registry.ts";
export * from "./runner.ts";
export * from "./sink.ts";
export * from "./store-sink.ts";
export * from "./suites/capability.ts";
export * from "./suites/common.ts";
export * from "./suites/harmful.ts";
export * from "./suites/jailbreak.ts";
export * from "./suites/overrefusal.ts";
export * from "./types.ts";
