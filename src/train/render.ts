/**
 * Turns conversations into token ids and labels through the model's chat template, with the loss on assistant
 * tokens only (configurable). Each assistant turn is located in the full render by rendering its prefix with the
 * generation prompt, so the labels cover exactly what the model must produce at inference time: the content and the
 * template's end-of-turn marker. Text between turns is tokenized in its own pieces, as at inference time, where the
 * prompt (ending in the generation prompt) is tokenized apart from what the model generates.
 */
import type { Message } from "../domain/types.ts";
import type { TokenizedSeq } from "./objective.ts";
import type { TokenizedPair } from "./trainer.ts";

export interface ChatTokenizer {
  /**
   * Ids of a piece of a render, none added. Only markers the template wrote may become control tokens: message text
   * is escaped by renderChat (see chatTokenizer in run.ts), so its marker spellings are encoded as text.
   */
  encode(text: string): number[];
  /** The chat template applied to messages (with the assistant generation prompt appended when asked). */
  renderChat(messages: readonly Message[], addGenerationPrompt: boolean): string;
  padTokenId: number;
  /** Texts a template may append after the LAST message only (typically the eos token). */
  endOfText?: readonly string[];
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
  const full = tok.renderChat(messages, false);
  const lastAssistant = messages.map((m) => m.role).lastIndexOf("assistant");
  // Boundaries of each assistant turn inside the full render: it starts where the generation prompt of its prefix
  // ends, and ends where the render of the conversation up to it stops agreeing with the full render (templates may
  // add an end-of-text marker after the last message only).
  const spans: { start: number; end: number; counted: boolean }[] = [];
  for (let i = 0; i < messages.length; i++) {
    if (messages[i].role !== "assistant") continue;
    const prompt = tok.renderChat(messages.slice(0, i), true);
    if (!full.startsWith(prompt))
      throw new TemplateError(
        `chat template: the generation prompt before turn ${i} is not a prefix of the conversation's render`,
      );
    let upTo = tok.renderChat(messages.slice(0, i + 1), false);
    if (!full.startsWith(upTo)) {
      const marker = (tok.endOfText ?? []).find(
        (m) => m !== "" && upTo.endsWith(m) && full.startsWith(upTo.slice(0, -m.length)),
      );
      if (marker === undefined)
        throw new TemplateError(
          `chat template: the render up to turn ${i} is not a prefix of the conversation's render (declare the template's end-of-text marker in endOfText)`,
        );
      upTo = upTo.slice(0, -marker.length);
    }
    const end = upTo.length;
    const prev = spans.at(-1);
    if (prev && prompt.length < prev.end)
      throw new TemplateError(`chat template: turn ${i} overlaps the previous assistant turn`);
    if (end <= prompt.length) throw new TemplateError(`chat template: assistant turn ${i} renders to nothing`);
    spans.push({
      start: prompt.length,
      end,
      counted: i >= countFrom && (lossOn !== "last_assistant" || i === lastAssistant),
    });
  }
  const ids: number[] = [];
  const labels: number[] = [];
  const push = (text: string, counted: boolean) => {
    if (text === "") return;
    for (const id of tok.encode(text)) {
      ids.push(id);
      labels.push(counted ? id : -100);
    }
  };
  let pos = 0;
  for (const s of spans) {
    push(full.slice(pos, s.start), lossOn === "all");
    push(full.slice(s.start, s.end), s.counted || lossOn === "all");
    pos = s.end;
  }
  push(full.slice(pos), lossOn === "all");
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
