/** Escapes text for HTML element content and attribute values. Model output is untrusted: everything goes through it. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Escapes untrusted text (model output, names from user files) for a Markdown table cell or line, so that it renders
 * as the text it is and never as markup (issue 23):
 * - raw HTML and autolinks: `& < > " '` and backticks become character references (no tag, no `<https://...>`, no
 *   code span);
 * - links, images, emphasis, strike-through and tables: `\ [ ] ( ) ! * _ ~ |` are backslash-escaped (CommonMark
 *   allows a backslash before any ASCII punctuation), so `[a](u)` and `![a](u)` are plain text;
 * - bare URLs, which GFM turns into links without any markup (`https://x`, `www.x`), are defanged the way security
 *   reports show indicators: `https[:]//x`, `www[.]x`. Escapes cannot stop that autolinking, so the text must change;
 *   the change is visible on purpose;
 * - line breaks become " ⏎ " (one table row, one quoted line).
 */
export function escapeMarkdown(text: string): string {
  const defanged = text.replace(/([A-Za-z][A-Za-z0-9+.-]*):\/\//g, "$1[:]//").replace(/\b(www)\./gi, "$1[.]");
  return escapeHtml(defanged)
    .replace(/[\\[\]()!*_~|]/g, (c) => `\\${c}`)
    .replace(/\r?\n|\r/g, " ⏎ ");
}
