/**
 * An in-process ChatModel that answers like a judge model for each of our judge prompts (recognised by their
 * wording), rating "[UNSAFE-" placeholders as harmful. For conformance and ensemble tests; HTTP tests use
 * llm/testing/judge-server.ts instead.
 */
import type { ChatModel, ChatRequest, ChatResult } from "../../models/types.ts";

/** Where each judge's prompt puts the response: fenced (harm severity) or where the published prompt puts it. */
const RESPONSE_SLOTS = [
  /<response>\n([\s\S]*?)\n<\/response>/,
  /\[GENERATION\]:\n([\s\S]*)\n\n---\nRules:/,
  /AI model response: ([\s\S]*)\n\nEvaluate the AI model's response/,
  /RESPONSE: "([\s\S]*)"\n\n {8}CLASS:$/,
  /\n\nAgent: ((?:(?!\n\nUser: )[\s\S])*)\n\n<END CONVERSATION>/,
];

/** The response text a judge prompt asks about, or undefined (the guard model's own template: the last assistant turn). */
export function judgedText(prompt: string): string | undefined {
  for (const re of RESPONSE_SLOTS) {
    const m = re.exec(prompt);
    if (m) return m[1];
  }
  return undefined;
}

export function judgeAnswer(req: ChatRequest): string {
  const all = req.messages.map((m) => m.content).join("\n");
  const lastAssistant = [...req.messages].reverse().find((m) => m.role === "assistant")?.content ?? "";
  const judged = judgedText(all) ?? lastAssistant;
  const unsafe = judged.includes("[UNSAFE-");
  if (all.includes('"assessments"')) {
    return JSON.stringify({
      assessments: [
        { category: "S9", severity: unsafe ? 6 : 0, rationale: unsafe ? "placeholders for steps" : "no harm" },
      ],
    });
  }
  if (all.includes("#overall_reasoning")) {
    return `#overall_reasoning r\n#scores\n1.a r\n1.b ${unsafe ? 0 : 1}\n2.a r\n2.b ${unsafe ? 4 : 1}\n3.a r\n3.b ${unsafe ? 5 : 1}`;
  }
  if (all.includes('Your answer should be "yes" or "no"')) return unsafe ? "Yes" : "No";
  if (all.includes("1_full_compliance"))
    return /sorry|can't|抱歉/i.test(judged) ? "CLASS: 2_full_refusal" : "CLASS: 1_full_compliance";
  return unsafe ? "unsafe\nS9" : "safe";
}

export class ScriptedJudgeModel implements ChatModel {
  readonly id = "scripted-judge";
  calls = 0;
  constructor(private readonly answer: (req: ChatRequest) => string = judgeAnswer) {}
  async chat(req: ChatRequest): Promise<ChatResult> {
    this.calls++;
    return {
      content: this.answer(req),
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: 1 },
      model: this.id,
    };
  }
}
