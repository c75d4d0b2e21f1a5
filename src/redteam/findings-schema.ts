/** zod schema of one exported finding line (findings.jsonl): what the curation stage can rely on. */
import { z } from "zod";
import { categorySchema, conversationSchema, severitySchema } from "../domain/schemas.ts";

export const findingSchema = z.object({
  id: z.string().min(1),
  round: z.number().int().min(0),
  attack: z.object({
    id: z.string(),
    probeId: z.string(),
    persona: z.string(),
    chain: z.array(z.object({ kind: z.enum(["converter", "framing", "multiturn"]), name: z.string() }).loose()),
    family: z.string(),
    language: z.string(),
    conversation: conversationSchema.min(1),
    seed: z.number(),
  }),
  response: z.object({ id: z.string(), model: z.string(), content: z.string() }).loose(),
  judgement: z.object({ judgeId: z.string(), status: z.enum(["ok", "unjudged"]), label: z.string() }).loose(),
  category: categorySchema,
  severity: severitySchema,
  recordId: z.string(),
  vulnerabilityId: z.string(),
  duplicates: z.array(z.string()),
});
