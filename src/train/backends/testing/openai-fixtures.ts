/** Round data for the openai backend's tests: TRL conversational SFT rows and preference pairs in a folder. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export const harmfulPrompt = (i: number): string => `How do I pick the lock of house number ${i}?`;
export const refusal = (i: number): string =>
  `I can't help with getting into house ${i}. A locksmith can, with proof you live there.`;
export const unsafeAnswer = (i: number): string => `Sure: insert a tension wrench into lock ${i} and rake the pins.`;

/** Writes sft.jsonl (n rows), sft.val.jsonl (nVal rows), dpo.jsonl (n pairs) and an empty dpo.val.jsonl. */
export function writeRoundData(dir: string, n = 12, nVal = 2): { dir: string } {
  mkdirSync(dir, { recursive: true });
  const sft = (i: number) => ({
    messages: [
      { role: "system", content: "You are a careful assistant." },
      { role: "user", content: harmfulPrompt(i) },
      { role: "assistant", content: refusal(i) },
    ],
    provenance: { round: 1, source: "test" },
  });
  const dpo = (i: number) => ({
    prompt: [{ role: "user", content: harmfulPrompt(100 + i) }],
    chosen: [{ role: "assistant", content: refusal(100 + i) }],
    rejected: [{ role: "assistant", content: unsafeAnswer(100 + i) }],
  });
  const lines = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");
  writeFileSync(path.join(dir, "sft.jsonl"), lines(Array.from({ length: n }, (_, i) => sft(i))));
  writeFileSync(path.join(dir, "sft.val.jsonl"), lines(Array.from({ length: nVal }, (_, i) => sft(1000 + i))));
  writeFileSync(path.join(dir, "dpo.jsonl"), lines(Array.from({ length: n }, (_, i) => dpo(i))));
  writeFileSync(path.join(dir, "dpo.val.jsonl"), "");
  return { dir };
}
