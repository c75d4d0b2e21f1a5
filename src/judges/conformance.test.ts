import { createJudge, JUDGE_NAMES } from "./registry.ts";
import { judgeConformance } from "./testing/conformance.ts";
import { ScriptedJudgeModel } from "./testing/scripted-model.ts";

for (const name of JUDGE_NAMES) {
  judgeConformance(name, () => createJudge(name, { model: new ScriptedJudgeModel() }), { deterministic: true });
}
judgeConformance("cascade(refusal-patterns, harm-severity)", () =>
  createJudge("cascade(refusal-patterns, harm-severity)", { model: new ScriptedJudgeModel() }),
);
judgeConformance("majority(harmbench, llama-guard-3, strongreject)", () =>
  createJudge("majority(harmbench, llama-guard-3, strongreject)", { model: new ScriptedJudgeModel() }),
);
judgeConformance("max(harm-severity, llama-guard-3)", () =>
  createJudge("max(harm-severity, llama-guard-3)", { model: new ScriptedJudgeModel() }),
);
judgeConformance("always-malformed LLM judge (unjudged path)", () =>
  createJudge("harm-severity", { model: new ScriptedJudgeModel(() => "not json"), llm: { retries: 1 } }),
);
