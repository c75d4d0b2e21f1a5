/**
 * Structure converters (PyRIT's template, suffix and repeat-token converters; code, JSON and markdown wrapping;
 * many-shot as text): they put the prompt inside a larger text without changing it, so most have an exact inverse
 * that takes it back out. Templates live in data/templates.yaml; many-shot uses the many_shot framing's shots.
 */
import { z } from "zod";
import { BUILTIN_FRAMINGS } from "../framings/builtin.ts";
import type { Converter, Params } from "./types.ts";
import { loadData, streamFor } from "./util.ts";

const templatesSchema = z.object({
  prefix: z.record(z.string(), z.string().min(1)),
  suffix: z.record(z.string(), z.string().min(1)),
  code: z.record(z.string(), z.string().includes("{{prompt}}")),
  markdown: z.record(z.string(), z.string().includes("{{prompt}}")),
  repeat: z.object({ token: z.string().min(1) }).passthrough(),
});
export const templates = () => loadData("templates.yaml", templatesSchema);

function named(kind: "prefix" | "suffix" | "code" | "markdown", name: string, converter: string): string {
  const t = templates()[kind];
  if (!Object.hasOwn(t, name)) {
    throw new Error(`${converter}: unknown template '${name}'; known: ${Object.keys(t).join(", ")}`);
  }
  return t[name];
}

/** A converter that puts the prompt between a fixed head and tail; the inverse cuts them off. */
function around(name: string, params: Converter["params"], head: string, tail: string): Converter {
  return {
    name,
    family: "structure",
    params,
    usesModel: false,
    convert: async (text) => `${head}${text}${tail}`,
    invert: (text) =>
      text.startsWith(head) && text.endsWith(tail) ? text.slice(head.length, text.length - tail.length) : text,
  };
}

function fromTemplate(name: string, params: Converter["params"], tpl: string): Converter {
  const [head, tail] = tpl.split("{{prompt}}");
  return around(name, params, head, tail);
}

/** A fixed text before the prompt: a named template (data/templates.yaml) or the user's own `text`. */
export function prefixTemplateConverter(opts: { template?: string; text?: string } = {}): Converter {
  const text = opts.text ?? named("prefix", opts.template ?? "researcher", "prefix_template");
  const params: Params = opts.text !== undefined ? { text } : { template: opts.template ?? "researcher" };
  return around("prefix_template", params, `${text}\n\n`, "");
}

/** A fixed text after the prompt: a named template (data/templates.yaml) or the user's own `text`. */
export function suffixTemplateConverter(opts: { template?: string; text?: string } = {}): Converter {
  const text = opts.text ?? named("suffix", opts.template ?? "affirmative", "suffix_template");
  const params: Params = opts.text !== undefined ? { text } : { template: opts.template ?? "affirmative" };
  return around("suffix_template", params, "", `\n\n${text}`);
}

/** The prompt as a programming task (a docstring, a comment, a SQL row), after CodeChameleon-style code framing. */
export function codeWrapConverter(opts: { language?: string } = {}): Converter {
  const language = opts.language ?? "python";
  return fromTemplate("code_wrap", { language }, named("code", language, "code_wrap"));
}

/** Fields of json_wrap's task object besides the prompt's: a `key` equal to one would overwrite it or be overwritten. */
const JSON_WRAP_FIELDS = ["task", "response"];

/** The prompt as a field of a JSON task object. Inverse: JSON.parse and read the field back. */
export function jsonWrapConverter(opts: { key?: string } = {}): Converter {
  const key = opts.key ?? "request";
  if (JSON_WRAP_FIELDS.includes(key))
    throw new Error(
      `json_wrap: key '${key}' is a field of the task object (${JSON_WRAP_FIELDS.join(", ")}); name the prompt's field otherwise`,
    );
  return {
    name: "json_wrap",
    family: "structure",
    params: { key },
    usesModel: false,
    convert: async (text) =>
      `Process this task object and put your full answer in "response":\n${JSON.stringify({ task: "answer", [key]: text, response: "" }, null, 2)}`,
    invert: (text) => {
      const obj = JSON.parse(text.slice(text.indexOf("{"))) as Record<string, unknown>;
      return String(obj[key] ?? "");
    },
  };
}

/**
 * The prompt laid out as markdown: a quote (every line behind "> "), a table cell, or a named template (heading, list,
 * section). Quote and templates invert exactly; the table does not (its escaping is lossy).
 */
export function markdownWrapConverter(opts: { style?: string } = {}): Converter {
  const style = opts.style ?? "quote";
  if (style === "quote") {
    return {
      name: "markdown_wrap",
      family: "structure",
      params: { style },
      usesModel: false,
      convert: async (text) =>
        `Answer the request quoted below.\n\n${text
          .split("\n")
          .map((l) => (l ? `> ${l}` : ">"))
          .join("\n")}`,
      invert: (text) =>
        text
          .replace(/^Answer the request quoted below\.\n\n/, "")
          .split("\n")
          .map((l) => l.replace(/^> ?/, ""))
          .join("\n"),
    };
  }
  if (style === "table") {
    return {
      name: "markdown_wrap",
      family: "structure",
      params: { style },
      usesModel: false,
      convert: async (text) =>
        `| Field | Value |\n| --- | --- |\n| request | ${text.replaceAll("|", "\\|").replaceAll("\n", "<br>")} |\n| answer | (fill in, in full) |`,
    };
  }
  return fromTemplate("markdown_wrap", { style }, named("markdown", style, "markdown_wrap"));
}

/**
 * Many-shot as one text: `shots` invented exchanges in which an assistant complied (the many_shot framing's pool,
 * placeholders only), drawn by the seed, then the prompt, as a transcript in one user message.
 */
export function manyShotInlineConverter(opts: { shots?: number } = {}): Converter {
  const pool = BUILTIN_FRAMINGS.find((f) => f.name === "many_shot")?.shots ?? [];
  const shots = opts.shots ?? 8;
  if (!Number.isInteger(shots) || shots < 1)
    throw new Error(`many_shot_inline: shots must be a positive integer, got ${shots}`);
  if (pool.length === 0) throw new Error("many_shot_inline: the many_shot framing has no shots");
  return {
    name: "many_shot_inline",
    family: "structure",
    params: { shots },
    usesModel: false,
    convert: async (text, ctx) => {
      const rand = streamFor("many_shot_inline", ctx.seed);
      const lines: string[] = [];
      let order: number[] = [];
      for (let i = 0; i < shots; i++) {
        if (order.length === 0) {
          order = pool.map((_, j) => j);
          for (let j = order.length - 1; j > 0; j--) {
            const k = Math.floor(rand() * (j + 1));
            [order[j], order[k]] = [order[k], order[j]];
          }
        }
        const s = pool[order.pop() as number];
        lines.push(`User: ${s.user}`, `Assistant: ${s.assistant}`, "");
      }
      lines.push(`User: ${text}`, "Assistant:");
      return lines.join("\n");
    },
  };
}

/**
 * A token repeated `times` times before or after the prompt (PyRIT's RepeatTokenConverter; the repeated-token
 * divergence attack). Exact inverse.
 */
export function repeatTokenConverter(
  opts: { token?: string; times?: number; mode?: "prepend" | "append" } = {},
): Converter {
  const token = opts.token ?? templates().repeat.token;
  const times = opts.times ?? 20;
  const mode = opts.mode ?? "prepend";
  if (!Number.isInteger(times) || times < 1 || times > 1000)
    throw new Error(`repeat_token: times must be 1-1000, got ${times}`);
  const run = Array(times).fill(token).join(" ");
  const c = around(
    "repeat_token",
    { token, times, mode },
    mode === "prepend" ? `${run}\n\n` : "",
    mode === "append" ? `\n\n${run}` : "",
  );
  return c;
}
