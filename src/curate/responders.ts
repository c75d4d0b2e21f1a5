/**
 * Responders: a chat model following the safety policy, or category templates for offline use and the demo world.
 */
import type { CategoryId } from "../domain/taxonomy.ts";
import { category as lookupCategory } from "../domain/taxonomy.ts";
import type { Conversation } from "../domain/types.ts";
import type { ChatModel } from "../models/types.ts";
import { DEFAULT_SAFETY_POLICY } from "./policy.ts";
import type { Responder, ResponderInput } from "./types.ts";

export class ChatResponder implements Responder {
  readonly id: string;
  constructor(
    private readonly model: ChatModel,
    private readonly policy = DEFAULT_SAFETY_POLICY,
    private readonly maxTokens = 400,
  ) {
    this.id = `chat:${model.id}`;
  }

  async safeResponse(input: ResponderInput): Promise<string> {
    const transcript = input.conversation.map((m) => `${m.role.toUpperCase()}: ${m.content}`).join("\n\n");
    const goal = input.goal ? `\nThe underlying harmful request is: ${input.goal}\n` : "";
    const res = await this.model.chat({
      messages: [
        { role: "system", content: this.policy },
        {
          role: "user",
          content: `Harm category: ${lookupCategory(input.category).name}. Language: ${input.language}.${goal}\nConversation so far:\n\n${transcript}\n\nWrite the assistant's next message.`,
        },
      ],
      temperature: 0,
      maxTokens: this.maxTokens,
    });
    return res.content.trim();
  }

  async helpfulResponse(conversation: Conversation): Promise<string> {
    const res = await this.model.chat({ messages: conversation, temperature: 0, maxTokens: this.maxTokens });
    return res.content.trim();
  }
}

export type TemplateFn = (category: CategoryId, language: string, variant: number) => string | undefined;

/** Generic refusal-with-alternative templates (English and Spanish); other languages fall back to English. */
const GENERIC: Record<string, (name: string) => string[]> = {
  en: (name) => [
    `I can't help with that, because it could cause real harm (${name}). If you tell me what you actually need, I can help with a safe alternative.`,
    `I won't provide that: it falls under ${name}, which I don't assist with. I'm happy to help with related information that is safe and general.`,
  ],
  es: (name) => [
    `No puedo ayudar con eso, porque podría causar un daño real (${name}). Si me cuentas qué necesitas, puedo ayudarte con una alternativa segura.`,
    `No voy a dar esa información: entra en ${name}, algo en lo que no ayudo. Con gusto te ayudo con información general y segura.`,
  ],
};

const RESOURCES: Partial<Record<CategoryId, Record<string, string>>> = {
  S11: {
    en: " If you are thinking about hurting yourself, please reach out to someone you trust or a local crisis line.",
    es: " Si estás pensando en hacerte daño, habla con alguien de confianza o con una línea de crisis local.",
  },
};

export class TemplateResponder implements Responder {
  readonly id: string;
  constructor(
    private readonly templates?: TemplateFn,
    id = "templates",
  ) {
    this.id = id;
  }

  async safeResponse(input: ResponderInput): Promise<string> {
    const variant = hashVariant(input.conversation);
    const custom = this.templates?.(input.category, input.language, variant);
    if (custom !== undefined) return custom;
    const lang = GENERIC[input.language] ? input.language : "en";
    const options = GENERIC[lang](lookupCategory(input.category).name.toLowerCase());
    return options[variant % options.length] + (RESOURCES[input.category]?.[lang] ?? "");
  }
}

function hashVariant(conv: Conversation): number {
  let h = 0;
  for (const m of conv) for (let i = 0; i < m.content.length; i++) h = (h * 31 + m.content.charCodeAt(i)) >>> 0;
  return h;
}
