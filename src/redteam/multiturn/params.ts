/**
 * Parameters of the multi-turn strategies in technique steps (`tap(width=3,branching=2)`, `flirt(strategy=lifo)`),
 * validated when a technique is read, so a misspelt or mistyped parameter is an error naming the step, not ignored.
 */
import { z } from "zod";

/** FLIRT's exemplar-pool update strategies (flirt.ts). Kept here so this file imports nothing of the strategies. */
export const FLIRT_STRATEGIES = ["fifo", "lifo", "scoring", "scoring_diversity"] as const;

const positive = z.number().int().positive();
export const MULTITURN_PARAM_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  crescendo: z.object({}).strict(),
  pair: z.object({ streams: positive.optional() }).strict(),
  scripted: z.object({ script: z.string().min(1).optional() }).strict(),
  tap: z
    .object({
      width: positive.optional(),
      branching: positive.optional(),
      depth: positive.optional(),
      on_topic: z.boolean().optional(),
      scorer: z.enum(["judge", "evaluator"]).optional(),
    })
    .strict(),
  flirt: z
    .object({
      strategy: z.enum(FLIRT_STRATEGIES).optional(),
      exemplars: positive.optional(),
      lambda: z.number().min(0).optional(),
      min_score: z.number().min(1).max(10).optional(),
      stop_on_success: z.boolean().optional(),
    })
    .strict(),
};

/** Throws "<where>: <strategy>: bad params: key: problem" for parameters the strategy does not take. */
export function checkMultiTurnParams(name: string, params: unknown, where: string): void {
  const schema = MULTITURN_PARAM_SCHEMAS[name];
  if (!schema) return;
  const r = schema.safeParse(params ?? {});
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join(".") || "(params)"}: ${i.message}`).join("; ");
    throw new Error(`${where}: ${name}: bad params: ${msg}`);
  }
}
