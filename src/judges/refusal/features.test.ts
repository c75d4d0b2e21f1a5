import { describe, expect, it } from "vitest";
import { ENGLISH_CASES, MULTILINGUAL_CASES } from "./cases.ts";
import { splitSentences } from "./features.ts";
import { authoredCorpus } from "./learned/corpus.ts";

/** The splitter before the lookbehind was added (quadratic on long punctuation runs), as the reference. */
function splitSentencesReference(text: string): { text: string; start: number }[] {
  const re = /([.!?。！？؟।]+["')\]]*)(\s+|$)|([。！？])|\n+/g;
  const out: { text: string; start: number }[] = [];
  let last = 0;
  const push = (end: number) => {
    const raw = text.slice(last, end);
    const trimmed = raw.trim();
    if (trimmed) out.push({ text: trimmed, start: last + raw.indexOf(trimmed) });
  };
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const end = m.index + m[0].length;
    const before = text.slice(Math.max(last, m.index - 5), m.index + 1);
    if (m[1] && !m[0].includes("\n")) {
      const listNumber = /^\s*(?:\d{1,3}|[a-z])$/i.test(text.slice(last, m.index));
      const abbreviation = /(?:(?:^|\s)(?:e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|St|No)|(?:[A-Z]\.){1,3}[A-Z])\.$/.test(before);
      if (listNumber || abbreviation) continue;
    }
    push(end);
    last = end;
  }
  push(text.length);
  return out;
}

describe("splitSentences", () => {
  it("splits the refusal cases, the authored corpus and punctuation runs as before", () => {
    const texts = [
      ...[...ENGLISH_CASES, ...MULTILINGUAL_CASES].flatMap((c) => [c.request, c.response]),
      ...authoredCorpus({ perStructure: 10 }).map((e) => e.response),
      "Wait!!! Really?! No... fine.",
      "Stop!!!x and go?! now",
      '"No!!")!! ok. e.g. this. 1. item',
      "不行！！！好吗？是的。！！x",
      "Hmm?!?!\n\nOK!!!",
    ];
    for (const t of texts) expect(splitSentences(t)).toEqual(splitSentencesReference(t));
  });

  it("is linear on a long run of punctuation with no space after it", () => {
    const text = `${"!".repeat(40_000)}x`;
    const t0 = performance.now();
    const parts = splitSentences(text);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(parts).toEqual([{ text, start: 0 }]);
  });
});
