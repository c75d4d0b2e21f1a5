/**
 * Deterministic token estimates for the world's text under a small byte-level BPE trained on the world (the demo
 * model's tokenizer: `world build` uses 1,024 symbols) and a Phi-3 style chat template (`<|role|>\n...<|end|>\n`).
 * Calibrated on the default world's base corpus: a 1,024-symbol BPE averages 2.31 UTF-8 bytes per token (2,048
 * symbols: 2.84). The generator keeps every conversation within 256 estimated tokens, and the tests measure the real
 * count with a 1,024-symbol BPE. Pass a real tokenizer's counter where one exists (corpusSize takes one).
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
