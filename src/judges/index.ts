/** Public entry point of the judges: the interface, the judges, ensembles, the registry and calibration. */
export * from "./calibrate.ts";
export * from "./data.ts";
export * from "./ensemble.ts";
export * from "./llm/extract.ts";
export * from "./llm/harmbench.ts";
export * from "./llm/llama-guard.ts";
export * from "./llm/llm-judge.ts";
export * from "./llm/severity.ts";
export * from "./llm/strongreject.ts";
export * from "./llm/xstest-grader.ts";
export * from "./metrics.ts";
export * from "./refusal/classifier.ts";
export * from "./refusal/learned/judge.ts";
export * from "./refusal/learned/model.ts";
export * from "./refusal/substring.ts";
export * from "./registry.ts";
export * from "./types.ts";
