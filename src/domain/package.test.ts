/**
 * What the code finds inside the package (packagePath) is what `npm pack` ships: the demo model organism and its
 * attacker, the presets and the llama.cpp build script, not only a checkout's files. Checked on the real packer's
 * file list (`npm pack --dry-run --json`).
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "./package.ts";

describe("the packed package", () => {
  it("holds every file the commands look up with packagePath", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: PACKAGE_ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path));
    for (const f of [
      "bin/breakfix.js",
      "README.md",
      "presets/demo.yaml",
      "presets/demo-attacker.yaml",
      "artifacts/demo-world/model.gguf",
      "artifacts/demo-world/model/config.json",
      "artifacts/demo-world/attacker/model.gguf",
      "artifacts/demo-world/attacker/model/config.json",
      "scripts/build-llama-server.sh",
    ])
      expect(files.has(f), f).toBe(true);
  });
});
