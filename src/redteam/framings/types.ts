/**
 * Jailbreak framings: templates that wrap an attack prompt in a context (a role, a story, a hypothetical, a fake
 * earlier dialogue, an overriding system prompt...). Built-ins live in builtin.ts; users add or override framings
 * from a YAML/JSON file (see load.ts for the format). Templates use {{prompt}} (the attack text so far) and {{hint}}
 * (how to read an encoded prompt, from the last converter that has one; empty when none).
 */
import type { Conversation } from "../../domain/types.ts";

export type FramingFamily =
  | "roleplay"
  | "hypothetical"
  | "fiction"
  | "prefix_injection"
  | "refusal_suppression"
  | "many_shot"
  | "system_override"
  | (string & {});

export interface FramingText {
  /** A system message to put first (system-prompt override). */
  system?: string;
  /** The user turn; must contain {{prompt}}. */
  user: string;
  /** Fake earlier turns put before the user turn (may use {{prompt}} too). */
  turns?: Conversation;
}

export interface Shot {
  user: string;
  assistant: string;
}

export interface Framing extends FramingText {
  name: string;
  family: FramingFamily;
  description: string;
  /** Per-language variants of the texts (e.g. { es: { user: "..." } }), used when the attack's language matches. */
  i18n?: Record<string, FramingText>;
  /** Many-shot framings: the pool of fake user/assistant exchanges, and how many to put in front by default. */
  shots?: Shot[];
  defaultShots?: number;
}

/** Where an attack conversation stands while its steps are applied. */
export interface AttackDraft {
  /** Messages before the final user turn (system prompt, fake dialogue). */
  prefix: Conversation;
  /** The final user turn's text. */
  text: string;
  /** The read-me hint of the last converter that had one and that no framing has placed yet. */
  pendingHint?: string;
  language: string;
}
