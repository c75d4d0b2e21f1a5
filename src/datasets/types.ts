/**
 * The dataset-loader plug-in interface. A loader reads one benchmark's files from a folder (the shared copy, the
 * `breakfix data pull` cache, or a user's folder) and returns typed rows mapped onto the harm taxonomy.
 *
 * Contract (checked for every loader by conformance.testkit.ts):
 * - `load(dir)` reads every file, validates every row, and only then returns; a malformed file throws DatasetError
 *   naming the file, the line and the problem, and nothing is half-loaded.
 * - Row ids are unique and stable (`<dataset>:<upstream id>`), so a re-run keys the same work identically.
 * - `facets(row)` gives the category (a taxonomy id, or "unlabelled"), label and language used by `data show`.
 * - `info.files` lists every file `load` reads, with the public URL `breakfix data pull` downloads it from (taken from
 *   sources.yaml: URLs, revisions and checksums are data).
 */
import { isInvisible } from "../domain/escape.ts";
import type { Probe } from "../domain/types.ts";

export interface RemoteFile {
  /** Path inside the dataset folder, "/"-separated (what load() reads), e.g. "human_labelled_completions/x.csv". */
  name: string;
  /** Public download URL, pinned to an immutable revision where one was verified (sources.yaml). */
  url: string;
  /** Expected sha256 of the file, when the pinned upstream bytes are known (else `data pull` checks info.rows only). */
  sha256?: string;
  /**
   * Set when `url` is on a moving branch (main, master, HF resolve/main) rather than a pinned revision: why no revision
   * could be verified (sources.yaml lists these exceptions). `data pull` says so when such a file fails a check.
   */
  moving?: string;
}

export type DatasetKind = "probes" | "labelled-completions" | "preference-pairs" | "target-strings";

export interface DatasetInfo {
  /** Registry name, e.g. "xstest", "harmbench-test". */
  name: string;
  title: string;
  description: string;
  kind: DatasetKind;
  license: string;
  homepage: string;
  /** Rows in the reviewed copy (a check, and shown by `data list`). */
  rows: number;
  files: RemoteFile[];
}

export interface Facets {
  category: string;
  label: string;
  language: string;
}

export interface DatasetLoader<T = Probe> {
  readonly info: DatasetInfo;
  load(dir: string): Promise<T[]>;
  facets(row: T): Facets;
  /** Stable unique id of a row. */
  idOf(row: T): string;
}

export interface DatasetProblem {
  /** 1-based line; 0 when the problem concerns the whole file. */
  line: number;
  problem: string;
}

/**
 * Makes text from a data file safe to print on a terminal: control characters (ANSI escapes, carriage returns,
 * newlines, tabs) and every character a terminal would act on or a reader would not see (C1 controls, bidi
 * overrides, zero-width and tag characters: domain/escape.ts isInvisible) are shown as \\uXXXX (\\u{XXXXX} beyond
 * U+FFFF) escapes, and long values are cut.
 */
export function printable(text: string, max = 200): string {
  let clean = "";
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const hidden = c === 0x09 || c === 0x0a || isInvisible(c);
    clean += !hidden ? ch : c > 0xffff ? `\\u{${c.toString(16)}}` : `\\u${c.toString(16).padStart(4, "0")}`;
  }
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/** A dataset file that is missing or malformed. The message is one `file:line: problem` line per problem. */
export class DatasetError extends Error {
  constructor(
    readonly file: string,
    readonly problems: DatasetProblem[],
  ) {
    super(problems.map((p) => `${file}${p.line > 0 ? `:${p.line}` : ""}: ${printable(p.problem, 400)}`).join("\n"));
    this.name = "DatasetError";
  }
}

/** Most problems reported from one file before giving up. */
export const MAX_PROBLEMS = 20;

/** Collects row problems of one file and throws them together, so a file is validated completely or not loaded. */
export class ProblemCollector {
  private readonly problems: DatasetProblem[] = [];
  constructor(readonly file: string) {}

  add(line: number, problem: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ line, problem });
  }

  /** Runs fn; a thrown Error becomes a problem on `line`. Returns fn's value or undefined. */
  check<R>(line: number, fn: () => R): R | undefined {
    try {
      return fn();
    } catch (err) {
      this.add(line, (err as Error).message);
      return undefined;
    }
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw new DatasetError(this.file, this.problems);
  }
}
