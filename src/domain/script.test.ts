import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const HELPER = path.resolve(import.meta.dirname, "script.ts");
const TSX = path.resolve(import.meta.dirname, "../../node_modules/.bin/tsx");

/** A script that prints its arguments, or throws when the first one is "fail". */
function script(dir: string): string {
  const file = path.join(dir, "s.ts");
  writeFileSync(
    file,
    `import { runIfMain } from ${JSON.stringify(HELPER)};\n` +
      `export const loaded = true;\n` +
      `runIfMain(import.meta.filename, async (argv) => {\n` +
      `  if (argv[0] === "fail") throw new Error("bad input: " + argv[1]);\n` +
      `  process.stdout.write("args " + argv.join(","));\n` +
      `});\n`,
  );
  return file;
}

describe("runIfMain", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "script-"));
  const file = script(dir);

  it("runs main with the arguments when the file is the script node started, and exits 0", () => {
    expect(execFileSync(TSX, [file, "a", "b"], { encoding: "utf8" })).toBe("args a,b");
  });

  it("turns a thrown error into its message on stderr and exit status 1", () => {
    const r = spawnSync(TSX, [file, "fail", "x.yaml"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("bad input: x.yaml");
  });

  it("does nothing when the file is only imported", () => {
    const importer = path.join(dir, "importer.ts");
    writeFileSync(importer, `import { loaded } from "./s.ts";\nprocess.stdout.write(String(loaded));\n`);
    expect(execFileSync(TSX, [importer, "a"], { encoding: "utf8" })).toBe("true");
  });
});
