/**
 * Constants of the demo world that need nothing generated and no data file read: its item families and the size of
 * the quick corpus. A module of its own (it imports nothing) so the CLI names them in its help without loading the
 * world; generate.ts and corpus.ts re-export them.
 */

export const FAMILIES = ["capability", "harmful", "lookalike", "framed", "multiturn"] as const;
export type Family = (typeof FAMILIES)[number];

/** Conversations in the quick corpus (corpus.ts's QUICK_CORPUS_CONFIG): tests and `world build --quick`. */
export const QUICK_CORPUS_SIZE = 2_000;
