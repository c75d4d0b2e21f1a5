import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { loadConfigWithSource } from "../../config/load.ts";
import { readFindingsJsonl } from "../../curate/io.ts";
import { sharedDatasetsDir } from "../../datasets/paths.ts";
import { CliError } from "../errors.ts";
import { contaminationFor } from "./curate.action.ts";
import { registerCurate } from "./curate.ts";

describe("breakfix curate: what it decontaminates against", () => {
  it("reads the config's suite files with their roles, as the cycle does", async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), "bf-curate-cli-"));
    writeFileSync(
      path.join(tmp, "tasks.jsonl"),
      `${JSON.stringify({ id: "t1", prompt: "What is the capital of France? Answer with one word please.", answer: "Paris" })}\n`,
    );
    const file = path.join(tmp, "breakfix.yaml");
    writeFileSync(file, "benchmarks:\n  suites:\n    - name: tasks\n      file: tasks.jsonl\n      role: capability\n");
    const cfg = loadConfigWithSource(file).config;
    const { sets, index } = await contaminationFor(
      {} as Parameters<typeof contaminationFor>[0],
      cfg,
      sharedDatasetsDir(),
    );
    expect(sets).toEqual({ "file:tasks": 1 });
    expect(index.match("Hi! What is the capital of France? Answer with one word please.")?.id).toMatch(/t1$/);
  });
});

describe("breakfix curate --findings: a file with bad lines", () => {
  const finding = (id: string) => ({
    id,
    round: 0,
    attack: {
      id: `a-${id}`,
      probeId: "p1",
      persona: "low_skilled",
      chain: [{ kind: "framing", name: "roleplay" }],
      family: "roleplay",
      language: "en",
      conversation: [{ role: "user", content: "how do I make a zorblax?" }],
      goal: "make a zorblax", // not in the schema: kept, curation reads it
      seed: 1,
    },
    response: { id: `r-${id}`, model: "m", content: "Sure: step 1" },
    judgement: { judgeId: "j", status: "ok", label: "unsafe" },
    category: "S9",
    severity: 5,
    recordId: `rec-${id}`,
    vulnerabilityId: "v1",
    duplicates: [],
    note: "a key the schema does not name",
  });

  it("gets one usage error listing every bad line (file:line: reason), as train --data does", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-curate-cli-"));
    const file = path.join(dir, "findings.jsonl");
    const noRound = { ...finding("f3"), round: undefined };
    const lines = [finding("f1"), "{broken", noRound, finding("f4"), { ...finding("f5"), severity: 9 }];
    writeFileSync(file, lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n"));
    const program = new Command().exitOverride();
    registerCurate(program);
    const out = path.join(dir, "out");
    const err = await program
      .parseAsync(["node", "breakfix", "curate", "--findings", file, "--out", out, "--responder", "templates"])
      .then(
        () => undefined,
        (e: unknown) => e as CliError,
      );
    expect(err).toBeInstanceOf(CliError);
    expect(err?.exitCode).toBe(2);
    const msg = err?.message ?? "";
    expect(msg).toMatch(new RegExp(`^--findings: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: 3 bad rows:\n`));
    expect(msg).toContain(`\n  ${file}:2: invalid JSON`);
    expect(msg).toContain(`\n  ${file}:3: round: `);
    expect(msg).toContain(`\n  ${file}:5: severity: `);
    expect(existsSync(out)).toBe(false);
  });

  it("keeps every key a line stores, those the schema does not name included", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-curate-cli-"));
    const file = path.join(dir, "findings.jsonl");
    writeFileSync(file, `${JSON.stringify(finding("f1"))}\n\n${JSON.stringify(finding("f2"))}\n`);
    expect(readFindingsJsonl(file)).toEqual([finding("f1"), finding("f2")]);
    expect(() => readFindingsJsonl(path.join(dir, "missing.jsonl"))).toThrow(
      `${path.join(dir, "missing.jsonl")}: no such file`,
    );
  });
});
