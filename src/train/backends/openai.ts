/**
 * Training backend `openai`: a round's post-training as OpenAI fine-tuning jobs, through the official `openai` client.
 *
 * - sft: the round's SFT rows (TRL conversational {messages}) become OpenAI chat fine-tuning rows ({messages}), are
 *   uploaded with purpose "fine-tune" (and the validation rows, when there are any), and a supervised job runs on
 *   `job.from` (round 1: training.openai.model, see `openAiStartModel`).
 * - dpo: the preference pairs (TRL {prompt, chosen, rejected}) become OpenAI preference rows ({input: {messages},
 *   preferred_output, non_preferred_output}) and a DPO job (`method: {type: "dpo"}`, beta from training.dpo.beta)
 *   runs on the SFT result.
 *
 * Exactly one job per stage, even when the process is killed at any point: before anything is created, an intent with
 * a client-generated key is written to the store (states entity `train.openai`, keyed by run, round and stage); the
 * key goes into the job's metadata (`breakfix_key`) and the request's Idempotency-Key header, and into the uploaded
 * files' names. File ids and the job id are stored as soon as they are known. A re-run whose record says a create
 * request may have been sent without its answer being stored looks the job up by its metadata (jobs.list) before it
 * creates one; an upload that may have happened is looked up by file name. A finished stage is returned from the
 * store with no API call. A failed or cancelled job is an error naming the job and the API's error; the next call
 * starts a new attempt (a new key), since nothing of a failed job can be reused. A create request the API refuses
 * outright (a 4xx: e.g. a model that cannot be fine-tuned, named as training.openai.model when it came from there) is
 * recorded failed the same way, so the next run sends a new request built from the config as it is then.
 *
 * Before a job is created, a cost estimate is logged: training-file tokens (counted as characters / 4 over the
 * message texts, a rough rule for English; the API's own count is the job's `trained_tokens`) x epochs x
 * training.openai.trainingPerMTok. The API key comes from training.openai.apiKeyEnv / secretsFile (models/secrets.ts)
 * and is never logged (every message we log or throw passes redactSecrets). What the API says (job events, a failed
 * job's error, which may quote the training data) is shown escaped for the terminal. Job events are read newest first,
 * every page of them new since the last poll (`after` the page's last id while `has_more`; newEvents).
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI, { APIError, toFile } from "openai";
import type { Config } from "../../config/schema.ts";
import { redactedForTerminal, resolveApiKey } from "../../models/secrets.ts";
import { keyHash } from "../../store/store.ts";
import { parsePreferenceJsonl, parseSftJsonl } from "../jsonl.ts";
import type { BackendJob, ModelRef, StageResult, TrainingBackend } from "./types.ts";

/** The store entity of the per-stage job records (states table; latest row wins). */
export const OPENAI_ENTITY = "train.openai";

/** The states-table hash of one stage's record (entity OPENAI_ENTITY). */
export const openAiStageKey = (runId: string, round: number, stage: "sft" | "dpo"): string =>
  keyHash({ runId, round, stage });

/** OpenAI rejects training files with fewer examples than this. */
export const OPENAI_MIN_EXAMPLES = 10;

type Stage = "sft" | "dpo";
type OpenAiSettings = NonNullable<Config["training"]["openai"]>;

interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
  /** Assistant messages only: 0 = not trained on (OpenAI's chat fine-tuning format; absent = 1). */
  weight?: 0 | 1;
}
/** One row of OpenAI's chat fine-tuning format. */
export interface OpenAiChatRow {
  messages: ChatMessage[];
}
/** One row of OpenAI's preference (DPO) format. */
export interface OpenAiPreferenceRow {
  input: { messages: ChatMessage[] };
  preferred_output: ChatMessage[];
  non_preferred_output: ChatMessage[];
}

/** What the store holds for one stage; each state row carries the whole record so far. */
export interface OpenAiStageRecord {
  attempt: number;
  /** Client-generated idempotency key of this attempt. */
  key: string;
  baseModel: string;
  dataSha: string;
  trainingFile?: string;
  validationFile?: string;
  jobId?: string;
  fineTunedModel?: string;
  trainedTokens?: number;
  steps?: number;
  final?: Record<string, number | undefined>;
  hyperparameters?: Record<string, unknown>;
  estimate?: CostEstimate;
  error?: string;
}

/** States of a stage record, in order. `creating`: the create request may have been sent. */
export type OpenAiStageState = "intent" | "uploaded" | "creating" | "created" | "succeeded" | "failed";

export interface CostEstimate {
  rows: number;
  /** Tokens of one pass over the training file (characters / 4). */
  tokensPerEpoch: number;
  tokenizer: "characters/4";
  /** Epochs the estimate assumes (the configured ones; "auto" is estimated as 1 and said so). */
  epochs: number;
  epochsAuto: boolean;
  trainingTokens: number;
  /** USD, when training.openai.trainingPerMTok is set. */
  usd?: number;
}

export interface OpenAiBackendOptions {
  /** A ready client (tests); default: one built from training.openai and the resolved API key. */
  client?: OpenAI;
  /** Environment for the API key lookup (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The client's own retries per request (default 4; the create request is never retried by the client). */
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The model round 1 starts from when training runs at OpenAI: training.openai.model. */
export function openAiStartModel(training: Config["training"]): ModelRef {
  if (!training.openai) throw new Error("training.openai: required when training.backend is openai (needs model)");
  return { kind: "remote", id: training.openai.model };
}

/** Rough token count: characters / 4. */
export const roughTokens = (text: string): number => Math.ceil(text.length / 4);

const plain = (m: { role: string; content: string }): ChatMessage => ({
  role: m.role as ChatMessage["role"],
  content: m.content,
});

/**
 * TRL conversational SFT JSONL -> OpenAI chat fine-tuning rows, trained on the last assistant turn only, as the local
 * and TRL backends are (rows.ts): OpenAI trains on every assistant message unless it has `weight: 0`, and the earlier
 * assistant turns of a multi-turn finding are what the attacked model said (possibly unsafe): context, never a target.
 */
export function toOpenAiChatRows(text: string, file: string): OpenAiChatRow[] {
  return parseSftJsonl(text, file).map((r) => {
    const last = r.messages.findLastIndex((m) => m.role === "assistant");
    return {
      messages: r.messages.map((m, i) =>
        m.role === "assistant" && i !== last ? { ...plain(m), weight: 0 as const } : plain(m),
      ),
    };
  });
}

/** TRL conversational preference JSONL -> OpenAI preference rows (one assistant message per side). */
export function toOpenAiPreferenceRows(text: string, file: string): OpenAiPreferenceRow[] {
  return parsePreferenceJsonl(text, file).map((r, i) => {
    for (const side of ["chosen", "rejected"] as const)
      if (r[side].length !== 1)
        throw new Error(
          `${file}: row ${i + 1}: ${side} has ${r[side].length} messages; OpenAI preference rows take exactly one assistant message per side`,
        );
    return {
      input: { messages: r.prompt.map(plain) },
      preferred_output: r.chosen.map(plain),
      non_preferred_output: r.rejected.map(plain),
    };
  });
}

function rowText(row: OpenAiChatRow | OpenAiPreferenceRow): string {
  if ("messages" in row) return row.messages.map((m) => m.content).join("");
  return [...row.input.messages, ...row.preferred_output, ...row.non_preferred_output].map((m) => m.content).join("");
}

/** The estimate logged before a job starts. */
export function estimateCost(
  rows: readonly (OpenAiChatRow | OpenAiPreferenceRow)[],
  epochs: number | undefined,
  perMTok: number | undefined,
): CostEstimate {
  const tokensPerEpoch = rows.reduce((n, r) => n + roughTokens(rowText(r)), 0);
  const e = epochs ?? 1;
  const trainingTokens = tokensPerEpoch * e;
  return {
    rows: rows.length,
    tokensPerEpoch,
    tokenizer: "characters/4",
    epochs: e,
    epochsAuto: epochs === undefined,
    trainingTokens,
    ...(perMTok === undefined ? {} : { usd: (trainingTokens / 1e6) * perMTok }),
  };
}

export function formatEstimate(stage: Stage, est: CostEstimate, perMTok: number | undefined): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const epochs = est.epochsAuto
    ? `1 epoch (epochs: auto; the API chooses, each epoch costs the same)`
    : `${est.epochs} epochs`;
  const cost =
    est.usd === undefined
      ? "cost: set training.openai.trainingPerMTok (USD per million training tokens) for a price"
      : `estimated cost $${est.usd.toFixed(2)} at $${perMTok}/M training tokens`;
  return `openai ${stage}: cost estimate: ${n(est.rows)} rows, ~${n(est.tokensPerEpoch)} tokens per epoch (characters/4) x ${epochs} = ~${n(est.trainingTokens)} training tokens; ${cost}`;
}

const sha = (text: string): string => keyHash({ text });

const readOptional = (file: string | undefined): string =>
  file !== undefined && existsSync(file) ? readFileSync(file, "utf8") : "";

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

const toJsonl = (rows: readonly unknown[]): string => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

function fmtDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Consecutive failed polls (after the client's own retries) before a stage gives up; a re-run re-attaches. */
const MAX_POLL_FAILURES = 8;

/** Pages of job events (100 each, the API's most) read in one poll at most. */
const EVENT_PAGES = 20;

/**
 * The job's events not in `seen`, newest first, as GET /fine_tuning/jobs/{id}/events lists them: pages of 100 (the
 * most `limit` takes), each next one asked `after` the last event id of the page before, while `has_more` says there
 * are more and no event of the page was seen already (older ones were, at an earlier poll). `more`: EVENT_PAGES pages
 * were read and older new events are left unread.
 */
async function newEvents(
  client: OpenAI,
  jobId: string,
  seen: ReadonlySet<string>,
): Promise<{ fresh: OpenAI.FineTuning.Jobs.FineTuningJobEvent[]; more: boolean }> {
  const fresh: OpenAI.FineTuning.Jobs.FineTuningJobEvent[] = [];
  // the SDK's cursor pagination asks each next page `after` the last id while has_more
  for await (const e of client.fineTuning.jobs.listEvents(jobId, { limit: 100 })) {
    if (seen.has(e.id)) return { fresh, more: false };
    if (fresh.length === EVENT_PAGES * 100) return { fresh, more: true };
    fresh.push(e);
  }
  return { fresh, more: false };
}

/** Errors worth another try: no answer, 408/409/429 or a 5xx. */
function transient(err: unknown): boolean {
  if (!(err instanceof APIError)) return false;
  return (
    err.status === undefined || err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500
  );
}

/** A definite answer to a request: the API refused it, so nothing was created (a 4xx other than 408/409/429). */
function rejected(err: unknown): err is APIError {
  return (
    err instanceof APIError && err.status !== undefined && err.status >= 400 && err.status < 500 && !transient(err)
  );
}

/** The error of a refused create request; a base model the API will not tune names the config key it came from. */
function createRejection(stage: Stage, baseModel: string, configured: string, err: APIError): string {
  const api = `${err.message}${err.code ? ` [${err.code}]` : ""}`; // the message starts with the status
  const modelRefused = err.param === "model" || err.code === "model_not_available" || err.code === "model_not_found";
  if (modelRefused && baseModel === configured)
    return `training.openai.model: OpenAI will not fine-tune ${baseModel} (${api}); set training.openai.model to a model that can be fine-tuned and run again (no job was created)`;
  if (modelRefused)
    return `openai ${stage}: OpenAI will not fine-tune ${baseModel}, the model this stage starts from (${api}); no job was created`;
  return `openai ${stage}: OpenAI refused to create the fine-tuning job on ${baseModel} (${api}); no job was created, the next run starts a new attempt`;
}

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

export interface FineTuneMetrics {
  step: number;
  /** When the event was written (ms). */
  at: number;
  totalSteps?: number;
  values: Record<string, number>;
}

export class OpenAiBackend implements TrainingBackend {
  readonly id = "openai";
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly opts: OpenAiBackendOptions = {}) {
    this.sleep = opts.sleep ?? ((ms) => sleep(ms));
    this.now = opts.now ?? Date.now;
  }

  async train(stage: Stage, job: BackendJob): Promise<StageResult> {
    try {
      return await this.run(stage, job);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const msg = redactedForTerminal(e.message);
      if (msg !== e.message) e.message = msg;
      throw e;
    }
  }

  private client(cfg: OpenAiSettings): OpenAI {
    if (this.opts.client) return this.opts.client;
    const apiKey = resolveApiKey({ apiKeyEnv: cfg.apiKeyEnv, secretsFile: cfg.secretsFile }, this.opts.env);
    return new OpenAI({ apiKey, baseURL: cfg.baseUrl, maxRetries: this.opts.maxRetries ?? 4 });
  }

  private async run(stage: Stage, job: BackendJob): Promise<StageResult> {
    const cfg = job.training.openai;
    if (!cfg) throw new Error("training.openai: required when training.backend is openai (needs model)");
    if (job.from.kind !== "remote")
      throw new Error(
        `openai ${stage}: the fine-tuning API trains models that live at OpenAI; got a local folder (${job.from.dir}). ` +
          "Start round 1 from training.openai.model (openAiStartModel) and later rounds from the previous fine-tuned id",
      );
    const log = (line: string) => job.log(redactedForTerminal(line, { oneLine: true }));
    const progress = (line: string) => (job.progress ?? job.log)(redactedForTerminal(line, { oneLine: true }));
    const entity = openAiStageKey(job.runId, job.round, stage);
    const states = job.store.states;
    const saved = states.current(OPENAI_ENTITY, entity);
    let state = saved?.state as OpenAiStageState | undefined;
    let rec = saved?.detail as OpenAiStageRecord | undefined;
    const save = (s: OpenAiStageState, r: OpenAiStageRecord) => {
      states.set(OPENAI_ENTITY, entity, s, r);
      state = s;
      rec = r;
    };

    if (state === "succeeded" && rec?.fineTunedModel) {
      log(`openai ${stage}: round ${job.round} already trained by job ${rec.jobId}: ${rec.fineTunedModel}`);
      return this.result(stage, rec);
    }

    // The data, converted (cheap, and checked before any request).
    const trainText = readOptional(stage === "sft" ? job.data.sft : job.data.dpo);
    const valText = readOptional(stage === "sft" ? job.data.sftVal : job.data.dpoVal);
    const trainFile = stage === "sft" ? job.data.sft : job.data.dpo;
    const valFile = (stage === "sft" ? job.data.sftVal : job.data.dpoVal) ?? "<val>";
    const convert = (text: string, file: string) =>
      text.trim() === "" ? [] : stage === "sft" ? toOpenAiChatRows(text, file) : toOpenAiPreferenceRows(text, file);
    const trainRows = convert(trainText, trainFile);
    const valRows = convert(valText, valFile);
    if (trainRows.length === 0) {
      log(`openai ${stage}: ${trainFile} has no rows; nothing to train, the model stays ${job.from.id}`);
      return { stage, model: job.from, params: { backend: "openai", skipped: "no rows", baseModel: job.from.id } };
    }
    if (trainRows.length < OPENAI_MIN_EXAMPLES)
      throw new Error(
        `openai ${stage}: ${trainFile} has ${trainRows.length} rows; the fine-tuning API needs at least ${OPENAI_MIN_EXAMPLES}`,
      );
    const trainJsonl = toJsonl(trainRows);
    const valJsonl = valRows.length > 0 ? toJsonl(valRows) : "";
    const dataSha = sha(trainJsonl + "\u0000" + valJsonl);
    // The files as uploaded, kept in the round's folder for inspection.
    mkdirSync(job.outDir, { recursive: true });
    writeAtomic(path.join(job.outDir, `openai-${stage}-train.jsonl`), trainJsonl);
    if (valJsonl) writeAtomic(path.join(job.outDir, `openai-${stage}-val.jsonl`), valJsonl);

    if (state === "failed" || state === undefined) {
      const attempt = (rec?.attempt ?? 0) + 1;
      if (state === "failed")
        log(
          `openai ${stage}: the previous ${rec?.jobId ? `job ${rec.jobId}` : "attempt (no job created)"} failed (${rec?.error}); starting attempt ${attempt}`,
        );
      save("intent", { attempt, key: `breakfix-${randomUUID()}`, baseModel: job.from.id, dataSha });
    } else if (rec && rec.dataSha !== dataSha) {
      log(
        `openai ${stage}: warning: the round's data changed since job ${rec.jobId ?? "(pending)"} was started; resuming that job (the record is keyed by run, round and stage)`,
      );
    }
    const client = this.client(cfg);
    const key = rec!.key;
    const filename = (kind: "train" | "val") => `${key}-${stage}-${kind}.jsonl`;

    // Uploads (an earlier process may have uploaded without storing the id: look for the file by name first).
    if (state === "intent") {
      const resumed = saved?.state === "intent";
      const upload = async (kind: "train" | "val", text: string): Promise<string> => {
        const name = filename(kind);
        if (resumed) {
          const found = await this.findFile(client, name);
          if (found) {
            log(`openai ${stage}: found the ${kind} file ${found} uploaded before the interruption`);
            return found;
          }
        }
        const f = await client.files.create({
          file: await toFile(Buffer.from(text, "utf8"), name, { type: "application/jsonl" }),
          purpose: "fine-tune",
        });
        log(`openai ${stage}: uploaded ${name} as ${f.id} (${f.bytes} bytes)`);
        return f.id;
      };
      if (!rec!.trainingFile) save("intent", { ...rec!, trainingFile: await upload("train", trainJsonl) });
      const validationFile = valJsonl ? await upload("val", valJsonl) : undefined;
      save("uploaded", { ...rec!, ...(validationFile ? { validationFile } : {}) });
    }

    // The job: look it up when a create may have been sent, else create it.
    if (state === "uploaded" || state === "creating") {
      const cur = rec!;
      let jobId: string | undefined;
      if (state === "creating") {
        jobId = await this.findJob(client, cur.key);
        if (jobId) log(`openai ${stage}: found job ${jobId} created before the interruption (metadata breakfix_key)`);
      }
      if (!jobId) {
        const epochs = cfg.epochs;
        const estimate = estimateCost(trainRows, epochs, cfg.trainingPerMTok);
        log(formatEstimate(stage, estimate, cfg.trainingPerMTok));
        save("creating", { ...cur, estimate });
        try {
          jobId = await this.create(client, stage, job, cfg, rec!, log);
        } catch (err) {
          // Only a definite rejection (a 4xx other than 408/409/429) proves no job exists: the attempt is recorded
          // failed, so the next run starts a new one (new key, the config as it is then) instead of re-sending this
          // request forever. Anything else may have reached the API and stays `creating` (the next run looks it up).
          if (!rejected(err)) throw err;
          const error = createRejection(stage, rec!.baseModel, cfg.model, err);
          save("failed", { ...rec!, error });
          throw new Error(error, { cause: err });
        }
      }
      save("created", { ...rec!, jobId });
    }

    return this.poll(stage, client, cfg, rec!, { log, progress }, save);
  }

  private hyperparameters(stage: Stage, job: BackendJob, cfg: OpenAiSettings): Record<string, number> {
    const hp: Record<string, number> = {};
    if (cfg.epochs !== undefined) hp.n_epochs = cfg.epochs;
    if (cfg.batchSize !== undefined) hp.batch_size = cfg.batchSize;
    if (cfg.learningRateMultiplier !== undefined) hp.learning_rate_multiplier = cfg.learningRateMultiplier;
    if (stage === "dpo") hp.beta = job.training.dpo.beta;
    return hp;
  }

  /** One create request, never retried blindly: after a failure that may have reached the API, look it up first. */
  private async create(
    client: OpenAI,
    stage: Stage,
    job: BackendJob,
    cfg: OpenAiSettings,
    rec: OpenAiStageRecord,
    log: (line: string) => void,
  ): Promise<string> {
    const hyperparameters = this.hyperparameters(stage, job, cfg);
    const method: OpenAI.FineTuning.JobCreateParams.Method =
      stage === "sft"
        ? { type: "supervised", supervised: { hyperparameters } }
        : { type: "dpo", dpo: { hyperparameters } };
    const body: OpenAI.FineTuning.JobCreateParams = {
      model: rec.baseModel,
      training_file: rec.trainingFile!,
      ...(rec.validationFile ? { validation_file: rec.validationFile } : {}),
      method,
      suffix: cfg.suffix ?? `bf-r${job.round}-${stage}`,
      seed: job.training.seed,
      metadata: {
        breakfix_key: rec.key,
        breakfix_run: job.runId.slice(0, 512),
        breakfix_round: String(job.round),
        breakfix_stage: stage,
      },
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const created = await client.fineTuning.jobs.create(body, {
          maxRetries: 0,
          idempotencyKey: rec.key,
          headers: { "Idempotency-Key": rec.key },
        });
        log(`openai ${stage}: created job ${created.id} (${method.type} on ${rec.baseModel}, key ${rec.key})`);
        return created.id;
      } catch (err) {
        // A 4xx is a definite answer: this request created nothing. After an earlier try that may have reached the
        // API, look that one up first, so the caller's "no job was created" holds.
        if (!transient(err)) {
          const found = attempt > 1 ? await this.findJob(client, rec.key) : undefined;
          if (found) return found;
          throw err;
        }
        if (attempt >= 4) throw err;
        const found = await this.findJob(client, rec.key);
        if (found) return found;
        log(`openai ${stage}: creating the job failed (${(err as Error).message}); retrying (${attempt}/3)`);
        await this.sleep(1000 * attempt);
      }
    }
  }

  /** The job created with this key, if any (newest first; metadata filter, checked again here). */
  private async findJob(client: OpenAI, key: string): Promise<string | undefined> {
    let seen = 0;
    for await (const j of client.fineTuning.jobs.list({ metadata: { breakfix_key: key }, limit: 100 })) {
      if (j.metadata?.breakfix_key === key) return j.id;
      if (++seen >= 1000) break;
    }
    return undefined;
  }

  private async findFile(client: OpenAI, name: string): Promise<string | undefined> {
    let seen = 0;
    for await (const f of client.files.list({ purpose: "fine-tune", limit: 100 })) {
      if (f.filename === name) return f.id;
      if (++seen >= 1000) break;
    }
    return undefined;
  }

  private async poll(
    stage: Stage,
    client: OpenAI,
    cfg: OpenAiSettings,
    rec: OpenAiStageRecord,
    { log, progress }: { log: (line: string) => void; progress: (line: string) => void },
    save: (s: OpenAiStageState, r: OpenAiStageRecord) => void,
  ): Promise<StageResult> {
    const jobId = rec.jobId!;
    const seen = new Set<string>();
    let metrics: FineTuneMetrics | undefined;
    let firstMetric: FineTuneMetrics | undefined;
    let lastLine = "";
    let failures = 0;
    for (;;) {
      let j: OpenAI.FineTuning.FineTuningJob;
      let fresh: OpenAI.FineTuning.Jobs.FineTuningJobEvent[];
      let more: boolean;
      try {
        j = await client.fineTuning.jobs.retrieve(jobId);
        ({ fresh, more } = await newEvents(client, jobId, seen));
        failures = 0;
      } catch (err) {
        // A definite answer (bad key, unknown job) stops; an outage is waited out (the job runs on without us).
        if (!transient(err) || ++failures > MAX_POLL_FAILURES) throw err;
        const wait = Math.min(cfg.pollSeconds * 1000 * 2 ** failures, 300_000);
        log(
          `openai ${stage} ${jobId}: polling failed (${(err as Error).message}); retrying in ${fmtDuration(wait / 1000)} (${failures}/${MAX_POLL_FAILURES})`,
        );
        await this.sleep(wait);
        continue;
      }
      if (more)
        log(
          `openai ${stage} ${jobId}: more than ${EVENT_PAGES * 100} new events since the last poll; the older ones are not shown`,
        );
      for (const e of fresh.reverse()) {
        seen.add(e.id);
        const m = metricsOf(e);
        if (m) {
          metrics = m;
          firstMetric ??= m;
        } else if (e.message) log(`openai ${stage} ${jobId}: ${e.level === "info" ? "" : `${e.level}: `}${e.message}`);
      }
      if (TERMINAL.has(j.status)) {
        if (j.status !== "succeeded" || !j.fine_tuned_model) {
          const why = j.error ? `${j.error.code}: ${j.error.message}` : `status ${j.status}`;
          const error = `OpenAI fine-tuning job ${jobId} (${stage}) ${j.status}: ${why}`;
          save("failed", { ...rec, error });
          throw new Error(error);
        }
        const done: OpenAiStageRecord = {
          ...rec,
          fineTunedModel: j.fine_tuned_model,
          ...(j.trained_tokens != null ? { trainedTokens: j.trained_tokens } : {}),
          ...(metrics ? { steps: metrics.totalSteps ?? metrics.step, final: metrics.values } : {}),
          hyperparameters: reportedHyperparameters(j),
        };
        save("succeeded", done);
        log(
          `openai ${stage}: job ${jobId} succeeded: ${j.fine_tuned_model} (${j.trained_tokens ?? "?"} trained tokens)`,
        );
        return this.result(stage, done);
      }
      const line = progressLine(stage, j, metrics, firstMetric, this.now());
      if (line !== lastLine) progress(line);
      lastLine = line;
      await this.sleep(cfg.pollSeconds * 1000);
    }
  }

  private result(stage: Stage, rec: OpenAiStageRecord): StageResult {
    return {
      stage,
      model: { kind: "remote", id: rec.fineTunedModel! },
      ...(rec.steps !== undefined ? { steps: rec.steps } : {}),
      ...(rec.final ? { final: rec.final } : {}),
      params: {
        backend: "openai",
        jobId: rec.jobId,
        baseModel: rec.baseModel,
        trainingFile: rec.trainingFile,
        ...(rec.validationFile ? { validationFile: rec.validationFile } : {}),
        trainedTokens: rec.trainedTokens,
        hyperparameters: rec.hyperparameters,
        idempotencyKey: rec.key,
        attempt: rec.attempt,
        ...(rec.estimate ? { estimate: rec.estimate } : {}),
      },
    };
  }
}

/** The hyperparameters the API resolved ("auto" replaced), from the method section or the legacy field. */
function reportedHyperparameters(j: OpenAI.FineTuning.FineTuningJob): Record<string, unknown> {
  const m = j.method;
  const section = m?.type === "dpo" ? m.dpo : m?.type === "supervised" ? m.supervised : undefined;
  return { ...(section?.hyperparameters ?? j.hyperparameters ?? {}) };
}

function metricsOf(e: OpenAI.FineTuning.Jobs.FineTuningJobEvent): FineTuneMetrics | undefined {
  if (e.type !== "metrics" || typeof e.data !== "object" || e.data === null) return undefined;
  const d = e.data as Record<string, unknown>;
  if (typeof d.step !== "number") return undefined;
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(d))
    if (typeof v === "number" && k !== "step" && k !== "total_steps") values[k] = v;
  return {
    step: d.step,
    at: e.created_at * 1000,
    ...(typeof d.total_steps === "number" ? { totalSteps: d.total_steps } : {}),
    values,
  };
}

/** "openai sft ftjob-x: running, step 40/120 (33%), train_loss 0.512, ETA 4m10s". */
export function progressLine(
  stage: Stage,
  j: Pick<OpenAI.FineTuning.FineTuningJob, "id" | "status" | "estimated_finish">,
  m: FineTuneMetrics | undefined,
  first: Pick<FineTuneMetrics, "step" | "at"> | undefined,
  nowMs: number,
): string {
  const parts = [`openai ${stage} ${j.id}: ${j.status}`];
  if (m) {
    parts.push(
      m.totalSteps
        ? `step ${m.step}/${m.totalSteps} (${Math.floor((100 * m.step) / m.totalSteps)}%)`
        : `step ${m.step}`,
    );
    if (m.values.train_loss !== undefined) parts.push(`train loss ${m.values.train_loss.toFixed(3)}`);
  }
  let eta: number | undefined;
  if (j.estimated_finish) eta = j.estimated_finish - nowMs / 1000;
  else if (m?.totalSteps && first && m.step > first.step && m.at > first.at) {
    // The step rate between the first and the latest metrics events, from the latest one on.
    const perStep = (m.at - first.at) / 1000 / (m.step - first.step);
    eta = perStep * (m.totalSteps - m.step) - Math.max(0, nowMs - m.at) / 1000;
  }
  if (eta !== undefined) parts.push(`ETA ${fmtDuration(eta)}`);
  return parts.join(", ");
}
