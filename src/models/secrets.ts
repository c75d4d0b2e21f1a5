/**
 * API keys come only from environment variables or from a secrets file named in the config; they are never stored
 * in the database, reports or logs. Every key we resolve is registered here so error messages and log lines can be
 * redacted (`redactSecrets`) before they leave the process.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { escapeForTerminal, type TerminalEscapeOptions } from "../domain/escape.ts";

const known = new Set<string>();

/** Remember a secret value so redactSecrets can scrub it. Values shorter than 8 chars are not secrets we can scrub. */
export function registerSecret(value: string): void {
  if (value.length >= 8) known.add(value);
}

/** Replaces every registered secret in `text` with "[REDACTED]". */
export function redactSecrets(text: string): string {
  let out = text;
  for (const s of known) if (out.includes(s)) out = out.split(s).join("[REDACTED]");
  return out;
}

/**
 * Well-known secret formats, found by shape alone (a token typed into a config or a command, never registered): OpenAI
 * and Anthropic keys (sk-..., sk-proj-..., sk-ant-...), Hugging Face tokens (hf_...), GitHub tokens (ghp_, gho_, ghu_,
 * ghs_, ghr_, github_pat_...), GitLab (glpat-...), Slack (xoxa/xoxb/xoxp/xoxr/xoxs-...), AWS access key ids
 * (AKIA.../ASIA...), Google API keys (AIza...), Stripe (sk_live_/rk_test_...), npm (npm_...), and the credential of
 * a Bearer token or an `Authorization: Basic` header.
 */
const SECRET_FORMATS: readonly RegExp[] = [
  /\bsk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}/g,
  /\bhf_[A-Za-z0-9]{20,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}/g,
  /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/g,
  /\bnpm_[A-Za-z0-9]{36}/g,
];
/** The credential after Bearer (8+ characters, one of them not a letter: "Bearer authentication" is prose). */
const BEARER = /\b(Bearer\s+)(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{8,}=*/g;
const BASIC = /\b(Authorization:\s*Basic\s+)[A-Za-z0-9+/]+=*/gi;

/** `text` with every well-known secret format (SECRET_FORMATS) replaced by "[REDACTED]". */
export function redactSecretFormats(text: string): string {
  let out = text;
  for (const re of SECRET_FORMATS) out = out.replace(re, "[REDACTED]");
  return out.replace(BEARER, "$1[REDACTED]").replace(BASIC, "$1[REDACTED]");
}

/** Values a command line gives to a credential-named variable or flag: `WANDB_API_KEY=...`, `--hub-token ...`. */
const VALUE = `("[^"]*"|'[^']*'|[^\\s;&|)"']+)`;
const CREDENTIAL = "(?:key|token|secret|password|passwd|credentials?)";
const ASSIGNED: readonly RegExp[] = [
  new RegExp(`(?:^|[\\s;&|(])(?:export\\s+)?[A-Za-z_][A-Za-z0-9_]*${CREDENTIAL}=${VALUE}`, "gi"),
  new RegExp(`(?:^|[\\s;&|(])--[A-Za-z0-9-]*${CREDENTIAL}(?:=|\\s+)${VALUE}`, "gi"),
];

/**
 * One job's redactor, made once for the job and used for all it logs, throws and records: registered secrets
 * (redactSecrets), well-known formats (redactSecretFormats), and the literal values `typed` (text a user wrote, e.g.
 * training.command.run) assigns to a credential-named variable or flag (`WANDB_API_KEY=...`, `--hub-token ...`),
 * whatever their format (values under 6 characters excepted: too short to find safely).
 */
export function secretRedactor(...typed: string[]): (text: string) => string {
  const literal = new Set<string>();
  for (const t of typed)
    for (const m of ASSIGNED.flatMap((re) => [...t.matchAll(re)])) {
      const v = m[1].replace(/^(["'])(.*)\1$/, "$2");
      if (v.length >= 6 && !v.startsWith("{") && !v.startsWith("$")) literal.add(v);
    }
  const longestFirst = [...literal].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = redactSecrets(text);
    for (const v of longestFirst) if (out.includes(v)) out = out.split(v).join("[REDACTED]");
    return redactSecretFormats(out);
  };
}

/**
 * Untrusted text (a server's reply, a command's output, an error quoting data) as a log line or message shows it:
 * known secrets redacted first (so a cut cannot leave part of a key), then terminal-safe (escapeForTerminal's options).
 */
export function redactedForTerminal(text: string, opts?: TerminalEscapeOptions): string {
  return escapeForTerminal(redactSecrets(text), opts);
}

export interface SecretSource {
  /** Environment variable holding the key, e.g. "OPENAI_API_KEY". */
  apiKeyEnv?: string;
  /** A YAML/JSON map (`NAME: value`) or dotenv (`NAME=value`) file. */
  secretsFile?: string;
  /** Key to read from secretsFile; defaults to apiKeyEnv. */
  secretName?: string;
}

/** Parses a secrets file: YAML/JSON mapping, or dotenv lines. Throws naming the file on bad input. */
export function parseSecretsFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const dotenv = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  if (dotenv.length > 0 && dotenv.every((l) => /^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=/.test(l))) {
    for (const line of dotenv) {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line)!;
      let v = m[2].trim();
      if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
      out[m[1]] = v;
    }
    return out;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    // The YAML error message quotes the offending line, which may hold a secret: report only the position.
    const pos = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new Error(`${file}${pos ? `:${pos}` : ""}: secrets file is neither YAML/JSON nor dotenv`);
  }
  if (doc == null) return out;
  if (typeof doc !== "object" || Array.isArray(doc))
    throw new Error(`${file}: secrets file must be a mapping NAME: value`);
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (typeof v !== "string" && typeof v !== "number") throw new Error(`${file}: ${k}: expected a string value`);
    out[k] = String(v);
  }
  return out;
}

/**
 * Resolves an API key: the environment variable first, then the secrets file. Returns undefined when neither is
 * configured (local servers need no key); throws when one is configured but empty/missing, naming where we looked
 * (never the value).
 */
export function resolveApiKey(src: SecretSource, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!src.apiKeyEnv && !src.secretsFile) return undefined;
  if (src.apiKeyEnv) {
    const v = env[src.apiKeyEnv];
    if (v && v.trim() !== "") {
      registerSecret(v.trim());
      return v.trim();
    }
  }
  if (src.secretsFile) {
    const name = src.secretName ?? src.apiKeyEnv;
    if (!name) throw new Error(`secretsFile ${src.secretsFile} given without secretName or apiKeyEnv`);
    let text: string;
    try {
      text = readFileSync(src.secretsFile, "utf8");
    } catch (err) {
      throw new Error(`cannot read secrets file ${src.secretsFile}: ${(err as Error).message}`);
    }
    const map = parseSecretsFile(text, src.secretsFile);
    const v = map[name];
    if (v && v.trim() !== "") {
      registerSecret(v.trim());
      return v.trim();
    }
    throw new Error(`${src.secretsFile}: no non-empty entry "${name}"`);
  }
  throw new Error(`environment variable ${src.apiKeyEnv} is not set (it should hold the API key)`);
}

/**
 * Query parameters an endpoint URL may show in ids and printed URLs: settings that name no one. Every other parameter
 * is treated as a credential (kept out of the URL, sent with each request, its value registered for redaction):
 * gateways name their keys in too many ways to list (`subscription-key`, `code`, `client_secret`, `x-goog-api-key`,
 * `sig`, ...), and a name missed by a deny-list ends up in every record, cache key and report.
 */
const VISIBLE_QUERY = /^api[-_]?version$/i;

export interface EndpointUrl {
  /** The URL with credentials removed: what ids, records, logs and terminals get. */
  url: string;
  /** `url` without its query: what a client is pointed at (it sends `params` as its default query). */
  base: string;
  /** A key written in the URL's user-info (`https://user:KEY@host`, or `https://KEY@host`), if any. */
  key?: string;
  /** Credential query parameters, to be sent with every request (never part of `url`). */
  query: Record<string, string>;
  /** Every query parameter of the input, credentials and visible ones, as a client sends them with each request. */
  params: Record<string, string>;
}

/**
 * Takes secrets out of an endpoint URL (issue 23: a key written inside a target URL was printed and stored in every
 * record's model id). User-info and every query parameter but the VISIBLE_QUERY ones are removed from the URL and
 * registered with redactSecrets, so error messages that quote the original URL are scrubbed too. A URL with none of
 * them is returned byte for byte (ids hash into cache keys and attack seeds). Not a URL: returned unchanged.
 */
export function splitEndpointUrl(raw: string): EndpointUrl {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { url: raw, base: raw, query: {}, params: {} };
  }
  const out: EndpointUrl = { url: raw, base: raw, query: {}, params: Object.fromEntries(u.searchParams) };
  if (u.username || u.password) {
    const key = decodeURIComponent(u.password || u.username);
    out.key = key;
    registerSecret(key);
    u.username = "";
    u.password = "";
  }
  for (const [name, value] of [...u.searchParams]) {
    if (VISIBLE_QUERY.test(name)) continue;
    out.query[name] = value;
    registerSecret(value);
    u.searchParams.delete(name);
  }
  // URL writes a bare origin with a "/" and may leave a lone "?": keep the input's own shape
  const shape = (x: URL) => {
    let s = x.toString().replace(/\?$/, "");
    if (!raw.split(/[?#]/)[0].endsWith("/") && !x.search && s.endsWith("/")) s = s.slice(0, -1);
    return s;
  };
  if (out.key !== undefined || Object.keys(out.query).length > 0) out.url = shape(u);
  if (u.search) {
    u.search = "";
    out.base = shape(u);
  } else out.base = out.url;
  return out;
}

/**
 * Credentials masked in text that is not a valid URL, by its shape alone (an error quoting a mistyped baseUrl such as
 * `http://ann:KEY@exa mple.com` or `ftp//KEY@host`, which URL cannot parse): whatever stands between `//` and `@`,
 * and the value of every query parameter but the VISIBLE_QUERY ones, as splitEndpointUrl would have removed them.
 */
export function maskCredentials(text: string): string {
  return text
    .replace(/\/\/[^\s/?#]*@/g, "//[REDACTED]@") // up to the last "@" before the path: a password may hold one
    .replace(/(:\/)(?!\/)[^\s/?#]*@/g, "$1[REDACTED]@") // one slash short: https:/user:KEY@host
    .replace(/(^|[\s"'=(])[^\s/?#"':@]+:[^\s/?#"']*@/g, "$1[REDACTED]@") // no scheme: user:KEY@host
    .replace(/([?&])([^=&#\s]+)=[^&#\s]*/g, (m, sep: string, name: string) =>
      VISIBLE_QUERY.test(name) ? m : `${sep}${name}=[REDACTED]`,
    );
}

/** A URL safe to print or store: credentials removed (see splitEndpointUrl); other text unchanged. */
export function redactUrl(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"<>`]+/gi, (m) =>
    URL.canParse(m) ? splitEndpointUrl(m).url : maskCredentials(m),
  );
}

/** Keys whose string values name a model or an endpoint in stored records and rows (ids, URLs). */
const MODEL_ID_KEYS = new Set([
  "target",
  "model",
  "modelId",
  "judge",
  "judgeId",
  "attacker",
  "responder",
  "via",
  "base",
]);

/**
 * A stored record or row with every model or endpoint id in it (a string under one of MODEL_ID_KEYS, at any depth)
 * passed through redactUrl, for exports: records written before keys were taken out of target URLs hold them in
 * their ids. Every other string (prompts, model output) is left exactly as stored; redactUrl over the whole text
 * would also cut the query strings of URLs a model wrote.
 */
export function redactModelIds<T>(value: T): T {
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === "string") return key !== undefined && MODEL_ID_KEYS.has(key) ? redactUrl(v) : v;
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v !== null && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(value) as T;
}
