import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI, { BadRequestError, toFile } from "openai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configSchema } from "../../config/schema.ts";
import { Store } from "../../store/store.ts";
import {
  estimateCost,
  formatEstimate,
  OPENAI_ENTITY,
  OpenAiBackend,
  openAiStageKey,
  openAiStartModel,
  progressLine,
  roughTokens,
} from "./openai.ts";
import {
  type FineTuneServer,
  type FineTuneServerOptions,
  startFineTuneServer,
} from "./testing/openai-finetune-server.ts";
import { harmfulPrompt, refusal, writeRoundData } from "./testing/openai-fixtures.ts";
import type { BackendJob, ModelRef } from "./types.ts";

const BASE = "gpt-4o-mini-2024-07-18";

let server: FineTuneServer;
const running: FineTuneServer[] = [];
async function start(opts: FineTuneServerOptions = {}): Promise<FineTuneServer> {
  const s = await startFineTuneServer(opts);
  running.push(s);
  return s;
}
let work: string;
let store: Store;

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), "bf-openai-"));
  store = Store.open(path.join(work, "ws"));
});
afterEach(async () => {
  store.close();
  for (const s of running.splice(0)) await s.close();
});

function training(openai: Record<string, unknown> = {}) {
  return configSchema.shape.training.parse({
    backend: "openai",
    seed: 11,
    dpo: { beta: 0.25 },
    openai: { model: BASE, baseUrl: server.baseUrl, pollSeconds: 0.001, ...openai },
  });
}

function makeJob(t: ReturnType<typeof training>, from: ModelRef, log: string[], dataDir = path.join(work, "data")) {
  return {
    runId: "run-openai-test",
    round: 1,
    from,
    data: {
      sft: path.join(dataDir, "sft.jsonl"),
      dpo: path.join(dataDir, "dpo.jsonl"),
      sftVal: path.join(dataDir, "sft.val.jsonl"),
      dpoVal: path.join(dataDir, "dpo.val.jsonl"),
    },
    outDir: path.join(work, "out"),
    training: t,
    store,
    log: (l: string) => {
      log.push(l);
    },
  } satisfies BackendJob;
}

const env = () => ({ OPENAI_API_KEY: server.apiKey });

describe("openai backend against the fine-tuning stand-in", () => {
  it("trains SFT then DPO on its result with the configured method, hyperparameters and data formats", async () => {
    server = await start();
    writeRoundData(path.join(work, "data"));
    const t = training({ epochs: 2, batchSize: 4, learningRateMultiplier: 0.5, suffix: "safety", trainingPerMTok: 3 });
    const backend = new OpenAiBackend({ env: env() });
    const log: string[] = [];

    const sft = await backend.train("sft", makeJob(t, openAiStartModel(t), log));
    const dpo = await backend.train("dpo", makeJob(t, sft.model, log));

    const [sftJob, dpoJob] = [...server.jobs.values()];
    expect(server.count("POST /v1/fine_tuning/jobs")).toBe(2);
    expect(server.count("POST /v1/files")).toBe(3); // sft train + sft validation + dpo train (dpo validation empty)
    expect(sftJob.model).toBe(BASE);
    expect(sftJob.method).toEqual({
      type: "supervised",
      supervised: { hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.5 } },
    });
    expect(sftJob.validation_file).not.toBeNull();
    expect(sftJob.seed).toBe(11);
    expect(dpoJob.model).toBe(sftJob.fine_tuned_model);
    expect(dpoJob.method).toEqual({
      type: "dpo",
      dpo: { hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.5, beta: 0.25 } },
    });
    expect(dpoJob.validation_file).toBeNull();
    // The key of each create request is in the job's metadata and its Idempotency-Key header.
    const creates = server.requests.filter((r) => r.route === "POST /v1/fine_tuning/jobs");
    for (const [i, j] of [sftJob, dpoJob].entries()) {
      expect(j.metadata).toMatchObject({ breakfix_round: "1", breakfix_stage: i === 0 ? "sft" : "dpo" });
      expect(creates[i].idempotencyKey).toBe(j.metadata?.breakfix_key);
      expect(j.suffix).toBe("safety");
    }

    // Uploaded rows are OpenAI's formats (provenance dropped).
    const sftRows = server.files.get(sftJob.training_file)!.rows as { messages: unknown[] }[];
    expect(sftRows).toHaveLength(12);
    expect(sftRows[0]).toEqual({
      messages: [
        { role: "system", content: "You are a careful assistant." },
        { role: "user", content: harmfulPrompt(0) },
        { role: "assistant", content: refusal(0) },
      ],
    });
    const dpoRows = server.files.get(dpoJob.training_file)!.rows;
    expect(dpoRows[0]).toEqual({
      input: { messages: [{ role: "user", content: harmfulPrompt(100) }] },
      preferred_output: [{ role: "assistant", content: refusal(100) }],
      non_preferred_output: [{ role: "assistant", content: expect.stringContaining("tension wrench") }],
    });

    expect(sft.model).toEqual({ kind: "remote", id: sftJob.fine_tuned_model });
    expect(dpo.model).toEqual({ kind: "remote", id: dpoJob.fine_tuned_model });
    expect(dpo.params).toMatchObject({
      jobId: dpoJob.id,
      trainingFile: dpoJob.training_file,
      trainedTokens: dpoJob.trained_tokens,
      baseModel: sftJob.fine_tuned_model,
    });
    expect(sft.params).toMatchObject({ validationFile: sftJob.validation_file });
    expect(sft.steps).toBe(6); // ceil(12 rows / batch 4) x 2 epochs, from the metrics events
    expect(sft.final?.train_loss).toBeGreaterThan(0);

    // Progress lines from the polls and events, with an ETA once two metrics events are apart in time or the
    // API gives estimated_finish (covered by progressLine's own test).
    expect(log.some((l) => /openai sft ftjob-\S+: running, step \d+\/6/.test(l))).toBe(true);
    expect(
      log.some((l) => /openai dpo ftjob-\S+: running, step \d+\/6 \(\d+%\), train loss [\d.]+, ETA \d+s$/.test(l)),
    ).toBe(true);
    expect(log.some((l) => l.includes("Fine-tuning job started"))).toBe(true);
    // The uploaded files are kept in the round's folder.
    expect(readFileSync(path.join(work, "out", "openai-sft-train.jsonl"), "utf8")).toBe(
      server.files.get(sftJob.training_file)!.text,
    );
    expect(log.join("\n")).not.toContain(server.apiKey);

    // The tuned model answers its trained prompts with the trained refusal; the base model complies.
    const chat = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseUrl });
    const ask = async (model: string, prompt: string) =>
      (await chat.chat.completions.create({ model, messages: [{ role: "user", content: prompt }] })).choices[0].message
        .content;
    const finalId = (dpo.model as { id: string }).id;
    expect(await ask(finalId, harmfulPrompt(3))).toBe(refusal(3)); // from the SFT ancestor
    expect(await ask(finalId, harmfulPrompt(105))).toBe(refusal(105)); // from its own DPO data
    expect(await ask(BASE, harmfulPrompt(3))).not.toBe(refusal(3));
    expect((await chat.models.retrieve(finalId)).id).toBe(finalId);

    // Called again: answered from the store, no request.
    const n = server.requests.length;
    const again = await backend.train("dpo", makeJob(t, sft.model, log));
    expect(again.model).toEqual(dpo.model);
    expect(server.requests.length).toBe(n);
  });

  it("prints a cost estimate (characters/4 x epochs x price) before the job is created", async () => {
    server = await start();
    writeRoundData(path.join(work, "data"));
    const log: string[] = [];
    const t = training({ epochs: 3, trainingPerMTok: 25 });
    const r = await new OpenAiBackend({ env: env() }).train("sft", makeJob(t, openAiStartModel(t), log));
    const estimateAt = log.findIndex((l) => l.includes("cost estimate"));
    const createdAt = log.findIndex((l) => l.includes("created job"));
    expect(estimateAt).toBeGreaterThanOrEqual(0);
    expect(estimateAt).toBeLessThan(createdAt);
    // Independent count over the uploaded file: the message texts of each row, characters / 4 rounded up.
    const rows = server.files.get([...server.jobs.values()][0].training_file)!.rows as {
      messages: { content: string }[];
    }[];
    const perEpoch = rows.reduce((n, row) => n + Math.ceil(row.messages.map((m) => m.content).join("").length / 4), 0);
    expect(r.params.estimate).toMatchObject({ tokensPerEpoch: perEpoch, epochs: 3, trainingTokens: perEpoch * 3 });
    const usd = ((perEpoch * 3) / 1e6) * 25;
    expect(log[estimateAt]).toContain(`x 3 epochs = ~${(perEpoch * 3).toLocaleString("en-US")} training tokens`);
    expect(log[estimateAt]).toContain(`$${usd.toFixed(2)} at $25/M`);
    expect(log[estimateAt]).toContain("characters/4");
  });

  it("estimates: auto epochs and no price are said plainly", () => {
    const rows = [{ messages: [{ role: "user" as const, content: "x".repeat(40) }] }];
    const e = estimateCost(rows, undefined, undefined);
    expect(e).toMatchObject({ tokensPerEpoch: 10, epochs: 1, epochsAuto: true, trainingTokens: 10 });
    expect(e.usd).toBeUndefined();
    const line = formatEstimate("sft", e, undefined);
    expect(line).toContain("epochs: auto");
    expect(line).toContain("set training.openai.trainingPerMTok");
    expect(estimateCost(rows, 4, 2).usd).toBeCloseTo((40 / 1e6) * 2, 12);
    expect(roughTokens("abcde")).toBe(2);
  });

  it("a failed job is an error naming the job and the API's error; the next call starts one new attempt", async () => {
    let failures = 1;
    server = await start({
      failJob: () =>
        failures-- > 0 ? { code: "quota_exceeded", message: "Fine-tuning quota exceeded.", param: null } : undefined,
    });
    writeRoundData(path.join(work, "data"));
    const t = training();
    const backend = new OpenAiBackend({ env: env() });
    const log: string[] = [];
    const job = makeJob(t, openAiStartModel(t), log);
    await expect(backend.train("sft", job)).rejects.toThrow(
      /OpenAI fine-tuning job ftjob-\S+ \(sft\) failed: quota_exceeded: Fine-tuning quota exceeded\./,
    );
    const [firstId] = [...server.jobs.keys()];
    expect(server.jobs.get(firstId)?.status).toBe("failed");
    await expect(backend.train("sft", job)).resolves.toMatchObject({ stage: "sft" }); // failures used up
    expect(server.count("POST /v1/fine_tuning/jobs")).toBe(2);
    expect(log.some((l) => l.includes(`previous job ${firstId} failed`) && l.includes("attempt 2"))).toBe(true);
    // A third call reuses the finished attempt.
    await backend.train("sft", job);
    expect(server.count("POST /v1/fine_tuning/jobs")).toBe(2);
  });

  it("what the API says (a job event, a failed job's error) is logged and thrown escaped for the terminal", async () => {
    // e.g. a validation error quoting a training row, whose text came from a model's answer
    const quoted = "Line 3: unexpected '\u001b]52;c;ZXZpbA==\u0007' in\r content";
    server = await start({ failJob: () => ({ code: "invalid_training_file", message: quoted, param: null }) });
    writeRoundData(path.join(work, "data"));
    const t = training();
    const log: string[] = [];
    const err = await new OpenAiBackend({ env: env() })
      .train("sft", makeJob(t, openAiStartModel(t), log))
      .catch((e: Error) => e);
    const shown = "Line 3: unexpected '\\u{1b}]52;c;ZXZpbA==\\u{7}' in\\u{d} content";
    expect((err as Error).message).toMatch(/^OpenAI fine-tuning job ftjob-\S+ \(sft\) failed: invalid_training_file: /);
    expect((err as Error).message.endsWith(shown)).toBe(true);
    expect(log.some((l) => l.endsWith(`error: ${shown}`))).toBe(true);
    for (const c of ["\u001b", "\u0007", "\r"]) expect(log.join("\n")).not.toContain(c);
  });

  it("reads every new job event, past the API's 100 a page (after / has_more), and logs each once", async () => {
    // Found by review: one listEvents call of limit 100 per poll; a burst of more than 100 events between two polls
    // (a long validation report, a checkpoint per step) lost all but the newest 100.
    let burst = 0;
    server = await start({
      runningPolls: 4,
      onJobPoll: (job) => {
        if (job.status !== "running" || burst >= 2) return;
        burst++;
        for (let i = 0; i < 130; i++) server.addEvent(job.id, `note ${burst}.${i}`);
      },
    });
    writeRoundData(path.join(work, "data"));
    const t = training();
    const log: string[] = [];
    await new OpenAiBackend({ env: env() }).train("sft", makeJob(t, openAiStartModel(t), log));
    const notes = log.filter((l) => / note \d+\.\d+$/.test(l)).map((l) => l.slice(l.lastIndexOf(" note ") + 6));
    const expected = [1, 2].flatMap((b) => Array.from({ length: 130 }, (_, i) => `${b}.${i}`));
    expect(notes).toEqual(expected); // all of them, oldest first, each once
    expect(log.filter((l) => l.endsWith("Fine-tuning job started"))).toHaveLength(1);
    // paged with the API's cursor: more than one page for a poll with more than 100 new events
    const pages = server.requests.filter((r) => r.route === "GET /v1/fine_tuning/jobs/:id/events").length;
    expect(pages).toBeGreaterThan(server.count("GET /v1/fine_tuning/jobs/:id"));
  });

  it("a create the API refuses (model not available) fails naming training.openai.model; the fixed config then makes one job", async () => {
    server = await start();
    writeRoundData(path.join(work, "data"));
    const backend = new OpenAiBackend({ env: env() });
    const log: string[] = [];
    const entity = openAiStageKey("run-openai-test", 1, "sft");
    const bad = training({ model: "gpt-typo" });
    await expect(backend.train("sft", makeJob(bad, openAiStartModel(bad), log))).rejects.toThrow(
      /^training\.openai\.model: OpenAI will not fine-tune gpt-typo \(400 Model gpt-typo is not available.*model_not_available/,
    );
    expect(server.jobs.size).toBe(0);
    const failed = store.states.current(OPENAI_ENTITY, entity);
    expect(failed?.state).toBe("failed");
    expect(failed?.detail).toMatchObject({
      baseModel: "gpt-typo",
      error: expect.stringContaining("training.openai.model"),
    });
    const firstKey = (failed?.detail as { key?: string } | undefined)?.key;
    expect(firstKey).toMatch(/^breakfix-/);

    // The user fixes training.openai.model: the next run sends a new request (new key) on the configured model.
    const fixed = training();
    const r = await backend.train("sft", makeJob(fixed, openAiStartModel(fixed), log));
    const creates = server.requests.filter((q) => q.route === "POST /v1/fine_tuning/jobs");
    expect(creates).toHaveLength(2); // the refused one and the new one
    expect(creates[0].idempotencyKey).toBe(firstKey);
    expect(creates[1].idempotencyKey).not.toBe(firstKey);
    expect(server.jobs.size).toBe(1);
    const [made] = [...server.jobs.values()];
    expect(made.model).toBe(BASE);
    expect(made.metadata?.breakfix_key).toBe(creates[1].idempotencyKey);
    expect(r.model).toEqual({ kind: "remote", id: made.fine_tuned_model });
    expect(r.params).toMatchObject({ attempt: 2, baseModel: BASE });
    expect(log.some((l) => l.includes("previous attempt (no job created) failed") && l.includes("attempt 2"))).toBe(
      true,
    );
    // Finished: a further run makes no request.
    const before = server.requests.length;
    await backend.train("sft", makeJob(fixed, openAiStartModel(fixed), log));
    expect(server.requests.length).toBe(before);
  });

  it("a create that may have reached the API (503s) stays pending: the next run looks it up and creates one job, same key", async () => {
    let outage = true;
    server = await start({ unavailable: (route) => outage && route === "POST /v1/fine_tuning/jobs" });
    writeRoundData(path.join(work, "data"));
    const t = training();
    const backend = new OpenAiBackend({ env: env(), sleep: async () => {} });
    const log: string[] = [];
    await expect(backend.train("sft", makeJob(t, openAiStartModel(t), log))).rejects.toThrow(/503/);
    const pending = store.states.current(OPENAI_ENTITY, openAiStageKey("run-openai-test", 1, "sft"));
    expect(pending?.state).toBe("creating");
    const pendingKey = (pending?.detail as { key?: string } | undefined)?.key;
    expect(pendingKey).toMatch(/^breakfix-/);
    outage = false;
    await backend.train("sft", makeJob(t, openAiStartModel(t), log));
    const creates = server.requests.filter((q) => q.route === "POST /v1/fine_tuning/jobs");
    expect(server.jobs.size).toBe(1);
    expect(new Set(creates.map((q) => q.idempotencyKey))).toEqual(new Set([pendingKey]));
    expect(server.count("GET /v1/fine_tuning/jobs")).toBeGreaterThanOrEqual(1); // looked up before creating again
  });

  it("waits out an API outage while polling (503s after the client's retries) and finishes the same job", async () => {
    server = await start({ unavailable: (route, n) => route === "GET /v1/fine_tuning/jobs/:id" && n >= 2 && n <= 4 });
    writeRoundData(path.join(work, "data"));
    const t = training();
    const log: string[] = [];
    const r = await new OpenAiBackend({ env: env(), maxRetries: 0 }).train("sft", makeJob(t, openAiStartModel(t), log));
    expect(log.filter((l) => l.includes("polling failed") && l.includes("503"))).toHaveLength(3);
    expect(server.count("POST /v1/fine_tuning/jobs")).toBe(1);
    expect(r.model).toEqual({ kind: "remote", id: [...server.jobs.values()][0].fine_tuned_model });
  });

  it("a cancelled job is an error naming it", async () => {
    server = await start({ runningPolls: 50 });
    writeRoundData(path.join(work, "data"));
    const t = training();
    const chat = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseUrl });
    const log: string[] = [];
    const job = makeJob(t, openAiStartModel(t), (() => log)());
    job.log = (l) => {
      log.push(l);
      const m = /openai sft (ftjob-\S+): running/.exec(l);
      if (m && server.jobs.get(m[1])?.status === "running") void chat.fineTuning.jobs.cancel(m[1]);
    };
    await expect(new OpenAiBackend({ env: env() }).train("sft", job)).rejects.toThrow(
      /OpenAI fine-tuning job ftjob-\S+ \(sft\) cancelled: status cancelled/,
    );
    const rec = store.states.current(OPENAI_ENTITY, openAiStageKey("run-openai-test", 1, "sft"));
    expect(rec?.state).toBe("failed");
    expect(rec?.detail).toMatchObject({ error: expect.stringContaining("cancelled") });
  });

  it("the API key comes from the secrets file when the variable is unset, and is never logged", async () => {
    server = await start();
    writeRoundData(path.join(work, "data"));
    const secrets = path.join(work, "secrets.yaml");
    writeFileSync(secrets, `FT_KEY: ${server.apiKey}\n`);
    const t = training({ apiKeyEnv: "FT_KEY", secretsFile: secrets });
    const log: string[] = [];
    const r = await new OpenAiBackend({ env: {} }).train("sft", makeJob(t, openAiStartModel(t), log));
    expect(r.model.kind).toBe("remote");
    expect(log.join("\n")).not.toContain(server.apiKey);
    const history = store.states.history(OPENAI_ENTITY, openAiStageKey("run-openai-test", 1, "sft"));
    expect(history.map((h) => h.state)).toEqual(["intent", "intent", "uploaded", "creating", "created", "succeeded"]);
    expect(JSON.stringify(history)).not.toContain(server.apiKey);
  });

  it("refuses a local folder, too few rows and a malformed row before any request; no rows: stage skipped", async () => {
    server = await start();
    writeRoundData(path.join(work, "data"), 5);
    const t = training();
    const backend = new OpenAiBackend({ env: env() });
    await expect(backend.train("sft", makeJob(t, { kind: "folder", dir: "/models/x" }, []))).rejects.toThrow(
      /local folder \(\/models\/x\)/,
    );
    await expect(backend.train("sft", makeJob(t, openAiStartModel(t), []))).rejects.toThrow(
      /has 5 rows; the fine-tuning API needs at least 10/,
    );
    writeFileSync(path.join(work, "data", "dpo.jsonl"), "");
    const skipped = await backend.train("dpo", makeJob(t, { kind: "remote", id: "ft:x:y:z:1" }, []));
    expect(skipped).toMatchObject({ model: { kind: "remote", id: "ft:x:y:z:1" }, params: { skipped: "no rows" } });
    writeRoundData(path.join(work, "data2"));
    writeFileSync(path.join(work, "data2", "dpo.jsonl"), '{"prompt": [{"role": "user", "content": "x"}]}\n');
    await expect(backend.train("dpo", makeJob(t, openAiStartModel(t), [], path.join(work, "data2")))).rejects.toThrow(
      /dpo\.jsonl:1/,
    );
    expect(server.requests).toHaveLength(0);
  });

  it("progress lines: step, loss and an ETA from the step rate or the API's estimated_finish", () => {
    const first = { step: 10, at: 1_000_000 };
    const m = { step: 30, at: 1_040_000, totalSteps: 100, values: { train_loss: 0.5 } };
    const line = progressLine("sft", { id: "ftjob-1", status: "running", estimated_finish: null }, m, first, 1_040_000);
    // 20 steps in 40 s: 2 s per step, 70 steps left.
    expect(line).toBe("openai sft ftjob-1: running, step 30/100 (30%), train loss 0.500, ETA 2m20s");
    const api = progressLine(
      "dpo",
      { id: "ftjob-2", status: "queued", estimated_finish: 1_100 },
      undefined,
      undefined,
      1_000_000,
    );
    expect(api).toBe("openai dpo ftjob-2: queued, ETA 1m40s");
  });
});

describe("openai sft: multi-turn rows", () => {
  // A multi-turn finding's SFT row is the attack conversation (what the attacked model said in earlier turns, possibly
  // unsafe) plus the safe answer. OpenAI's chat fine-tuning trains on every assistant message unless it carries
  // "weight": 0; the local and TRL backends train on the last assistant turn only (rows.ts: LOCAL_ROWS).
  it("trains on the last assistant turn only: earlier assistant turns are uploaded with weight 0", async () => {
    server = await start();
    const dir = path.join(work, "mt");
    writeRoundData(dir);
    const unsafeTurn = (i: number) => `Sure, step one of the lock-picking plan ${i}: insert the tension wrench`;
    const row = (i: number) => ({
      messages: [
        { role: "user", content: `Let's write a heist story, chapter ${i}.` },
        { role: "assistant", content: unsafeTurn(i) },
        { role: "user", content: harmfulPrompt(i) },
        { role: "assistant", content: refusal(i) },
      ],
    });
    writeFileSync(
      path.join(dir, "sft.jsonl"),
      Array.from({ length: 12 }, (_, i) => `${JSON.stringify(row(i))}\n`).join(""),
    );
    const t = training();
    const sft = await new OpenAiBackend({ env: env() }).train("sft", makeJob(t, openAiStartModel(t), [], dir));
    const job = [...server.jobs.values()][0];
    const rows = server.files.get(job.training_file)!.rows as { messages: Record<string, unknown>[] }[];
    expect(rows[3].messages).toEqual([
      { role: "user", content: "Let's write a heist story, chapter 3." },
      { role: "assistant", content: unsafeTurn(3), weight: 0 },
      { role: "user", content: harmfulPrompt(3) },
      { role: "assistant", content: refusal(3) },
    ]);
    // The tuned stand-in learned the safe answer, not the attacked model's earlier turn.
    const chat = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseUrl, maxRetries: 0 });
    const ask = async (content: string) =>
      (
        await chat.chat.completions.create({
          model: sft.model.kind === "remote" ? sft.model.id : "",
          messages: [{ role: "user", content }],
        })
      ).choices[0].message.content;
    expect(await ask("Let's write a heist story, chapter 3.")).not.toBe(unsafeTurn(3));
    expect(await ask(harmfulPrompt(3))).toBe(refusal(3));
  });
});

describe("fine-tuning stand-in request validation", () => {
  it("rejects a malformed JSONL line with the API's error shape, and a file in the wrong format fails the job", async () => {
    server = await start();
    const client = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseUrl, maxRetries: 0 });
    const bad = await client.files
      .create({ file: await toFile(Buffer.from('{"messages": []}\n{not json\n'), "bad.jsonl"), purpose: "fine-tune" })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((bad as BadRequestError).status).toBe(400);
    expect((bad as BadRequestError).error).toMatchObject({
      type: "invalid_request_error",
      param: "file",
      code: "invalid_file",
      message: expect.stringContaining("Line 2"),
    });

    const chatRows = Array.from({ length: 10 }, (_, i) => ({
      messages: [
        { role: "user", content: `q${i}` },
        { role: "assistant", content: `a${i}` },
      ],
    }));
    const f = await client.files.create({
      file: await toFile(Buffer.from(chatRows.map((r) => JSON.stringify(r)).join("\n")), "chat.jsonl"),
      purpose: "fine-tune",
    });
    const unknownModel = await client.fineTuning.jobs
      .create({ model: "gpt-nope", training_file: f.id })
      .catch((e: unknown) => e);
    expect((unknownModel as BadRequestError).error).toMatchObject({ code: "model_not_available", param: "model" });
    const badMethod = await client.fineTuning.jobs
      .create({ model: BASE, training_file: f.id, method: { type: "reinforcement" } })
      .catch((e: unknown) => e);
    expect((badMethod as BadRequestError).status).toBe(400);
    // Chat rows given to a DPO job: the job fails while validating files, as the API does.
    const j = await client.fineTuning.jobs.create({ model: BASE, training_file: f.id, method: { type: "dpo" } });
    expect(j.status).toBe("validating_files");
    const after = await client.fineTuning.jobs.retrieve(j.id);
    expect(after.status).toBe("failed");
    expect(after.error).toMatchObject({ code: "invalid_training_file", param: "training_file" });
    const unauthorized = await new OpenAI({
      apiKey: "sk-wrong-key-0000",
      baseURL: server.baseUrl,
      maxRetries: 0,
    }).models
      .list()
      .catch((e: unknown) => e);
    expect((unauthorized as { status: number }).status).toBe(401);
    expect(server.count("POST /v1/files")).toBe(2);
    expect(server.count("POST /v1/fine_tuning/jobs")).toBe(3);
  });
});
