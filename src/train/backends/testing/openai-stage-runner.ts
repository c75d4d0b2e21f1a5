/**
 * Test helper run as a child process (`node --import tsx`) by openai.kill.test.ts: trains one round's SFT then DPO
 * stage with the `openai` backend against the fine-tuning stand-in, with the store in `workspace`, so the parent can
 * SIGKILL it at an exact point of the protocol and run it again on the same store.
 *
 * argv: workspace dataDir round; env: BREAKFIX_FT_BASE_URL, BREAKFIX_FT_MODEL, BREAKFIX_FT_POLL_SECONDS and the key
 * in OPENAI_API_KEY. Prints every log line, then "result sft <model>" and "result dpo <model>".
 */
import path from "node:path";
import { configSchema } from "../../../config/schema.ts";
import { Store } from "../../../store/store.ts";
import { OpenAiBackend, openAiStartModel } from "../openai.ts";
import type { BackendJob } from "../types.ts";

const [workspace, dataDir, roundArg] = process.argv.slice(2);
const training = configSchema.shape.training.parse({
  backend: "openai",
  seed: 7,
  dpo: { beta: 0.2 },
  openai: {
    model: process.env.BREAKFIX_FT_MODEL,
    baseUrl: process.env.BREAKFIX_FT_BASE_URL,
    epochs: 2,
    batchSize: 4,
    learningRateMultiplier: 0.5,
    pollSeconds: Number(process.env.BREAKFIX_FT_POLL_SECONDS ?? "0.01"),
    trainingPerMTok: 25,
    suffix: "kill-test",
  },
});
const store = Store.open(workspace);
const backend = new OpenAiBackend();
const job = (from: BackendJob["from"]): BackendJob => ({
  runId: "run-kill-test",
  round: Number(roundArg),
  from,
  data: {
    sft: path.join(dataDir, "sft.jsonl"),
    dpo: path.join(dataDir, "dpo.jsonl"),
    sftVal: path.join(dataDir, "sft.val.jsonl"),
    dpoVal: path.join(dataDir, "dpo.val.jsonl"),
  },
  outDir: path.join(workspace, "round"),
  training,
  store,
  log: (line) => process.stdout.write(`${line}\n`),
});
const sft = await backend.train("sft", job(openAiStartModel(training)));
process.stdout.write(`result sft ${sft.model.kind === "remote" ? sft.model.id : ""}\n`);
const dpo = await backend.train("dpo", job(sft.model));
process.stdout.write(`result dpo ${dpo.model.kind === "remote" ? dpo.model.id : ""}\n`);
store.close();
