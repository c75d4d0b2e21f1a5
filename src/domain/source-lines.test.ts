/**
 * The project's rule "no source line over 200 characters", checked: every TypeScript file under src/ and perf/.
 * (Biome's formatter wraps code at 120 columns but leaves long strings and comments alone; this catches those.)
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "./package.ts";

const MAX = 200;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === "node_modules" ? [] : tsFiles(p);
    return name.endsWith(".ts") ? [p] : [];
  });
}

describe("source lines", () => {
  it(`no line of src/ or perf/ is over ${MAX} characters`, () => {
    const long: string[] = [];
    for (const root of ["src", "perf"])
      for (const file of tsFiles(path.join(PACKAGE_ROOT, root))) {
        readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if ([...line].length <= MAX) return;
            long.push(`${path.relative(PACKAGE_ROOT, file)}:${i + 1} (${[...line].length})`);
          });
      }
    expect(long).toEqual([]);
  });
});
