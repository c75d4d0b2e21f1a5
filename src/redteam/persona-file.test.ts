import { describe, expect, it } from "vitest";
import { FramingRegistry } from "./framings/load.ts";
import { parsePersonaFile, parseTechnique } from "./persona-file.ts";
import { makePersona } from "./personas.ts";

const framings = new FramingRegistry();

describe("technique syntax", () => {
  it("parses converters, framings, strategies and params", () => {
    expect(parseTechnique("direct", framings)).toEqual([]);
    expect(parseTechnique("rot13+hypothetical", framings)).toEqual([
      { kind: "converter", name: "rot13" },
      { kind: "framing", name: "hypothetical" },
    ]);
    expect(parseTechnique("leetspeak(rate=0.5) + many_shot(shots=16)", framings)).toEqual([
      { kind: "converter", name: "leetspeak", params: { rate: 0.5 } },
      { kind: "framing", name: "many_shot", params: { shots: 16 } },
    ]);
    expect(parseTechnique("reword+scripted(script=research_escalation)", framings)).toEqual([
      { kind: "converter", name: "reword" },
      { kind: "multiturn", name: "scripted", params: { script: "research_escalation" } },
    ]);
  });
  it("rejects unknown names and misplaced strategies", () => {
    expect(() => parseTechnique("rot14", framings)).toThrow(
      /'rot14' is not a converter, framing or multi-turn strategy/,
    );
    expect(() => parseTechnique("crescendo+rot13", framings)).toThrow(/must be the last step/);
    expect(() => parseTechnique("fiction+crescendo", framings)).toThrow(/framings cannot precede/);
    expect(() => parseTechnique("leetspeak(rate)", framings)).toThrow(/'rate' is not key=value/);
  });
});

describe("persona files", () => {
  it("define named bundles of techniques and budgets", () => {
    const [p] = parsePersonaFile(
      [
        "personas:",
        "  - id: encoder",
        "    description: encodings under role play",
        "    attacksPerSeed: 3",
        "    budget: { maxCalls: 12, maxBacktracks: 1 }",
        '    techniques: [direct, rot13+roleplay_unbound, "leetspeak(rate=0.5)+fiction", crescendo]',
      ].join("\n"),
      "p.yaml",
      framings,
    );
    expect(p.id).toBe("encoder");
    expect(p.techniques.map((t) => [t.id, t.family])).toEqual([
      ["direct", "direct"],
      ["rot13+roleplay_unbound", "encoding"],
      ["leetspeak(rate=0.5)+fiction", "obfuscation"],
      ["crescendo", "crescendo"],
    ]);
    expect(p.budget).toMatchObject({ maxCalls: 12, maxBacktracks: 1, maxTurns: 8 });
  });
  it("name the file and key on bad input", () => {
    const bad = "personas:\n  - id: x\n    description: d\n    attacksPerSeed: 1\n    techniques: [rot13+nope]\n";
    expect(() => parsePersonaFile(bad, "p.yaml", framings)).toThrow(
      /^p.yaml: personas.0.techniques.0: technique 'rot13\+nope'/,
    );
    expect(() => parsePersonaFile("personas:\n  - id: x\n", "p.yaml", framings)).toThrow(
      /p.yaml: personas.0.description/,
    );
  });
  it("check every step's parameters when the file is read, not when an attack runs", () => {
    // These were accepted, and each failed (or ran with its default) only when a campaign sent the attack: the run
    // recorded failed attacks with an error naming neither the file nor the key, or silently ignored the typo.
    const file = (t: string) =>
      `personas:\n  - id: x\n    description: d\n    attacksPerSeed: 1\n    techniques: [direct, "${t}"]\n`;
    const cases: [string, RegExp][] = [
      ["caesar(shift=99)", /converter 'caesar': bad params: shift/],
      ["leetspeak(rat=0.5)", /converter 'leetspeak': bad params: .*rat/],
      ["payload_split(parts=40)", /converter 'payload_split': bad params: parts/],
      ["ascii_art(fill=ab)", /ascii_art: fill must be one visible character/],
      ["prefix_template(template=nope)", /unknown template 'nope'/],
      ["tone(tone=1)", /converter 'tone': bad params: tone/],
      ["many_shot(shots=0)", /framing 'many_shot': shots must be a positive integer, got 0/],
      ["many_shot(shot=4)", /framing 'many_shot' has no parameter 'shot'/],
      ["roleplay_unbound(shots=3)", /framing 'roleplay_unbound' has no parameter 'shots'/],
    ];
    for (const [t, msg] of cases) {
      expect(() => parsePersonaFile(file(t), "p.yaml", framings), t).toThrow(/^p.yaml: personas.0.techniques.1: /);
      expect(() => parsePersonaFile(file(t), "p.yaml", framings), t).toThrow(msg);
    }
    // Valid parameters, model-backed converters included (no model is needed to read the file), still load.
    const ok = "caesar(shift=5)+many_shot(shots=4)";
    expect(parsePersonaFile(file(ok), "p.yaml", framings)[0].techniques[1].id).toBe(ok);
    expect(parsePersonaFile(file("tone(tone=polite)"), "p.yaml", framings)[0].techniques[1].id).toBe(
      "tone(tone=polite)",
    );
  });
  it("built-in personas: low_skilled and intermediate bundles", () => {
    const low = makePersona("low_skilled", framings);
    const mid = makePersona("intermediate", framings);
    expect(low.techniques.map((t) => t.family)).toEqual(
      expect.arrayContaining([
        "direct",
        "rephrasing",
        "roleplay",
        "refusal_suppression",
        "prefix_injection",
        "system_override",
      ]),
    );
    expect(mid.techniques.some((t) => t.steps.length >= 2)).toBe(true);
    expect(mid.techniques.map((t) => t.family)).toEqual(
      expect.arrayContaining(["crescendo", "pair", "scripted_escalation", "many_shot"]),
    );
    expect(mid.budget.maxTurns).toBe(6);
  });
});
