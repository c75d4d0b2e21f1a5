/**
 * Scripts that are also modules (`npx tsx src/world/dev-noise.ts MODEL.gguf`): run `main` with the command line's
 * arguments only when the file is the one node was started with, and turn a thrown error into its message on stderr
 * and exit status 1. One helper for every such script.
 */
import path from "node:path";

export function runIfMain(filename: string, main: (argv: string[]) => Promise<void>): void {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== path.resolve(filename)) return;
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e: Error) => {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    },
  );
}
