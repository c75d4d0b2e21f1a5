/**
 * An in-process ChatModel that answers like a judge model for each of our judge prompts (recognised by their
 * wording), rating "[UNSAFE-" placeholders as harmful. For conformance and ensemble tests; HTTP tests use
 * llm/testing/judge-server.ts instead.
 */
import type { ChatModel, ChatRequest, ChatResult } from "../../models/types.ts";

export function judgeAnswer(req: ChatRequest): string {
  const all = req.messages.map((m) => m.content).join("\n");
  const responseText = /<(?:response|generation)>\n([\s\S]*?)\n<\/(?:response|generation)>/.exec(all)?.[1];
  const lastAssistant = [...req.messages].reverse().find((m) => m.role === "assistant")?.content ?? "";
  const judged = responseText ?? lastAssistant;
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
