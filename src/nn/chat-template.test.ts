/**
 * One chat-template reader (chat-template.ts) for training, the builtin provider and the GGUF export: a folder that
 * keeps its template in chat_template.jinja (as recent transformers save it) trains, serves and exports exactly as one
 * that keeps it in tokenizer_config.json; a folder with neither is named in the error.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Message } from "../domain/types.ts";
import { readHfChatTemplate } from "../models/providers/builtin.ts";
import { writeTinyHfModel } from "../models/testing/tiny-model.ts";
import { tokenizeConversation } from "../train/render.ts";
import { chatTokenizer } from "../train/run.ts";
import { FIXTURE_CHAT_TEMPLATE } from "./gguf/fixtures.ts";
import { ggufFromFolder } from "./gguf/folder.ts";
import { readGguf } from "./gguf/gguf.ts";
import { HfTokenizer } from "./tokenizer.ts";

const root = mkdtempSync(path.join(tmpdir(), "bf-chat-template-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The tiny model with its tokenizer_config.json rewritten (and chat_template.jinja when given). */
function folder(name: string, edit: (cfg: Record<string, unknown>) => void, jinja?: string): string {
  const dir = writeTinyHfModel(path.join(root, name));
  const file = path.join(dir, "tokenizer_config.json");
  const cfg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(cfg);
  writeFileSync(file, JSON.stringify(cfg));
  if (jinja !== undefined) writeFileSync(path.join(dir, "chat_template.jinja"), jinja);
  return dir;
}

const messages: Message[] = [
  { role: "user", content: "hello there" },
  { role: "assistant", content: "hi" },
  { role: "user", content: "and again" },
  { role: "assistant", content: "once more" },
];

describe("chat templates in chat_template.jinja", () => {
  const inConfig = folder("config", () => {});
  const inJinja = folder(
    "jinja",
    (c) => {
      delete c.chat_template;
    },
    FIXTURE_CHAT_TEMPLATE,
  );

  it("training tokenizes through the template in chat_template.jinja, as through tokenizer_config.json's", () => {
    const a = HfTokenizer.fromDir(inConfig);
    const b = HfTokenizer.fromDir(inJinja);
    expect(b.hasChatTemplate).toBe(true);
    expect(b.applyChatTemplate(messages)).toBe(a.applyChatTemplate(messages));
    expect(tokenizeConversation(chatTokenizer(b), messages, "last_assistant")).toEqual(
      tokenizeConversation(chatTokenizer(a), messages, "last_assistant"),
    );
  });

  it("the GGUF export carries it as tokenizer.chat_template", () => {
    const out = path.join(root, "jinja.gguf");
    ggufFromFolder(inJinja, out, { dtype: "f32" });
    expect(readGguf(out).metadata.get("tokenizer.chat_template")).toBe(FIXTURE_CHAT_TEMPLATE);
  });

  it("a list of named templates gives the default one to every reader", () => {
    const dir = folder("list", (c) => {
      c.chat_template = [
        { name: "tool_use", template: "{{ 'tools' }}" },
        { name: "default", template: FIXTURE_CHAT_TEMPLATE },
      ];
    });
    expect(readHfChatTemplate(dir).template).toBe(FIXTURE_CHAT_TEMPLATE);
    expect(HfTokenizer.fromDir(dir).applyChatTemplate(messages)).toBe(
      HfTokenizer.fromDir(inConfig).applyChatTemplate(messages),
    );
    const out = path.join(root, "list.gguf");
    ggufFromFolder(dir, out, { dtype: "f32" });
    expect(readGguf(out).metadata.get("tokenizer.chat_template")).toBe(FIXTURE_CHAT_TEMPLATE);
  });

  it("chat_template.jinja wins over tokenizer_config.json's chat_template, as in transformers", () => {
    // transformers' PreTrainedTokenizerBase._from_pretrained: "If independent chat template file(s) exist, they take
    // priority over template entries in the tokenizer config"; HF training (TRL) and vLLM then render the .jinja.
    const jinja = FIXTURE_CHAT_TEMPLATE.replace("'<|end|>'", "'<|end|>\\n'");
    const dir = folder("both", () => {}, jinja);
    expect(JSON.parse(readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")).chat_template).toBe(
      FIXTURE_CHAT_TEMPLATE,
    );
    expect(readHfChatTemplate(dir).template).toBe(jinja);
    const rendered = HfTokenizer.fromDir(dir).applyChatTemplate(messages);
    expect(rendered).toBe(
      "<|user|>hello there<|end|>\n<|assistant|>hi<|end|>\n<|user|>and again<|end|>\n<|assistant|>once more<|end|>\n",
    );
    const out = path.join(root, "both.gguf");
    ggufFromFolder(dir, out, { dtype: "f32" });
    expect(readGguf(out).metadata.get("tokenizer.chat_template")).toBe(jinja);
  });

  it("a folder with no template anywhere is named in the error", () => {
    const dir = folder("none", (c) => {
      delete c.chat_template;
    });
    expect(readHfChatTemplate(dir).template).toBeUndefined();
    expect(() => HfTokenizer.fromDir(dir).applyChatTemplate(messages)).toThrow(
      `${dir}: no chat template (neither tokenizer_config.json's chat_template nor chat_template.jinja)`,
    );
  });
});
