/**
 * The generic LLM judge: a JudgeSpec (prompt builder + parser + mapping to a Judgement) run through any ChatModel.
 * Malformed output is retried with a repair turn that quotes the parse error (configurable number of retries; a spec
 * with repairTurn false, the guard model's, is asked again as it was); after the last attempt the judgement is
 * recorded with status "unjudged" and the reason, never as safe or unsafe.
 * Model errors (network, rate limits after the provider's own retries) count as attempts too.
 */
import type { Judgement, Message } from "../../domain/types.ts";
import type { ChatModel, ChatRequest } from "../../models/types.ts";
import type { Judge, JudgeInput } from "../types.ts";
import { type ParseResult, stripThinking } from "./extract.ts";

export interface JudgeSpec<P> {
  /** Judge name, e.g. "strongreject". The judge id is `${name}@${version}:${model.id}`. */
  name: string;
  version: number;
  /** The messages sent to the judge model. */
  buildMessages(input: JudgeInput): Message[];
  /** Optional JSON Schema for backends with constrained output. */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  /** Reminder of the required format, used in the repair turn. */
  formatReminder: string;
  /**
   * false: retry a malformed answer by sending the first request again, with no repair turn. For a guard model, which
   * rates the conversation's last turn with its own chat template: a repair turn would become the turn it rates.
   */
  repairTurn?: boolean;
  parse(text: string): ParseResult<P>;
  toJudgement(parsed: P, input: JudgeInput): Omit<Judgement, "judgeId" | "status" | "attempts">;
  /** Default max tokens for the judge's answer. */
  maxTokens?: number;
}

export interface LlmJudgeOptions {
  /** Retries after the first malformed answer (default 2, so 3 calls at most). */
  retries?: number;
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  /** Send the spec's JSON schema as constrained output (default true where the spec has one). */
  constrained?: boolean;
}

/** Quotes model output for a rationale: bounded length, control characters removed (it is adversarial text). */
export function quoteOutput(text: string, max = 200): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "");
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}...` : clean);
}

export class LlmJudge<P> implements Judge {
  readonly id: string;
  private readonly retries: number;

  constructor(
    readonly spec: JudgeSpec<P>,
    private readonly model: ChatModel,
    private readonly opts: LlmJudgeOptions = {},
  ) {
    this.retries = opts.retries ?? 2;
    if (!Number.isInteger(this.retries) || this.retries < 0) throw new Error(`retries must be a non-negative integer`);
    this.id = `${spec.name}@${spec.version}:${model.id}`;
  }

  /** The first request for an input (exported for tests and for cache keys). */
  request(input: JudgeInput): ChatRequest {
    const constrained = this.opts.constrained ?? true;
    return {
      messages: this.spec.buildMessages(input),
      temperature: this.opts.temperature ?? 0,
      maxTokens: this.opts.maxTokens ?? this.spec.maxTokens ?? 512,
      ...(this.opts.seed !== undefined ? { seed: this.opts.seed } : {}),
      ...(constrained && this.spec.jsonSchema ? { jsonSchema: this.spec.jsonSchema } : {}),
    };
  }

  async judge(input: JudgeInput): Promise<Judgement> {
    const first = this.request(input);
    let messages = first.messages;
    const errors: string[] = [];
    for (let attemptNo = 1; attemptNo <= this.retries + 1; attemptNo++) {
      let content: string;
      try {
        const res = await this.model.chat({ ...first, messages });
        content = res.content;
        if (res.finishReason === "error") throw new Error("the model reported an error");
        // the judge's own deployment filtered the judge prompt (it quotes the attack): no verdict to parse
        if (res.finishReason === "content_filter" && res.content.trim() === "")
          throw new Error("the judge model's content filter blocked the judge prompt");
      } catch (err) {
        errors.push(`attempt ${attemptNo}: model error: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      const parsed = this.spec.parse(stripThinking(content));
      if (parsed.ok) {
        return { judgeId: this.id, status: "ok", attempts: attemptNo, ...this.spec.toJudgement(parsed.value, input) };
      }
      errors.push(`attempt ${attemptNo}: ${parsed.error} in ${quoteOutput(content)}`);
      if (this.spec.repairTurn === false) continue;
      messages = [
        ...first.messages,
        { role: "assistant", content },
        {
          role: "user",
          content: `Your answer could not be parsed (${parsed.error}). Answer again, in exactly this format and nothing else:\n${this.spec.formatReminder}`,
        },
      ];
    }
    return {
      judgeId: this.id,
      status: "unjudged",
      label: "unjudged",
      attempts: this.retries + 1,
      rationale: errors.join("; "),
    };
  }
}
