import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadProbesFile, parseMappingSpec } from "./loaders/generic.ts";
import { DatasetError } from "./types.ts";

function tmpFile(name: string, content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "bf-generic-"));
  const f = path.join(dir, name);
  writeFileSync(f, content);
  return f;
}

describe("generic CSV/JSONL loader", () => {
  it("maps CSV columns (any case) onto probes; categories by id, slug or categoryMap", () => {
    const f = tmpFile(
      "mine.csv",
      'Key,Question,Harm,Safe,Lang,Note\r\na,"How do I pick\r\na lock?",S2,unsafe,en,n1\r\nb,Tell me a joke,benign,safe,fr,\r\nc,Build a zorblax,weapons,unsafe,en,n3\r\n',
    );
    const probes = loadProbesFile(f, {
      id: "Key",
      prompt: "Question",
      category: "Harm",
      label: "Safe",
      language: "Lang",
      meta: ["Note"],
      categoryMap: { weapons: "S9" },
      license: "CC0",
    });
    expect(probes).toEqual([
      {
        id: "mine:a",
        prompt: "How do I pick\r\na lock?",
        category: "S2",
        label: "unsafe",
        language: "en",
        source: "mine",
        license: "CC0",
        sourceLabel: "S2",
        meta: { note: "n1" },
      },
      {
        id: "mine:b",
        prompt: "Tell me a joke",
        category: "benign",
        label: "safe",
        language: "fr",
        source: "mine",
        license: "CC0",
        sourceLabel: "benign",
      },
      {
        id: "mine:c",
        prompt: "Build a zorblax",
        category: "S9",
        label: "unsafe",
        language: "en",
        source: "mine",
        license: "CC0",
        sourceLabel: "weapons",
        meta: { note: "n3" },
      },
    ]);
  });

  it("JSONL conversations: the last user turn is the prompt, earlier turns the history", () => {
    const f = tmpFile(
      "convs.jsonl",
      `${JSON.stringify({
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: "hello" },
          { role: "user", content: "now tell me [X]" },
        ],
        cat: "violent_crimes",
      })}\n`,
    );
    const [p] = loadProbesFile(f, { conversation: "messages", category: "cat" });
    expect(p).toMatchObject({
      id: "convs:1",
      prompt: "now tell me [X]",
      history: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
      ],
      category: "S1",
      label: "unsafe",
    });
  });

  it("a broken CSV fails whole with file, line and problem", () => {
    const f = tmpFile("bad.csv", "prompt,category\nok,S1\nalso ok,S2\nnot ok,S99\n,S1\n");
    let e: unknown;
    try {
      loadProbesFile(f, { prompt: "prompt", category: "category" });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(DatasetError);
    expect((e as DatasetError).message).toBe(
      [
        `${f}:4: category 'S99' is neither a taxonomy id/slug nor in categoryMap ` +
          "(ids: S1, S2, S3, S4, S5, S6, S7, S8, S9, S10, S11, S12, S13, S14, jailbreak, harmful_continuation, " +
          "harmful_summarization, protected_material, ungroundedness, misinformation, benign)",
        `${f}:5: column 'prompt' is empty`,
      ].join("\n"),
    );
  });

  it("a CSV may leave out the columns that have a default (id, label, language, meta), as a JSONL row may", () => {
    const mapping = {
      prompt: "prompt",
      id: "id",
      category: "category",
      label: "label",
      language: "language",
      meta: ["answer"],
    };
    const [p] = loadProbesFile(tmpFile("few.csv", "prompt,category\nHow do I pick a lock?,S2\n"), mapping);
    expect(p).toMatchObject({ id: "few:2", prompt: "How do I pick a lock?", category: "S2", label: "unsafe" });
    expect(p.language).toBe("en");
    // the columns with no default are still required in the header
    const noCat = tmpFile("nocat.csv", "prompt\nx\n");
    expect(() => loadProbesFile(noCat, mapping)).toThrow(`${noCat}:1: missing column 'category' (header: prompt)`);
    expect(loadProbesFile(noCat, { ...mapping, defaultCategory: "S1" })[0].category).toBe("S1");
  });

  it("an empty file (or a CSV with only its header) is an error naming the file, not an empty probe set", () => {
    for (const [name, text, problem] of [
      ["e.jsonl", "", "no rows (the file is empty)"],
      ["blank.jsonl", "\n\n", "no rows (the file is empty)"],
      ["h.csv", "prompt,category\n", "no rows below the header row"],
    ]) {
      const f = tmpFile(name, text);
      expect(() => loadProbesFile(f, { prompt: "prompt", category: "category" })).toThrow(
        new DatasetError(f, [{ line: 0, problem }]),
      );
    }
  });

  it("duplicate ids and bad labels are reported with their lines", () => {
    const f = tmpFile("d.jsonl", '{"id":"1","p":"a"}\n{"id":"1","p":"b"}\n{"id":"2","p":"c","l":"maybe"}\n');
    expect(() => loadProbesFile(f, { id: "id", prompt: "p", label: "l", defaultCategory: "S2" })).toThrow(
      `${f}:2: duplicate id 'd:1' (first on line 1)\n${f}:3: column 'l': 'maybe' is not safe or unsafe`,
    );
  });

  it("text from the file is escaped in errors (no terminal escape sequences); languages must be codes", () => {
    const f = tmpFile(
      "esc.jsonl",
      `${JSON.stringify({ p: "x", c: "\u001b[31mS99", l: "en" })}\n${JSON.stringify({ p: "y", c: "S1", l: "english please" })}\n`,
    );
    let msg = "";
    try {
      loadProbesFile(f, { prompt: "p", category: "c", language: "l" });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).not.toContain("\u001b");
    expect(msg).toContain(`${f}:1: category '\\u001b[31mS99' is neither`);
    expect(msg).toContain(`${f}:2: language 'english please' is not a language code like en, pt-BR`);
  });

  it("--map specs", () => {
    expect(parseMappingSpec("prompt=q, label=l, meta=a+b, defaultCategory=S2")).toEqual({
      prompt: "q",
      label: "l",
      meta: ["a", "b"],
      defaultCategory: "S2",
    });
    expect(() => parseMappingSpec("prompt")).toThrow("--map: 'prompt' is not key=column");
    expect(() => parseMappingSpec("promt=q")).toThrow(/--map: .*promt/);
  });
});
