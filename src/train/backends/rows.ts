/**
 * How the local backend reads a stage's rows, beside trainOptionsFor (local.ts): no share of the training rows held
 * out (the cycle hands its own validation file), and the loss on the last assistant turn only. Earlier assistant turns
 * of a multi-turn finding are what the attacked model said (possibly unsafe): context to condition on, never something
 * to learn. `breakfix train` takes these as its defaults. A module of its own (it imports nothing) so the CLI shows
 * them in `breakfix train sft --help` without loading the trainer; local.ts re-exports it.
 */
export const LOCAL_ROWS = { evalFraction: 0, lossOn: "last_assistant" } as const;
