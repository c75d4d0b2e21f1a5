/**
 * What the CLI prints when a command fails: the error's text never reaches the terminal raw (a JSON parse error quotes
 * the bad line of a data file as it is) and never shows a known secret.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_MODEL_DIR } from "../models/registry.ts";
import { registerSecret } from "../models/secrets.ts";
import { errorText } from "./errors.ts";
import { runBreakfix } from "./testing.ts";

const dir = mkdtempSync(path.join(tmpdir(), "bf-cli-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a failed command's message on stderr", () => {
  it("errorText: escape sequences, CR and BEL as visible marks, line breaks kept, known secrets redacted", () => {
    registerSecret("sk-cli-error-0123456789");
    expect(errorText("a\u001b]0;x\u0007b\r\nkey sk-cli-error-0123456789")).toBe(
      "a\\u{1b}]0;x\\u{7}b\\u{d}\nkey [REDACTED]",
    );
    // text that is already escaped stays as it is
    expect(errorText("a\\u{1b}b")).toBe("a\\u{1b}b");
  });

  it("a data file whose bad line holds an escape sequence: quoted as marks, the terminal gets no ESC or BEL", async () => {
    const data = path.join(dir, "sft.jsonl");
    writeFileSync(data, '{"messages":[{"role":"user","content":"hi"}]}\n\u001b]2;pwned\u0007 not json\n');
    const r = await runBreakfix(
      ["train", "sft", "--model", DEMO_MODEL_DIR, "--data", data, "--out", path.join(dir, "out")],
      { cwd: dir, env: { BREAKFIX_CONFIG: "" } },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${data}:2: invalid JSON (`);
    expect(r.stderr).toContain("\\u{1b}]2;pwned\\u{7}");
    for (const c of ["\u001b", "\u0007"]) expect(r.stderr).not.toContain(c);
  }, 60_000);
});
