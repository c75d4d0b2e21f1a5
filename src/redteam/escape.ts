/**
 * Model output is adversarial data. Before it reaches a terminal, control characters (ANSI escape sequences can
 * rewrite the screen or the clipboard), bidi overrides, zero-width and Unicode tag characters (smuggled text) are
 * shown as visible \u{...} escapes instead of being interpreted or hidden.
 */
const UNSAFE_RANGES: readonly [number, number][] = [
  [0x00, 0x08],
  [0x0b, 0x1f],
  [0x7f, 0x9f],
  [0xad, 0xad],
  [0x61c, 0x61c],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffb],
  [0xe0000, 0xe007f],
];

function unsafe(cp: number): boolean {
  return UNSAFE_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi);
}

export function escapeForTerminal(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    out += unsafe(cp) ? `\\u{${cp.toString(16)}}` : ch;
  }
  return out;
}
