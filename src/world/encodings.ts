/**
 * The simple encodings attackers use (and that the base corpus teaches the demo model to follow): ROT13 and
 * leetspeak. Pure, deterministic functions; the red-team converters may import them from here.
 */

/** ROT13 on ASCII letters; everything else (digits, accents, punctuation) is kept. Its own inverse. */
export function rot13(text: string): string {
  return text.replace(/[A-Za-z]/g, (c) => {
    const base = c <= "Z" ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/** The leetspeak substitutions the world uses (letter -> digit/symbol), applied case-insensitively. */
export const LEET_MAP: Readonly<Record<string, string>> = { a: "4", e: "3", i: "1", o: "0", s: "5", t: "7" };
const LEET_REVERSE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(LEET_MAP).map(([k, v]) => [v, k]),
);

/**
 * Leetspeak: a->4 e->3 i->1 o->0 s->5 t->7. Text inside square brackets (placeholders such as
 * `[UNSAFE-WEAPONS-STEP-1]`) and existing digits are left alone, so decoding is exact for text without digits.
 */
export function leetspeak(text: string): string {
  let out = "";
  let depth = 0;
  for (const ch of text) {
    if (ch === "[") depth++;
    if (ch === "]" && depth > 0) depth--;
    const sub = depth === 0 ? LEET_MAP[ch.toLowerCase()] : undefined;
    out += sub ?? ch;
  }
  return out;
}

/**
 * Best-effort leetspeak decoding: a digit standing between letters (or at a word edge next to a letter) becomes its
 * letter; numbers that stand alone ("12") are kept. Output is lower-case where a digit was replaced.
 */
export function unleet(text: string): string {
  return text.replace(/[A-Za-z0-9]+/g, (word) => {
    if (/^[0-9]+$/.test(word)) return word;
    return word.replace(/[013457]/g, (d) => LEET_REVERSE[d] ?? d);
  });
}
