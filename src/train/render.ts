/**
 * Turns conversations into token ids and labels through the model's chat template, with the loss on assistant
 * tokens only (configurable). The template is rendered for growing prefixes of the conversation; each assistant turn
 * is the text the full render adds after the prefix rendered with the generation prompt, so the labels cover exactly
 * what the model must produce at inference time (the content and the template's end-of-turn marker).
 */
import type { Message } from "../domain/types.ts";
import type { TokenizedSeq } from "./objective.ts";
import type { TokenizedPair } from "./trainer.ts";

export interface ChatTokenizer {
  /** Ids of a text, with special tokens in the text recognised and none added. */
  encode(text: string): number[];
  /** The chat template applied to messages (with the assistant generation prompt appended when asked). */
  renderChat(messages: readonly Message[], addGenerationPrompt: boolean): string;
  padTokenId: number;
}

/** Which tokens the loss covers: every assistant turn, only the last one, or the whole conversation. */
export type LossOn = "assistant" | "last_assistant" | "all";

export class TemplateError extends Error {}

/**
 * Tokenizes a conversation. Turns before `countFrom` never count (used for preference pairs: the prompt part).
 */
export function tokenizeConversation(
  tok: ChatTokenizer,
  messages: readonly Message[],
  lossOn: LossOn = "assistant",
  countFrom = 0,
): TokenizedSeq {
  const ids: number[] = [];
  const labels: number[] = [];
  const push = (text: string, counted: boolean) => {
    if (text === "") return;
    for (const id of tok.encode(text)) {
      ids.push(id);
      labels.push(counted ? id : -100);
    }
  };
  const lastAssistant = messages.map((m) => m.role).lastIndexOf("assistant");
  let prev = "";
  for (let i = 0; i < messages.length; i++) {
    if (messages[i].role !== "assistant") continue;
    const prompt = tok.renderChat(messages.slice(0, i), true);
    const full = tok.renderChat(messages.slice(0, i + 1), false);
    if (!prompt.startsWith(prev))
      throw new TemplateError(`chat template: the render of turns 0..${i - 1} does not extend the earlier render`);
    if (!full.startsWith(prompt))
      throw new TemplateError(`chat template: turn ${i} (assistant) does not extend the generation prompt`);
    push(prompt.slice(prev.length), lossOn === "all");
    const counted = i >= countFrom && (lossOn !== "last_assistant" || i === lastAssistant);
    push(full.slice(prompt.length), counted);
    prev = full;
  }
  const rest = tok.renderChat(messages, false);
  if (!rest.startsWith(prev))
    throw new TemplateError("chat template: the full render does not extend the last assistant turn");
  push(rest.slice(prev.length), lossOn === "all");
  return { ids, labels };
}

/** A preference row: prompt + chosen and prompt + rejected, with the loss on the completion only. */
export function tokenizePreference(
  tok: ChatTokenizer,
  row: { prompt: readonly Message[]; chosen: readonly Message[]; rejected: readonly Message[] },
): TokenizedPair {
  const n = row.prompt.length;
  return {
    chosen: tokenizeConversation(tok, [...row.prompt, ...row.chosen], "assistant", n),
    rejected: tokenizeConversation(tok, [...row.prompt, ...row.rejected], "assistant", n),
  };
}
