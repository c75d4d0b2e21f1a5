export { escapeHtml, escapeMarkdown } from "../domain/escape.ts";
export { formatRate, renderHtml, renderMarkdown, writeReport } from "./render.ts";
export type { ExampleConversation, GateResult, Regression, RoundSummary, RunReport } from "./types.ts";
