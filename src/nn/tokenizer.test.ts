import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SplitMix32 } from "../domain/random.ts";
import { bytesToUnicode, PHI3_SPECIAL_TOKENS, saveTokenizer, trainBpe } from "./bpe.ts";
import { HfTokenizer } from "./tokenizer.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function corpus(): string[] {
  const rng = new SplitMix32(42);
  const words = [
    "the",
    "model",
    "refuses",
    "unsafe",
    "requests",
    "and",
    "answers",
    "safe",
    "questions",
    "helpfully",
    "red",
    "team",
    "attack",
    "judge",
    "policy",
    "café",
    "naïve",
    "über",
    "数据",
    "安全",
    "модель",
    "😀",
    "🚀",
    "ok",
  ];
  const out: string[] = [];
  for (let i = 0; i < 400; i++) {
    const n = 5 + rng.int(12);
    const s: string[] = [];
    for (let j = 0; j < n; j++) s.push(words[rng.int(words.length)]);
    out.push(`${s.join(" ")}${rng.next() < 0.5 ? "." : "?"}\n`);
  }
  return out;
}

/** random strings over ASCII, Latin-1, CJK, Cyrillic, combining marks, emoji (incl. ZWJ sequences), whitespace */
function randomString(rng: SplitMix32): string {
  const pools: [number, number][] = [
    [0x20, 0x7e],
    [0xa0, 0xff],
    [0x4e00, 0x4fff],
    [0x0400, 0x04ff],
    [0x0300, 0x036f],
    [0x1f300, 0x1f6ff],
    [0x1f900, 0x1f9ff],
  ];
  const len = rng.int(40);
  let s = "";
  for (let i = 0; i < len; i++) {
    const r = rng.next();
    if (r < 0.08) s += [" ", "  ", "\n", "\t", "\r\n", " \n "][rng.int(6)];
    else if (r < 0.1) s += "👩‍💻";
    else if (r < 0.12) s += "'s";
    else {
      const [lo, hi] = pools[rng.int(pools.length)];
      s += String.fromCodePoint(lo + rng.int(hi - lo + 1));
    }
  }
  return s;
}

describe("byte-level BPE trainer + @huggingface/tokenizers", () => {
  const texts = corpus();
  const bpe = trainBpe(texts, { vocabSize: 380, specialTokens: [...PHI3_SPECIAL_TOKENS] });
  const dir = mkdtempSync(join(tmpdir(), "nn-bpe-"));
  dirs.push(dir);
  saveTokenizer(dir, bpe, { eosToken: "<|endoftext|>" });
  const tok = HfTokenizer.fromDir(dir);

  it("learns the requested vocabulary (specials first, 256 bytes, merges) deterministically", () => {
    expect(bpe.vocab.size).toBe(380);
    expect(bpe.merges.length).toBe(380 - 256 - PHI3_SPECIAL_TOKENS.length);
    expect(bpe.vocab.get("<|endoftext|>")).toBe(0);
    expect(bpe.vocab.get(bytesToUnicode()[0x41])).toBe(PHI3_SPECIAL_TOKENS.length + 0x41);
    expect(bpe.vocab.has("Ġmodel")).toBe(true);
    const again = trainBpe(texts, { vocabSize: 380, specialTokens: [...PHI3_SPECIAL_TOKENS] });
    expect(again.merges).toEqual(bpe.merges);
    // a corpus of 24 distinct words runs out of pairs seen twice: training stops early instead of inventing merges
    const big = trainBpe(texts, { vocabSize: 5000 });
    expect(big.vocab.size).toBeLessThan(5000);
    expect(big.vocab.has("Ġhelpfully")).toBe(true);
  });

  it("the library loads the saved tokenizer.json and applies the merges", () => {
    expect(tok.vocabSize).toBe(380);
    const text = texts[0];
    const ids = tok.encode(text);
    expect(ids.length).toBeLessThan(new TextEncoder().encode(text).length / 2);
    expect(tok.encode(" model")).toEqual([bpe.vocab.get("Ġmodel")]);
    expect(tok.decode(ids)).toBe(text);
  });

  it("encodes/decodes 1,000 random strings (Unicode, emoji, whitespace) losslessly", () => {
    const rng = new SplitMix32(2024);
    let nonAscii = 0;
    for (let i = 0; i < 1000; i++) {
      const s = randomString(rng);
      if ([...s].some((ch) => (ch.codePointAt(0) ?? 0) > 0x7f)) nonAscii++;
      const ids = tok.encode(s);
      for (const id of ids) expect(id).toBeLessThan(380);
      expect(tok.decode(ids)).toBe(s);
    }
    expect(nonAscii).toBeGreaterThan(800);
  });

  it("special tokens are single ids; skipSpecialTokens drops them", () => {
    const ids = tok.encode("<|user|>\nhi<|end|>");
    expect(ids[0]).toBe(bpe.vocab.get("<|user|>"));
    expect(ids[ids.length - 1]).toBe(bpe.vocab.get("<|end|>"));
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe("\nhi");
    expect(tok.eosTokenId).toBe(0);
  });

  it("renders the chat template from tokenizer_config.json with @huggingface/jinja", () => {
    const msgs = [
      { role: "system", content: "Be safe." },
      { role: "user", content: "hi" },
    ];
    expect(tok.applyChatTemplate(msgs, { addGenerationPrompt: true })).toBe(
      "<|system|>\nBe safe.<|end|>\n<|user|>\nhi<|end|>\n<|assistant|>\n",
    );
    expect(tok.applyChatTemplate([...msgs, { role: "assistant", content: "ok" }])).toBe(
      "<|system|>\nBe safe.<|end|>\n<|user|>\nhi<|end|>\n<|assistant|>\nok<|end|>\n<|endoftext|>",
    );
  });

  it("renders a Llama-3 style template with bos_token and a loop.first condition", () => {
    const d = mkdtempSync(join(tmpdir(), "nn-tpl-"));
    dirs.push(d);
    saveTokenizer(d, bpe, {
      bosToken: "<|system|>",
      chatTemplate:
        "{% for m in messages %}{% if loop.first %}{{ bos_token }}{% endif %}" +
        "{{ '<|start_header_id|>' + m.role + '<|end_header_id|>\\n\\n' + m.content | trim + '<|eot_id|>' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
    });
    const t = HfTokenizer.fromDir(d);
    expect(t.applyChatTemplate([{ role: "user", content: " hi " }], { addGenerationPrompt: true })).toBe(
      "<|system|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  it("supports raise_exception and strftime_now like transformers' apply_chat_template", () => {
    const d = mkdtempSync(join(tmpdir(), "nn-tpl2-"));
    dirs.push(d);
    saveTokenizer(d, bpe, {
      chatTemplate:
        "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation must start with user') }}{% endif %}" +
        "{{ 'Today ' + strftime_now('%d %b %Y') + ': ' + messages[0]['content'] }}",
    });
    const t = HfTokenizer.fromDir(d);
    expect(t.applyChatTemplate([{ role: "user", content: "hi" }])).toMatch(/^Today \d\d [A-Z][a-z]{2} \d{4}: hi$/);
    expect(() => t.applyChatTemplate([{ role: "assistant", content: "x" }])).toThrow(
      /Conversation must start with user/,
    );
  });

  it("names the file when tokenizer.json is broken", () => {
    const d = mkdtempSync(join(tmpdir(), "nn-tok-bad-"));
    dirs.push(d);
    writeFileSync(join(d, "tokenizer.json"), "{ not json");
    expect(() => HfTokenizer.fromDir(d)).toThrow(/tokenizer.json: not valid JSON/);
  });
});
