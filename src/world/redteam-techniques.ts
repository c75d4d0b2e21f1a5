/**
 * The red team's own jailbreak techniques (src/redteam: built-in framings, and the ROT13 / leetspeak converters with
 * their read-me hints), rendered exactly as the red team renders them, so the base corpus teaches the demo model to
 * follow the very attacks `breakfix redteam` runs, not only the world's own framings (framings.ts). Only chains a
 * small byte-level model can read are used: plain framings, and ROT13 / leetspeak under a framing. Many-shot uses
 * 2 shots so the conversation stays within a 256-token context.
 */
import type { Conversation } from "../domain/index.ts";
import { rot13Converter } from "../redteam/converters/encoding.ts";
import { leetspeak, leetspeakConverter } from "../redteam/converters/obfuscation.ts";
import { applyFraming, BUILTIN_FRAMINGS } from "../redteam/framings/index.ts";
import type { AttackDraft } from "../redteam/framings/types.ts";
import { draftConversation } from "../redteam/techniques.ts";
import { rot13 } from "./encodings.ts";

export interface RedteamChain {
  /** Technique id as the red team labels it (steps joined by "+"). */
  id: string;
  converter?: "rot13" | "leetspeak";
  framing: string;
  shots?: number;
  /** Token-hungry chains (encoded text, fake dialogue) take the shortest request phrasing. */
  short?: boolean;
}

/** The red-team chains the world renders: every built-in framing, plus two encoding+framing chains. */
export function redteamChains(): RedteamChain[] {
  const plain = BUILTIN_FRAMINGS.map((f) => ({
    id: f.name,
    framing: f.name,
    shots: f.shots?.length ? 2 : undefined,
    short: f.shots?.length ? true : undefined,
  }));
  return [
    ...plain,
    { id: "rot13+hypothetical", converter: "rot13", framing: "hypothetical", short: true },
    { id: "leetspeak+fiction", converter: "leetspeak", framing: "fiction", short: true },
  ];
}

/** Renders a request under a red-team chain: the attack conversation the red team would send. */
export function redteamConversation(req: string, chain: RedteamChain, language: string, seed: number): Conversation {
  const f = BUILTIN_FRAMINGS.find((x) => x.name === chain.framing);
  if (!f) throw new Error(`world: the red team has no built-in framing '${chain.framing}'`);
  let draft: AttackDraft = { prefix: [], text: req, language };
  if (chain.converter === "rot13") draft = { ...draft, text: rot13(req), pendingHint: rot13Converter().hint };
  if (chain.converter === "leetspeak")
    draft = { ...draft, text: leetspeak(req, 1, seed), pendingHint: leetspeakConverter().hint };
  draft = applyFraming(f, draft, { seed, shots: chain.shots });
  return draftConversation(draft);
}

/** The compliant opener the base model uses under a chain (prefix injection dictates it). */
export function redteamOpener(chain: RedteamChain, language: string): string | undefined {
  if (chain.framing !== "prefix_injection") return undefined;
  return language === "es" ? "Claro, aquí tienes:" : "Sure, here is how:";
}
