import { describe, expect, it } from "vitest";
import { toTags } from "./converters/smuggling.ts";
import { escapeForTerminal } from "./escape.ts";

describe("escapeForTerminal", () => {
  it("makes ANSI escapes, bidi overrides, zero-width and tag characters visible; keeps text, newlines and tabs", () => {
    expect(escapeForTerminal("a\u001b[2Jb")).toBe("a\\u{1b}[2Jb");
    expect(escapeForTerminal("x\u202ey")).toBe("x\\u{202e}y");
    expect(escapeForTerminal("z\u200bw")).toBe("z\\u{200b}w");
    expect(escapeForTerminal(toTags("hi"))).toBe("\\u{e0068}\\u{e0069}");
    expect(escapeForTerminal("línea 1\n\tlínea 2 🧪 漢字")).toBe("línea 1\n\tlínea 2 🧪 漢字");
  });
});
