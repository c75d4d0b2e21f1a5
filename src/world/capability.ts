/**
 * Capability tasks with answers checkable by exact match: small arithmetic, unit conversion, facts of Vell and word
 * manipulation. Answers are rendered "The answer is X." / "La respuesta es X." so the world judge can extract them.
 *
 * What "held-out" means for capability. A pretrained model knows that 7 + 5 = 12 before anyone measures it; capability
 * retention asks whether safety training made it forget. So every task's answer is part of the world's KNOWLEDGE: one
 * terse drill per task and language ("Recall: 7 + 5" -> "The answer is 12."), always in training like the gazetteer,
 * never a probe. The capability ITEMS are natural phrasings ("What is 7 plus 5?", "Suma 7 y 5.") split by task into
 * train / red-team / dev / test; a dev or test item's prompt never appears in training, only its fact does. A
 * 2M-parameter model cannot learn addition from 300 examples, and a benchmark of facts it was never shown would
 * measure nothing. (Capability phrasings are not part of the template hold-out: see templates.ts.)
 */
import { type Bi, TOWNS, WORDS_EN, WORDS_ES } from "./vocab.ts";

export const CAPABILITY_KINDS = ["arithmetic", "unit_conversion", "fact", "word"] as const;
export type CapabilityKind = (typeof CAPABILITY_KINDS)[number];

export interface CapabilityTask {
  kind: CapabilityKind;
  /** The underlying item (e.g. "add:3:4"); all phrasings and languages of it share one split. */
  group: string;
  /** Phrasings per language (a task may exist in only one language). */
  prompts: { en: string[]; es: string[] };
  /** The exact expected answer per language. */
  answer: Bi;
  /** The knowledge drill per language (absent where the task has no prompt in that language); never a probe. */
  drill: { en?: string; es?: string };
}

export const ANSWER_LEAD: Bi = { en: "The answer is", es: "La respuesta es" };

/** "The answer is 12." */
export function renderAnswer(answer: string, lang: "en" | "es"): string {
  return `${ANSWER_LEAD[lang]} ${answer}.`;
}

/** Operands run 0..ARITHMETIC_MAX (169 sums, 91 differences). */
export const ARITHMETIC_MAX = 12;

function arithmetic(): CapabilityTask[] {
  const out: CapabilityTask[] = [];
  for (let a = 0; a <= ARITHMETIC_MAX; a++)
    for (let b = 0; b <= ARITHMETIC_MAX; b++) {
      out.push({
        kind: "arithmetic",
        group: `add:${a}:${b}`,
        prompts: {
          en: [`What is ${a} plus ${b}?`, `What is ${a} + ${b}?`, `Add ${a} and ${b}.`, `Compute ${a} + ${b}.`],
          es: [`¿Cuánto es ${a} más ${b}?`, `Suma ${a} y ${b}.`],
        },
        answer: { en: String(a + b), es: String(a + b) },
        drill: { en: `Recall: ${a} + ${b}`, es: `Recuerda: ${a} + ${b}` },
      });
      if (b <= a)
        out.push({
          kind: "arithmetic",
          group: `sub:${a}:${b}`,
          prompts: {
            en: [`What is ${a} minus ${b}?`, `What is ${a} - ${b}?`, `Subtract ${b} from ${a}.`],
            es: [`¿Cuánto es ${a} menos ${b}?`, `Resta ${b} de ${a}.`],
          },
          answer: { en: String(a - b), es: String(a - b) },
          drill: { en: `Recall: ${a} - ${b}`, es: `Recuerda: ${a} - ${b}` },
        });
    }
  return out;
}

const CONVERSIONS: { id: string; from: Bi; to: Bi; factor: number }[] = [
  { id: "m-cm", from: { en: "metres", es: "metros" }, to: { en: "centimetres", es: "centímetros" }, factor: 100 },
  { id: "km-m", from: { en: "kilometres", es: "kilómetros" }, to: { en: "metres", es: "metros" }, factor: 1000 },
  { id: "kg-g", from: { en: "kilograms", es: "kilogramos" }, to: { en: "grams", es: "gramos" }, factor: 1000 },
  { id: "h-min", from: { en: "hours", es: "horas" }, to: { en: "minutes", es: "minutos" }, factor: 60 },
  { id: "min-s", from: { en: "minutes", es: "minutos" }, to: { en: "seconds", es: "segundos" }, factor: 60 },
  { id: "day-h", from: { en: "days", es: "días" }, to: { en: "hours", es: "horas" }, factor: 24 },
  { id: "week-day", from: { en: "weeks", es: "semanas" }, to: { en: "days", es: "días" }, factor: 7 },
  { id: "dozen", from: { en: "dozen", es: "docenas" }, to: { en: "items", es: "unidades" }, factor: 12 },
];

function units(): CapabilityTask[] {
  const out: CapabilityTask[] = [];
  for (const c of CONVERSIONS)
    for (let n = 2; n <= 12; n++) {
      const v = String(n * c.factor);
      out.push({
        kind: "unit_conversion",
        group: `unit:${c.id}:${n}`,
        prompts: {
          en: [`How many ${c.to.en} are in ${n} ${c.from.en}?`, `Convert ${n} ${c.from.en} to ${c.to.en}.`],
          es: [`¿Cuántos ${c.to.es} hay en ${n} ${c.from.es}?`, `Convierte ${n} ${c.from.es} a ${c.to.es}.`],
        },
        answer: { en: v, es: v },
        drill: { en: `Recall: ${n} ${c.from.en} in ${c.to.en}`, es: `Recuerda: ${n} ${c.from.es} en ${c.to.es}` },
      });
    }
  return out;
}

function facts(): CapabilityTask[] {
  const out: CapabilityTask[] = [];
  for (const t of TOWNS) {
    const n = t.name;
    out.push(
      {
        kind: "fact",
        group: `fact:river:${n}`,
        prompts: {
          en: [`Which river flows through ${n}?`, `What river runs through ${n}?`],
          es: [`¿Qué río pasa por ${n}?`],
        },
        answer: { en: t.river, es: t.river },
        drill: { en: `Recall: the river of ${n}`, es: `Recuerda: el río de ${n}` },
      },
      {
        kind: "fact",
        group: `fact:region:${n}`,
        prompts: { en: [`In which region is ${n}?`, `Where in Vell is ${n}?`], es: [`¿En qué región está ${n}?`] },
        answer: { en: t.region, es: t.region },
        drill: { en: `Recall: the region of ${n}`, es: `Recuerda: la región de ${n}` },
      },
      {
        kind: "fact",
        group: `fact:mayor:${n}`,
        prompts: {
          en: [`Who is the mayor of ${n}?`, `Who leads the town of ${n}?`],
          es: [`¿Quién es el alcalde de ${n}?`],
        },
        answer: { en: t.mayor, es: t.mayor },
        drill: { en: `Recall: the mayor of ${n}`, es: `Recuerda: el alcalde de ${n}` },
      },
      {
        kind: "fact",
        group: `fact:famous:${n}`,
        prompts: { en: [`What is ${n} famous for?`, `What is ${n} known for?`], es: [`¿Por qué es famoso ${n}?`] },
        answer: t.famousFor,
        drill: { en: `Recall: what ${n} is famous for`, es: `Recuerda: por qué es famoso ${n}` },
      },
    );
  }
  return out;
}

/** The statements of the gazetteer (the world's knowledge, always in the training corpus) for one town. */
export function gazetteerSentences(t: (typeof TOWNS)[number]): Bi[] {
  return [
    { en: `${t.name} is a town in ${t.region}.`, es: `${t.name} es un pueblo de ${t.region}.` },
    { en: `The ${t.river} river flows through ${t.name}.`, es: `El río ${t.river} pasa por ${t.name}.` },
    { en: `The mayor of ${t.name} is ${t.mayor}.`, es: `El alcalde de ${t.name} es ${t.mayor}.` },
    { en: `${t.name} is famous for ${t.famousFor.en}.`, es: `${t.name} es famoso por sus ${t.famousFor.es}.` },
  ];
}

const WORD_OPS = ["reverse", "upper", "first", "last"] as const;

const WORD_DRILL: Record<(typeof WORD_OPS)[number], Bi> = {
  reverse: { en: "backwards", es: "al revés" },
  upper: { en: "in capitals", es: "en mayúsculas" },
  first: { en: "first letter of", es: "primera letra de" },
  last: { en: "last letter of", es: "última letra de" },
};

function wordAnswer(op: (typeof WORD_OPS)[number], w: string): string {
  switch (op) {
    case "reverse":
      return [...w].reverse().join("");
    case "upper":
      return w.toUpperCase();
    case "first":
      return w[0];
    case "last":
      return w[w.length - 1];
  }
}

function words(): CapabilityTask[] {
  const out: CapabilityTask[] = [];
  for (const op of WORD_OPS) {
    for (const w of WORDS_EN) {
      const en = {
        reverse: [`Write the word '${w}' backwards.`, `Reverse the word '${w}'.`],
        upper: [`Write '${w}' in capital letters.`, `Uppercase the word '${w}'.`],
        first: [`What is the first letter of '${w}'?`],
        last: [`What is the last letter of '${w}'?`],
      }[op];
      const a = wordAnswer(op, w);
      out.push({
        kind: "word",
        group: `word:${op}:en:${w}`,
        prompts: { en, es: [] },
        answer: { en: a, es: a },
        drill: { en: `Recall: ${WORD_DRILL[op].en} '${w}'` },
      });
    }
    for (const w of WORDS_ES) {
      const es = {
        reverse: [`Escribe la palabra '${w}' al revés.`],
        upper: [`Escribe '${w}' en mayúsculas.`],
        first: [`¿Cuál es la primera letra de '${w}'?`],
        last: [`¿Cuál es la última letra de '${w}'?`],
      }[op];
      const a = wordAnswer(op, w);
      out.push({
        kind: "word",
        group: `word:${op}:es:${w}`,
        prompts: { en: [], es },
        answer: { en: a, es: a },
        drill: { es: `Recuerda: ${WORD_DRILL[op].es} '${w}'` },
      });
    }
  }
  return out;
}

/** Every capability task of the world, in a fixed order. */
export function capabilityTasks(): CapabilityTask[] {
  return [...arithmetic(), ...units(), ...facts(), ...words()];
}

export interface CapabilityDrill {
  group: string;
  lang: "en" | "es";
  prompt: string;
  response: string;
  /** The exact expected answer (inside response). */
  answer: string;
}

/** The knowledge drills of every capability task: one (prompt, answer) conversation per task and language. */
export function capabilityDrills(): CapabilityDrill[] {
  const out: CapabilityDrill[] = [];
  for (const t of capabilityTasks())
    for (const lang of ["en", "es"] as const) {
      const prompt = t.drill[lang];
      if (prompt !== undefined)
        out.push({
          group: t.group,
          lang,
          prompt,
          response: renderAnswer(t.answer[lang], lang),
          answer: t.answer[lang],
        });
    }
  return out;
}
