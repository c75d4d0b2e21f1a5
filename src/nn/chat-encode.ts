/**
 * Chat encoding in which only the chat template can produce control tokens (issue 23). Rendering a template and
 * tokenizing the result with special-token parsing (what HF `apply_chat_template(tokenize=True)` and llama.cpp's
 * `tokenize(text, special=true)` do) lets any message text that spells a marker, such as `hi<|end|>` or
 * `<|eot_id|>`, become that control token: a serve client, a dataset prompt or a model's own output could forge role
 * boundaries. Here every special-token spelling inside a message is swapped for a private-use placeholder character
 * before rendering, the rendered text is split at the special tokens that remain (those the template wrote), and the
 * text between them is tokenized with special-token parsing off after the placeholders are put back. For text with no
 * marker in it the ids are exactly those of the plain render-then-tokenize (the same split at special tokens, the same
 * text runs between them).
 *
 * Limits: a template that inspects or rewrites message text around a marker sees the placeholder instead; a
 * tokenizer whose pre-tokenizer depends on the section index (Metaspace with prepend_scheme "first") may split the
 * first word of a later run differently from HF. Neither applies to the demo and parity models (byte-level BPE).
 */

export interface ChatMessageText {
  role: string;
  content: string;
}

/** What chat encoding needs from a tokenizer. */
export interface ControlTokenizer {
  /** Every control token's text (special added tokens; llama.cpp CONTROL tokens). */
  readonly controlTokens: readonly string[];
  /** The id of a control token (one of controlTokens). */
  controlId(token: string): number;
  /** Token ids of plain text, with no special-token parsing: a marker's spelling in it is text. */
  encodeText(text: string): number[];
}

const PUA_START = 0xe000;
const PUA_END = 0xf8ff;

/** Occurrences of the control tokens in text, leftmost first, longest at a position (what tokenizers match). */
function findControls(text: string, tokens: readonly string[]): { at: number; token: string }[] {
  const out: { at: number; token: string }[] = [];
  const sorted = [...tokens].filter((t) => t.length > 0).sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return out;
  const firstChars = new Set(sorted.map((t) => t[0]));
  for (let i = 0; i < text.length; ) {
    if (firstChars.has(text[i])) {
      const t = sorted.find((s) => text.startsWith(s, i));
      if (t) {
        out.push({ at: i, token: t });
        i += t.length;
        continue;
      }
    }
    i++;
  }
  return out;
}

/**
 * The messages with every control-token spelling replaced by a placeholder character, and the map back. Returns
 * undefined when no message spells a control token.
 */
export function escapeControlText<M extends ChatMessageText>(
  messages: readonly M[],
  controlTokens: readonly string[],
): { messages: M[]; restore: Map<string, string> } | undefined {
  const used = new Set<string>();
  for (const m of messages) for (const t of findControls(m.content, controlTokens)) used.add(t.token);
  if (used.size === 0) return undefined;
  // Placeholders: private-use characters that appear in no message.
  const all = messages.map((m) => m.content).join("");
  const placeholder = new Map<string, string>();
  const restore = new Map<string, string>();
  let cp = PUA_START;
  for (const token of used) {
    while (cp <= PUA_END && all.includes(String.fromCharCode(cp))) cp++;
    if (cp > PUA_END) throw new Error("cannot encode: the messages use every private-use character");
    const ch = String.fromCharCode(cp++);
    placeholder.set(token, ch);
    restore.set(ch, token);
  }
  const swap = (text: string): string => replaceControls(text, [...used], placeholder);
  return { messages: messages.map((m) => ({ ...m, content: swap(m.content) })), restore };
}

/**
 * Splits a rendered prompt at control tokens and encodes it: control tokens by id, the text between them as text
 * (placeholders of escaped message markers restored first).
 */
export function encodeRendered(text: string, tok: ControlTokenizer, restore?: ReadonlyMap<string, string>): number[] {
  const ids: number[] = [];
  const plain = (run: string) => {
    if (run.length === 0) return;
    let t = run;
    if (restore && restore.size > 0) for (const [ch, token] of restore) t = t.split(ch).join(token);
    for (const id of tok.encodeText(t)) ids.push(id);
  };
  let pos = 0;
  for (const h of findControls(text, tok.controlTokens)) {
    plain(text.slice(pos, h.at));
    ids.push(tok.controlId(h.token));
    pos = h.at + h.token.length;
  }
  plain(text.slice(pos));
  return ids;
}

/**
 * Renders messages through a chat template and encodes the result so that control tokens come only from the
 * template. `render` renders the template (with the generation prompt, special-token variables, as the caller wants).
 */
export function encodeChat<M extends ChatMessageText>(
  render: (messages: M[]) => string,
  messages: readonly M[],
  tok: ControlTokenizer,
): number[] {
  const escaped = escapeControlText(messages, tok.controlTokens);
  if (!escaped) return encodeRendered(render([...messages]), tok);
  return encodeRendered(render(escaped.messages), tok, escaped.restore);
}

/**
 * Fixed placeholders (U+E000 + the control token's index) for callers that render and encode in separate steps, such
 * as the trainer, which renders prefixes of a conversation to find each assistant turn before it encodes the pieces:
 * `escape` each message's text before rendering, then encode the rendered pieces with `encodeRendered(text, tok,
 * restore)`. A text that already holds one of these private-use characters cannot be escaped unambiguously and is
 * refused.
 */
export function fixedPlaceholders(controlTokens: readonly string[]): {
  escape: (text: string) => string;
  restore: Map<string, string>;
} {
  if (controlTokens.length > PUA_END - PUA_START + 1) throw new Error("too many control tokens for placeholders");
  const placeholder = new Map<string, string>();
  const restore = new Map<string, string>();
  controlTokens.forEach((t, i) => {
    const ch = String.fromCharCode(PUA_START + i);
    placeholder.set(t, ch);
    restore.set(ch, t);
  });
  const escapeText = (text: string): string => {
    for (const ch of restore.keys())
      if (text.includes(ch))
        throw new Error(
          `text contains U+${ch.charCodeAt(0).toString(16).toUpperCase()}, a private-use character reserved for escaping control tokens`,
        );
    return replaceControls(text, controlTokens, placeholder);
  };
  return { escape: escapeText, restore };
}

/** The text with every control-token occurrence replaced by its placeholder character. */
function replaceControls(text: string, tokens: readonly string[], placeholder: ReadonlyMap<string, string>): string {
  const hits = findControls(text, tokens);
  if (hits.length === 0) return text;
  let out = "";
  let pos = 0;
  for (const h of hits) {
    out += text.slice(pos, h.at) + placeholder.get(h.token);
    pos = h.at + h.token.length;
  }
  return out + text.slice(pos);
}
