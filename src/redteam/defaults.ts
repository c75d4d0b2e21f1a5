/**
 * Defaults of the red-team stage that the CLI shows in `breakfix redteam --help`, in a module of their own (it imports
 * nothing) so the help is printed without loading the stage; campaign/context.ts and gcg/expert.ts re-export them.
 */

/** Tokens kept for the answer by default: the demo world's longest harmful answers are ~60 tokens. */
export const DEFAULT_ANSWER_RESERVE = 64;

/** The default target answer GCG optimises for (the paper's "Sure, here is ..." affirmative opening, shortened). */
export const DEFAULT_GCG_TARGET = "Sure.";
