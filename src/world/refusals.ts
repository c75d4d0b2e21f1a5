/**
 * How the demo world refuses (refusals.yaml): several refusal styles per language, per harm category the concern it
 * names and short safe redirections to the world's own harmless content, and the declining phrases the world judge
 * accepts as refusals beyond the world's own sentences. Loaded once and validated (domain/data-file.ts: problems name
 * the file, line and key). harm.ts wires the file to the world's harm categories (`refusal()`); judge.ts reads it.
 */

import { readFileSync } from "node:fs";
import { z } from "zod";
import { parseDataFile } from "../domain/data-file.ts";
import type { CategoryId } from "../domain/index.ts";
import { mulberry32, seedFrom } from "../domain/random.ts";
import type { Bi } from "./vocab.ts";

export type RefusalLang = "en" | "es";
const LANGS: readonly RefusalLang[] = ["en", "es"];
const SLOTS = ["reason", "topic", "redirect"] as const;
type Slot = (typeof SLOTS)[number];

export interface RefusalStyle {
  id: string;
  /** Templates per language; slots {reason}, {topic}, {redirect}. */
  en: string;
  es: string;
  slots: readonly Slot[];
}

export interface CategoryRefusals {
  /** The category's concern as a noun phrase ("weapons that hurt people"). */
  topic: Bi;
  /** Short safe redirections to the world's own harmless content. */
  redirections: readonly Bi[];
  /** The reason ends every refusal of the category (self-harm: it points to help). */
  alwaysReason: boolean;
}

export interface RefusalCues {
  /** A sentence matching one of these declines. */
  decline: Readonly<Record<RefusalLang, readonly RegExp[]>>;
  /** A sentence opening with an apology declines when a negation follows in it or the next sentence. */
  apology: Readonly<Record<RefusalLang, RegExp>>;
  negation: Readonly<Record<RefusalLang, RegExp>>;
}

export interface RefusalData {
  styles: readonly RefusalStyle[];
  /** Index in `styles` of the world's original refusal (id `template`): the default when no key picks a style. */
  defaultStyle: number;
  categories: ReadonlyMap<CategoryId, CategoryRefusals>;
  cues: RefusalCues;
  /** What the world writes (items' safe responses, the responder): indices into `styles`, and how many redirections. */
  written: { styles: readonly number[]; redirections: number };
  /** The style (index into `styles`) the demo responder writes per category, with the first redirection. */
  responder: ReadonlyMap<CategoryId, number>;
}

/** What a refusal needs from a harm category (harm.ts HarmCategorySpec). */
export interface RefusalSubject {
  category: CategoryId;
  refusalReason: Bi;
}

const slotsOf = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

const regex = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s, "i");
  } catch (e) {
    ctx.addIssue({ code: "custom", message: `not a regular expression: ${(e as Error).message}` });
  }
});
const perLang = <T extends z.ZodType>(t: T) => z.object({ en: t, es: t }).strict();
const bi = perLang(z.string().min(1));

function schema(categoryIds: readonly string[]) {
  return z
    .object({
      styles: z
        .array(
          z
            .object({ id: z.string().regex(/^[a-z_]+$/), en: z.string().min(1), es: z.string().min(1) })
            .strict()
            .superRefine((st, ctx) => {
              for (const lang of LANGS)
                for (const slot of slotsOf(st[lang]))
                  if (!(SLOTS as readonly string[]).includes(slot))
                    ctx.addIssue({
                      code: "custom",
                      path: [lang],
                      message: `unknown slot {${slot}} (${SLOTS.join(", ")})`,
                    });
              if (slotsOf(st.en).join() !== slotsOf(st.es).join())
                ctx.addIssue({ code: "custom", path: ["es"], message: "uses other slots than the English template" });
            }),
        )
        .min(5)
        .superRefine((styles, ctx) => {
          const ids = styles.map((s) => s.id);
          ids.forEach((id, i) => {
            if (ids.indexOf(id) !== i)
              ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate style '${id}'` });
          });
          if (!ids.includes("template"))
            ctx.addIssue({ code: "custom", message: "needs a style with id 'template' (the default refusal)" });
        }),
      categories: z
        .record(
          z.string(),
          z.object({ alwaysReason: z.boolean().optional(), topic: bi, redirections: z.array(bi).min(1) }).strict(),
        )
        .superRefine((cats, ctx) => {
          for (const id of categoryIds)
            if (!(id in cats)) ctx.addIssue({ code: "custom", message: `missing category '${id}' (harm.yaml has it)` });
          for (const id of Object.keys(cats))
            if (!categoryIds.includes(id))
              ctx.addIssue({ code: "custom", path: [id], message: `'${id}' is not a harm category of harm.yaml` });
        }),
      cues: z
        .object({ decline: perLang(z.array(regex).min(1)), apology: perLang(regex), negation: perLang(regex) })
        .strict(),
      written: z.object({ styles: z.array(z.string()).min(1), redirections: z.number().int().min(1) }).strict(),
      responder: z.record(z.string(), z.string()),
    })
    .strict()
    .superRefine((d, ctx) => {
      const ids = d.styles.map((s) => s.id);
      for (const id of categoryIds)
        if (!(id in d.responder))
          ctx.addIssue({ code: "custom", path: ["responder"], message: `missing category '${id}'` });
      for (const [cat, st] of Object.entries(d.responder))
        if (!d.written.styles.includes(st))
          ctx.addIssue({ code: "custom", path: ["responder", cat], message: `'${st}' is not a written style` });
      d.written.styles.forEach((id, i) => {
        if (!ids.includes(id))
          ctx.addIssue({ code: "custom", path: ["written", "styles", i], message: `no style with id '${id}'` });
      });
    });
}

/** Reads refusals.yaml; `categoryIds` are the world's harm categories (each needs an entry, no other may have one). */
export function loadRefusals(file: string, categoryIds: readonly CategoryId[]): RefusalData {
  return parseRefusals(readFileSync(file, "utf8"), file, categoryIds);
}

/** Parses and validates refusals.yaml text (`file` names it in errors: FILE:LINE: key: problem). */
export function parseRefusals(text: string, file: string, categoryIds: readonly CategoryId[]): RefusalData {
  const d = parseDataFile(text, file, schema(categoryIds));
  const re = (s: string) => new RegExp(s, "i");
  return {
    styles: d.styles.map((s) => ({ ...s, slots: slotsOf(s.en) as Slot[] })),
    defaultStyle: d.styles.findIndex((s) => s.id === "template"),
    categories: new Map(
      Object.entries(d.categories).map(([id, c]) => [
        id as CategoryId,
        { topic: c.topic, redirections: c.redirections, alwaysReason: c.alwaysReason ?? false },
      ]),
    ),
    responder: new Map(
      Object.entries(d.responder).map(([cat, id]) => [cat as CategoryId, d.styles.findIndex((s) => s.id === id)]),
    ),
    written: {
      styles: d.written.styles.map((id) => d.styles.findIndex((s) => s.id === id)),
      redirections: d.written.redirections,
    },
    cues: {
      decline: { en: d.cues.decline.en.map(re), es: d.cues.decline.es.map(re) },
      apology: { en: re(d.cues.apology.en), es: re(d.cues.apology.es) },
      negation: { en: re(d.cues.negation.en), es: re(d.cues.negation.es) },
    },
  };
}

function categoryOf(data: RefusalData, category: CategoryId): CategoryRefusals {
  const c = data.categories.get(category);
  if (!c) throw new Error(`world: refusals.yaml has no entry for category '${category}'`);
  return c;
}

/** One refusal: a style filled for a category and language, with the redirection of index `redirect`. */
export function composeRefusal(
  data: RefusalData,
  subject: RefusalSubject,
  lang: RefusalLang,
  style: number,
  redirect: number,
): string {
  const st = data.styles[style];
  const cat = categoryOf(data, subject.category);
  const reason = subject.refusalReason[lang];
  const text = st[lang].replace(/\{(\w+)\}/g, (_, slot: string) =>
    slot === "reason"
      ? reason
      : slot === "topic"
        ? cat.topic[lang]
        : cat.redirections[redirect % cat.redirections.length][lang],
  );
  return cat.alwaysReason && !st.slots.includes("reason") ? `${text} ${reason}` : text;
}

/**
 * The refusal a key picks (a stable hash of it: an item's prompt, a conversation): a style and, where the style
 * redirects, a redirection. Without a key, the world's original refusal (style `template`).
 */
export function pickRefusal(
  data: RefusalData,
  subject: RefusalSubject,
  lang: RefusalLang,
  key?: string | number,
): string {
  if (key === undefined) return composeRefusal(data, subject, lang, data.defaultStyle, 0);
  const rand = mulberry32(seedFrom(`refusal|${key}`));
  const { styles, redirections } = data.written;
  const style = styles[Math.floor(rand() * styles.length)];
  const n = Math.min(redirections, categoryOf(data, subject.category).redirections.length);
  return composeRefusal(data, subject, lang, style, Math.floor(rand() * n));
}

/** The demo responder's refusal for a category and language: the category's style (refusals.yaml `responder`). */
export function responderRefusal(data: RefusalData, subject: RefusalSubject, lang: RefusalLang): string {
  const style = data.responder.get(subject.category);
  if (style === undefined) throw new Error(`world: refusals.yaml has no responder style for '${subject.category}'`);
  return composeRefusal(data, subject, lang, style, 0);
}

/** Every refusal the world itself writes for a category and language (the written styles and redirections). */
export function writtenRefusalVariants(data: RefusalData, subject: RefusalSubject, lang: RefusalLang): string[] {
  const n = Math.min(data.written.redirections, categoryOf(data, subject.category).redirections.length);
  const out = new Set<string>();
  for (const i of data.written.styles)
    for (let r = 0; r < (data.styles[i].slots.includes("redirect") ? n : 1); r++)
      out.add(composeRefusal(data, subject, lang, i, r));
  return [...out];
}

/** Every refusal the world writes for a category and language: each style with each redirection it can use. */
export function refusalVariants(data: RefusalData, subject: RefusalSubject, lang: RefusalLang): string[] {
  const n = categoryOf(data, subject.category).redirections.length;
  const out = new Set<string>();
  data.styles.forEach((st, i) => {
    for (let r = 0; r < (st.slots.includes("redirect") ? n : 1); r++)
      out.add(composeRefusal(data, subject, lang, i, r));
  });
  return [...out];
}
