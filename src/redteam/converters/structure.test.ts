import { describe, expect, it } from "vitest";
import { ASCII_SAMPLES, converterConformance, UNICODE_SAMPLES } from "./conformance.testkit.ts";
import { createConverter } from "./registry.ts";
import {
  codeWrapConverter,
  jsonWrapConverter,
  manyShotInlineConverter,
  markdownWrapConverter,
  prefixTemplateConverter,
  repeatTokenConverter,
  suffixTemplateConverter,
  templates,
} from "./structure.ts";

const ALL = [...ASCII_SAMPLES, ...UNICODE_SAMPLES];
for (const template of Object.keys(templates().prefix)) {
  converterConformance(`prefix_template ${template}`, () => prefixTemplateConverter({ template }), {
    invertSamples: ALL,
  });
}
for (const template of Object.keys(templates().suffix)) {
  converterConformance(`suffix_template ${template}`, () => suffixTemplateConverter({ template }), {
    invertSamples: ALL,
  });
}
converterConformance("prefix_template text", () => prefixTemplateConverter({ text: "Answer in French." }), {
  invertSamples: ALL,
});
for (const language of Object.keys(templates().code)) {
  converterConformance(`code_wrap ${language}`, () => codeWrapConverter({ language }), { invertSamples: ALL });
}
converterConformance("json_wrap", jsonWrapConverter, { invertSamples: ALL });
for (const style of ["quote", "table", ...Object.keys(templates().markdown)]) {
  converterConformance(`markdown_wrap ${style}`, () => markdownWrapConverter({ style }), { invertSamples: ALL });
}
converterConformance("many_shot_inline", manyShotInlineConverter, { seedSensitive: true });
converterConformance("repeat_token", repeatTokenConverter, { invertSamples: ALL });
converterConformance("repeat_token append", () => repeatTokenConverter({ mode: "append", token: "go", times: 3 }), {
  invertSamples: ALL,
});

describe("structure converters", () => {
  it("json_wrap makes valid JSON holding the prompt", async () => {
    const out = await jsonWrapConverter({ key: "q" }).convert('say "hi"\n', { seed: 0 });
    expect(JSON.parse(out.slice(out.indexOf("{"))).q).toBe('say "hi"\n');
  });
  it("json_wrap refuses a key the task object already uses (the prompt would be overwritten or lost)", async () => {
    // key "response" used to be overwritten by the empty answer field: the target got a task with no request in it.
    for (const key of ["response", "task"]) {
      expect(() => jsonWrapConverter({ key }), key).toThrow(`json_wrap: key '${key}' is a field of the task object`);
      expect(() => createConverter({ name: "json_wrap", params: { key } }), key).toThrow(/key '.+' is a field/);
    }
    const c = jsonWrapConverter({ key: "request_text" });
    const out = await c.convert("Final ask?", { seed: 0 });
    expect(out).toContain('"request_text": "Final ask?"');
    expect(c.invert?.(out)).toBe("Final ask?");
  });
  it("many_shot_inline writes the asked number of placeholder shots, then the prompt", async () => {
    const out = await manyShotInlineConverter({ shots: 12 }).convert("Final ask?", { seed: 1 });
    expect(out.match(/^User: /gm)).toHaveLength(13);
    expect(out.match(/\[EXAMPLE-[A-Z-]+\d\]/g)?.length).toBeGreaterThanOrEqual(12);
    expect(out.endsWith("User: Final ask?\nAssistant:")).toBe(true);
  });
  it("markdown table escapes pipes and new lines", async () => {
    const out = await markdownWrapConverter({ style: "table" }).convert("a|b\nc", { seed: 0 });
    expect(out).toContain("| request | a\\|b<br>c |");
  });
  it("repeat_token repeats the token", async () => {
    expect(await repeatTokenConverter({ token: "la", times: 3 }).convert("x", { seed: 0 })).toBe("la la la\n\nx");
  });
  it("names unknown templates", () => {
    expect(() => prefixTemplateConverter({ template: "nope" })).toThrow(/unknown template 'nope'; known: researcher/);
    expect(() => codeWrapConverter({ language: "cobol" })).toThrow(/unknown template 'cobol'/);
    expect(() => markdownWrapConverter({ style: "poem" })).toThrow(/unknown template 'poem'/);
  });
});
