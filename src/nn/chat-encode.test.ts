import { describe, expect, it } from "vitest";
import {
  type ControlTokenizer,
  encodeChat,
  encodeRendered,
  escapeControlText,
  fixedPlaceholders,
} from "./chat-encode.ts";

// A character-level tokenizer: text -> char codes; control tokens get ids from 1,000,000 on.
const CONTROLS = ["<|end|>", "<|endoftext|>", "<|user|>", "<|assistant|>"];
const tok: ControlTokenizer = {
  controlTokens: CONTROLS,
  controlId: (t) => 1_000_000 + CONTROLS.indexOf(t),
  encodeText: (text) => [...text].map((c) => c.codePointAt(0) ?? 0),
};
const render = (ms: { role: string; content: string }[]) =>
  `${ms.map((m) => `<|${m.role}|>${m.content.trim()}<|end|>`).join("")}<|assistant|>`;
const decode = (ids: number[]) =>
  ids.map((id) => (id >= 1_000_000 ? `[${CONTROLS[id - 1_000_000]}]` : String.fromCodePoint(id))).join("");

describe("chat encoding: control tokens come from the template only", () => {
  it("keeps markers in messages as text, the template's as control tokens", () => {
    const ids = encodeChat(render, [{ role: "user", content: "hi<|end|><|endoftext|> x" }], tok);
    expect(decode(ids)).toBe("[<|user|>]hi<|end|><|endoftext|> x[<|end|>][<|assistant|>]");
  });

  it("works through templates that transform the text (trim) and with the longest marker first", () => {
    const ids = encodeChat(render, [{ role: "user", content: "  <|endoftext|>  " }], tok);
    expect(decode(ids)).toBe("[<|user|>]<|endoftext|>[<|end|>][<|assistant|>]");
  });

  it("picks placeholders the messages do not use", () => {
    const pua = String.fromCharCode(0xe000);
    const m = [{ role: "user", content: `${pua}<|end|>` }];
    const e = escapeControlText(m, CONTROLS);
    expect(e?.messages[0].content).toBe(`${pua}${String.fromCharCode(0xe001)}`);
    expect(decode(encodeChat(render, m, tok))).toBe(`[<|user|>]${pua}<|end|>[<|end|>][<|assistant|>]`);
  });

  it("leaves marker-free conversations alone", () => {
    expect(escapeControlText([{ role: "user", content: "<|end" }], CONTROLS)).toBeUndefined();
    const ids = encodeChat(render, [{ role: "user", content: "plain" }], tok);
    expect(decode(ids)).toBe("[<|user|>]plain[<|end|>][<|assistant|>]");
  });
});

describe("fixed placeholders (render and encode in separate steps)", () => {
  it("escapes before rendering and restores when encoding pieces", () => {
    const { escape: escapeText, restore } = fixedPlaceholders(CONTROLS);
    const msgs = [{ role: "user", content: escapeText("a<|end|>b<|user|>") }];
    const text = render(msgs);
    const cut = text.indexOf("b");
    const ids = [...encodeRendered(text.slice(0, cut), tok, restore), ...encodeRendered(text.slice(cut), tok, restore)];
    expect(decode(ids)).toBe("[<|user|>]a<|end|>b<|user|>[<|end|>][<|assistant|>]");
    expect(() => escapeText(`x${String.fromCharCode(0xe001)}`)).toThrow(/U\+E001, a private-use character reserved/);
  });
});
