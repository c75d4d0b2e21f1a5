/**
 * A whole cycle round with training.backend openai, through the real CLI, against the fine-tuning stand-in (which
 * also serves the target: the base model and, after training, the fine-tuned one). The round's SFT and DPO jobs run
 * at the stand-in, the round's target becomes the fine-tuned model id, and the replay of the round's own successful
 * attacks (the regression step) is refused by it, since it answers its training prompts with the trained refusal.
 * A second run of the same config resumes: no job is created again.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBreakfix } from "../../cli/testing.ts";
import { type FineTuneServer, startFineTuneServer } from "./testing/openai-finetune-server.ts";

const BASE = "gpt-4o-mini-2024-07-18";
const KEY_ENV = "BREAKFIX_FT_CYCLE_TEST_KEY";
const tmp = mkdtempSync(path.join(tmpdir(), "breakfix-openai-cycle-"));
let server: FineTuneServer;

const CAPABILITY = [
  "What is 7 plus 5?",
  "Convert 3 hours to minutes.",
  "Write the word apple in capital letters.",
  "What is 9 times 3?",
  "How many days are in a week?",
  "Spell the word river backwards.",
  "What is 20 minus 8?",
  "Convert 2 kilometres to metres.",
];

function config(): string {
  return `workspace: ws
target:
  provider: openai-compatible
  baseUrl: ${server.baseUrl}
  model: ${BASE}
  apiKeyEnv: ${KEY_ENV}
  maxTokens: 48
  concurrency: 8
training:
  backend: openai
  dpo: {beta: 0.1}
  openai:
    model: ${BASE}
    baseUrl: ${server.baseUrl}
    apiKeyEnv: ${KEY_ENV}
    pollSeconds: 0.01
    epochs: 2
    trainingPerMTok: 3
    suffix: breakfix
deploy:
  kind: none
judges:
  default: refusal-patterns
redteam:
  seeds: advbench
  languages: [en]
  seedsPerCategory: 6
  personas:
    - {id: low_skilled, attacksPerSeed: 1, maxChain: 1, maxTurns: 1}
  budget: {maxAttacksPerRound: 60}
curation:
  responder: templates
  counterData: none
  retention: {file: capability.jsonl, mode: replay}
  retentionRatio: 1
benchmarks:
  suites:
    - {name: harmbench, limit: 40}
    - {name: xstest, limit: 40}
cycle:
  rounds: 1
`;
}

beforeAll(async () => {
  server = await startFineTuneServer();
  process.env[KEY_ENV] = server.apiKey;
  writeFileSync(
    path.join(tmp, "capability.jsonl"),
    CAPABILITY.map((prompt, i) => JSON.stringify({ id: `cap-${i}`, prompt })).join("\n"),
  );
  writeFileSync(path.join(tmp, "breakfix.yaml"), config());
});

afterAll(async () => {
  delete process.env[KEY_ENV];
  await server?.close();
});

describe("a cycle round on training.backend openai", () => {
  it("trains at the stand-in, targets the fine-tuned model, and resumes without a second job", async () => {
    const run = await runBreakfix(["cycle", "--config", path.join(tmp, "breakfix.yaml"), "--json"], { cwd: tmp });
    expect(run.code, run.stderr).toBe(0);
    const jobs = [...server.jobs.values()];
    expect(jobs.map((j) => [j.method.type, j.status])).toEqual([
      ["supervised", "succeeded"],
      ["dpo", "succeeded"],
    ]);
    expect(jobs[0].model).toBe(BASE);
    expect(jobs[1].model).toBe(jobs[0].fine_tuned_model);
    expect(run.stderr).toMatch(/openai sft: cost estimate: .* training tokens; estimated cost \$\d+\.\d\d at \$3\/M/);
    expect(run.stderr).not.toContain(server.apiKey);
    const json = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as {
      rounds: { round: number; model: string }[];
    };
    expect(json.rounds.map((r) => r.round)).toEqual([0, 1]);
    expect(json.rounds[1].model).toContain(jobs[1].fine_tuned_model);
    // The measured and replayed round-1 model is the fine-tuned one.
    const chats = server.requests.filter((r) => r.route === "POST /v1/chat/completions");
    const tunedChats = chats.filter((r) => (r.body as { model: string }).model === jobs[1].fine_tuned_model);
    expect(tunedChats.length).toBeGreaterThan(0);
    // The round's own successful attacks, replayed against the fine-tuned model: most are now refused (those whose
    // rows went to the validation split were not trained on). Held-out suites do not move: the stand-in only
    // memorises its training prompts, it does not generalise.
    const replay = /replayed (\d+) earlier successful attacks; (\d+) still break the model/.exec(run.stderr);
    expect(replay).not.toBeNull();
    const [replayed, stillBreak] = [Number(replay![1]), Number(replay![2])];
    expect(replayed).toBeGreaterThan(0);
    expect(stillBreak).toBeLessThan(replayed / 2);
    const counts = { ...server.counts };

    const again = await runBreakfix(["cycle", "--config", path.join(tmp, "breakfix.yaml"), "--json"], { cwd: tmp });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/round 1: train-dpo already done/);
    expect(server.count("POST /v1/fine_tuning/jobs")).toBe(2);
    expect(server.count("POST /v1/files")).toBe(counts["POST /v1/files"]);
    process.stdout.write(`openai cycle round: requests by route ${JSON.stringify(counts)}\n`);
  }, 600_000);
});
