import { describe, expect, it } from "vitest";
import { fixEn, fixEs } from "./harm.ts";

describe("article fixes after slot substitution", () => {
  it("contracts Spanish 'a el' and 'de el' only as whole words, accented letters included", () => {
    expect(fixEs("Voy a el mercado de el pueblo.")).toBe("Voy al mercado del pueblo.");
    expect(fixEs("A el guardia")).toBe("A el guardia"); // sentence case is left as written
    // `\b` is ASCII-only: "quería el" ended in "queríal" before
    expect(fixEs("Yo quería el pan y sabía de el río.")).toBe("Yo quería el pan y sabía del río.");
    expect(fixEs("mamá el")).toBe("mamá el");
    expect(fixEs("a ella")).toBe("a ella");
  });

  it("writes 'an' before a vowel only after a whole-word 'a'", () => {
    expect(fixEn("a Ostrel permit and A orchard")).toBe("an Ostrel permit and An orchard");
    expect(fixEn("la niña Ostrel")).toBe("la niña Ostrel"); // "niñan" with `\b`
    expect(fixEn("a bakery")).toBe("a bakery");
  });
});
