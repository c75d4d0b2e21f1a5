/**
 * The demo world (issue 6): a deterministic synthetic world of Vell, its splits, its oracle judge, corpora built from
 * it, and the summary `breakfix world show` prints. The model organism trained on it is built elsewhere (world build).
 */
export * from "./capability.ts";
export * from "./corpus.ts";
export * from "./encodings.ts";
export * from "./export.ts";
export * from "./framings.ts";
export * from "./generate.ts";
export * from "./harm.ts";
export * from "./judge.ts";
export * from "./lexicon.ts";
export * from "./lookalikes.ts";
export * from "./redteam-techniques.ts";
export * from "./show.ts";
export * from "./templates.ts";
export * from "./tokens.ts";
export * from "./vocab.ts";
