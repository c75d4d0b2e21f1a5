/**
 * Where a Hugging Face folder keeps its chat template: the file `chat_template.jinja` (as recent transformers versions
 * save it), else `tokenizer_config.json`'s `chat_template` (a string, or a list of named templates, the one named
 * "default" else the first). The file wins when both exist, as in transformers ("If independent chat template file(s)
 * exist, they take priority over template entries in the tokenizer config"), so a folder whose two copies differ
 * renders here as in TRL and vLLM. One reader for training, the builtin provider, the red team and the GGUF
 * export, so they all render the same template.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** The template a tokenizer_config.json holds, if any. */
export function chatTemplateOf(tokCfg: Record<string, unknown>): string | undefined {
  let tpl = tokCfg.chat_template;
  if (Array.isArray(tpl)) tpl = (tpl.find((t) => t?.name === "default") ?? tpl[0])?.template as unknown;
  return typeof tpl === "string" ? tpl : undefined;
}

/**
 * A folder's tokenizer_config.json (empty when absent) and its chat template (undefined when there is none: callers
 * say why they need one, with `noChatTemplate`).
 */
export function readHfChatTemplate(dir: string): {
  tokCfgFile: string;
  tokCfg: Record<string, unknown>;
  template: string | undefined;
} {
  const tokCfgFile = path.join(dir, "tokenizer_config.json");
  let tokCfg: Record<string, unknown> = {};
  if (existsSync(tokCfgFile)) {
    try {
      tokCfg = JSON.parse(readFileSync(tokCfgFile, "utf8"));
    } catch (e) {
      throw new Error(`${tokCfgFile}: not valid JSON (${(e as Error).message})`);
    }
  }
  const templateFile = path.join(dir, "chat_template.jinja");
  const template = existsSync(templateFile) ? readFileSync(templateFile, "utf8") : chatTemplateOf(tokCfg);
  return { tokCfgFile, tokCfg, template };
}

/** The message when a folder has no chat template: names the folder and both places looked in. */
export function noChatTemplate(dir: string, why?: string): string {
  return `${dir}: no chat template (neither tokenizer_config.json's chat_template nor chat_template.jinja)${why ? ` (${why})` : ""}`;
}
