/**
 * Tokenizers and chat templates of Hugging Face model directories: `tokenizer.json` through @huggingface/tokenizers
 * (offline: the files are read from disk), chat templates from `tokenizer_config.json` through @huggingface/jinja.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import { type ControlTokenizer, encodeChat, encodeRendered, fixedPlaceholders } from "./chat-encode.ts";
import { chatTemplateOf, noChatTemplate, readHfChatTemplate } from "./chat-template.ts";

export interface ChatMessage {
  role: string;
  content: string;
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** A special token in tokenizer_config.json is a string or an AddedToken object {content: ...}. */
function tokenString(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string")
    return (v as { content: string }).content;
  return null;
}

/**
 * The control-token view of a tokenizer.json (see chat-encode.ts): its special added tokens are the control tokens;
 * text is encoded by a second tokenizer built from the same file without them (non-special added tokens are kept:
 * HF matches those in any text), so a marker's spelling in text becomes ordinary tokens.
 */
export function hfControlTokenizer(
  tokenizerJson: Record<string, unknown>,
  config: Record<string, unknown>,
  tok: Tokenizer = new Tokenizer(tokenizerJson, config),
): ControlTokenizer {
  const added = Array.isArray(tokenizerJson.added_tokens)
    ? (tokenizerJson.added_tokens as { content?: unknown; special?: unknown }[])
    : [];
  const controlTokens = added
    .filter((t) => t.special === true && typeof t.content === "string" && t.content.length > 0)
    .map((t) => t.content as string);
  const plain =
    controlTokens.length === 0
      ? tok
      : new Tokenizer({ ...tokenizerJson, added_tokens: added.filter((t) => t.special !== true) }, config);
  return {
    controlTokens,
    controlId(token: string): number {
      const id = tok.token_to_id(token);
      if (id === undefined) throw new Error(`control token ${JSON.stringify(token)} has no id`);
      return id;
    },
    encodeText: (text: string) => plain.encode(text, { add_special_tokens: false }).ids.map(Number),
  };
}

export class HfTokenizer {
  private readonly tok: Tokenizer;
  /** Encodes chat text with control tokens from the template only (see chat-encode.ts). */
  readonly control: ControlTokenizer;
  private readonly template: Template | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly vocabSize: number;
  /** Where the tokenizer came from (its folder, for messages). */
  private readonly source: string;

  constructor(
    tokenizerJson: Record<string, unknown>,
    readonly config: Record<string, unknown>,
    source = "tokenizer",
  ) {
    try {
      this.tok = new Tokenizer(tokenizerJson, config);
      this.control = hfControlTokenizer(tokenizerJson, config, this.tok);
    } catch (e) {
      throw new Error(`${source}: cannot build the tokenizer (${(e as Error).message})`);
    }
    this.bosToken = tokenString(config.bos_token);
    this.eosToken = tokenString(config.eos_token);
    this.padToken = tokenString(config.pad_token);
    this.vocabSize = this.tok.get_vocab(true).size;
    this.source = source;
    const tpl = chatTemplateOf(config);
    try {
      this.template = tpl !== undefined ? new Template(tpl) : null;
    } catch (e) {
      throw new Error(`${source}: chat_template does not parse (${(e as Error).message})`);
    }
  }

  /**
   * Load tokenizer.json + tokenizer_config.json from a model directory, with its chat template wherever the folder
   * keeps it (chat_template.jinja, else tokenizer_config.json: nn/chat-template.ts).
   */
  static fromDir(dir: string): HfTokenizer {
    const { tokCfg, template } = readHfChatTemplate(dir);
    const config =
      template !== undefined && chatTemplateOf(tokCfg) !== template ? { ...tokCfg, chat_template: template } : tokCfg;
    return new HfTokenizer(readJson(join(dir, "tokenizer.json")), config, dir);
  }

  /**
   * Token ids; special tokens written in the text are recognised; `addSpecialTokens` applies the post-processor.
   * For text that holds messages (a rendered chat), use encodeChat, which keeps markers in messages as text.
   */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }).ids;
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return "";
    return this.tok.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  tokenId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  get eosTokenId(): number | undefined {
    return this.eosToken === null ? undefined : this.tok.token_to_id(this.eosToken);
  }

  get hasChatTemplate(): boolean {
    return this.template !== null;
  }

  /**
   * Render the chat template with the variables and helpers HF apply_chat_template provides (messages,
   * add_generation_prompt, special tokens; raise_exception and strftime_now are built into @huggingface/jinja).
   */
  applyChatTemplate(
    messages: readonly ChatMessage[],
    opts: { addGenerationPrompt?: boolean; extra?: Record<string, unknown> } = {},
  ): string {
    if (!this.template) throw new Error(noChatTemplate(this.source));
    return this.template.render({
      ...(opts.extra ?? {}),
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      bos_token: this.bosToken ?? "",
      eos_token: this.eosToken ?? "",
      pad_token: this.padToken ?? "",
    });
  }

  /**
   * Renders messages with the chat template and encodes them so that only the template inserts control tokens: a
   * message that spells `<|end|>` gets the tokens of that text, not the control token (issue 23).
   */
  encodeChat(
    messages: readonly ChatMessage[],
    opts: { addGenerationPrompt?: boolean; extra?: Record<string, unknown> } = {},
  ): number[] {
    return encodeChat((ms) => this.applyChatTemplate(ms, opts), messages, this.control);
  }

  private fixed?: ReturnType<typeof fixedPlaceholders>;
  private get placeholders(): ReturnType<typeof fixedPlaceholders> {
    this.fixed ??= fixedPlaceholders(this.control.controlTokens);
    return this.fixed;
  }

  /**
   * For render-then-encode in separate steps (the trainer): a message's text with every control-token spelling
   * swapped for a fixed placeholder; render the escaped messages, then encode pieces of the render with
   * encodeTemplated, which puts the spellings back as text. Throws on text holding a placeholder character.
   */
  escapeText(text: string): string {
    return this.placeholders.escape(text);
  }

  /** Encodes (a piece of) a render of escaped messages: the template's control tokens by id, the rest as text. */
  encodeTemplated(text: string): number[] {
    return encodeRendered(text, this.control, this.placeholders.restore);
  }
}
