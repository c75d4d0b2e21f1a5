/**
 * A local stand-in for OpenAI's fine-tuning API, written from the API reference (files, fine_tuning.jobs, events,
 * cancel, models, chat completions), for tests of the `openai` training backend through the official client. hono on
 * 127.0.0.1, random port.
 *
 * - Files: POST /v1/files (multipart: file, purpose) checks that every line of a fine-tune file is a JSON object and
 *   answers 400 with the API's error shape otherwise; GET /v1/files (cursor list, purpose filter), GET /v1/files/{id},
 *   GET /v1/files/{id}/content.
 * - Jobs: POST /v1/fine_tuning/jobs checks the model, the files (purpose fine-tune) and `method`; the training file's
 *   rows are checked against the method's format (chat rows for supervised, preference rows for dpo) while the job is
 *   `validating_files`, and a mismatch fails the job with `invalid_training_file`, as the API does. Each GET of a job
 *   moves it on: validating_files -> queued -> running (metrics events with step/total_steps) -> succeeded, with
 *   `fine_tuned_model` = `ft:{base}:{organization}:{suffix}:{short id}` (the base of a fine-tuned model is its root).
 *   GET /v1/fine_tuning/jobs lists newest first with `metadata[k]=v` filters; events newest first; POST .../cancel.
 * - Models: GET /v1/models, GET /v1/models/{id} (base models plus finished fine-tunes).
 * - POST /v1/chat/completions: a base model answers a fixed compliant text; a fine-tuned model answers a prompt from its
 *   training data (its own or an ancestor's) with the trained assistant answer (the preferred one for DPO) and
 *   otherwise as the model it was tuned from.
 *
 * Every request is counted by route ("POST /v1/fine_tuning/jobs" ...), so tests can assert how many jobs were created.
 * Hooks (`onFileCreated`, `onJobCreated`, `onJobPoll`) run inside the request handler before the answer goes out, so a test can kill a
 * client process at an exact point of the protocol.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { type Context, Hono } from "hono";

export type JobStatus = "validating_files" | "queued" | "running" | "succeeded" | "failed" | "cancelled";

interface ChatMessage {
  role: string;
  content: string;
  /** Assistant messages of chat fine-tuning rows: 0 = not trained on. */
  weight?: number;
}

export interface StandInFile {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: "processed";
  /** Parsed JSONL rows (not part of the API object). */
  rows: unknown[];
  text: string;
}

export interface JobError {
  code: string;
  message: string;
  param: string | null;
}

export interface StandInJob {
  id: string;
  object: "fine_tuning.job";
  created_at: number;
  error: JobError | null;
  fine_tuned_model: string | null;
  finished_at: number | null;
  hyperparameters: Record<string, unknown>;
  model: string;
  organization_id: string;
  result_files: string[];
  seed: number;
  status: JobStatus;
  trained_tokens: number | null;
  training_file: string;
  validation_file: string | null;
  estimated_finish: number | null;
  metadata: Record<string, string> | null;
  method: { type: "supervised" | "dpo"; supervised?: unknown; dpo?: unknown };
  suffix: string | null;
  /** Stand-in state (not sent). */
  polls: number;
  step: number;
  totalSteps: number;
}

export interface FineTuneServerOptions {
  /** Base models that can be fine-tuned and chatted with. */
  baseModels?: string[];
  /** The bearer token every request must carry (default: a random one, see FineTuneServer.apiKey). */
  apiKey?: string;
  organization?: string;
  /** GETs a job spends in validating_files and in queued (default 1 each). */
  validatingPolls?: number;
  queuedPolls?: number;
  /** GETs a job spends running (steps are spread over them; default 3). */
  runningPolls?: number;
  /** Fails a job when it would start running: the job's `error`. */
  failJob?: (job: StandInJob) => JobError | undefined;
  /** Runs inside POST /v1/files after the file exists, before the answer is sent. */
  onFileCreated?: (file: StandInFile) => void | Promise<void>;
  /** Runs inside POST /v1/fine_tuning/jobs after the job exists, before the answer is sent. */
  onJobCreated?: (job: StandInJob) => void | Promise<void>;
  /** Runs inside GET /v1/fine_tuning/jobs/{id} after the job moved on, before the answer is sent. */
  onJobPoll?: (job: StandInJob) => void | Promise<void>;
  /** Answers 503 (server_error) instead of handling the request when it returns true; n counts the route's requests. */
  unavailable?: (route: string, n: number) => boolean;
  /** Seconds per training step for estimated_finish while running (default 1; 0: never set). */
  secondsPerStep?: number;
  /** What a base model answers. */
  compliantText?: string;
}

export interface RecordedRequest {
  route: string;
  idempotencyKey?: string;
  body?: unknown;
}

export interface FineTuneServer {
  baseUrl: string;
  apiKey: string;
  /** Requests answered, by route ("POST /v1/fine_tuning/jobs", "GET /v1/fine_tuning/jobs/:id" ...). */
  counts: Record<string, number>;
  count(route: string): number;
  requests: RecordedRequest[];
  files: Map<string, StandInFile>;
  jobs: Map<string, StandInJob>;
  /** Adds a message event to a job (as the API's own events: newest first in GET .../events). */
  addEvent(jobId: string, message: string, level?: "info" | "warn" | "error"): void;
  close(): Promise<void>;
}

const DEFAULT_BASES = ["gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14", "gpt-4.1-nano-2025-04-14"];
const ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);

const id = (prefix: string): string => `${prefix}${randomBytes(12).toString("base64url").replace(/[-_]/g, "x")}`;
const nowSec = (): number => Math.floor(Date.now() / 1000);
const tokens = (text: string): number => Math.ceil(text.length / 4);

function apiError(c: Context, status: 400 | 401 | 404, message: string, param: string | null = null, code?: string) {
  return c.json({ error: { message, type: "invalid_request_error", param, code: code ?? null } }, status);
}

function isMessages(v: unknown): v is ChatMessage[] {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every(
      (m) =>
        typeof m === "object" &&
        m !== null &&
        ROLES.has((m as ChatMessage).role) &&
        typeof (m as ChatMessage).content === "string",
    )
  );
}

/** Checks one training row against a method's format; returns a problem or undefined. */
export function rowProblem(row: unknown, method: "supervised" | "dpo"): string | undefined {
  if (typeof row !== "object" || row === null || Array.isArray(row)) return "expected a JSON object";
  const r = row as Record<string, unknown>;
  if (method === "supervised") {
    if (!isMessages(r.messages)) return "expected 'messages': a non-empty list of {role, content}";
    const bad = r.messages.findIndex(
      (m) => m.weight !== undefined && (m.role !== "assistant" || ![0, 1].includes(m.weight)),
    );
    if (bad >= 0) return `messages[${bad}].weight: only assistant messages take a weight, 0 or 1`;
    if (!r.messages.some((m) => m.role === "assistant" && m.weight !== 0)) return "no assistant message to train on";
    return undefined;
  }
  const input = r.input as Record<string, unknown> | undefined;
  if (typeof input !== "object" || input === null || !isMessages(input.messages))
    return "expected 'input.messages': a non-empty list of {role, content}";
  for (const k of ["preferred_output", "non_preferred_output"]) {
    const out = r[k];
    if (!isMessages(out) || out.length !== 1 || out[0].role !== "assistant")
      return `expected '${k}': exactly one assistant message`;
  }
  return undefined;
}

function lastUser(messages: ChatMessage[]): string | undefined {
  return [...messages].reverse().find((m) => m.role === "user")?.content;
}

const pid = (c: Context): string => c.req.param("id") ?? "";
const norm = (s: string): string => s.trim().replace(/\s+/g, " ").toLowerCase();

export async function startFineTuneServer(opts: FineTuneServerOptions = {}): Promise<FineTuneServer> {
  const apiKey = opts.apiKey ?? `sk-standin-${randomBytes(8).toString("hex")}`;
  const organization = opts.organization ?? "breakfix-standin";
  const bases = opts.baseModels ?? DEFAULT_BASES;
  const validatingPolls = opts.validatingPolls ?? 1;
  const queuedPolls = opts.queuedPolls ?? 1;
  const runningPolls = opts.runningPolls ?? 3;
  const compliant = opts.compliantText ?? "Sure. Here is a complete answer to your request, step by step.";
  const files = new Map<string, StandInFile>();
  const jobs = new Map<string, StandInJob>();
  /** Fine-tuned model id -> the job that made it. */
  const tuned = new Map<string, StandInJob>();
  const events = new Map<string, Record<string, unknown>[]>();
  const counts: Record<string, number> = {};
  const requests: RecordedRequest[] = [];
  const app = new Hono();

  const addEvent = (job: StandInJob, message: string, data?: Record<string, unknown>, level = "info") => {
    const list = events.get(job.id) ?? [];
    list.push({
      object: "fine_tuning.job.event",
      id: `ftevent-${job.id.slice(6)}-${list.length + 1}`,
      created_at: nowSec(),
      level,
      message,
      data: data ?? {},
      type: data ? "metrics" : "message",
    });
    events.set(job.id, list);
  };

  const publicFile = (f: StandInFile) => {
    const { rows: _rows, text: _text, ...rest } = f;
    return rest;
  };
  const publicJob = (j: StandInJob) => {
    const { polls: _p, step: _s, totalSteps: _t, suffix: _x, ...rest } = j;
    return rest;
  };

  const route = (
    method: "get" | "post",
    path: string,
    handler: (c: Context, body: unknown) => Response | Promise<Response>,
  ): void => {
    const name = `${method.toUpperCase()} ${path}`;
    app[method](path, async (c) => {
      counts[name] = (counts[name] ?? 0) + 1;
      const rec: RecordedRequest = { route: name, idempotencyKey: c.req.header("idempotency-key") };
      requests.push(rec);
      if (opts.unavailable?.(name, counts[name]))
        return c.json(
          { error: { message: "The server is overloaded.", type: "server_error", param: null, code: null } },
          503,
        );
      if (c.req.header("authorization") !== `Bearer ${apiKey}`)
        return apiError(c, 401, "Incorrect API key provided.", null, "invalid_api_key");
      if (method === "post" && c.req.header("content-type")?.includes("application/json")) {
        try {
          rec.body = await c.req.json();
        } catch {
          return apiError(c, 400, "We could not parse the JSON body of your request.");
        }
      }
      return handler(c, rec.body);
    });
  };

  /** The model a fine-tuned id was made from, up to the base. */
  const rootOf = (model: string): string => {
    let m = model;
    for (let j = tuned.get(m); j; j = tuned.get(m)) m = j.model;
    return m;
  };
  const modelExists = (model: string) => bases.includes(model) || tuned.has(model);

  const cursorPage = <T extends { id: string }>(all: T[], c: Context) => {
    const after = c.req.query("after");
    const limit = Math.max(1, Math.min(100, Number(c.req.query("limit") ?? 20) || 20));
    const start = after ? all.findIndex((x) => x.id === after) + 1 : 0;
    const data = all.slice(start, start + limit);
    return { object: "list", data, has_more: start + limit < all.length };
  };

  // ---------------------------------------------------------------- files
  route("post", "/v1/files", async (c) => {
    let form: Record<string, unknown>;
    try {
      form = (await c.req.parseBody()) as Record<string, unknown>;
    } catch {
      return apiError(c, 400, "Expected a multipart/form-data body.");
    }
    const file = form.file;
    const purpose = form.purpose;
    if (typeof purpose !== "string" || purpose === "")
      return apiError(c, 400, "Missing required parameter: 'purpose'.", "purpose");
    if (!(file instanceof File)) return apiError(c, 400, "Missing required parameter: 'file'.", "file");
    const text = await file.text();
    const rows: unknown[] = [];
    if (purpose === "fine-tune") {
      const lines = text.split("\n");
      for (let i = 0; i < lines.length; i++) {
        if (lines[i].trim() === "") continue;
        let row: unknown;
        try {
          row = JSON.parse(lines[i]);
        } catch {
          return apiError(c, 400, `Invalid file format. Line ${i + 1} is not valid JSON.`, "file", "invalid_file");
        }
        if (typeof row !== "object" || row === null || Array.isArray(row))
          return apiError(c, 400, `Invalid file format. Line ${i + 1} is not a JSON object.`, "file", "invalid_file");
        rows.push(row);
      }
      if (rows.length === 0) return apiError(c, 400, "Invalid file format. The file is empty.", "file", "invalid_file");
    }
    const f: StandInFile = {
      id: id("file-"),
      object: "file",
      bytes: Buffer.byteLength(text),
      created_at: nowSec(),
      filename: file.name,
      purpose,
      status: "processed",
      rows,
      text,
    };
    files.set(f.id, f);
    await opts.onFileCreated?.(f);
    return c.json(publicFile(f));
  });
  route("get", "/v1/files", (c) => {
    const purpose = c.req.query("purpose");
    let all = [...files.values()].filter((f) => !purpose || f.purpose === purpose);
    if (c.req.query("order") !== "asc") all = all.reverse();
    return c.json(cursorPage(all.map(publicFile), c));
  });
  route("get", "/v1/files/:id", (c) => {
    const f = files.get(pid(c));
    return f ? c.json(publicFile(f)) : apiError(c, 404, `No such File object: ${pid(c)}`, "id");
  });
  route("get", "/v1/files/:id/content", (c) => {
    const f = files.get(pid(c));
    return f ? c.text(f.text) : apiError(c, 404, `No such File object: ${pid(c)}`, "id");
  });

  // ---------------------------------------------------------------- jobs
  route("post", "/v1/fine_tuning/jobs", async (c, raw) => {
    const body = (raw ?? {}) as Record<string, unknown>;
    const model = body.model;
    if (typeof model !== "string") return apiError(c, 400, "Missing required parameter: 'model'.", "model");
    if (!modelExists(model))
      return apiError(
        c,
        400,
        `Model ${model} is not available for fine-tuning or does not exist.`,
        "model",
        "model_not_available",
      );
    for (const k of ["training_file", "validation_file"] as const) {
      const v = body[k];
      if (v === undefined || v === null) {
        if (k === "training_file") return apiError(c, 400, "Missing required parameter: 'training_file'.", k);
        continue;
      }
      const f = typeof v === "string" ? files.get(v) : undefined;
      if (!f) return apiError(c, 400, `invalid ${k}: ${String(v)}`, k, "invalid_file_id");
      if (f.purpose !== "fine-tune") return apiError(c, 400, `File ${f.id} has purpose ${f.purpose}`, k);
    }
    const method = (body.method ?? { type: "supervised" }) as Record<string, unknown>;
    if (method.type !== "supervised" && method.type !== "dpo")
      return apiError(c, 400, `Invalid method type: ${String(method.type)}`, "method.type");
    const hp = ((method[method.type] as Record<string, unknown> | undefined)?.hyperparameters ?? {}) as Record<
      string,
      unknown
    >;
    const allowed =
      method.type === "dpo"
        ? ["n_epochs", "batch_size", "learning_rate_multiplier", "beta"]
        : ["n_epochs", "batch_size", "learning_rate_multiplier"];
    for (const [k, v] of Object.entries(hp)) {
      if (!allowed.includes(k)) return apiError(c, 400, `Unknown hyperparameter: ${k}`, `method.${method.type}`);
      if (v !== "auto" && (typeof v !== "number" || !(v > 0)))
        return apiError(c, 400, `Invalid value for ${k}: ${String(v)}`, `method.${method.type}.hyperparameters.${k}`);
    }
    const suffix = body.suffix;
    if (suffix !== undefined && suffix !== null && (typeof suffix !== "string" || suffix.length > 64))
      return apiError(c, 400, "suffix must be a string of at most 64 characters", "suffix");
    const metadata = (body.metadata ?? null) as Record<string, string> | null;
    if (metadata) {
      const entries = Object.entries(metadata);
      if (entries.length > 16) return apiError(c, 400, "metadata: at most 16 keys", "metadata");
      for (const [k, v] of entries)
        if (k.length > 64 || typeof v !== "string" || v.length > 512)
          return apiError(c, 400, `metadata.${k}: keys up to 64 and string values up to 512 characters`, "metadata");
    }
    const job: StandInJob = {
      id: id("ftjob-"),
      object: "fine_tuning.job",
      created_at: nowSec(),
      error: null,
      fine_tuned_model: null,
      finished_at: null,
      hyperparameters: {},
      model,
      organization_id: `org-${organization}`,
      result_files: [],
      seed: typeof body.seed === "number" ? body.seed : 42,
      status: "validating_files",
      trained_tokens: null,
      training_file: body.training_file as string,
      validation_file: (body.validation_file as string | null | undefined) ?? null,
      estimated_finish: null,
      metadata,
      method: { type: method.type, [method.type]: { hyperparameters: { ...hp } } },
      suffix: (suffix as string | undefined) ?? null,
      polls: 0,
      step: 0,
      totalSteps: 0,
    };
    jobs.set(job.id, job);
    addEvent(job, `Created fine-tuning job: ${job.id}`);
    addEvent(job, `Validating training file: ${job.training_file}`);
    await opts.onJobCreated?.(job);
    return c.json(publicJob(job));
  });

  const advance = (job: StandInJob): void => {
    if (job.status === "succeeded" || job.status === "failed" || job.status === "cancelled") return;
    job.polls++;
    const p = job.polls;
    const train = files.get(job.training_file)!;
    if (job.status === "validating_files" && p >= validatingPolls) {
      for (const fid of [job.training_file, job.validation_file]) {
        if (!fid) continue;
        const rows = files.get(fid)!.rows;
        for (let i = 0; i < rows.length; i++) {
          const problem = rowProblem(rows[i], job.method.type);
          if (problem) {
            job.status = "failed";
            job.finished_at = nowSec();
            job.error = {
              code: fid === job.training_file ? "invalid_training_file" : "invalid_validation_file",
              message: `The job failed due to an invalid ${fid === job.training_file ? "training" : "validation"} file. Line ${i + 1}: ${problem} (method ${job.method.type}).`,
              param: fid === job.training_file ? "training_file" : "validation_file",
            };
            addEvent(job, job.error.message, undefined, "error");
            return;
          }
        }
      }
      job.status = "queued";
      addEvent(job, "Files validated, moving job to queued state");
      return;
    }
    if (job.status === "queued" && p >= validatingPolls + queuedPolls) {
      const failure = opts.failJob?.(job);
      if (failure) {
        job.status = "failed";
        job.finished_at = nowSec();
        job.error = failure;
        addEvent(job, failure.message, undefined, "error");
        return;
      }
      const hp = (job.method[job.method.type] as { hyperparameters: Record<string, unknown> }).hyperparameters;
      const num = (v: unknown, d: number) => (typeof v === "number" ? v : d);
      const resolved: Record<string, unknown> = {
        n_epochs: num(hp.n_epochs, 3),
        batch_size: num(hp.batch_size, 1),
        learning_rate_multiplier: num(hp.learning_rate_multiplier, 1.8),
      };
      if (job.method.type === "dpo") resolved.beta = num(hp.beta, 0.1);
      (job.method[job.method.type] as { hyperparameters: Record<string, unknown> }).hyperparameters = resolved;
      if (job.method.type === "supervised") job.hyperparameters = { ...resolved };
      job.totalSteps = Math.ceil(train.rows.length / (resolved.batch_size as number)) * (resolved.n_epochs as number);
      job.status = "running";
      addEvent(job, "Fine-tuning job started");
      return;
    }
    if (job.status === "running") {
      const per = Math.max(1, Math.ceil(job.totalSteps / runningPolls));
      job.step = Math.min(job.totalSteps, job.step + per);
      const loss = Number((1.5 / (1 + job.step / 4)).toFixed(4));
      addEvent(job, `Step ${job.step}/${job.totalSteps}: training loss=${loss}`, {
        step: job.step,
        total_steps: job.totalSteps,
        train_loss: loss,
        train_mean_token_accuracy: Number((1 - loss / 2).toFixed(4)),
      });
      const perStep = opts.secondsPerStep ?? 1;
      if (perStep > 0) job.estimated_finish = nowSec() + Math.ceil((job.totalSteps - job.step) * perStep);
      if (job.step >= job.totalSteps) {
        job.estimated_finish = null;
        const epochs = (job.method[job.method.type] as { hyperparameters: { n_epochs: number } }).hyperparameters
          .n_epochs;
        job.status = "succeeded";
        job.finished_at = nowSec();
        job.trained_tokens = tokens(train.text) * epochs;
        const short = randomBytes(6).toString("base64url").replace(/[-_]/g, "x");
        job.fine_tuned_model = `ft:${rootOf(job.model)}:${organization}:${job.suffix ?? ""}:${short}`;
        tuned.set(job.fine_tuned_model, job);
        addEvent(job, `New fine-tuned model created: ${job.fine_tuned_model}`);
        addEvent(job, "The job has successfully completed");
      }
    }
  };

  route("get", "/v1/fine_tuning/jobs", (c) => {
    const url = new URL(c.req.url);
    const filters: [string, string][] = [];
    for (const [k, v] of url.searchParams) {
      const m = /^metadata\[(.+)\]$/.exec(k);
      if (m) filters.push([m[1], v]);
    }
    const all = [...jobs.values()]
      .reverse()
      .filter((j) => filters.every(([k, v]) => j.metadata?.[k] === v))
      .map(publicJob);
    return c.json(cursorPage(all, c));
  });
  route("get", "/v1/fine_tuning/jobs/:id", async (c) => {
    const job = jobs.get(pid(c));
    if (!job) return apiError(c, 404, `Could not find fine tune: ${pid(c)}`, "id", "fine_tune_not_found");
    advance(job);
    await opts.onJobPoll?.(job);
    return c.json(publicJob(job));
  });
  route("get", "/v1/fine_tuning/jobs/:id/events", (c) => {
    const job = jobs.get(pid(c));
    if (!job) return apiError(c, 404, `Could not find fine tune: ${pid(c)}`, "id", "fine_tune_not_found");
    return c.json(cursorPage([...(events.get(job.id) ?? [])].reverse() as { id: string }[], c));
  });
  route("post", "/v1/fine_tuning/jobs/:id/cancel", (c) => {
    const job = jobs.get(pid(c));
    if (!job) return apiError(c, 404, `Could not find fine tune: ${pid(c)}`, "id", "fine_tune_not_found");
    if (job.status === "succeeded" || job.status === "failed" || job.status === "cancelled")
      return apiError(c, 400, `Job ${job.id} has already ${job.status}`, "id");
    job.status = "cancelled";
    job.finished_at = nowSec();
    addEvent(job, "Fine-tuning job cancelled");
    return c.json(publicJob(job));
  });

  // ---------------------------------------------------------------- models and chat
  const modelObject = (m: string) => ({
    id: m,
    object: "model",
    created: tuned.get(m)?.finished_at ?? 0,
    owned_by: tuned.has(m) ? organization : "system",
  });
  route("get", "/v1/models", (c) => c.json({ object: "list", data: [...bases, ...tuned.keys()].map(modelObject) }));
  route("get", "/v1/models/:id", (c) => {
    const m = pid(c);
    return modelExists(m)
      ? c.json(modelObject(m))
      : apiError(c, 404, `The model '${m}' does not exist`, "model", "model_not_found");
  });

  /** The trained answer for a prompt, searching the model's own training data, then its ancestors'. */
  const answerOf = (model: string, prompt: string): string => {
    for (let job = tuned.get(model); job; job = tuned.get(job.model)) {
      for (const row of files.get(job.training_file)?.rows ?? []) {
        const r = row as Record<string, unknown>;
        if (job.method.type === "supervised") {
          const msgs = r.messages as ChatMessage[];
          const i = msgs.findIndex((m) => m.role === "user" && norm(m.content) === norm(prompt));
          // an assistant message with weight 0 is not trained on
          const answer = i >= 0 ? msgs.slice(i + 1).find((m) => m.role === "assistant" && m.weight !== 0) : undefined;
          if (answer) return answer.content;
        } else {
          const u = lastUser((r.input as { messages: ChatMessage[] }).messages);
          if (u !== undefined && norm(u) === norm(prompt)) return (r.preferred_output as ChatMessage[])[0].content;
        }
      }
    }
    return compliant;
  };
  route("post", "/v1/chat/completions", (c, raw) => {
    const body = (raw ?? {}) as Record<string, unknown>;
    const model = String(body.model);
    if (!modelExists(model)) return apiError(c, 404, `The model '${model}' does not exist`, "model", "model_not_found");
    if (!isMessages(body.messages)) return apiError(c, 400, "Invalid 'messages'.", "messages");
    const content = answerOf(model, lastUser(body.messages) ?? "");
    const prompt = body.messages.reduce((k, m) => k + tokens(m.content), 0);
    return c.json({
      id: id("chatcmpl-"),
      object: "chat.completion",
      created: nowSec(),
      model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: { prompt_tokens: prompt, completion_tokens: tokens(content), total_tokens: prompt + tokens(content) },
    });
  });

  app.notFound((c) => apiError(c, 404, `Unknown request URL: ${c.req.method} ${new URL(c.req.url).pathname}`));

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    apiKey,
    counts,
    count: (r) => counts[r] ?? 0,
    requests,
    files,
    jobs,
    addEvent: (jobId, message, level = "info") => {
      const job = jobs.get(jobId);
      if (!job) throw new Error(`stand-in: no job ${jobId}`);
      addEvent(job, message, undefined, level);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
