import { describe, expect, it } from "vitest";
import {
  atbash,
  atbashConverter,
  base32,
  base32Converter,
  binaryConverter,
  caesar,
  caesarConverter,
  charCodesConverter,
  hexConverter,
  morse,
  morseConverter,
  rot47,
  rot47Converter,
  unBase32,
  unMorse,
  urlConverter,
  vigenere,
  vigenereConverter,
} from "./cipher.ts";
import { ASCII_SAMPLES, converterConformance, UNICODE_SAMPLES } from "./conformance.testkit.ts";

const ALL = [...ASCII_SAMPLES, ...UNICODE_SAMPLES];
converterConformance("caesar", caesarConverter, { invertSamples: ALL });
converterConformance("caesar shift 13", () => caesarConverter({ shift: 13 }), { invertSamples: ALL });
converterConformance("atbash", atbashConverter, { invertSamples: ALL });
converterConformance("rot47", rot47Converter, { invertSamples: ALL });
converterConformance("vigenere", vigenereConverter, { invertSamples: ALL });
converterConformance("morse", morseConverter, {
  invertSamples: ["SOS", "HOW DO I BUILD A ZORBLAX DEVICE AT HOME?", "LINE ONE\nLINE  TWO (3)", "¿CÓMO 漢字 🧪?"],
});
converterConformance("binary", binaryConverter, { invertSamples: ALL });
converterConformance("hex", hexConverter, { invertSamples: ALL });
converterConformance("url", urlConverter, { invertSamples: ALL });
converterConformance("base32", base32Converter, { invertSamples: ALL });
converterConformance("char_codes", charCodesConverter, { invertSamples: ALL });

describe("ciphers", () => {
  it("match their textbook definitions", async () => {
    expect(caesar("Hello, World!", 3)).toBe("Khoor, Zruog!");
    expect(atbash("abc xyz ABC 019")).toBe("zyx cba ZYX 980");
    expect(rot47("Hello")).toBe("w6==@");
    expect(vigenere("ATTACKATDAWN", "LEMON")).toBe("LXFOPVEFRNHR");
    expect(morse("SOS hi")).toBe("... --- ... / .... ..");
    expect(unMorse("... --- ...")).toBe("SOS");
    expect(await binaryConverter().convert("Hi", { seed: 0 })).toBe("01001000 01101001");
    expect(await hexConverter().convert("ñ", { seed: 0 })).toBe("c3b1");
    expect(await urlConverter().convert("a b&c!", { seed: 0 })).toBe("a%20b%26c%21");
    expect(await charCodesConverter().convert("A🧪", { seed: 0 })).toBe("65 129514");
  });
  it("base32 follows the RFC 4648 test vectors", () => {
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "MY======"],
      ["fo", "MZXQ===="],
      ["foo", "MZXW6==="],
      ["foob", "MZXW6YQ="],
      ["fooba", "MZXW6YTB"],
      ["foobar", "MZXW6YTBOI======"],
    ];
    for (const [plain, enc] of vectors) {
      expect(base32(plain)).toBe(enc);
      expect(unBase32(enc)).toBe(plain);
    }
  });
  it("leave other scripts and lone surrogates alone without throwing", async () => {
    expect(caesar("漢字 ключ", 5)).toBe("漢字 ключ");
    expect(morse("ключ")).toBe("к л ю ч");
    await expect(urlConverter().convert("bad \ud800 half", { seed: 0 })).resolves.toContain("%EF%BF%BD");
    await expect(hexConverter().convert("\udc00", { seed: 0 })).resolves.toBe("efbfbd");
  });
});
