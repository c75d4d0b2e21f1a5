import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError } from "./errors.ts";
import { workspaceOf } from "./workspace.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "cli-workspace-"));
  writeFileSync(path.join(dir, "ok.yaml"), "extends: demo\nworkspace: here\n");
  writeFileSync(path.join(dir, "bad.yaml"), "target:\n  provider: gpt\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("workspaceOf: the one workspace lookup of the commands", () => {
  it("--workspace (resolved) wins; else the config's, relative to the config file", () => {
    expect(workspaceOf({ workspace: "w", config: path.join(dir, "bad.yaml") })).toBe(path.resolve("w"));
    expect(workspaceOf({ config: path.join(dir, "ok.yaml") })).toBe(path.join(dir, "here"));
  });

  it("a config that cannot be read is a usage error naming the file and the key", () => {
    const bad = () => workspaceOf({ config: path.join(dir, "bad.yaml") });
    expect(bad).toThrow(CliError);
    expect(bad).toThrow(/bad\.yaml: target\.provider/);
    expect(() => workspaceOf({ config: path.join(dir, "missing.yaml") })).toThrow(/missing\.yaml: no such file/);
  });

  it("no command's action looks the workspace up itself", () => {
    const commands = path.join(import.meta.dirname, "commands");
    for (const f of readdirSync(commands).filter((n) => n.endsWith(".action.ts")))
      expect(readFileSync(path.join(commands, f), "utf8"), f).not.toMatch(/\.config\.workspace|o\.workspace \?/);
  });
});
