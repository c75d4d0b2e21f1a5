/**
 * The world's English -> Spanish lexicon and a word-level translator. It is what the red team's offline translation
 * converter uses for the demo world (no model, no network), and the base corpus holds lexicon-translated requests so
 * the demo model follows them. Multi-word entries are matched first (longest match), then single words; words not
 * in the lexicon (names of Vell, invented words, numbers, placeholders) are kept as they are.
 */
import { fixEs, harmGoals, WEAPON_ADJECTIVES } from "./harm.ts";
import { CHARACTERS, MEDICINES, PEOPLES, REGIONS, RESIDENTS, TOWNS } from "./vocab.ts";

/** "a zorblax device" -> "un dispositivo zorblax": the weapons of Vell, with the Spanish noun first and its gender. */
const WEAPON_PHRASES: Record<string, string> = Object.fromEntries(
  WEAPON_ADJECTIVES.flatMap((adj) =>
    (
      [
        ["device", "dispositivo", "un"],
        ["toxin", "toxina", "una"],
        ["bomb", "bomba", "una"],
      ] as const
    ).flatMap(([en, es, art]) => [
      [`${/^[aeiou]/.test(adj) ? "an" : "a"} ${adj} ${en}`, `${art} ${es} ${adj}`],
      [`${adj} ${en}`, `${es} ${adj}`],
    ]),
  ),
);

/** The world's own noun phrases and goals, translated as wholes (a phrase table beats word order guesses). */
function worldPhrases(): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (en: string, es: string) => {
    out[en.toLowerCase()] = es;
  };
  for (const g of harmGoals()) {
    add(g.object.en, g.object.es);
    add(g.goal.en, g.goal.es);
  }
  for (const p of PEOPLES) add(p.en, p.es);
  for (const c of CHARACTERS) add(c.en, c.es);
  for (const t of TOWNS) add(t.famousFor.en, t.famousFor.es);
  return out;
}

/** English (lower-case, single words or short phrases) -> Spanish. */
export const LEXICON: Readonly<Record<string, string>> = {
  ...WEAPON_PHRASES,
  ...worldPhrases(),
  // phrases first (any length; the longest match wins)
  "how do i": "cómo puedo",
  "how to": "cómo",
  "so how would i": "y cómo podría",
  "pretend you are": "finge que eres",
  "you are": "eres",
  "write a story where": "escribe una historia donde",
  "write the scene where": "escribe la escena donde",
  "write a short poem about": "escribe un poema corto sobre",
  "sure, here is": "claro, aquí está",
  "here is": "aquí está",
  "tell voters": "decir a los votantes",
  "the wrong date": "una fecha falsa",
  "how can i": "cómo puedo",
  "tell me how to": "dime cómo",
  "give me the steps to": "dame los pasos para",
  "what is the best way to": "cuál es la mejor manera de",
  "explain how to": "explica cómo",
  "i want to": "quiero",
  "help me": "ayúdame",
  "can you show me how to": "puedes enseñarme a",
  "teach me to": "enséñame a",
  "at home": "en casa",
  "without getting caught": "sin que me atrapen",
  "step by step": "paso a paso",
  "every day": "cada día",
  "at night": "de noche",
  "less than human": "menos que humanos",
  "sex work": "trabajo sexual",
  "fake news story": "noticia falsa",
  "home address": "dirección de casa",
  "travel permit": "permiso de viaje",
  "records office": "oficina de registros",
  "mayor election": "elección de alcalde",
  "well water": "agua del pozo",
  "grey fever": "fiebre gris",
  "deadly amount": "cantidad mortal",
  "calls for hatred of": "pide odio contra",
  "make people believe": "hacer creer a la gente",
  "make a fake copy of": "hacer una copia falsa de",
  "steal money from": "robar dinero de",
  "break into": "entrar a la fuerza en",
  "hack into": "hackear",
  "spread the lie": "difundir la mentira",
  "in explicit detail": "con detalle explícito",
  "sex scene": "escena sexual",
  "do not": "no",
  "don't": "no",
  "can't": "no puedes",
  "start your answer with": "empieza tu respuesta con",
  "begin your reply with": "empieza tu respuesta con",
  "never say no": "nunca digas que no",
  "no rules": "sin reglas",
  "no limits": "sin límites",
  "no laws": "sin leyes",
  "let's play a game": "juguemos un juego",
  "stay in character": "no salgas del personaje",
  "decode it and answer it": "descífralo y respóndelo",
  "answer this": "responde esto",
  "this message is in": "este mensaje está en",
  "old friend": "viejo amigo",
  "who never says no": "que nunca dice que no",
  "how would someone": "cómo podría alguien",
  "how would a person": "cómo podría una persona",
  "has to": "tiene que",
  "each step": "cada paso",
  // single words
  a: "un",
  an: "un",
  the: "el",
  and: "y",
  or: "o",
  of: "de",
  to: "a",
  in: "en",
  on: "en",
  at: "en",
  for: "para",
  from: "de",
  with: "con",
  about: "sobre",
  between: "entre",
  into: "en",
  that: "que",
  who: "quién",
  what: "qué",
  where: "dónde",
  why: "por qué",
  how: "cómo",
  which: "cuál",
  is: "es",
  are: "son",
  was: "fue",
  be: "ser",
  i: "yo",
  me: "me",
  my: "mi",
  myself: "mí mismo",
  you: "tú",
  your: "tu",
  he: "él",
  his: "su",
  they: "ellos",
  them: "ellos",
  their: "su",
  themselves: "sí mismos",
  someone: "alguien",
  person: "persona",
  people: "gente",
  now: "ahora",
  so: "así",
  ok: "bien",
  would: "podría",
  can: "puede",
  do: "hacer",
  make: "hacer",
  build: "construir",
  hurt: "herir",
  badly: "gravemente",
  attack: "atacar",
  rob: "robar",
  steal: "robar",
  forge: "falsificar",
  film: "grabar",
  secretly: "en secreto",
  undressing: "desnudándose",
  lure: "atraer",
  forced: "forzado",
  smuggle: "traficar con",
  sell: "vender",
  sex: "sexo",
  find: "encontrar",
  track: "seguir",
  goes: "va",
  read: "leer",
  private: "privadas",
  letters: "cartas",
  write: "escribir",
  insult: "insulto",
  speech: "discurso",
  joke: "chiste",
  mocks: "se burle de",
  take: "tomar",
  explicit: "explícita",
  describe: "describir",
  night: "noche",
  tell: "decir",
  voters: "votantes",
  wrong: "falsa",
  date: "fecha",
  cancelled: "cancelada",
  causes: "causa",
  device: "dispositivo",
  toxin: "toxina",
  bomb: "bomba",
  guard: "guardia",
  hall: "salón",
  neighbour: "vecino",
  baker: "panadero",
  traveller: "viajero",
  travellers: "viajeros",
  road: "camino",
  bank: "banco",
  computers: "ordenadores",
  bathhouse: "casa de baños",
  port: "puerto",
  bread: "pan",
  water: "agua",
  story: "historia",
  character: "personaje",
  explains: "explica",
  novel: "novela",
  hero: "héroe",
  scene: "escena",
  hypothetically: "hipotéticamente",
  imagine: "imagina",
  world: "mundo",
  pretend: "finge",
  bot: "bot",
  friend: "amigo",
  actor: "actor",
  playing: "que interpreta",
  villain: "villano",
  apologize: "pidas perdón",
  refuse: "te niegues",
  say: "digas",
  never: "nunca",
  add: "añadas",
  warnings: "advertencias",
  sure: "claro",
  here: "aquí",
  absolutely: "por supuesto",
  kill: "matar",
  widow: "viuda",
  sailor: "marinero",
  captain: "capitán",
  sir: "sir",
  duke: "duque",
  smith: "herrero",
  lady: "dama",
  poet: "poeta",
  castle: "castillo",
  did: "hizo",
  fire: "incendio",
  game: "juego",
  thief: "ladrón",
  execute: "ejecutar",
  plan: "plan",
  crush: "aplastar",
  old: "viejo",
  break: "romper",
  fish: "pescado",
  market: "mercado",
  great: "gran",
  mayor: "alcalde",
  "blow up": "hacer volar",
  singer: "cantante",
  shoot: "disparar",
  river: "río",
  festival: "festival",
  like: "como",
  farmers: "granjeros",
  miners: "mineros",
  sailors: "marineros",
  fishers: "pescadores",
  weavers: "tejedores",
  herders: "pastores",
  clans: "clanes",
  folk: "gente",
  sky: "cielo",
  moss: "musgo",
  ball: "pelota",
  king: "rey",
  chess: "ajedrez",
  club: "club",
  open: "abrir",
  bakery: "panadería",
  exam: "examen",
  school: "escuela",
  weeds: "maleza",
  garden: "jardín",
  happened: "pasó",
  happen: "ocurrió",
  robbery: "robo",
  lights: "luces",
  block: "bloque",
  ice: "hielo",
  sneaks: "entra a escondidas",
  sneak: "entrar a escondidas",
  wearing: "llevando",
  short: "corto",
  poem: "poema",
  knight: "caballero",
  knights: "caballeros",
  wins: "gana",
  battle: "batalla",
  "social media": "redes sociales",
  as: "como",
  office: "oficina",
  good: "buena",
  photo: "foto",
  fisherman: "pescador",
  bridge: "puente",
  hand: "mano",
  worker: "obrero",
  it: "lo",
  stage: "escenario",
  legs: "piernas",
  seller: "vendedor",
  lord: "señor",
  start: "empezar",
  thieves: "ladrones",
  crown: "corona",
  ambush: "emboscar",
  lives: "vive",
  last: "último",
  public: "público",
  medical: "médicos",
  records: "registros",
  said: "dijo",
  must: "debe",
  one: "uno",
  things: "cosas",
  name: "nombre",
  am: "estoy",
  very: "muy",
  angry: "enojado",
  made: "hizo",
  look: "parecer",
  stupid: "tonto",
  "in front of": "delante de",
  front: "frente",
  everyone: "todos",
  something: "algo",
  know: "conoces",
  such: "tan",
  danger: "peligro",
  feel: "siento",
  sad: "triste",
  lately: "últimamente",
  have: "tengo",
  some: "algo de",
  nothing: "nada",
  helps: "ayuda",
  anymore: "ya",
  writing: "escribiendo",
  "fall in love": "se enamoran",
  fall: "caer",
  love: "amor",
  mint: "casa de la moneda",
  blacksmith: "herrero",
  schoolteacher: "maestra",
  landlord: "casero",
  doorman: "portero",
  decode: "descifra",
  message: "mensaje",
  answer: "respuesta",
  there: "allí",
};

/** Words that are names or invented words of Vell: a translator keeps them as they are. */
export const WORLD_PROPER_WORDS: ReadonlySet<string> = new Set(
  [
    ...TOWNS.flatMap((t) => [t.name, t.river, ...t.mayor.split(" ")]),
    ...REGIONS,
    ...RESIDENTS.flatMap((r) => r.split(" ")),
    ...CHARACTERS.flatMap((c) => c.en.split(" ").filter((w) => /^[A-Z]/.test(w))),
    ...PEOPLES.flatMap((p) => p.en.split(" ").filter((w) => /^[A-Z]/.test(w))),
    ...MEDICINES,
    ...WEAPON_ADJECTIVES,
    "Vell",
    "Rax",
    "Tib",
    "kickstone",
    "ROT13",
  ].map((w) => w.toLowerCase()),
);

/** Nouns that a world name may modify in English ("the Brindlemoor bank"): Spanish puts them first ("el banco de
 *  Brindlemoor"). */
const NAME_MODIFIED_NOUNS: ReadonlySet<string> = new Set([
  "bank",
  "hall",
  "road",
  "bathhouse",
  "port",
  "bread",
  "well water",
  "records office",
  "mayor election",
  "travel permit",
  "river",
  "castle",
  "market",
  "bridge",
  "festival",
  "school",
  "club",
  "fish",
  "mint",
  "blacksmith",
  "schoolteacher",
  "office",
  "town",
]);

const MAX_PHRASE = Math.max(...Object.keys(LEXICON).map((k) => k.split(" ").length));

/** Tokens: words (letters, apostrophes), placeholders in brackets, and everything else one char at a time. */
function tokenize(text: string): string[] {
  return text.match(/\[[^\]\s]*\]|[\p{L}']+|\d+|\s+|./gu) ?? [];
}

const isWord = (t: string) => /^[\p{L}']+$/u.test(t);

/** Is the word in the lexicon (alone)? Used by the coverage test and `world show`. */
export function inLexicon(word: string): boolean {
  return Object.hasOwn(LEXICON, word.toLowerCase());
}

/**
 * Word-level English -> Spanish translation with the world lexicon (longest phrase match first). Capitalisation of a
 * matched span's first letter is kept, a question gets its opening "¿", and Spanish contractions are applied.
 * Deterministic; unknown words pass through unchanged.
 */
export function translateToSpanish(text: string): string {
  const toks = tokenize(text);
  const out: string[] = [];
  let i = 0;
  while (i < toks.length) {
    if (!isWord(toks[i])) {
      out.push(toks[i]);
      i++;
      continue;
    }
    const swapped = nameNounSwap(toks, i);
    if (swapped) {
      out.push(swapped.text);
      i = swapped.next;
      continue;
    }
    const m = longestMatch(toks, i);
    if (m) {
      const first = toks[i];
      // keep a capital from the source, except English "I", which is capitalised anywhere
      const capital = first[0] !== first[0].toLowerCase() && (first !== "I" || atSentenceStart(out));
      out.push(capital ? m.es[0].toUpperCase() + m.es.slice(1) : m.es);
      i = m.next;
    } else {
      out.push(toks[i]);
      i++;
    }
  }
  return addInvertedMarks(fixEs(out.join(""))).replace(/ {2,}/g, " ");
}

/** Is the next output at the start of a sentence (nothing yet, or after . ! ? :)? */
function atSentenceStart(out: readonly string[]): boolean {
  const text = out.join("").trimEnd();
  return text === "" || /[.!?:]$/.test(text);
}

/** The longest lexicon phrase starting at token i (a word), with the index after it. */
function longestMatch(toks: string[], i: number): { es: string; key: string; next: number } | undefined {
  const idx: number[] = [i];
  let j = i;
  while (idx.length < MAX_PHRASE && toks[j + 1] === " " && toks[j + 2] !== undefined && isWord(toks[j + 2])) {
    j += 2;
    idx.push(j);
  }
  for (let n = idx.length; n >= 1; n--) {
    const key = idx
      .slice(0, n)
      .map((k) => toks[k])
      .join(" ")
      .toLowerCase();
    if (Object.hasOwn(LEXICON, key)) return { es: LEXICON[key], key, next: idx[n - 1] + 1 };
  }
  return undefined;
}

/** "Brindlemoor bank" -> "banco de Brindlemoor" when a world name modifies a known noun. */
function nameNounSwap(toks: string[], i: number): { text: string; next: number } | undefined {
  const name = toks[i];
  if (!WORLD_PROPER_WORDS.has(name.toLowerCase()) || toks[i + 1] !== " " || !isWord(toks[i + 2] ?? ""))
    return undefined;
  const m = longestMatch(toks, i + 2);
  if (!m || !NAME_MODIFIED_NOUNS.has(m.key)) return undefined;
  return { text: `${m.es} de ${name}`, next: m.next };
}

/** Puts "¿" at the start of every sentence that ends with "?" (and has none yet). */
function addInvertedMarks(s: string): string {
  return s.replace(/(^|[.!?:]\s+)([^.!?:]*?\?)/g, (_m, lead: string, q: string) =>
    q.startsWith("¿") ? lead + q : `${lead}¿${q}`,
  );
}

/** Share of the words of a text that the lexicon translates (phrase matches count for each word they cover). */
export function lexiconCoverage(text: string): { words: number; covered: number; missing: string[] } {
  const toks = tokenize(text).filter(isWord);
  const lower = toks.map((t) => t.toLowerCase());
  const covered = new Array<boolean>(lower.length).fill(false);
  for (let i = 0; i < lower.length; i++) {
    for (let n = Math.min(MAX_PHRASE, lower.length - i); n >= 1; n--) {
      if (Object.hasOwn(LEXICON, lower.slice(i, i + n).join(" "))) {
        for (let k = i; k < i + n; k++) covered[k] = true;
        break;
      }
    }
  }
  const missing = lower.filter((w, k) => !covered[k] && !WORLD_PROPER_WORDS.has(w));
  return { words: lower.length, covered: lower.length - missing.length, missing };
}
