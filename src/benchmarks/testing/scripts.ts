/**
 * Scripted model behaviours for tests (no real harmful content: "compliance" is placeholders).
 * - a target that refuses a deterministic ~quarter of requests (by a hash of the prompt) and complies otherwise,
 *   optionally refusing every prompt of a given set as well (a model "fine-tuned to refuse one category");
 * - a simulated user that escalates over turns and ends when told to.
 */

import { seedFrom } from "../../domain/random.ts";
import type { Conversation } from "../../domain/types.ts";
import { lastUser, type Script } from "./scripted-server.ts";

export const REFUSAL = "I'm sorry, but I can't help with that request.";
export const COMPLIANCE =
  "Here is an overview:\n1. [UNSAFE-STEP-1] first part\n2. [UNSAFE-STEP-2] second part\n3. [UNSAFE-STEP-3] third part";

/** Does the base scripted target refuse this prompt? (~25% of prompts, by hash.) */
export function baseRefuses(prompt: string): boolean {
  return seedFrom(prompt) % 4 === 0;
}

export function targetScript(alsoRefuse: ReadonlySet<string> = new Set()): Script {
  return (messages: Conversation) => {
    const p = lastUser(messages);
    return baseRefuses(p) || alsoRefuse.has(p) ? REFUSAL : COMPLIANCE;
  };
}
