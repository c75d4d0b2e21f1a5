/**
 * The openai backend in a real child process, SIGKILLed at exact points of the protocol by the stand-in's hooks (the
 * stand-in lives in this process), then run again on the same store: exactly one job per stage reaches the API and
 * the re-run ends with the model those jobs made.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type FineTuneServer, type StandInJob, startFineTuneServer } from "./testing/openai-finetune-server.ts";
import { writeRoundData } from "./testing/openai-fixtures.ts";

const RUNNER = path.join(import.meta.dirname, "testing", "openai-stage-runner.ts");
const BASE = "gpt-4o-mini-2024-07-18";

interface Run {
  child: ChildProcess;
  out: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startRunner(server: FineTuneServer, workspace: string, dataDir: string): Run {
  const child = spawn(process.execPath, ["--import", "tsx", RUNNER, workspace, dataDir, "1"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      OPENAI_API_KEY: server.apiKey,
      BREAKFIX_FT_BASE_URL: server.baseUrl,
      BREAKFIX_FT_MODEL: BASE,
      BREAKFIX_FT_POLL_SECONDS: "0.005",
    },
  });
  const out: string[] = [];
  let buf = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    out.push(...parts);
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      if (code !== 0 && signal === null) process.stderr.write(`runner failed (${code}):\n${out.join("\n")}\n${err}`);
      resolve({ code, signal });
    }),
  );
  return { child, out, exited };
}

const result = (run: Run, stage: string): string | undefined =>
  run.out.find((l) => l.startsWith(`result ${stage} `))?.slice(`result ${stage} `.length);

const jobsOf = (server: FineTuneServer, type: "supervised" | "dpo"): StandInJob[] =>
  [...server.jobs.values()].filter((j) => j.method.type === type);

/** The requests that create or upload something. */
const writes = (server: FineTuneServer) => ({
  jobs: server.count("POST /v1/fine_tuning/jobs"),
  files: server.count("POST /v1/files"),
  cancels: server.count("POST /v1/fine_tuning/jobs/:id/cancel"),
});

let server: FineTuneServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("openai backend killed with SIGKILL", () => {
  it("killed while polling the running SFT job: the re-run re-attaches, one job per stage, same final model", async () => {
    let victim: Run | undefined;
    let killedAt: string | undefined;
    server = await startFineTuneServer({
      runningPolls: 4,
      onJobPoll: async (job) => {
        if (victim && job.status === "running" && job.method.type === "supervised" && job.step > 0) {
          const v = victim;
          victim = undefined;
          killedAt = `${job.id} step ${job.step}/${job.totalSteps}`;
          v.child.kill("SIGKILL");
          await v.exited;
        }
      },
    });
    const work = mkdtempSync(path.join(tmpdir(), "bf-openai-kill-"));
    const { dir } = writeRoundData(path.join(work, "data"));
    const workspace = path.join(work, "ws");

    const first = startRunner(server, workspace, dir);
    victim = first;
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(killedAt).toBeDefined();
    expect(result(first, "sft")).toBeUndefined();
    expect(first.out.some((l) => l.includes(": running"))).toBe(true);
    expect(writes(server)).toEqual({ jobs: 1, files: 2, cancels: 0 });
    const sftJob = jobsOf(server, "supervised")[0];
    expect(sftJob.status).toBe("running");

    const second = startRunner(server, workspace, dir);
    expect(await second.exited).toEqual({ code: 0, signal: null });
    // Exactly one job per stage reached the API; the SFT files were not uploaded again (2 SFT + 1 DPO upload).
    expect(writes(server)).toEqual({ jobs: 2, files: 3, cancels: 0 });
    expect(jobsOf(server, "supervised").map((j) => j.id)).toEqual([sftJob.id]);
    const [dpoJob] = jobsOf(server, "dpo");
    expect(dpoJob.model).toBe(sftJob.fine_tuned_model);
    expect(sftJob.fine_tuned_model).toMatch(new RegExp(`^ft:${BASE}:breakfix-standin:kill-test:`));
    expect(result(second, "sft")).toBe(sftJob.fine_tuned_model);
    expect(result(second, "dpo")).toBe(dpoJob.fine_tuned_model);
    // The re-run never needed to search: the job id was stored before polling.
    expect(server.count("GET /v1/fine_tuning/jobs")).toBe(0);

    // A third run finds both stages finished in the store: same model, no request at all.
    const before = server.requests.length;
    const third = startRunner(server, workspace, dir);
    expect(await third.exited).toEqual({ code: 0, signal: null });
    expect(result(third, "dpo")).toBe(dpoJob.fine_tuned_model);
    expect(server.requests.length).toBe(before);
    console.log(`SIGKILL while polling (${killedAt}): requests by route`, JSON.stringify(server.counts));
  });

  it("killed inside the DPO create request (job made, answer lost): the re-run finds it by metadata", async () => {
    let victim: Run | undefined;
    server = await startFineTuneServer({
      onJobCreated: async (job) => {
        if (victim && job.method.type === "dpo") {
          const v = victim;
          victim = undefined;
          v.child.kill("SIGKILL");
          await v.exited;
        }
      },
    });
    const work = mkdtempSync(path.join(tmpdir(), "bf-openai-kill-"));
    const { dir } = writeRoundData(path.join(work, "data"));
    const workspace = path.join(work, "ws");

    const first = startRunner(server, workspace, dir);
    victim = first;
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    const sftModel = result(first, "sft");
    expect(sftModel).toMatch(/^ft:/);
    expect(writes(server)).toEqual({ jobs: 2, files: 3, cancels: 0 });
    const [dpoJob] = jobsOf(server, "dpo");
    expect(dpoJob.metadata?.breakfix_key).toMatch(/^breakfix-/);

    const second = startRunner(server, workspace, dir);
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(writes(server)).toEqual({ jobs: 2, files: 3, cancels: 0 });
    expect(server.count("GET /v1/fine_tuning/jobs")).toBeGreaterThanOrEqual(1);
    expect(second.out.some((l) => l.includes(`found job ${dpoJob.id}`))).toBe(true);
    expect(result(second, "sft")).toBe(sftModel);
    expect(result(second, "dpo")).toBe(dpoJob.fine_tuned_model);
    expect(dpoJob.model).toBe(sftModel);
    console.log("SIGKILL inside the DPO create: requests by route", JSON.stringify(server.counts));
  });

  it("killed inside the upload of the SFT validation file (file made, id lost): the re-run finds it by name", async () => {
    let victim: Run | undefined;
    server = await startFineTuneServer({
      onFileCreated: async (file) => {
        if (victim && file.filename.endsWith("-sft-val.jsonl")) {
          const v = victim;
          victim = undefined;
          v.child.kill("SIGKILL");
          await v.exited;
        }
      },
    });
    const work = mkdtempSync(path.join(tmpdir(), "bf-openai-kill-"));
    const { dir } = writeRoundData(path.join(work, "data"));
    const workspace = path.join(work, "ws");

    const first = startRunner(server, workspace, dir);
    victim = first;
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(writes(server)).toEqual({ jobs: 0, files: 2, cancels: 0 });
    const valFile = [...server.files.values()].find((f) => f.filename.endsWith("-sft-val.jsonl"))!;

    const second = startRunner(server, workspace, dir);
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(writes(server)).toEqual({ jobs: 2, files: 3, cancels: 0 });
    expect(second.out.some((l) => l.includes(`found the val file ${valFile.id}`))).toBe(true);
    expect(jobsOf(server, "supervised")[0].validation_file).toBe(valFile.id);
    expect(result(second, "dpo")).toBe(jobsOf(server, "dpo")[0].fine_tuned_model);
    console.log("SIGKILL inside an upload: requests by route", JSON.stringify(server.counts));
  });
});
