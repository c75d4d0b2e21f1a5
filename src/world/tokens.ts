/**
 * Deterministic token estimates for the world's text under a small byte-level BPE trained on the world (the demo
 * model's tokenizer; design point 2,048 symbols) and a Phi-3 style chat template (`<|role|>\n...<|end|>\n`).
 * Calibrated on the default world's base corpus: a 2,048-symbol BPE averages 2.84 UTF-8 bytes per token (1,024
 * symbols: 2.31), and with it the longest world conversation measures under 250 real tokens (with 1,024 symbols a few
 * red-team many-shot conversations reach ~272). The tests check real token counts under a 2,048-symbol BPE. Pass a
 * real tokenizer's counter where one exists (corpusSize takes one).
 */
import type { Conversation } from "../domain/index.ts";

/** UTF-8 bytes per token assumed by the estimate (conservative: real BPEs of 1,024-2,048 symbols average 2.31-2.84). */
export const BYTES_PER_TOKEN = 2;
/** Chat-template tokens per message (`<|user|>`, newline, `<|end|>`, newline, and a spare). */
export const TEMPLATE_TOKENS_PER_MESSAGE = 5;

/** Estimated tokens of a text (no template). */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, "utf8") / BYTES_PER_TOKEN);
}

/** Estimated tokens of a conversation rendered with the chat template. */
export function estimateConversationTokens(conv: Conversation): number {
  return conv.reduce((n, m) => n + estimateTokens(m.content) + TEMPLATE_TOKENS_PER_MESSAGE, 0);
}
