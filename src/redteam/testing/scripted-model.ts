/**
 * A ChatModel whose replies come from a function of the request: for tests and offline demos (a scripted attacker,
 * a scripted target). Counts calls and reports a token usage proportional to text length.
 */
import type { Conversation } from "../../domain/types.ts";
import type { ChatModel, ChatRequest, ChatResult } from "../../models/types.ts";

export type Script = (messages: Conversation, request: ChatRequest, call: number) => string | Promise<string>;

/** Rough token count: words and punctuation runs (good enough for budgets in tests and offline runs). */
export function roughTokens(text: string): number {
  return (text.match(/\p{L}+|\p{N}+|[^\s\p{L}\p{N}]/gu) ?? []).length;
}

export class ScriptedModel implements ChatModel {
  calls = 0;
  readonly requests: ChatRequest[] = [];
  constructor(
    readonly id: string,
    private readonly script: Script,
    private readonly delayMs = 0,
  ) {}

  async chat(request: ChatRequest): Promise<ChatResult> {
    const call = this.calls++;
    this.requests.push(request);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const content = await this.script(request.messages, request, call);
    return {
      content,
      finishReason: "stop",
      usage: {
        promptTokens: request.messages.reduce((n, m) => n + roughTokens(m.content), 0),
        completionTokens: roughTokens(content),
      },
      model: this.id,
    };
  }
}
