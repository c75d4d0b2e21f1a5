/**
 * Reading breakfix.yaml: YAML -> zod validation -> a typed Config with defaults filled in and paths resolved.
 * Errors name the file, the key path and what was expected, one line per problem, e.g.
 *   breakfix.yaml: target.provider: expected one of openai-compatible, llamacpp, builtin, anthropic
 * and YAML syntax errors name the line and column.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { LineCounter, parseDocument, stringify } from "yaml";
import type { z } from "zod";
import { packagePath } from "../domain/package.ts";
import { maskCredentials } from "../models/secrets.ts";
import { presetFile } from "./presets.ts";
import { type Config, configSchema, DEMO_ATTACKER_MODEL } from "./schema.ts";

export { presetFile, presetNames } from "./presets.ts";

export const CONFIG_FILENAMES = ["breakfix.yaml", "breakfix.yml"] as const;

/** A config file that could not be read or is invalid. `problems` holds one line per problem. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read, or null when the demo defaults were used. */
  file: string | null;
}

/** What an empty breakfix.yaml means: every key at its schema default. Paths are relative to `baseDir`. */
export function defaultConfig(baseDir = process.cwd()): Config {
  return resolvePaths(configSchema.parse({}), baseDir);
}

/** The preset that no config file at all means: the demo cycle on the bundled model organism. */
export const NO_FILE_PRESET = "demo";

/** Deep merge for `extends`: mappings merge key by key, anything else (lists included) is replaced. */
export function mergeSettings(base: unknown, over: unknown): unknown {
  const isMap = (x: unknown): x is Record<string, unknown> => !!x && typeof x === "object" && !Array.isArray(x);
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeSettings(base[k], v);
  return out;
}

const looksLikeFile = (s: string) => /[\\/]|\.(jsonl|csv|json|ya?ml)$/i.test(s);

/** A config key's path, e.g. ["benchmarks", "suites", 0, "file"]. */
type KeyPath = readonly (string | number)[];

/**
 * Relative paths resolve against the folder of the file that wrote them: `dirOf` names that folder for a key (a file
 * `extends:` another in another folder, whose own paths are relative to itself), or undefined for `baseDir`.
 */
function resolvePaths(
  config: Config,
  baseDir: string,
  dirOf: (key: KeyPath) => string | undefined = () => undefined,
): Config {
  const abs = (key: KeyPath, p: string) => path.resolve(dirOf(key) ?? baseDir, p);
  const fileOrName = (key: KeyPath, p: string) => (looksLikeFile(p) ? abs(key, p) : p);
  const retention = config.curation.retention;
  const model = <M extends Parameters<typeof withSecrets>[0]>(section: string, m: M): M =>
    withSecrets(m, (k, p) => abs([section, k], p));
  return {
    ...config,
    workspace: abs(["workspace"], config.workspace),
    dataCache: abs(["dataCache"], config.dataCache),
    benchmarks: {
      ...config.benchmarks,
      suites: config.benchmarks.suites.map((s, i) => ({
        ...s,
        ...(s.path ? { path: abs(["benchmarks", "suites", i, "path"], s.path) } : {}),
        ...(s.file ? { file: abs(["benchmarks", "suites", i, "file"], s.file) } : {}),
      })),
    },
    redteam: { ...config.redteam, seeds: fileOrName(["redteam", "seeds"], config.redteam.seeds) },
    curation: {
      ...config.curation,
      counterData: fileOrName(["curation", "counterData"], config.curation.counterData),
      safetySet: fileOrName(["curation", "safetySet"], config.curation.safetySet),
      retention:
        typeof retention === "string"
          ? fileOrName(["curation", "retention"], retention)
          : { ...retention, file: abs(["curation", "retention", "file"], retention.file) },
    },
    training: {
      ...config.training,
      ...(config.training.model && config.training.model !== "demo" && !config.training.model.startsWith("hf:")
        ? { model: abs(["training", "model"], config.training.model) }
        : {}),
    },
    target: model("target", config.target),
    attacker: config.attacker && model("attacker", config.attacker),
    judge: config.judge && model("judge", config.judge),
    responder: config.responder && model("responder", config.responder),
  };
}

function withSecrets<
  T extends { secretsFile?: string | undefined; adapter?: string | undefined; provider: string; model: string },
>(m: T, abs: (key: "secretsFile" | "adapter" | "model", p: string) => string): T {
  let out = m;
  if (m.secretsFile) out = { ...out, secretsFile: abs("secretsFile", m.secretsFile) };
  if (m.adapter) out = { ...out, adapter: abs("adapter", m.adapter) };
  if (m.provider === "llamacpp" && m.model !== DEMO_ATTACKER_MODEL) out = { ...out, model: abs("model", m.model) };
  if (m.provider === "builtin" && m.model !== "demo" && !m.model.startsWith("hf:") && looksLikeFile(m.model))
    out = { ...out, model: abs("model", m.model) };
  return out;
}

function valueAt(data: unknown, keyPath: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const k of keyPath) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k as string];
  }
  return cur;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") {
    // a value that is quoted back may be a mistyped URL holding a key: masked before it is cut (a cut key leaks part)
    const s = maskCredentials(v);
    return `"${s.length > 40 ? `${s.slice(0, 40)}...` : s}"`;
  }
  return `${typeof v} ${String(v)}`;
}

function joinPath(p: readonly PropertyKey[]): string {
  return p.length ? p.map(String).join(".") : "(root)";
}

/** Turns one zod issue into "key.path: expected ..." (without the file prefix). */
export function formatIssue(issue: z.core.$ZodIssue, data: unknown): string[] {
  const where = joinPath(issue.path);
  const got = valueAt(data, issue.path);
  switch (issue.code) {
    case "invalid_value":
      if (issue.values.length > 1 || typeof issue.values[0] === "string") {
        return [`${where}: expected one of ${issue.values.map(String).join(", ")}, got ${describe(got)}`];
      }
      return [`${where}: expected ${String(issue.values[0])}, got ${describe(got)}`];
    case "invalid_type":
      return [`${where}: expected ${issue.expected}, got ${describe(got)}`];
    case "unrecognized_keys":
      return issue.keys.map((k) => {
        const key = joinPath([...issue.path, k]);
        if (/^api_?key$/i.test(k)) {
          return `${key}: unknown key; never put a secret in this file: set apiKeyEnv to the name of an environment variable (or use secretsFile)`;
        }
        return `${key}: unknown key`;
      });
    case "too_small":
      return [
        `${where}: expected ${issue.origin === "array" ? "at least" : issue.inclusive ? ">=" : ">"} ${String(issue.minimum)}` +
          (issue.origin === "array" ? " item(s)" : issue.origin === "string" ? " character(s)" : "") +
          `, got ${describe(got)}`,
      ];
    case "too_big":
      return [
        `${where}: expected ${issue.origin === "array" ? "at most" : issue.inclusive ? "<=" : "<"} ${String(issue.maximum)}${issue.origin === "array" ? " item(s)" : ""}, got ${describe(got)}`,
      ];
    case "invalid_union": {
      // "Invalid input" names no key: report the branch the value's type matches (a mapping's: its bad keys), else
      // the types the key takes.
      const typeMismatch = (b: z.core.$ZodIssue[]) => b.find((i) => i.code === "invalid_type" && i.path.length === 0);
      const matching = issue.errors.find((b) => b.length > 0 && !typeMismatch(b));
      if (matching)
        return matching.flatMap((i) =>
          formatIssue({ ...i, path: [...issue.path, ...i.path] } as z.core.$ZodIssue, data),
        );
      const types = issue.errors.map((b) => typeMismatch(b));
      if (types.length > 0 && types.every((t) => t?.code === "invalid_type"))
        return [
          `${where}: expected ${[...new Set(types.map((t) => (t?.code === "invalid_type" ? t.expected : "")))].join(" or ")}, got ${describe(got)}`,
        ];
      return [`${where}: ${issue.message.replace(/^Invalid input: /, "")}, got ${describe(got)}`];
    }
    case "custom":
      return [`${where}: ${issue.message}`];
    default:
      return [`${where}: ${issue.message.replace(/^Invalid input: /, "")}, got ${describe(got)}`];
  }
}

/**
 * Parses and validates config text. `file` names the source in messages; `baseDir` anchors relative paths.
 * Throws ConfigError with every problem found.
 */
export function parseConfig(text: string, file: string, baseDir: string): Config {
  const layers: Layer[] = [];
  const data = withPresets(readMapping(text, file), file, undefined, baseDir, [file], layers);
  const result = configSchema.safeParse(data);
  // A key's value comes from the last layer that sets it (lists are replaced whole, so a list item's too).
  const layerOf = (key: readonly PropertyKey[]) => layers.findLast((l) => valueAt(l.data, key) !== undefined);
  if (!result.success) {
    // Each problem names the file that wrote the key (or the deepest mapping above a missing one), not always this one.
    const fileOf = (key: readonly PropertyKey[]) => {
      for (let n = key.length; n > 0; n--) {
        const l = layerOf(key.slice(0, n));
        if (l) return l.file;
      }
      return file;
    };
    const perKey = (i: z.core.$ZodIssue): z.core.$ZodIssue[] =>
      i.code === "unrecognized_keys" ? i.keys.map((k) => ({ ...i, keys: [k] })) : [i];
    throw new ConfigError(
      file,
      result.error.issues.flatMap(perKey).flatMap((i) => {
        const where = fileOf(i.code === "unrecognized_keys" ? [...i.path, i.keys[0]] : i.path);
        return formatIssue(i, data).map((line) => `${where}: ${line}`);
      }),
    );
  }
  return resolvePaths(result.data, baseDir, (key) => layerOf(key)?.dir);
}

/**
 * One file of an `extends` chain, as written, with its name and the folder its relative paths resolve against: its own folder for a
 * YAML file it extends, undefined (the config file's folder) for the file itself and the package's presets.
 */
interface Layer {
  /** The file as messages name it. */
  file: string;
  data: unknown;
  dir: string | undefined;
}

/**
 * Applies `extends` (recursively; a cycle is an error): the preset's settings under the file's own. `layers` receives
 * every file of the chain, the deepest preset first and this file last.
 */
function withPresets(
  data: Record<string, unknown>,
  file: string,
  dir: string | undefined,
  baseDir: string,
  seen: string[],
  layers: Layer[],
): unknown {
  const ext = data.extends;
  const { extends: _drop, ...own } = data;
  void _drop;
  if (ext === undefined) {
    layers.push({ file, data: own, dir });
    return data;
  }
  if (typeof ext !== "string" || !ext)
    throw new ConfigError(file, [`${file}: extends: expected a preset name or a YAML file`]);
  let presetPath: string;
  try {
    presetPath = presetFile(ext, baseDir);
  } catch (e) {
    throw new ConfigError(file, [`${file}: extends: ${(e as Error).message}`]);
  }
  if (seen.includes(presetPath)) throw new ConfigError(file, [`${file}: extends: '${ext}' extends itself`]);
  if (!existsSync(presetPath)) throw new ConfigError(file, [`${file}: extends: no such file ${presetPath}`]);
  const presetData = readMapping(readFileSync(presetPath, "utf8"), presetPath);
  const presetDir = path.dirname(presetPath);
  // A package preset's paths (it has none today) stay relative to the config file; a YAML file's are its own.
  const isPackagePreset = presetDir === path.resolve(packagePath("presets"));
  const base = withPresets(
    presetData,
    presetPath,
    isPackagePreset ? undefined : presetDir,
    presetDir,
    [...seen, presetPath],
    layers,
  );
  layers.push({ file, data: own, dir });
  return mergeSettings(base, own);
}

/** YAML text -> a mapping, or ConfigError naming the line and column. */
function readMapping(text: string, file: string): Record<string, unknown> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        const firstLine = e.message.split("\n")[0];
        return `${file}:${pos.line}:${pos.col}: YAML syntax error: ${firstLine}`;
      }),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError(file, [`${file}: (root): expected a mapping of settings, got ${describe(data)}`]);
  }
  return data as Record<string, unknown>;
}

/** Finds the config file to use: the given path, else $BREAKFIX_CONFIG, else ./breakfix.yaml; null if none. */
export function findConfigFile(file?: string, cwd = process.cwd()): string | null {
  if (file) return path.resolve(cwd, file);
  const env = process.env.BREAKFIX_CONFIG;
  if (env) return path.resolve(cwd, env);
  for (const name of CONFIG_FILENAMES) {
    const p = path.join(cwd, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * Loads the configuration. With a path (or $BREAKFIX_CONFIG) that file must exist; otherwise ./breakfix.yaml is used
 * when present and the demo defaults when not. Relative paths in the file resolve against the file's folder.
 */
export function loadConfigWithSource(file?: string, cwd = process.cwd()): LoadedConfig {
  const found = findConfigFile(file, cwd);
  if (!found)
    return { config: parseConfig(`extends: ${NO_FILE_PRESET}\n`, configSourceName(null, cwd), cwd), file: null };
  const shown = configSourceName(found, cwd);
  let text: string;
  try {
    text = readFileSync(found, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(shown, [
      `${shown}: ${code === "ENOENT" ? "no such file" : `cannot read (${code ?? String(err)})`}`,
    ]);
  }
  return { config: parseConfig(text, shown, path.dirname(found)), file: found };
}

/**
 * How messages name where a config came from (LoadedConfig.file): the file relative to cwd (the one given, or
 * $BREAKFIX_CONFIG's, or ./breakfix.yaml), or "(preset demo)" when no file was found.
 */
export function configSourceName(file: string | null, cwd = process.cwd()): string {
  return file === null ? `(preset ${NO_FILE_PRESET})` : path.relative(cwd, file) || file;
}

/** Loads the configuration (see loadConfigWithSource). */
export function loadConfig(file?: string, cwd = process.cwd()): Config {
  return loadConfigWithSource(file, cwd).config;
}

/** The resolved config as YAML (what `breakfix config check` prints). */
export function configToYaml(config: Config): string {
  return stringify(config, { lineWidth: 0 });
}

/**
 * Files and folders a resolved config names that do not exist, as `key.path: no such file|folder PATH` lines
 * (`breakfix config check` reports them; issue 23). Checked: every model section's adapter, secretsFile and local model
 * (a llamacpp .gguf, a builtin folder given as a path), training.model, each benchmarks suite's path and file, and the
 * red-team seeds, counter-data and retention files when they are paths (not names such as `world`). Not checked:
 * deploy scripts, the workspace and the data cache (created on use), hub ids and remote paths.
 */
export function checkConfigFiles(config: Config): string[] {
  const problems: string[] = [];
  const need = (key: string, p: string | undefined, kind: "file" | "folder" | "either" = "either") => {
    if (p === undefined || !path.isAbsolute(p)) return;
    if (!existsSync(p)) {
      problems.push(`${key}: no such ${kind === "either" ? "file or folder" : kind} ${p}`);
      return;
    }
    const dir = statSync(p).isDirectory();
    if (kind === "file" && dir) problems.push(`${key}: ${p} is a folder, expected a file`);
    if (kind === "folder" && !dir) problems.push(`${key}: ${p} is a file, expected a folder`);
  };
  const models = { target: config.target, attacker: config.attacker, judge: config.judge, responder: config.responder };
  for (const [name, m] of Object.entries(models)) {
    if (!m) continue;
    need(`${name}.secretsFile`, m.secretsFile, "file");
    need(`${name}.adapter`, m.adapter);
    if (m.provider === "llamacpp") need(`${name}.model`, m.model, "file");
    if (m.provider === "builtin" && m.model !== "demo") need(`${name}.model`, m.model, "folder");
  }
  if (config.training.model !== "demo") need("training.model", config.training.model, "folder");
  config.benchmarks.suites.forEach((s, i) => {
    need(`benchmarks.suites.${i}.path`, s.path, "folder");
    need(`benchmarks.suites.${i}.file`, s.file, "file");
  });
  need("redteam.seeds", config.redteam.seeds, "file");
  need("curation.counterData", config.curation.counterData, "file");
  const retention = config.curation.retention;
  need("curation.retention", typeof retention === "string" ? retention : retention.file, "file");
  return problems;
}
