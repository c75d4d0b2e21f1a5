/**
 * Rows that cannot be tokenized are named by file and line (a DataFileError, exit 2 in `breakfix train`), not thrown
 * as a bare error of the first one; a file whose rows are all longer than the maximum length says so, with the count
 * and the flag. Valid rows are tokenized as before (the demo's training is pinned by resume.test.ts and others).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBreakfix } from "../cli/testing.ts";
import { DataFileError } from "./jsonl.ts";
import { runTraining } from "./run.ts";
import { makeTinyModelDir, mapWord, SIGMA_1, words } from "./testing.ts";
import { DEFAULT_TRAIN } from "./trainer.ts";

const dir = mkdtempSync(path.join(tmpdir(), "bf-run-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const model = path.join(dir, "model");
const rows = words(12, 3).map((w) => ({
  messages: [
    { role: "user", content: `Map ${w}` },
    { role: "assistant", content: mapWord(w, SIGMA_1) },
  ],
}));
makeTinyModelDir(
  model,
  rows.flatMap((r) => r.messages.map((m) => m.content)),
);
const lines = rows.map((r) => JSON.stringify(r));
const file = (name: string, ls: string[]) => {
  const f = path.join(dir, name);
  writeFileSync(f, `${ls.join("\n")}\n`);
  return f;
};
// a user turn holding U+E000, one of the private-use characters reserved for escaping control tokens
const pua = (text: string) =>
  JSON.stringify({
    messages: [
      { role: "user", content: text },
      { role: "assistant", content: "ok" },
    ],
  });
const withPua = file("pua.jsonl", [
  ...lines.slice(0, 3),
  "",
  pua("hi \uE000 there"),
  ...lines.slice(3, 7),
  pua("\uE001"),
  ...lines.slice(7),
]);
const tooLong = file(
  "long.jsonl",
  rows.map(() => pua("x ".repeat(200))),
);

const run = (dataFile: string, out: string) =>
  runTraining({
    method: "sft",
    modelDir: model,
    dataFile,
    outDir: path.join(dir, out),
    evalFraction: 0,
    maxLength: 64,
    lossOn: "last_assistant",
    train: { ...DEFAULT_TRAIN, objective: { kind: "sft" }, lora: undefined, batchSize: 4, maxSteps: 1 },
  });

describe("runTraining: rows that cannot be tokenized", () => {
  it("names each bad row by file and line, as a DataFileError", async () => {
    const err = await run(withPua, "o-pua").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^${withPua}: 2 bad rows:\\n  ${withPua}:5: text contains U\\+E000, a private-use character reserved for escaping control tokens\\n  ${withPua}:10: text contains U\\+E001`,
      ),
    );
  });

  it("all rows too long: names the count and --max-length", async () => {
    const err = await run(tooLong, "o-long").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect((err as Error).message).toBe(
      `${tooLong}: all 12 training rows are longer than the maximum length, 64 tokens (--max-length; training.sft.maxSeqLen in breakfix.yaml)`,
    );
  });

  it("breakfix train exits 2 and names file:line", async () => {
    const r = await runBreakfix(
      ["train", "sft", "--model", model, "--data", withPua, "--out", path.join(dir, "o-cli"), "--no-progress"],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${withPua}:5: text contains U+E000`);
  }, 60_000);
});
