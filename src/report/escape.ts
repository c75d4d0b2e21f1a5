/** Escapes text for HTML element content and attribute values. Model output is untrusted: everything goes through it. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Escapes text for a Markdown table cell or line: neutralises HTML, pipes and line breaks. */
export function escapeMarkdown(text: string): string {
  return escapeHtml(text).replace(/\|/g, "\\|").replace(/\r?\n/g, " ⏎ ");
}
