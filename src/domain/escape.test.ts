import { describe, expect, it } from "vitest";
import { escapeForTerminal, escapeHtml, escapeMarkdown, isInvisible, jsonForTerminal } from "./escape.ts";

const TAGS_HI = String.fromCodePoint(0xe0068, 0xe0069); // "hi" in Unicode tag characters (ASCII smuggling)

describe("escapeForTerminal", () => {
  it("makes ANSI escapes, C1 controls, bidi overrides, zero-width and tag characters visible; keeps text, newlines, tabs", () => {
    expect(escapeForTerminal("a\u001b[2Jb")).toBe("a\\u{1b}[2Jb");
    expect(escapeForTerminal("a\u009b31mb")).toBe("a\\u{9b}31mb"); // C1 CSI
    expect(escapeForTerminal("x\u202ey\u2066z")).toBe("x\\u{202e}y\\u{2066}z");
    expect(escapeForTerminal("z\u200bw\ufeff")).toBe("z\\u{200b}w\\u{feff}");
    expect(escapeForTerminal(TAGS_HI)).toBe("\\u{e0068}\\u{e0069}");
    expect(escapeForTerminal("a\rb")).toBe("a\\u{d}b");
    expect(escapeForTerminal("línea 1\n\tlínea 2 🧪 漢字")).toBe("línea 1\n\tlínea 2 🧪 漢字");
  });

  it("oneLine shows newlines as \\n; max cuts by code point before escaping, never inside an escape or a pair", () => {
    expect(escapeForTerminal("a\nb", { oneLine: true })).toBe("a\\nb");
    expect(escapeForTerminal("🧪🧪🧪", { max: 2 })).toBe("🧪🧪…");
    expect(escapeForTerminal("ab\u001bcd", { max: 3 })).toBe("ab\\u{1b}…");
    expect(escapeForTerminal("abc", { max: 3 })).toBe("abc");
  });

  it("isInvisible covers the listed ranges only", () => {
    for (const cp of [0x00, 0x1b, 0x7f, 0x85, 0xad, 0x61c, 0x200d, 0x2028, 0x202a, 0x2069, 0xfeff, 0xe0001, 0xe007f])
      expect(isInvisible(cp)).toBe(true);
    for (const cp of [0x09, 0x0a, 0x20, 0x41, 0xe9, 0x4e00, 0x1f9ea, 0xfe0f]) expect(isInvisible(cp)).toBe(false);
  });

  it("variation selectors and the other default-ignorable characters are marked: they smuggle text nobody sees", () => {
    // "hi" hidden after an emoji as variation selectors (byte b >= 16 as U+E0100 + b - 16), as in the published
    // emoji-smuggling scheme; a Hangul filler (U+3164) renders as blank space; the combining grapheme joiner is invisible
    const smuggled = `ok 😀${String.fromCodePoint(0xe0158, 0xe0159)}`;
    expect(escapeForTerminal(smuggled)).toBe("ok 😀\\u{e0158}\\u{e0159}");
    expect(escapeForTerminal("a\u3164b\u034fc\ufe00d\u180be")).toBe("a\\u{3164}b\\u{34f}c\\u{fe00}d\\u{180b}e");
    expect(escapeHtml(smuggled)).toBe("ok 😀\\u{e0158}\\u{e0159}");
    // emoji presentation (VS16) stays: ❤️ is text people write
    expect(escapeForTerminal("❤\ufe0f")).toBe("❤\ufe0f");
    for (const cp of [
      0x34f, 0x115f, 0x17b4, 0x180b, 0x3164, 0xfe00, 0xffa0, 0xfff0, 0x1d173, 0xe0100, 0xe01ef, 0xe0fff,
    ])
      expect(isInvisible(cp), cp.toString(16)).toBe(true);
  });
});

describe("escapeHtml and escapeMarkdown", () => {
  it("escapeHtml: markup characters become references, invisible characters visible marks", () => {
    expect(escapeHtml(`<img src=x onerror="a('b')">\``)).toBe(
      "&#60;img src=x onerror=&#34;a(&#39;b&#39;)&#34;&#62;&#96;",
    );
    expect(escapeHtml(`ok${TAGS_HI}\u202e`)).toBe("ok\\u{e0068}\\u{e0069}\\u{202e}");
  });

  it("escapeMarkdown: no markup, defanged URLs, one line, invisible characters visible", () => {
    expect(escapeMarkdown("[a](https://x.test) *b*\r\nc")).toBe("\\[a\\]\\(https\\[:\\]//x.test\\) \\*b\\* ⏎ c");
    expect(escapeMarkdown(`x${TAGS_HI}`)).toBe("x\\\\u{e0068}\\\\u{e0069}");
  });

  it("escapeMarkdown: GFM's other autolinks are defanged too: www. after `_`, and e-mail addresses (mailto:)", () => {
    // GFM links `www.` after whitespace or any of `* _ ~ (`, reading the source byte before it (cmark-gfm www_match),
    // so `\_www.x` links; `_` is a word character, so a `\bwww` rule missed it. An e-mail address links as mailto:.
    expect(escapeMarkdown("see _www.evil.example_ now")).toBe("see \\_www\\[.\\]evil.example\\_ now");
    expect(escapeMarkdown("~www.evil.example (www.evil.example")).toBe(
      "\\~www\\[.\\]evil.example \\(www\\[.\\]evil.example",
    );
    expect(escapeMarkdown("mail a.b+c@evil.example or mailto:x@evil.example")).toBe(
      "mail a.b+c\\[@\\]evil.example or mailto:x\\[@\\]evil.example",
    );
    // no link to make: left as it is
    expect(escapeMarkdown("awww.x org/model@main @user")).toBe("awww.x org/model@main @user");
  });
});

describe("jsonForTerminal", () => {
  it("writes C1 controls, bidi, zero-width and tag characters as \\u escapes: no raw control reaches the terminal, same value", () => {
    const value = { response: `a\u009b2Jb\u009d0;t\u009c x\u202ey\u200b${TAGS_HI} ok: é 🧪\u001b\n`, n: 1, none: null };
    const line = jsonForTerminal(value);
    expect(line).toBe(
      '{"response":"a\\u009b2Jb\\u009d0;t\\u009c x\\u202ey\\u200b\\udb40\\udc68\\udb40\\udc69 ok: é 🧪\\u001b\\n","n":1,"none":null}',
    );
    expect([...line].some((c) => isInvisible(c.codePointAt(0) ?? 0))).toBe(false);
    expect(JSON.parse(line)).toEqual(value);
    expect(jsonForTerminal({ plain: "text" })).toBe(JSON.stringify({ plain: "text" }));
  });
});
