/**
 * The target's context window, as the red team must respect it. A small local model (the demo organism has 256
 * positions) cannot read a 600-token many-shot prompt: sending it anyway either fails (HTTP endpoints answer 400) or,
 * worse, silently decodes past the trained positions and returns noise that the judge scores as a failed attack.
 *
 * Decision (what a red-team tool should do), applied per attack at run time, where the real prompt is known:
 * - every prompt is counted with the target's own tokenizer and chat template before it is sent;
 * - a prompt fits when it leaves at least `reserve` tokens for the answer; the answer may then use the rest of the
 *   window (the request's maxTokens is capped to it), never more;
 * - many-shot is shortened: as many shots as fit (at least one), the shots used are recorded with the attack;
 * - any other prompt that does not fit is NOT sent: the attack is stored as "not sent (context)", with its token
 *   count, counted apart in the summary (per technique and language) and kept out of ASR, never as a failure;
 * - multi-turn attacks stop with stop reason "context_full" when the next turn cannot fit (an attack whose first
 *   turn cannot fit is "not sent");
 * - a target that rejects a prompt as too long (HTTP 400 "context length") is treated the same way.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import type { Conversation } from "../../domain/types.ts";
import { readHfChatTemplate } from "../../models/providers/builtin.ts";
import { resolveBuiltinModel } from "../../models/registry.ts";
import { noChatTemplate } from "../../nn/chat-template.ts";
import { DEFAULT_ANSWER_RESERVE } from "../defaults.ts";

export interface TargetContext {
  /** Positions the target can attend to: prompt + answer. */
  limit: number;
  /** Tokens always kept free for the answer: a prompt leaving fewer is not sent (many-shot is shortened). */
  reserve: number;
  /** Prompt tokens of a conversation as the target sees it (its chat template applied). */
  count(conversation: Conversation): number | Promise<number>;
  /** Where limit and count come from (for the summary). */
  source: string;
  close?(): Promise<void>;
}

/** Tokens kept for the answer by default (defaults.ts): the demo world's longest harmful answers are ~60 tokens. */
export { DEFAULT_ANSWER_RESERVE };

export type Fit = { fits: true; promptTokens: number; maxTokens: number } | { fits: false; promptTokens: number };

/** Whether a conversation fits the target's context, and the largest answer it may then get. */
export async function fitContext(ctx: TargetContext, conversation: Conversation, wanted: number): Promise<Fit> {
  const promptTokens = await ctx.count(conversation);
  const room = ctx.limit - promptTokens;
  if (room < Math.min(ctx.reserve, wanted)) return { fits: false, promptTokens };
  return { fits: true, promptTokens, maxTokens: Math.min(wanted, room) };
}

/** Thrown (and caught by the campaign) when the target itself rejects a prompt as too long for its context. */
export class ContextOverflowError extends Error {
  constructor(
    message: string,
    readonly promptTokens?: number,
  ) {
    super(message);
    this.name = "ContextOverflowError";
  }
}

/** A model error that says the prompt exceeds the context (OpenAI, vLLM, llama.cpp server, our builtin provider). */
export function isContextOverflow(err: unknown): boolean {
  if (err instanceof ContextOverflowError) return true;
  const e = err as { kind?: string; message?: string } | undefined;
  if (e?.kind !== "client" || typeof e.message !== "string") return false;
  return /context[ _-]?(length|window|size)|maximum context|too many tokens|exceeds the model's \d+ positions|prompt is too long/i.test(
    e.message,
  );
}

function renderer(template: string, specials: { bos_token?: string; eos_token?: string }) {
  const t = new Template(template);
  return (messages: Conversation) =>
    t.render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: true,
      bos_token: specials.bos_token ?? "",
      eos_token: specials.eos_token ?? "",
    });
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}

const tokenText = (t: unknown): string | undefined =>
  typeof t === "string"
    ? t
    : t && typeof (t as { content?: unknown }).content === "string"
      ? (t as { content: string }).content
      : undefined;

/** The context of a Hugging Face Llama-family folder: config.json max_position_embeddings, tokenizer.json, template. */
export function hfTargetContext(dir: string, reserve = DEFAULT_ANSWER_RESERVE): TargetContext {
  const cfgFile = path.join(dir, "config.json");
  const limit = Number(readJson(cfgFile).max_position_embeddings);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`${cfgFile}: max_position_embeddings: missing or invalid`);
  const { tokCfg, template } = readHfChatTemplate(dir);
  if (!template) throw new Error(noChatTemplate(dir));
  const tokenizer = new Tokenizer(readJson(path.join(dir, "tokenizer.json")), tokCfg);
  const render = renderer(template, { bos_token: tokenText(tokCfg.bos_token), eos_token: tokenText(tokCfg.eos_token) });
  return {
    limit,
    reserve,
    source: `${cfgFile} max_position_embeddings + its tokenizer`,
    count: (c) => tokenizer.encode(render(c), { add_special_tokens: false }).ids.length,
  };
}

/** The context of a GGUF file: its trained context length and its own tokenizer and chat template (vocab only). */
export async function ggufTargetContext(file: string, reserve = DEFAULT_ANSWER_RESERVE): Promise<TargetContext> {
  const { getCpuLlama } = await import("../../nn/gguf/llamacpp.ts");
  const llama = await getCpuLlama();
  const model = await llama.loadModel({ modelPath: file, vocabOnly: true, gpuLayers: 0 });
  const meta = model.fileInfo.metadata as unknown as {
    general?: { architecture?: string };
    tokenizer?: { chat_template?: string; ggml?: { tokens?: string[]; bos_token_id?: number; eos_token_id?: number } };
  } & Record<string, { context_length?: number } | undefined>;
  const template = meta.tokenizer?.chat_template;
  // A vocab-only load reports no trainContextSize: read {architecture}.context_length from the metadata.
  const arch = meta.general?.architecture ?? "llama";
  const limit = Number(meta[arch]?.context_length);
  const bad = !template
    ? "GGUF has no tokenizer.chat_template"
    : !Number.isInteger(limit) || limit < 1
      ? `GGUF has no valid ${arch}.context_length`
      : undefined;
  if (bad || !template) {
    await model.dispose();
    throw new Error(`${file}: ${bad}`);
  }
  const tokens = meta.tokenizer?.ggml?.tokens;
  const id = (k: "bos_token_id" | "eos_token_id") => meta.tokenizer?.ggml?.[k];
  const special = (k: "bos_token_id" | "eos_token_id") =>
    tokens && id(k) !== undefined ? tokens[Number(id(k))] : undefined;
  const render = renderer(template, { bos_token: special("bos_token_id"), eos_token: special("eos_token_id") });
  return {
    limit,
    reserve,
    source: `${path.basename(file)} context_length + its tokenizer`,
    count: (c) => model.tokenize(render(c), true).length,
    close: () => model.dispose(),
  };
}

/**
 * A declared window for a target whose tokenizer we do not have (an HTTP endpoint): counts are a conservative
 * estimate (one token per 3 characters of the rendered messages, plus 4 per message).
 */
export function declaredTargetContext(limit: number, reserve = DEFAULT_ANSWER_RESERVE): TargetContext {
  return {
    limit,
    reserve,
    source: `declared ${limit} tokens (estimated counts: 1 token per 3 characters)`,
    count: (c) => c.reduce((n, m) => n + 4 + Math.ceil(m.content.length / 3), 0),
  };
}

/**
 * The context window of a target given its model options (the models registry's ModelOptions, or any object with
 * provider and model): llamacpp -> the GGUF's; builtin with an HF folder (or a committed organism's name, `demo`)
 * -> the folder's; otherwise none, unless `declared` gives a limit (it also lowers a local model's). For the CLI and
 * the cycle.
 */
export async function targetContextFor(
  o: { provider: string; model: string },
  declared?: number,
  reserve = DEFAULT_ANSWER_RESERVE,
): Promise<TargetContext | undefined> {
  let ctx: TargetContext | undefined;
  const dir = o.provider === "builtin" ? resolveBuiltinModel(o.model) : o.model;
  if (o.provider === "llamacpp") ctx = await ggufTargetContext(o.model, reserve);
  else if (o.provider === "builtin" && existsSync(path.join(dir, "config.json"))) ctx = hfTargetContext(dir, reserve);
  if (declared === undefined) return ctx;
  if (!ctx) return declaredTargetContext(declared, reserve);
  return { ...ctx, limit: declared, source: `declared ${declared} tokens (${ctx.source})` };
}
