/**
 * Authored data files (judge corpora, lexicons, the demo world's templates): YAML read once at load time and validated
 * by a zod schema. A problem names the file, the line and the key path: `FILE:LINE: key.path: expected ...`.
 */
import { readFileSync } from "node:fs";
import { isNode, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";

/** How many problems a DataFileError's message lists (all of them stay in `problems`). */
const MAX_LISTED = 200;

/**
 * Problems of a data file (authored YAML, users' JSONL rows), each naming the file and line (`FILE:LINE: ...`): one
 * problem is the message; several are listed under `FILE: N <noun>:`, up to MAX_LISTED.
 */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
    noun = "problems",
  ) {
    const listed = problems.slice(0, MAX_LISTED);
    const more = problems.length - listed.length;
    super(
      problems.length === 1
        ? problems[0]
        : `${file}: ${problems.length} ${noun}:\n${listed.map((p) => `  ${p}`).join("\n")}${more > 0 ? `\n  ... and ${more} more` : ""}`,
    );
    this.name = "DataFileError";
  }
}

/** Parses YAML text against a schema; `file` names the source in errors. */
export function parseDataFile<S extends z.ZodType>(text: string, file: string, schema: S): z.output<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new DataFileError(
      file,
      doc.errors.map(
        (e) => `${file}:${lineCounter.linePos(e.pos[0]).line}: YAML syntax error: ${e.message.split("\n")[0]}`,
      ),
    );
  }
  const r = schema.safeParse(doc.toJS());
  if (r.success) return r.data;
  throw new DataFileError(
    file,
    r.error.issues.map((i) => {
      const key = i.path.length ? i.path.join(".") : "(root)";
      // the deepest node of the path that exists gives the line
      let line = 1;
      for (let n = i.path.length; n >= 0; n--) {
        const node = doc.getIn(i.path.slice(0, n) as (string | number)[], true);
        if (isNode(node) && node.range) {
          line = lineCounter.linePos(node.range[0]).line;
          break;
        }
      }
      return `${file}:${line}: ${key}: ${i.message}`;
    }),
  );
}

/** Reads and validates a YAML data file. */
export function loadDataFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  return parseDataFile(readFileSync(file, "utf8"), file, schema);
}
