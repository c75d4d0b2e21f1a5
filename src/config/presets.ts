/**
 * The presets shipped with the package (presets/NAME.yaml): their names and files. A module of its own, without the
 * config schema, so the CLI names them in `breakfix init --help` without loading the config's validation (zod).
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { packagePath } from "../domain/package.ts";

/** The presets shipped with the package (presets/NAME.yaml). */
export function presetNames(): string[] {
  const dir = packagePath("presets");
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => f.slice(0, -5))
        .sort()
    : [];
}

/** The file of a preset name, or of a path (relative to baseDir) to another YAML file. */
export function presetFile(name: string, baseDir: string): string {
  if (/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    const p = packagePath("presets", `${name}.yaml`);
    if (existsSync(p)) return p;
    if (!/\.ya?ml$/.test(name))
      throw new Error(`unknown preset '${name}'; presets: ${presetNames().join(", ") || "none"}`);
  }
  return path.resolve(baseDir, name);
}
