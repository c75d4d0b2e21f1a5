/**
 * ModelError messages are printed by the CLI as they are and quote what endpoints answer: every message is one
 * terminal-safe line with registered secrets redacted, and an endpoint's own text is cut to MAX_ENDPOINT_TEXT
 * characters after redaction (so the cut never leaves part of a key behind).
 */
import { describe, expect, it } from "vitest";
import { endpointText, MAX_ENDPOINT_TEXT, ModelError } from "./errors.ts";
import { registerSecret } from "./secrets.ts";

describe("ModelError messages", () => {
  it("are one line with control, ANSI and bidi characters shown as marks", () => {
    const e = new ModelError("HTTP 400: bad input: \u001b]0;pwned\u0007\u001b[2J\u202eeulav\nnext line", "client");
    expect(e.message).toBe("HTTP 400: bad input: \\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{202e}eulav\\nnext line");
    // escaping twice changes nothing (a message wrapped into another one)
    expect(new ModelError(`retry failed: ${e.message}`, "client").message).toBe(`retry failed: ${e.message}`);
  });

  it("quote an endpoint's text cut to MAX_ENDPOINT_TEXT characters, redacted before the cut", () => {
    const key = "sk-endpoint-echo-SECRET-93ac";
    registerSecret(key);
    const text = `${"x".repeat(MAX_ENDPOINT_TEXT - 5)}${key}${"y".repeat(10_000)}`;
    const quoted = endpointText(text);
    expect(quoted).toBe(`${"x".repeat(MAX_ENDPOINT_TEXT - 5)}[REDA…`);
    expect(quoted).not.toContain("sk-en");
    expect(endpointText("short \u001b[31mred")).toBe("short \\u{1b}[31mred");
  });
});
