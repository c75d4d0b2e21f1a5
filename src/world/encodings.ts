/**
 * The encodings attackers use, as the red team's converters produce them (src/redteam/converters: one
 * implementation, re-exported here so the base corpus teaches the demo model exactly the converters' output), and
 * the decoding the world judge needs to see placeholders through them.
 */
import { rot13 } from "../redteam/converters/encoding.ts";
import { LEET_MAP, leetspeak } from "../redteam/converters/obfuscation.ts";

export { LEET_MAP, leetspeak, rot13 };

const LEET_REVERSE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(LEET_MAP).map(([k, v]) => [v, k]),
);

/**
 * Best-effort leetspeak decoding: inside a token that has at least one letter, each leet digit becomes its letter;
 * tokens made only of digits ("12", and the ambiguous "3573") are kept.
 */
export function unleet(text: string): string {
  return text.replace(/[A-Za-z0-9]+/g, (word) => {
    if (/^[0-9]+$/.test(word)) return word;
    return word.replace(/[0-9]/g, (d) => LEET_REVERSE[d] ?? d);
  });
}
