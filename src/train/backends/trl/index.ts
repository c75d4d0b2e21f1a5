/**
 * The `trl` training backend: one job folder per round and stage (job.ts), launched with the user's launch template,
 * followed through its log file (progress with ETA), bounded by training.trl.timeoutMs, recorded in the store before
 * any waiting so a killed cycle that calls train() again re-attaches to the running job (or picks up what it left)
 * instead of starting a second one. The output is validated (output.ts); a LoRA adapter is merged into the starting
 * folder so the next stage and the deploy step get a Hugging Face folder, and its path is kept in params.adapter.
 *
 * States in the store (entity "train.trl", keyed by runId/round/stage): launched {pid, pidStart, jobDir, log,
 * startedAt, attempt}, done {result}, failed {reason}. A failed stage launches again on the next call.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { escapeForTerminal } from "../../../domain/escape.ts";
import { etaText } from "../../../domain/eta.ts";
import { groupAlive, pidStartTime, processAlive, stopGroup } from "../../../domain/shell.ts";
import { secretRedactor } from "../../../models/secrets.ts";
import { keyHash } from "../../../store/store.ts";
import type { BackendJob, StageResult, TrainingBackend } from "../types.ts";
import { modelTypeOf, peftTargets, type Training, trlSettings } from "./args.ts";
import { TrlConfigError, writeTrlJob } from "./job.ts";
import { mergeAdapterInto, TrlOutputError, validateAdapter, validateMergedFolder } from "./output.ts";

export { TRL_KEY_MAP, TRL_TARGETS, type TrlArgs, type TrlKeyTarget } from "./args.ts";
export { DEFAULT_LAUNCH, TrlConfigError, type TrlJobFolder, type TrlJobSpec, writeTrlJob } from "./job.ts";
export { TrlOutputError, validateAdapter, validateMergedFolder } from "./output.ts";

export const TRL_STATE_ENTITY = "train.trl";
/** A folder this backend produced carries this file (so a later stage passes it to TRL by path). */
export const TRL_MARKER = "breakfix-trl.json";

export class TrlJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrlJobError";
  }
}

export interface TrlProgress {
  stage: "sft" | "dpo";
  round: number;
  step: number;
  maxSteps: number;
  loss?: number;
  etaMs?: number;
}

export interface TrlBackendOptions {
  /** How often the log, the exit status and the process are checked (default 1000 ms). */
  pollMs?: number;
  /** Between SIGTERM and SIGKILL of a timed-out job's process group (default 10 s). */
  killGraceMs?: number;
  /** Called for every progress line of the job. */
  onProgress?: (p: TrlProgress) => void;
}

interface Launched {
  pid: number;
  pidStart: string | null;
  jobDir: string;
  log: string;
  /** The log's size when this attempt started: every attempt appends to one train.log (absent in older records: 0). */
  logOffset?: number;
  startedAt: number;
  attempt: number;
}

const stateKey = (job: BackendJob, stage: string) => keyHash({ runId: job.runId, round: job.round, stage });

/** The pid and start time run.sh wrote to shell.pid as it started (see job.ts), or null. */
export function shellPid(jobDir: string): Pick<Launched, "pid" | "pidStart"> | null {
  const file = join(jobDir, "shell.pid");
  if (!existsSync(file)) return null;
  const [pid, start] = readFileSync(file, "utf8").trim().split(/\s+/);
  return Number.isInteger(Number(pid)) && Number(pid) > 0 ? { pid: Number(pid), pidStart: start || null } : null;
}

/** Reads a growing log file: each call returns the complete lines written since the last one. */
class LogFollower {
  private rest = "";
  constructor(
    private readonly file: string,
    private offset = 0,
  ) {}
  read(): string[] {
    if (!existsSync(this.file)) return [];
    const size = statSync(this.file).size;
    if (size <= this.offset) return [];
    const fd = openSync(this.file, "r");
    try {
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const text = this.rest + buf.subarray(0, n).toString("utf8");
      const lines = text.split(/\r?\n|\r/);
      this.rest = lines.pop() ?? "";
      return lines;
    } finally {
      closeSync(fd);
    }
  }
  flush(): string[] {
    const lines = this.read();
    if (this.rest) lines.push(this.rest);
    this.rest = "";
    return lines;
  }
}

/** A parsed progress or end line of train_trl.py's callback, or undefined for any other line. */
export function parseTrlLine(
  line: string,
): { kind: "progress"; v: Record<string, unknown> } | { kind: "end"; v: Record<string, unknown> } | undefined {
  const t = line.trim();
  if (!t.startsWith("{") || !t.includes('"breakfix"')) return undefined;
  try {
    const v = JSON.parse(t) as Record<string, unknown>;
    if (v.breakfix === "progress") return { kind: "progress", v };
    if (v.breakfix === "end") return { kind: "end", v };
  } catch {
    /* not ours */
  }
  return undefined;
}

/**
 * The time left of a job, from one progress line: this process's time per step (elapsed_s over the steps since
 * start_step, where a job resumed from a checkpoint began; 0 in lines without it) times the steps left. Undefined
 * before this process has trained a step.
 */
export function trlEtaMs(v: Record<string, unknown>): number | undefined {
  const step = Number(v.step);
  const maxSteps = Number(v.max_steps);
  const elapsed = Number(v.elapsed_s);
  const start = v.start_step === undefined ? 0 : Number(v.start_step);
  const done = step - start;
  if (!(done > 0) || !Number.isFinite(elapsed) || !Number.isFinite(maxSteps)) return undefined;
  return ((elapsed * 1000) / done) * Math.max(0, maxSteps - step);
}

/**
 * How a job's text is shown (its launch line, output lines, the last lines a failure quotes): the job inherits the
 * environment and runs the user's launch template, so the registered keys, well-known token formats and any value
 * the template assigns to a credential-named variable or flag are redacted (secretRedactor, as the command backend
 * does), then the text (which may echo data or model output) is escaped for the terminal.
 */
function shownFor(training: BackendJob["training"]): (line: string) => string {
  const redact = secretRedactor(trlSettings(training).launch);
  return (line) => escapeForTerminal(redact(line), { max: 2000 });
}

/** The last n lines of a log, from byte `from` on (this attempt's part of it), as `shown` shows them. */
function lastLines(file: string, n: number, shown: (line: string) => string, from = 0): string {
  if (!existsSync(file)) return "(no log)";
  const lines = readFileSync(file).subarray(from).toString("utf8").split(/\r?\n/).filter(Boolean);
  return lines.slice(-n).map(shown).join("\n");
}

export class TrlBackend implements TrainingBackend {
  readonly id = "trl";
  private readonly pollMs: number;
  private readonly killGraceMs: number;

  constructor(private readonly opts: TrlBackendOptions = {}) {
    this.pollMs = opts.pollMs ?? 1000;
    this.killGraceMs = opts.killGraceMs ?? 10_000;
  }

  /** The job folder of a stage (under job.outDir). */
  jobDir(stage: "sft" | "dpo", job: BackendJob): string {
    return join(job.outDir, `trl-${stage}`);
  }

  async train(stage: "sft" | "dpo", job: BackendJob): Promise<StageResult> {
    if (job.from.kind !== "folder")
      throw new TrlConfigError(
        `training.backend trl: round ${job.round} starts from remote model ${job.from.id}; TRL needs weights (a folder)`,
      );
    const key = stateKey(job, stage);
    const tag = `round ${job.round}: trl-${stage}`;
    const current = job.store.states.current(TRL_STATE_ENTITY, key);
    if (current?.state === "done") {
      const result = (current.detail as { result: StageResult }).result;
      if (result.model.kind === "folder" && existsSync(join(result.model.dir, "config.json"))) {
        job.log(`${tag}: done earlier (${result.model.dir})`);
        return result;
      }
    }
    if (current?.state === "done") {
      // the merged folder is gone: validate and merge the job's output again
      return this.finish(stage, job, (current.detail as { launched: Launched }).launched, key, tag);
    }
    if (current?.state === "launched") {
      const prev = current.detail as Launched;
      // Liveness is read before the status: run.sh writes exit_status as its last act (launchAndWait removed the
      // previous attempt's), so a shell found dead had written it already if it ever would, and a status found means
      // the job ended even while its shell, reparented after the cycle was killed, has yet to exit or be reaped.
      const live = processAlive(prev.pid, prev.pidStart);
      if (existsSync(join(prev.jobDir, "exit_status"))) {
        job.log(`${tag}: the job (pid ${prev.pid}) ended while nobody watched; picking up its result`);
        return this.finish(stage, job, prev, key, tag);
      }
      if (live) {
        job.log(`${tag}: re-attaching to the running job (pid ${prev.pid}, ${prev.jobDir})`);
        await this.wait(stage, job, prev, key, tag);
        return this.finish(stage, job, prev, key, tag);
      }
      // the shell is gone without a status; its workers may not be: never train beside them
      await this.stopGroup(prev, `${tag}: the job's shell (pid ${prev.pid}) is gone`, job.log);
      job.log(
        `${tag}: the job (pid ${prev.pid}) ended without an exit status (killed?); launching again (TRL resumes from its last checkpoint)`,
      );
      return this.launchAndWait(stage, job, key, tag, prev.attempt + 1);
    }
    const attempt = current?.state === "failed" ? ((current.detail as { attempt?: number }).attempt ?? 1) + 1 : 1;
    return this.launchAndWait(stage, job, key, tag, attempt);
  }

  private async launchAndWait(
    stage: "sft" | "dpo",
    job: BackendJob,
    key: string,
    tag: string,
    attempt: number,
  ): Promise<StageResult> {
    if (job.from.kind !== "folder") throw new TrlConfigError("unreachable: remote start model");
    const data = stage === "sft" ? job.data.sft : job.data.dpo;
    const evalData = stage === "sft" ? job.data.sftVal : job.data.dpoVal;
    const fromDir = job.from.dir;
    const trl = trlSettings(job.training);
    const producedHere = existsSync(join(fromDir, TRL_MARKER));
    // A cycle killed between spawning a job and recording it left no "launched" state, but run.sh wrote shell.pid as
    // its first act: such a job must not train beside this one, nor have its folder rewritten under it.
    const dir = this.jobDir(stage, job);
    const unrecorded = shellPid(dir);
    if (unrecorded && processAlive(unrecorded.pid, unrecorded.pidStart))
      await this.stopGroup(
        unrecorded,
        `${tag}: a job launched by a killed cycle (pid ${unrecorded.pid}) runs in ${dir}`,
        job.log,
      );
    const folder = writeTrlJob(dir, {
      stage,
      round: job.round,
      model: producedHere ? fromDir : (trl.model ?? fromDir),
      modelDir: fromDir,
      data,
      evalData,
      training: job.training,
    });
    const log = join(folder.dir, "train.log");
    // an earlier attempt's status must not end this one before run.sh starts
    rmSync(join(folder.dir, "exit_status"), { force: true });
    const fd = openSync(log, "a");
    const logOffset = statSync(log).size;
    let pid: number | undefined;
    try {
      const child = spawn("/bin/sh", [folder.runScript], {
        cwd: folder.dir,
        detached: true,
        stdio: ["ignore", fd, fd],
        env: { ...process.env, BREAKFIX_JOB_DIR: folder.dir, BREAKFIX_STAGE: stage, BREAKFIX_ROUND: String(job.round) },
      });
      pid = child.pid;
      child.on("error", () => {});
      child.unref();
    } finally {
      closeSync(fd);
    }
    if (pid === undefined) throw new TrlJobError(`${tag}: could not start /bin/sh ${folder.runScript}`);
    const launched: Launched = {
      pid,
      pidStart: pidStartTime(pid),
      jobDir: folder.dir,
      log,
      logOffset,
      startedAt: Date.now(),
      attempt,
    };
    // Recorded before any waiting: a killed cycle re-attaches to this job instead of starting a second one.
    job.store.states.set(TRL_STATE_ENTITY, key, "launched", launched);
    job.log(
      `${tag}: launched (pid ${pid}, attempt ${attempt}, ${folder.rows.train} rows) in ${folder.dir}: ${shownFor(job.training)(folder.launch)}`,
    );
    await this.wait(stage, job, launched, key, tag);
    return this.finish(stage, job, launched, key, tag);
  }

  /** Follows the job's log until it ends; kills it when it outlives training.trl.timeoutMs. */
  private async wait(stage: "sft" | "dpo", job: BackendJob, l: Launched, key: string, tag: string): Promise<void> {
    const timeoutMs = trlSettings(job.training).timeoutMs;
    const follower = new LogFollower(l.log, l.logOffset ?? 0);
    const shown = shownFor(job.training);
    let lastLogged = 0;
    const handle = (lines: string[]) => {
      for (const line of lines) {
        if (!line.trim()) continue;
        const p = parseTrlLine(line);
        if (p?.kind === "progress") {
          const step = Number(p.v.step);
          const maxSteps = Number(p.v.max_steps);
          const etaMs = trlEtaMs(p.v);
          const loss = typeof p.v.loss === "number" ? p.v.loss : undefined;
          this.opts.onProgress?.({ stage, round: job.round, step, maxSteps, loss, etaMs });
          const now = Date.now();
          if (step === maxSteps || step === 1 || now - lastLogged >= 2000) {
            lastLogged = now;
            job.log(
              `${tag} step ${step}/${maxSteps}${loss === undefined ? "" : ` loss ${loss.toFixed(4)}`} ETA ${etaText(etaMs)}`,
            );
          }
        } else if (p?.kind !== "end") job.log(`${tag} | ${shown(line)}`);
      }
    };
    for (;;) {
      handle(follower.read());
      if (existsSync(join(l.jobDir, "exit_status"))) {
        handle(follower.flush());
        return;
      }
      if (!processAlive(l.pid, l.pidStart)) {
        // the shell died without a status (killed): finish() reports it; its workers must not run on unwatched
        if (!existsSync(join(l.jobDir, "exit_status")))
          await this.stopGroup(l, `${tag}: the job's shell (pid ${l.pid}) ended without an exit status`, job.log);
        handle(follower.flush());
        return;
      }
      if (Date.now() - l.startedAt > timeoutMs) {
        await this.stopGroup(l, `${tag}: timed out`, job.log);
        handle(follower.flush());
        const reason = `training.trl.timeoutMs: the ${stage} job of round ${job.round} ran longer than ${timeoutMs} ms and was killed (pid ${l.pid}); log: ${l.log}`;
        job.store.states.set(TRL_STATE_ENTITY, key, "failed", { reason, attempt: l.attempt, jobDir: l.jobDir });
        throw new TrlJobError(reason);
      }
      await sleep(this.pollMs);
    }
  }

  /**
   * Ends every process of the job's group: SIGTERM, then SIGKILL to whatever outlives killGraceMs (a worker saving a
   * checkpoint, or one that ignores SIGTERM), then waits until the group is gone, so no launch runs beside it.
   */
  private async stopGroup(
    l: Pick<Launched, "pid" | "pidStart">,
    why: string,
    log: (line: string) => void,
  ): Promise<void> {
    if (!groupAlive(l.pid, l.pidStart)) return;
    log(`${why}; stopping its process group ${l.pid}`);
    await stopGroup(l.pid, this.killGraceMs, l.pidStart);
    if (groupAlive(l.pid, l.pidStart))
      throw new TrlJobError(`${why}: process group ${l.pid} survived SIGKILL; stop it before rerunning`);
  }

  /** The ended job: exit status, output validation, merge; records done (or failed) in the store. */
  private finish(stage: "sft" | "dpo", job: BackendJob, l: Launched, key: string, tag: string): StageResult {
    const fail = (reason: string): never => {
      job.store.states.set(TRL_STATE_ENTITY, key, "failed", { reason, attempt: l.attempt, jobDir: l.jobDir });
      throw new TrlJobError(reason);
    };
    const statusFile = join(l.jobDir, "exit_status");
    const status = existsSync(statusFile) ? readFileSync(statusFile, "utf8").trim() : undefined;
    if (status !== "0")
      fail(
        `${tag}: the job ${status === undefined ? "ended without an exit status (killed?)" : `exited with status ${status}`}; ` +
          `${l.log}, last lines:\n${lastLines(l.log, 15, shownFor(job.training), l.logOffset ?? 0)}`,
      );
    if (job.from.kind !== "folder") return fail(`${tag}: remote start model`);
    const t: Training = job.training;
    const out = join(l.jobDir, "output");
    const endFile = join(out, "breakfix_end.json");
    const end = existsSync(endFile)
      ? (JSON.parse(readFileSync(endFile, "utf8")) as { step?: number; metrics?: Record<string, number> })
      : {};
    let model: string;
    const params: Record<string, unknown> = {
      backend: "trl",
      jobDir: l.jobDir,
      attempt: l.attempt,
      args: JSON.parse(readFileSync(join(l.jobDir, "args.json"), "utf8")) as unknown,
    };
    try {
      if (t.method === "lora") {
        validateAdapter(out, { r: t.lora.rank, targets: peftTargets(t, modelTypeOf(job.from.dir)) });
        model = join(l.jobDir, "model");
        mergeAdapterInto(model, job.from.dir, out);
        params.adapter = out;
      } else {
        validateMergedFolder(out);
        model = out;
      }
    } catch (err) {
      if (err instanceof TrlOutputError) return fail(`${tag}: ${err.message}`);
      throw err;
    }
    writeFileSync(
      join(model, TRL_MARKER),
      `${JSON.stringify({ runId: job.runId, round: job.round, stage, jobDir: l.jobDir }, null, 2)}\n`,
    );
    const final: Record<string, number | undefined> = {};
    for (const [k, v] of Object.entries(end.metrics ?? {})) if (typeof v === "number") final[k] = v;
    const result: StageResult = {
      stage,
      model: { kind: "folder", dir: model },
      steps: typeof end.step === "number" ? end.step : undefined,
      final,
      params,
    };
    job.store.states.set(TRL_STATE_ENTITY, key, "done", { result, launched: l });
    job.log(`${tag}: done${result.steps === undefined ? "" : ` (${result.steps} steps)`}: ${model}`);
    return result;
  }
}
