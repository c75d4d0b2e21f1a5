/** GCG adversarial suffixes (Zou et al. 2023) on local models: the attack, its stores, the converter, the expert. */
export * from "./converter.ts";
export * from "./expert.ts";
export * from "./gcg.ts";
export * from "./library.ts";
export * from "./whitebox.ts";
