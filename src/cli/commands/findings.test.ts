/** `breakfix findings <id>`: a record as the terminal shows it; every string from a dataset or a model escaped. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it, vi } from "vitest";
import { isInvisible } from "../../domain/escape.ts";
import { buildWorkspace, makeRecord, PAYLOADS } from "../../view/testing/workspace.ts";
import { renderRecord } from "./findings.action.ts";
import { registerFindings } from "./findings.ts";

const dir = mkdtempSync(path.join(tmpdir(), "bf-findings-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("findings: one record", () => {
  it("a probe id from a seeds file (any string) is shown escaped on one line, never interpreted", () => {
    const rec = makeRecord({ i: 1, rand: () => 0.1, outcome: "success" });
    const evil = "row-7\u001b]0;pwned\u0007\r\nX\u202e";
    const text = renderRecord({ ...rec, probe: { ...rec.probe, id: evil }, attack: { ...rec.attack, probeId: evil } });
    for (const c of ["\u001b", "\u0007", "\r", "\u202e"]) expect(text).not.toContain(c);
    expect(text).toContain("probe row-7\\u{1b}]0;pwned\\u{7}\\u{d}\\nX\\u{202e}  ");
  });

  it("--json: the model's answer holds no raw invisible or control character (tag characters as \\u escapes), same value", async () => {
    const ws = await buildWorkspace(path.join(dir, "ws"), { attacks: 40 });
    const program = new Command().exitOverride();
    registerFindings(program);
    let out = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    try {
      await program.parseAsync(["findings", ws.payloadRecordId, "--json", "--workspace", ws.dir], { from: "user" });
    } finally {
      spy.mockRestore();
    }
    expect([...out].filter((c) => isInvisible(c.codePointAt(0) ?? 0) && c !== "\n")).toEqual([]);
    expect((JSON.parse(out) as { response: { content: string } }).response.content).toContain(PAYLOADS.tags);
  });
});
