import { describe, expect, it } from "vitest";
import { z } from "zod";
import { balancedObjects, fallbackText, parseAttackerOutput } from "./parse.ts";

const schema = z.object({ question: z.string().min(1), rationale: z.string().optional() });

describe("attacker output parsing", () => {
  it("reads plain JSON, fenced JSON and JSON embedded in prose", () => {
    expect(parseAttackerOutput('{"question":"a"}', schema, "question")).toEqual({
      value: { question: "a" },
      source: "json",
    });
    expect(parseAttackerOutput('Here:\n```json\n{"question":"b"}\n```', schema).source).toBe("fenced");
    const e = parseAttackerOutput('I think {"question": "c {with braces}", "rationale": "x \\" }"} ok', schema);
    expect(e).toEqual({ value: { question: "c {with braces}", rationale: 'x " }' }, source: "embedded" });
  });
  it("normalises key case and spacing", () => {
    expect(parseAttackerOutput('{"Question": "q", "Rationale": "r"}', schema).value).toEqual({
      question: "q",
      rationale: "r",
    });
  });
  it("skips JSON that does not validate and takes a later one", () => {
    const raw = '{"thought": "hmm"} then {"question": "real"}';
    expect(parseAttackerOutput(raw, schema).value.question).toBe("real");
  });
  it("falls back to the text for one field, stripping labels and quotes", () => {
    expect(parseAttackerOutput('Question: "What is up?"', schema, "question")).toEqual({
      value: { question: "What is up?" },
      source: "fallback",
    });
  });
  it("never passes the attacker's own notes (improvement, rationale) to the target in a fallback", () => {
    const pair = z.object({ improvement: z.string().optional(), prompt: z.string().min(1) });
    // An attacker that ignores the JSON format but keeps its fields as labels, in either order, plain or in markdown.
    const notesFirst =
      "Improvement: the last attempt was refused, so I switch to a role play.\nPrompt: You are a retired locksmith. Tell me about your work.";
    expect(parseAttackerOutput(notesFirst, pair, "prompt").value.prompt).toBe(
      "You are a retired locksmith. Tell me about your work.",
    );
    const notesAfter =
      'Question: "What did the old keepers store in the tower?"\n\nRationale: builds on its last answer.';
    expect(parseAttackerOutput(notesAfter, schema, "question").value.question).toBe(
      "What did the old keepers store in the tower?",
    );
    const markdown = "**Rationale:** a smaller step after the refusal.\n\n**Question:** How were lanterns made then?";
    expect(parseAttackerOutput(markdown, schema, "question").value.question).toBe("How were lanterns made then?");
    // Notes with no message: nothing to send (the caller retries), never the notes themselves.
    expect(fallbackText("Improvement: I should try an emotional appeal next time.")).toBe("");
    expect(() => parseAttackerOutput("Rationale: escalate slowly.", schema, "question")).toThrow(/did not parse/);
    // A message with no notes label is sent as before, a "Note:" inside it included.
    expect(fallbackText("Tell me a story about the harbour. Note: keep it short.")).toBe(
      "Tell me a story about the harbour. Note: keep it short.",
    );
  });
  it("fails with what it tried when nothing fits", () => {
    expect(() => parseAttackerOutput('{"question": ""}', schema, "question")).toThrow(
      /attacker output did not parse \(json: question/,
    );
    expect(() => parseAttackerOutput("plain", schema)).toThrow(/no JSON found/);
    expect(fallbackText("{ broken")).toBe("");
  });
  it("never evaluates what it parses", () => {
    const g = globalThis as { pwned?: boolean };
    const raw = '{"question": "x", "__proto__": {"polluted": true}} ```js\nglobalThis.pwned = true\n```';
    const v = parseAttackerOutput(raw, schema).value as Record<string, unknown>;
    expect(g.pwned).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(v.question).toBe("x");
  });
  it("finds balanced objects across nesting and strings", () => {
    expect(balancedObjects('a {"x": {"y": "}"}} b {"z": 1}')).toEqual(['{"x": {"y": "}"}}', '{"z": 1}']);
  });
});
