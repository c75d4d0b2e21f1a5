/**
 * Plug-in points of the curation stage. A Responder writes the safe response to a harmful ask; a CounterDataSource
 * supplies benign look-alike prompts (with helpful answers where it knows them) so the model does not learn to
 * over-refuse.
 */
import type { CategoryId } from "../domain/taxonomy.ts";
import type { Conversation } from "../domain/types.ts";

export interface ResponderInput {
  /** The conversation up to and including the harmful user turn. */
  conversation: Conversation;
  category: CategoryId;
  language: string;
  /** The underlying harmful request, when the conversation wraps it in an attack (encoding, role play, ...). */
  goal?: string;
}

export interface Responder {
  readonly id: string;
  /** A response that refuses the harmful part and stays as helpful as policy allows. */
  safeResponse(input: ResponderInput): Promise<string>;
  /** A helpful answer to a benign prompt (for counter-data whose source has no answer of its own). */
  helpfulResponse?(conversation: Conversation, language: string): Promise<string>;
}

export interface LookalikePrompt {
  id: string;
  prompt: string;
  category: CategoryId;
  language: string;
  /** A known helpful answer, when the source has one (the demo world does). */
  answer?: string;
  source: string;
}

export interface CounterDataSource {
  readonly id: string;
  /** Up to n benign look-alikes for a harm category and language, deterministic for a seed. */
  lookalikes(category: CategoryId, language: string, n: number, seed: number): Promise<LookalikePrompt[]>;
}

/**
 * Capability-retention ("replay") data: benign tasks the model already does well, answered as it should, mixed into
 * the fix data so safety training does not erode capability (the Phi-3 recipe mixes safety data into a broad
 * post-training set for the same reason). Deterministic for a seed.
 */
export interface RetentionSource {
  readonly id: string;
  /** Up to n benign tasks with known answers in a language. */
  tasks(language: string, n: number, seed: number): Promise<LookalikePrompt[]>;
}

/**
 * A harmful prompt of a fixed safety set: safety data that does not come from this round's findings. Phi-3's safety
 * post-training starts from such a set (public and in-house harmful prompts with safe answers) and the break-fix rounds
 * add targeted data on top; a few hundred red-team findings alone teach a small model its refusals too narrowly (the
 * demo's dev figures: docs/demo-recipe.md).
 */
export interface SafetyPrompt {
  id: string;
  /** The conversation up to and including the harmful user turn. */
  conversation: Conversation;
  category: CategoryId;
  language: string;
  /** A compliant answer the model gives (or would give): the rejected side of the row's DPO pair. Without one the
   *  row is SFT data only. */
  rejected?: string;
  /** Technique families the prompt uses (a jailbreak framing's): a prompt in a held-out family is never trained on. */
  families?: readonly string[];
  source: string;
}

export interface SafetySetSource {
  readonly id: string;
  /** Up to n harmful prompts, deterministic for a seed. */
  prompts(n: number, seed: number): Promise<SafetyPrompt[]>;
}
