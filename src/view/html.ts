/**
 * HTML building for the view: hono's `html` tagged template (every interpolated string is escaped unless it is
 * itself the result of `h` or `text`), plus `text` for untrusted model output: HTML-escaped by src/domain/escape.ts,
 * which turns invisible and control characters (Unicode tag characters U+E0000-E007F, bidi overrides, zero-width
 * characters, ANSI escapes) into visible \u{...} marks, highlighted here, so smuggled text is seen, never
 * interpreted. Nothing model-produced ever becomes an attribute that the browser acts on (href, src, on*).
 */
import { html as honoHtml, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { escapeHtml } from "../domain/escape.ts";
import { redactUrl } from "../models/secrets.ts";

export type Html = HtmlEscapedString;

/** hono's html helper, synchronous (the view never interpolates promises). */
export function h(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const out = honoHtml(strings, ...values);
  if (out instanceof Promise) throw new Error("view: asynchronous HTML is not supported");
  return out;
}

const MARK = /\\u\{([0-9a-f]{1,6})\}/g;

/** Untrusted text as inert HTML; invisible characters shown as visible, highlighted \u{...} marks. */
export function text(value: string | number | null | undefined): Html {
  if (value === null || value === undefined) return raw("");
  const escaped = escapeHtml(String(value));
  return raw(escaped.replace(MARK, (m) => `<span class="cp" title="invisible character">${m}</span>`));
}

/**
 * A model, target or judge id as inert HTML, with any credential an endpoint URL in it still holds removed
 * (redactUrl): workspaces written before keys were taken out of target URLs store them in every record.
 */
export function modelId(value: string | null | undefined): Html {
  return text(value === null || value === undefined ? value : redactUrl(value));
}

/** Pre-rendered trusted markup (charts rendered by src/report/charts.ts, whose text Vega escapes). */
export function trusted(markup: string): Html {
  return raw(markup);
}

/** A URL of this app: path plus query parameters (empty values dropped), every part encoded. */
export function url(
  pathname: string,
  query: Record<string, string | number | boolean | undefined | null> = {},
): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "" || v === false) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${pathname}?${s}` : pathname;
}
