/**
 * The dependency rule: the demo world is one scenario among others, built on top. Nothing outside world/ imports
 * world/, except the composition root (cli/), which registers the world plug-in. Every import of every .ts file
 * (tests included) is read and resolved; the test prints the counts it checked.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { importsOf, tsFiles } from "../domain/testing/imports.ts";

const SRC = path.resolve(import.meta.dirname, "..");
const WORLD = path.join(SRC, "world");
/** Folders allowed to import world/: the world itself and the CLI that assembles the product. */
const ALLOWED = ["world", "cli"];

describe("dependency rule", () => {
  it("reads every kind of import", () => {
    expect(
      importsOf('import a from "./a.ts";\nexport * from "../b.ts";\nawait import("../c.ts");\nimport "./d.ts";'),
    ).toEqual(["./a.ts", "../b.ts", "../c.ts", "./d.ts"]);
  });

  it("the cycle and the stage folders import nothing from world/", () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !ALLOWED.includes(e.name))
      .map((e) => e.name);
    const violations: string[] = [];
    let files = 0;
    let imports = 0;
    for (const folder of folders)
      for (const file of tsFiles(path.join(SRC, folder))) {
        files++;
        for (const spec of importsOf(readFileSync(file, "utf8"))) {
          imports++;
          const target = path.resolve(path.dirname(file), spec);
          if (target === WORLD || target.startsWith(`${WORLD}${path.sep}`))
            violations.push(`${path.relative(SRC, file)} imports ${spec}`);
        }
      }
    process.stdout.write(
      `dependency rule: ${files} files in ${folders.length} folders (${folders.join(", ")}), ${imports} relative imports, ${violations.length} into world/\n`,
    );
    expect(violations).toEqual([]);
    expect(folders).toEqual(expect.arrayContaining(["cycle", "curate", "train", "benchmarks", "redteam", "judges"]));
  });
});
