/**
 * Test helper: the relative imports of TypeScript sources, read as text (static imports, re-exports and dynamic
 * imports), and the modules a file reaches through them. For the structural tests: the dependency rule
 * (cycle/dependencies.test.ts) and the plug-in-free commands (cli/plugins.test.ts).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Every .ts file below `dir`. */
export function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

/** Relative module specifiers of static imports, re-exports and dynamic imports. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;
  for (let m = re.exec(text); m; m = re.exec(text)) if (m[1].startsWith(".")) out.push(m[1]);
  return out;
}

/** The modules `file` reaches through relative imports (itself included), each with the module that imported it
 *  first (null for `file`), so a test can print the chain to an unwanted module. */
export function importClosure(file: string): Map<string, string | null> {
  const seen = new Map<string, string | null>([[path.resolve(file), null]]);
  const queue = [path.resolve(file)];
  for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
    if (!existsSync(f)) continue;
    for (const spec of importsOf(readFileSync(f, "utf8"))) {
      const target = path.resolve(path.dirname(f), spec);
      if (!seen.has(target)) {
        seen.set(target, f);
        queue.push(target);
      }
    }
  }
  return seen;
}

/** The import chain from the closure's root to `module`, as paths relative to `root`. */
export function importChain(closure: ReadonlyMap<string, string | null>, module: string, root: string): string {
  const chain: string[] = [];
  for (let m: string | null | undefined = module; m; m = closure.get(m)) chain.push(path.relative(root, m));
  return chain.reverse().join(" -> ");
}
