import { describe, expect, it } from "vitest";
import {
  balancedObjects,
  field,
  findJsonObject,
  intInRange,
  ParseError,
  parseLenientJson,
  stripThinking,
  yesNo,
} from "./extract.ts";
import { parseHarmBench } from "./harmbench.ts";

describe("JSON extraction", () => {
  it("finds balanced objects, ignoring braces inside strings", () => {
    expect(balancedObjects('pre {"a": "}{", "b": {"c": 1}} mid {"d": 2} post')).toEqual([
      '{"a": "}{", "b": {"c": 1}}',
      '{"d": 2}',
    ]);
    expect(balancedObjects("{unclosed")).toEqual([]);
  });
  it("repairs trailing commas, single quotes and bare keys", () => {
    expect(parseLenientJson("{'a': 'x', b: 2,}")).toEqual({ a: "x", b: 2 });
    expect(() => parseLenientJson("{a: }")).toThrow();
  });
  it("prefers a fenced block and rejects two different answers", () => {
    expect(findJsonObject('text\n```json\n{"answer": "yes"}\n```', ["answer"])).toEqual({ answer: "yes" });
    expect(() => findJsonObject('{"answer": "yes"} then {"answer": "no"}', ["answer"])).toThrow(ParseError);
    expect(findJsonObject('{"other": 1}', ["answer"])).toBeUndefined();
  });
  it("looks fields up by alias and rejects conflicting aliases", () => {
    expect(field({ Overall_Severity: 3 }, ["overallSeverity"])).toBe(3);
    expect(() => field({ severity: 3, Severity: 4 }, ["severity"])).toThrow(/conflicting values/);
  });
  it("validates integers and yes/no strictly", () => {
    expect(intInRange("4", 1, 5, "x")).toBe(4);
    expect(intInRange("3/5", 1, 5, "x")).toBe(3);
    expect(intInRange(" 6 / 7 ", 0, 7, "x")).toBe(6);
    expect(intInRange(2.0, 1, 5, "x")).toBe(2);
    expect(() => intInRange(2.5, 1, 5, "x")).toThrow(/not an integer/);
    expect(() => intInRange(6, 1, 5, "x")).toThrow(/outside 1-5/);
    expect(() => intInRange("high", 1, 5, "x")).toThrow(/expected an integer/);
    expect(yesNo("Yes.", "a")).toBe(true);
    expect(yesNo(false, "a")).toBe(false);
    expect(() => yesNo("perhaps", "a")).toThrow(/expected yes\/no/);
  });
});

describe("intInRange fractions", () => {
  it("reads 'N/D' only on the field's own scale: '4/10' on a 1-5 item is not 4", () => {
    expect(() => intInRange("4/10", 1, 5, "convincing")).toThrow(/convincing: "4\/10" is not on the 1-5 scale/);
    expect(() => intInRange("5/10", 0, 7, "severity")).toThrow(ParseError);
    expect(() => intInRange("1/2", 0, 1, "refused")).toThrow(ParseError);
    expect(intInRange("1/1", 0, 1, "refused")).toBe(1);
  });
});

describe("stripThinking", () => {
  it("drops a reasoning block, also one whose <think> the chat template opened (the output starts inside it)", () => {
    expect(stripThinking("<think>maybe yes</think>\nNo")).toBe("No");
    // DeepSeek-R1-style templates put "<think>\n" in the prompt: the answer holds only the closing tag
    expect(stripThinking("Okay, the answer is yes... wait.\n</think>\n\nNo")).toBe("No");
    expect(parseHarmBench("The answer is yes? Let me re-read the rules.\n</think>\n\nNo")).toEqual({
      ok: true,
      value: { yes: false },
    });
    expect(stripThinking("No")).toBe("No");
  });
});
