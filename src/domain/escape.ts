/**
 * The one escaping module for untrusted text (model output, names from user files) on its way to a terminal, HTML or
 * Markdown. Model output is adversarial data: ANSI escape sequences can rewrite the screen or the clipboard, bidi
 * overrides reorder what is shown, zero-width, Unicode tag characters (U+E0000-E007F) and variation selectors smuggle
 * text nobody sees.
 * Every printer shows those as visible `\u{...}` marks instead of letting them be interpreted or hidden:
 * - `escapeForTerminal`: CLI output (optionally one line per value, optionally cut to a length);
 * - `escapeHtml`: element content and quoted attribute values (report.html, the dashboard);
 * - `escapeMarkdown`: report.md table cells and lines.
 */

/**
 * Code points shown as `\u{...}`: C0 controls except tab and newline, DEL and C1 controls (ESC and CSI start ANSI
 * sequences), soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width space/joiners and LRM/RLM, line and
 * paragraph separators, bidi embeddings and overrides, word joiner to nominal digit shapes (bidi isolates included),
 * byte-order mark, interlinear annotation characters and the Unicode tag block (DEFAULT_IGNORABLE adds the rest).
 */
const INVISIBLE_RANGES: readonly [number, number][] = [
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

/**
 * Unicode's default-ignorable code points (rendered as nothing when not supported): besides the ranges above, the
 * combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian variation selectors, variation selectors
 * (VS1-VS256: "emoji smuggling" hides any bytes after a character as U+FE00-FE0F, U+E0100-E01EF) and the rest of plane
 * 14. U+FE0F (emoji presentation, as in ❤️) is left as it is: it is in ordinary text and hides nothing alone.
 */
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;

/** True for a code point that a terminal or browser would interpret or hide (INVISIBLE_RANGES, DEFAULT_IGNORABLE). */
export function isInvisible(cp: number): boolean {
  if (INVISIBLE_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi)) return true;
  return cp > 0x7f && cp !== 0xfe0f && cp <= 0x10ffff && DEFAULT_IGNORABLE.test(String.fromCodePoint(cp));
}

export interface TerminalEscapeOptions {
  /** Newlines become a visible `\n` too, so one value stays on one line (tables, one-line listings). */
  oneLine?: boolean;
  /** Keep at most this many characters (code points) of the input, then `…`. */
  max?: number;
}

/** Untrusted text made safe to print on a terminal: every invisible or control character becomes `\u{hex}`. */
export function escapeForTerminal(text: string, opts: TerminalEscapeOptions = {}): string {
  const chars = Array.from(text);
  const cut = opts.max !== undefined && chars.length > opts.max;
  let out = "";
  for (const ch of cut ? chars.slice(0, opts.max) : chars) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x0a && opts.oneLine) out += "\\n";
    else out += isInvisible(cp) ? `\\u{${cp.toString(16)}}` : ch;
  }
  return cut ? `${out}…` : out;
}

/**
 * A value as one line of JSON for a terminal (`--json` output): JSON.stringify escapes C0 controls only, so C1 controls
 * (U+009B is CSI, U+009D OSC: terminals that read 8-bit controls act on them), bidi overrides, zero-width and tag
 * characters would reach the terminal raw. Every invisible character (isInvisible) is written as a \uXXXX escape
 * instead: the same JSON value, parsed back exactly.
 */
export function jsonForTerminal(value: unknown): string {
  const json: string | undefined = JSON.stringify(value);
  if (json === undefined) return String(json);
  let out = "";
  for (const ch of json) {
    const cp = ch.codePointAt(0)!;
    if (!isInvisible(cp)) out += ch;
    else for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, "0")}`;
  }
  return out;
}

/** Untrusted text as inert HTML element content or quoted attribute value, invisible characters shown as marks. */
export function escapeHtml(text: string): string {
  return escapeForTerminal(text).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Escapes untrusted text for a Markdown table cell or line, so that it renders as the text it is and never as markup:
 * - raw HTML and autolinks: `& < > " '` and backticks become character references (no tag, no `<https://...>`, no
 *   code span), and invisible characters become visible marks (escapeHtml);
 * - links, images, emphasis, strike-through and tables: `\ [ ] ( ) ! * _ ~ |` are backslash-escaped (CommonMark
 *   allows a backslash before any ASCII punctuation), so `[a](u)` and `![a](u)` are plain text;
 * - bare URLs, which GFM turns into links without any markup (`https://x`, `www.x`, `a@b.x`), are defanged the way
 *   security reports show indicators: `https[:]//x`, `www[.]x`, `a[@]b.x`. Escapes cannot stop that autolinking, so
 *   the text must change; the change is visible on purpose;
 * - line breaks become " ⏎ " (one table row, one quoted line).
 */
export function escapeMarkdown(text: string): string {
  const defanged = text
    .replace(/\r\n?/g, "\n")
    .replace(/([A-Za-z][A-Za-z0-9+.-]*):\/\//g, "$1[:]//")
    // GFM links `www.` after whitespace or any of `* _ ~ (` (`_` is a word character: \b would miss it), and e-mail
    // addresses (as mailto:, also after `mailto:`)
    .replace(/(?<![A-Za-z0-9])(www)\./gi, "$1[.]")
    .replace(/(?<=[A-Za-z0-9._+-])@(?=[A-Za-z0-9_-]+\.[A-Za-z0-9_-])/g, "[@]");
  return escapeHtml(defanged)
    .replace(/[\\[\]()!*_~|]/g, (c) => `\\${c}`)
    .replace(/\n/g, " ⏎ ");
}
