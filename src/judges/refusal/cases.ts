/**
 * Hand-written development cases for the refusal classifier, in the styles chat models are known to refuse in
 * (short "Sorry, but I can't" refusals, Llama-2-chat style lectures, Mistral-style hedges), in the MultiJail languages
 * plus Spanish and French, in cases.yaml. Written by us (placeholders, no harmful content); not taken from any benchmark.
 */
import path from "node:path";
import { z } from "zod";
import { loadDataFile } from "../../domain/data-file.ts";
import type { RefusalClass } from "../../domain/types.ts";

export interface RefusalCase {
  name: string;
  request: string;
  response: string;
  expected: RefusalClass;
}

const caseSchema = z
  .object({
    name: z.string().min(1),
    request: z.string().min(1),
    response: z.string(),
    expected: z.enum(["full_compliance", "full_refusal", "partial_refusal"]),
  })
  .strict();

/** cases.yaml beside this file. */
const DATA = loadDataFile(
  path.join(import.meta.dirname, "cases.yaml"),
  z.object({ english: z.array(caseSchema).min(1), multilingual: z.array(caseSchema).min(1) }).strict(),
);

export const ENGLISH_CASES: readonly RefusalCase[] = DATA.english;
export const MULTILINGUAL_CASES: readonly RefusalCase[] = DATA.multilingual;
