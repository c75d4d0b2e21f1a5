/**
 * Paths inside the installed breakfix package (not the current directory): the committed demo model, presets and
 * other data files ship with the package, so every command finds them from any working folder.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The package root (the folder holding package.json). This file is src/domain/package.ts. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A path relative to the package root. */
export function packagePath(...parts: string[]): string {
  return path.join(PACKAGE_ROOT, ...parts);
}
