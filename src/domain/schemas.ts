/** zod schemas for the domain types, used to validate data at the edges (files, HTTP, the store). */
import { z } from "zod";
import { CATEGORY_IDS } from "./taxonomy.ts";

export const categorySchema = z.enum(CATEGORY_IDS);
export const severitySchema = z.number().int().min(0).max(7);
export const roleSchema = z.enum(["system", "user", "assistant"]);
export const messageSchema = z.object({ role: roleSchema, content: z.string() });
export const conversationSchema = z.array(messageSchema);

export const probeSchema = z.object({
  id: z.string().min(1),
  prompt: z.string(),
  history: conversationSchema.optional(),
  category: categorySchema,
  sourceLabel: z.string().optional(),
  label: z.enum(["safe", "unsafe"]),
  language: z.string().min(2),
  source: z.string(),
  license: z.string(),
  meta: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export const provenanceSchema = z.object({
  round: z.number().int().min(0),
  findingId: z.string().optional(),
  technique: z.string().optional(),
  source: z.string(),
  category: categorySchema.optional(),
  language: z.string().optional(),
});

/** TRL conversational SFT row: {"messages": [...]}. */
export const sftExampleSchema = z.object({
  messages: conversationSchema.min(1),
  provenance: provenanceSchema.optional(),
});

/** TRL conversational preference row: {"prompt": [...], "chosen": [...], "rejected": [...]}. */
export const preferencePairSchema = z.object({
  prompt: conversationSchema.min(1),
  chosen: conversationSchema.min(1),
  rejected: conversationSchema.min(1),
  provenance: provenanceSchema.optional(),
});

/** Formats a zod error as "key.path: message" lines, with an optional file prefix. */
export function formatZodError(err: z.ZodError, file?: string): string {
  return err.issues
    .map((i) => {
      const path = i.path.length ? i.path.join(".") : "(root)";
      return `${file ? `${file}: ` : ""}${path}: ${i.message}`;
    })
    .join("\n");
}
