/**
 * Which unit test files share their worker's module cache (vitest `isolate: false`, the `unit-shared` project) and
 * which get a fresh one each (`unit`). A fresh worker per file costs about 0.6 CPU-seconds of start-up and imports:
 * measured on the 153 files this rule shares (2 cores, three workers), 228 CPU-seconds isolated against 134-144
 * shared, with every test passing in six file orders (vitest --sequence.shuffle.files, seeds 11, 22, 33, 44 and 55,
 * and the default). The run is CPU-bound, so that is wall time saved.
 *
 * Sharing is safe only for a file that leaves no state behind, so the rule is read from each file's source:
 * - ISOLATED_STATE: module mocks, stubbed environment or globals, fake timers, spies, process.env / cwd / exitCode /
 *   listeners changed: any of these would leak into the next file of the worker;
 * - ISOLATED_COST: files that start processes, servers, browsers or models gain nothing from a shared cache (their
 *   time is the work they start) and are the long files the sequencer spreads across workers;
 * - a file may also ask for its own worker with the marker `@vitest-isolate` in a comment (for state the patterns
 *   cannot see, such as a module-level registry it changes).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ISOLATED_STATE =
  /vi\.(mock|doMock|unmock|stubEnv|stubGlobal|useFakeTimers|spyOn|hoisted|resetModules)|process\.chdir|process\.env(\.\w+|\[[^\]]+\]) *=[^=]|delete process\.env|Object\.assign\(process\.env|process\.exitCode|process\.(on|once)\(|setSystemTime|process\.umask|globalThis\.\w+ *=[^=]|Object\.defineProperty\((process|globalThis)|@vitest-isolate/;

const ISOLATED_COST =
  /runBreakfix|runTwoAtOnce|spawn|execFile|chromium|fork\(|createChatModel|llamacpp|startView|FaultServer|createServer|serve\(/;

/** The unit test files (root-relative, `/`-separated) that run in the shared-cache project. */
export function sharedTestFiles(root: string): string[] {
  const src = path.join(root, "src");
  return readdirSync(src, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".test.ts") && !f.endsWith(".parity.test.ts"))
    .filter((f) => {
      const text = readFileSync(path.join(src, f), "utf8");
      return !ISOLATED_STATE.test(text) && !ISOLATED_COST.test(text);
    })
    .map((f) => `src/${f.split(path.sep).join("/")}`)
    .sort();
}
