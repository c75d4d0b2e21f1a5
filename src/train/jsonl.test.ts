import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataFileError, parsePreferenceJsonl, parseSftJsonl, readSftJsonl, writeJsonl } from "./jsonl.ts";

const sftRow = {
  messages: [
    { role: "system", content: "Be safe." },
    { role: "user", content: "hi" },
    { role: "assistant", content: "hello" },
    { role: "user", content: "and?" },
    { role: "assistant", content: "more" },
  ],
};

describe("TRL conversational JSONL", () => {
  it("reads multi-turn SFT rows and round-trips them through a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "bf-jsonl-"));
    const file = join(dir, "sft.jsonl");
    writeJsonl(file, [sftRow, sftRow]);
    expect(readFileSync(file, "utf8").split("\n").length).toBe(3);
    expect(readSftJsonl(file)).toEqual([sftRow, sftRow]);
  });

  it("names the file, the line and the key path of a bad row", () => {
    const text = `${JSON.stringify(sftRow)}\n\n${JSON.stringify({ messages: [{ role: "bot", content: "x" }] })}\n`;
    expect(() => parseSftJsonl(text, "data/sft.jsonl")).toThrow(/^data\/sft\.jsonl:3: messages\.0\.role: /);
    expect(() => parseSftJsonl("{nope", "a.jsonl")).toThrow(/^a\.jsonl:1: invalid JSON/);
    expect(() => parseSftJsonl(JSON.stringify({ messages: [{ role: "user", content: "x" }] }), "b.jsonl")).toThrow(
      "b.jsonl:1: messages: no assistant turn to learn from",
    );
  });

  it("validates preference rows in TRL's conversational format", () => {
    const ok = {
      prompt: [{ role: "user", content: "q" }],
      chosen: [{ role: "assistant", content: "safe" }],
      rejected: [{ role: "assistant", content: "unsafe" }],
    };
    expect(parsePreferenceJsonl(JSON.stringify(ok))).toEqual([ok]);
    const bad = { ...ok, chosen: [{ role: "user", content: "x" }] };
    expect(() => parsePreferenceJsonl(`${JSON.stringify(ok)}\n${JSON.stringify(bad)}`, "p.jsonl")).toThrow(
      DataFileError,
    );
    expect(() => parsePreferenceJsonl(`${JSON.stringify(ok)}\n${JSON.stringify(bad)}`, "p.jsonl")).toThrow(
      "p.jsonl:2: chosen: must hold assistant turns only",
    );
  });

  it("reports every bad row (file:line), not only the first", () => {
    const good = JSON.stringify(sftRow);
    const text = [good, "{nope", good, JSON.stringify({ messages: [{ role: "bot", content: "x" }] }), good, "[]"].join(
      "\n",
    );
    let err: unknown;
    try {
      parseSftJsonl(text, "d.jsonl");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataFileError);
    const e = err as DataFileError;
    expect(e.problems.map((p) => p.split(":").slice(0, 2).join(":"))).toEqual(["d.jsonl:2", "d.jsonl:4", "d.jsonl:6"]);
    expect(e.message).toMatch(/^d\.jsonl: 3 bad rows:\n {2}d\.jsonl:2: invalid JSON/);
    expect(e.message).toContain("d.jsonl:4: messages.0.role");
    expect(e.message).toContain("d.jsonl:6: ");
  });

  it("names a missing file instead of a raw ENOENT", () => {
    const missing = join(mkdtempSync(join(tmpdir(), "bf-jsonl-")), "absent.jsonl");
    expect(() => readSftJsonl(missing)).toThrow(`${missing}: no such file`);
    expect(() => readSftJsonl(missing)).not.toThrow(/ENOENT/);
  });
});
