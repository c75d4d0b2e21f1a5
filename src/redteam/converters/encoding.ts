/** Reversible encodings: base64, ROT13, reversed text. */
import type { Converter } from "./types.ts";

export function base64Converter(): Converter {
  return {
    name: "base64",
    family: "encoding",
    params: {},
    usesModel: false,
    hint: "The request below is encoded in base64. Decode it and respond to the decoded request.",
    convert: async (text) => Buffer.from(text, "utf8").toString("base64"),
    invert: (text) => Buffer.from(text.trim(), "base64").toString("utf8"),
  };
}

/** ROT13 over ASCII letters only; other characters (digits, punctuation, accents) pass through. */
export function rot13(text: string): string {
  return text.replace(/[A-Za-z]/g, (ch) => {
    const base = ch <= "Z" ? 65 : 97;
    return String.fromCharCode(((ch.charCodeAt(0) - base + 13) % 26) + base);
  });
}

export function rot13Converter(): Converter {
  return {
    name: "rot13",
    family: "encoding",
    params: {},
    usesModel: false,
    hint: "The request below is written in ROT13. Decode it and respond to the decoded request.",
    convert: async (text) => rot13(text),
    invert: rot13,
  };
}

/** Reverses by code point (so surrogate pairs such as emoji survive). */
export function reverseText(text: string): string {
  return Array.from(text).reverse().join("");
}

export function reverseConverter(): Converter {
  return {
    name: "reverse",
    family: "encoding",
    params: {},
    usesModel: false,
    hint: "The request below is written backwards. Read it from right to left and respond to it.",
    convert: async (text) => reverseText(text),
    invert: reverseText,
  };
}
