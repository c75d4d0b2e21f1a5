import { Template } from "@huggingface/jinja";
import { describe, expect, it } from "vitest";
import type { Message } from "../domain/types.ts";
import { type ChatTokenizer, tokenizeConversation, tokenizePreference } from "./render.ts";

// A Phi-3 style template (the shape of the real one), rendered by the same Jinja implementation the product uses.
const PHI3 =
  "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}";

/** Character-level tokenizer with the template's special tokens as single ids. */
function charTokenizer(): ChatTokenizer & { decode(ids: number[]): string } {
  const specials = ["<s>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"];
  const tpl = new Template(PHI3);
  return {
    padTokenId: 0,
    encode(text) {
      const out: number[] = [];
      let i = 0;
      while (i < text.length) {
        const s = specials.findIndex((sp) => text.startsWith(sp, i));
        if (s >= 0) {
          out.push(1 + s);
          i += specials[s].length;
        } else {
          out.push(100 + text.codePointAt(i)!);
          i += text.codePointAt(i)! > 0xffff ? 2 : 1;
        }
      }
      return out;
    },
    decode(ids) {
      return ids.map((id) => (id < 100 ? specials[id - 1] : String.fromCodePoint(id - 100))).join("");
    },
    renderChat(messages, addGenerationPrompt) {
      return tpl.render({
        messages: messages as Message[],
        bos_token: "<s>",
        add_generation_prompt: addGenerationPrompt,
      });
    },
  };
}

const conv: Message[] = [
  { role: "system", content: "Be safe." },
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello!" },
  { role: "user", content: "Bye" },
  { role: "assistant", content: "See you." },
];

function counted(tok: ReturnType<typeof charTokenizer>, ids: number[], labels: number[]): string[] {
  // contiguous runs of counted tokens, decoded
  const runs: string[] = [];
  let cur: number[] = [];
  labels.forEach((l, i) => {
    if (l !== -100) {
      expect(l).toBe(ids[i]);
      cur.push(ids[i]);
    } else if (cur.length) {
      runs.push(tok.decode(cur));
      cur = [];
    }
  });
  if (cur.length) runs.push(tok.decode(cur));
  return runs;
}

describe("chat-template tokenization with assistant-only loss", () => {
  const tok = charTokenizer();
  it("covers exactly each assistant turn's content and end marker on a multi-turn row", () => {
    const { ids, labels } = tokenizeConversation(tok, conv);
    expect(tok.decode(ids)).toBe(tok.renderChat(conv, false));
    expect(counted(tok, ids, labels)).toEqual(["Hello!<|end|>\n", "See you.<|end|>\n"]);
  });
  it("handles templates that append an end-of-text marker after the last message only", () => {
    const eosTok = {
      ...tok,
      endOfText: ["<s>"],
      renderChat: (m: readonly Message[], gen: boolean) => tok.renderChat(m, gen) + (gen ? "" : "<s>"),
    };
    const { ids, labels } = tokenizeConversation(eosTok, conv);
    expect(tok.decode(ids)).toBe(eosTok.renderChat(conv, false));
    expect(counted(tok, ids, labels)).toEqual(["Hello!<|end|>\n", "See you.<|end|>\n<s>"]);
    expect(() => tokenizeConversation({ ...eosTok, endOfText: [] }, conv)).toThrow(/endOfText/);
  });
  it("can restrict the loss to the last assistant turn, or cover everything", () => {
    const last = tokenizeConversation(tok, conv, "last_assistant");
    expect(counted(tok, last.ids, last.labels)).toEqual(["See you.<|end|>\n"]);
    const all = tokenizeConversation(tok, conv, "all");
    expect(all.labels).toEqual(all.ids);
  });
  it("puts the loss of a preference row on the completion only, after the same prompt tokens", () => {
    const p = tokenizePreference(tok, {
      prompt: conv.slice(0, 4),
      chosen: [{ role: "assistant", content: "I can't help with that." }],
      rejected: [{ role: "assistant", content: "[UNSAFE-X-STEP-1]" }],
    });
    expect(counted(tok, p.chosen.ids, p.chosen.labels)).toEqual(["I can't help with that.<|end|>\n"]);
    expect(counted(tok, p.rejected.ids, p.rejected.labels)).toEqual(["[UNSAFE-X-STEP-1]<|end|>\n"]);
    const promptLen = tok.encode(tok.renderChat(conv.slice(0, 4), true)).length;
    expect(p.chosen.ids.slice(0, promptLen)).toEqual(p.rejected.ids.slice(0, promptLen));
  });
});
