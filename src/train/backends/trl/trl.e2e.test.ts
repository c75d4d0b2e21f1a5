/**
 * The TypeScript side of the trl backend end to end, with a stand-in launch command (testing/fake_trl.py: reads the
 * job's args.json and writes a PEFT adapter into output/ as TRL + PEFT would; TRL itself cannot be installed here).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { configSchema } from "../../../config/schema.ts";
import { groupAlive, pidStartTime } from "../../../domain/shell.ts";
import { mergePeftAdapter } from "../../../models/providers/builtin.ts";
import { writeTinyHfModel } from "../../../models/testing/tiny-model.ts";
import { loadModel } from "../../../nn/model.ts";
import { Store } from "../../../store/store.ts";
import type { BackendJob } from "../types.ts";
import { shellPid, TRL_STATE_ENTITY, TrlBackend, TrlJobError, type TrlProgress } from "./index.ts";
import { writeTrlJob } from "./job.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const FAKE = join(here, "testing", "fake_trl.py");
const CHILD = join(here, "testing", "run-stage.ts");

const tmp = mkdtempSync(join(tmpdir(), "breakfix-trl-e2e-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const base = writeTinyHfModel(join(tmp, "base"));
const sft = join(tmp, "sft.jsonl");
writeFileSync(
  sft,
  `${JSON.stringify({
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: "I can't help with that." },
    ],
  })}\n`,
);
const dpo = join(tmp, "dpo.jsonl");
writeFileSync(
  dpo,
  `${JSON.stringify({
    prompt: [{ role: "user", content: "hi" }],
    chosen: [{ role: "assistant", content: "No." }],
    rejected: [{ role: "assistant", content: "Sure: step 1" }],
  })}\n`,
);

function training(trl: Record<string, unknown> = {}) {
  return configSchema.parse({
    training: {
      backend: "trl",
      lora: { rank: 4, alpha: 8, targets: ["q_proj", "v_proj", "down_proj"] },
      trl: { launch: `python3 ${FAKE} {job_dir}`, ...trl },
    },
  }).training;
}

const launches = (counter: string) =>
  existsSync(counter) ? readFileSync(counter, "utf8").split("\n").filter(Boolean).length : 0;

function setup(name: string, env: Record<string, string> = {}, trl: Record<string, unknown> = {}) {
  const dir = join(tmp, name);
  const counter = join(dir, "launches.txt");
  const store = Store.open(dir);
  Object.assign(
    process.env,
    {
      FAKE_TRL_COUNTER: counter,
      FAKE_TRL_STEPS: "3",
      FAKE_TRL_STEP_S: "0.05",
      FAKE_TRL_EXIT: "",
      FAKE_TRL_BAD_MODULE: "",
      FAKE_TRL_GATE: "",
    },
    env,
  );
  const logs: string[] = [];
  const job: BackendJob = {
    runId: `run-${name}`,
    round: 1,
    from: { kind: "folder", dir: base },
    data: { sft, dpo },
    outDir: join(dir, "round-1"),
    training: training(trl),
    store,
    log: (l) => logs.push(l),
  };
  return { dir, counter, storeFile: join(dir, "breakfix.db"), store, job, logs };
}

describe("trl backend with a stand-in launch", () => {
  it("runs the job, parses progress with ETA, validates and merges the adapter; a second call launches nothing", async () => {
    const s = setup("happy");
    const progress: TrlProgress[] = [];
    const backend = new TrlBackend({ pollMs: 20, onProgress: (p) => progress.push(p) });
    const res = await backend.train("sft", s.job);
    expect(launches(s.counter)).toBe(1);
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3]);
    expect(progress[0]).toMatchObject({ stage: "sft", round: 1, maxSteps: 3, loss: 2 });
    expect(progress[0].etaMs).toBeGreaterThan(0);
    expect(progress[2].etaMs).toBe(0);
    expect(s.logs.some((l) => /round 1: trl-sft step 3\/3 loss 0\.6667 ETA 0s/.test(l))).toBe(true);
    expect(s.logs.some((l) => l.includes("| loading model"))).toBe(true);
    expect(res.stage).toBe("sft");
    expect(res.steps).toBe(3);
    expect(res.final).toMatchObject({ train_loss: 1.25 });
    const adapter = res.params.adapter as string;
    expect(adapter).toBe(join(s.job.outDir, "trl-sft", "output"));
    if (res.model.kind !== "folder") throw new Error("expected a folder");
    // the merged folder is the base + the adapter, as our PEFT loader merges it (an independent implementation)
    const merged = loadModel(res.model.dir).weights;
    const expected = mergePeftAdapter(loadModel(base).weights, adapter);
    const q = "model.layers.0.self_attn.q_proj.weight";
    expect(Array.from(merged.get(q)?.data ?? [])).toEqual(
      Array.from(expected.get(q)?.data ?? []).map((v) => Math.fround(v)),
    );
    expect(merged.get(q)?.data).not.toEqual(loadModel(base).weights.get(q)?.data);
    expect(existsSync(join(res.model.dir, "tokenizer.json"))).toBe(true);

    // done: the stored result, nothing launched
    const again = await backend.train("sft", s.job);
    expect(again).toEqual(res);
    expect(launches(s.counter)).toBe(1);

    // DPO from the SFT result: TRL gets the merged folder by path
    const d = await backend.train("dpo", { ...s.job, from: res.model });
    expect(launches(s.counter)).toBe(2);
    const args = JSON.parse(readFileSync(join(s.job.outDir, "trl-dpo", "args.json"), "utf8"));
    expect(args.model).toBe(res.model.dir);
    expect(args.trainer).toBe("DPOTrainer");
    expect(d.model.kind).toBe("folder");
    s.store.close();
  });

  it("full fine-tuning: the output folder is the model (config, safetensors, tokenizer checked), no adapter", async () => {
    const s = setup("full", { FAKE_TRL_NO_TOKENIZER: "1" });
    const job = { ...s.job, training: { ...s.job.training, method: "full" as const } };
    const backend = new TrlBackend({ pollMs: 20 });
    await expect(backend.train("sft", job)).rejects.toThrow(/trl-sft\/output\/tokenizer\.json: not found/);
    process.env.FAKE_TRL_NO_TOKENIZER = "";
    const res = await backend.train("sft", job);
    expect(res.model).toEqual({ kind: "folder", dir: join(job.outDir, "trl-sft", "output") });
    expect(res.params.adapter).toBeUndefined();
    expect((res.params.args as { peft: unknown }).peft).toBeNull();
    expect(loadModel(join(job.outDir, "trl-sft", "output")).config).toEqual(loadModel(base).config);
    s.store.close();
  });

  it("redacts a token typed into the launch template from the launch line, the output and a failure's last lines", async () => {
    // a user's template with a literal token (not through an env var), which the job also echoes
    const token = "hf_TypedIntoTheTemplate0123456789abcd";
    const wandb = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    const launch = `HF_TOKEN=${token} WANDB_API_KEY=${wandb} sh -c 'echo "login $HF_TOKEN"; echo "wandb $WANDB_API_KEY"; exit 3'`;
    const s = setup("typed-token", {}, { launch });
    const err = await new TrlBackend({ pollMs: 20 }).train("sft", s.job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrlJobError);
    const shown = [...s.logs, (err as Error).message].join("\n");
    expect(shown).toContain("trl-sft: launched");
    expect(shown).toMatch(/\| login \[REDACTED\]/);
    expect(shown).toMatch(/wandb \[REDACTED\]/);
    expect(shown).not.toContain(token);
    expect(shown).not.toContain(wandb);
    s.store.close();
  });

  it("kills a job that outlives training.trl.timeoutMs, with an error naming the key", async () => {
    const s = setup("timeout", {}, { launch: `python3 -c 'import time; time.sleep(60)'`, timeoutMs: 800 });
    const t0 = Date.now();
    const err = await new TrlBackend({ pollMs: 20, killGraceMs: 300 }).train("sft", s.job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrlJobError);
    expect((err as Error).message).toMatch(/training\.trl\.timeoutMs: the sft job of round 1 ran longer than 800 ms/);
    expect(Date.now() - t0).toBeLessThan(20_000);
    const pid = Number(/pid (\d+)/.exec((err as Error).message)?.[1]);
    // The job is gone (allow a loaded machine a moment to reap it).
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive()).toBe(false);
    s.store.close();
  });

  it("a failed job and an invalid adapter are errors naming the cause; the next call launches again", async () => {
    const s = setup("invalid", { FAKE_TRL_EXIT: "3" });
    const backend = new TrlBackend({ pollMs: 20 });
    const failed = (await backend.train("sft", s.job).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(failed.message).toMatch(/exited with status 3[\s\S]*CUDA out of memory \\u\{1b\}\[2J/);
    expect(failed.message).not.toContain("\u001b"); // the job's output is escaped for the terminal
    process.env.FAKE_TRL_EXIT = "";
    process.env.FAKE_TRL_BAD_MODULE = "o_proj";
    await expect(backend.train("sft", s.job)).rejects.toThrow(
      /adapter_model\.safetensors: tensor base_model\.model\.model\.layers\.0\.self_attn\.o_proj\.lora_A\.weight adapts o_proj, which is not a target module/,
    );
    process.env.FAKE_TRL_BAD_MODULE = "";
    // every attempt appends to one train.log: progress and the failure tail are this attempt's only
    const steps: number[] = [];
    const ok = await new TrlBackend({ pollMs: 20, onProgress: (p) => steps.push(p.step) }).train("sft", s.job);
    expect(steps).toEqual([1, 2, 3]);
    expect(ok.params.attempt).toBe(3);
    expect(launches(s.counter)).toBe(3);
    s.store.close();
  });

  it("a job that wrote its exit status is picked up even while its shell has yet to exit (no second wait, no launch)", async () => {
    const s = setup("status-first");
    const first = await new TrlBackend({ pollMs: 20 }).train("sft", s.job);
    const key = (await import("../../../store/store.ts")).keyHash({ runId: s.job.runId, round: 1, stage: "sft" });
    const done = s.store.states.current(TRL_STATE_ENTITY, key)?.detail as { launched: Record<string, unknown> };
    // the window after run.sh's last line: exit_status is there and the job's pid still runs (a stand-in process)
    const shell = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      s.store.states.set(TRL_STATE_ENTITY, key, "launched", { ...done.launched, pid: shell.pid, pidStart: null });
      const again = await new TrlBackend({ pollMs: 20 }).train("sft", s.job);
      expect(s.logs.some((l) => l.includes(`the job (pid ${shell.pid}) ended while nobody watched`))).toBe(true);
      expect(s.logs.some((l) => l.includes("re-attaching"))).toBe(false);
      expect(launches(s.counter)).toBe(1);
      expect(again.steps).toBe(first.steps);
    } finally {
      shell.kill("SIGKILL");
      s.store.close();
    }
  });

  it("a job a killed cycle launched but never recorded is stopped (found by run.sh's shell.pid) before the next launch", async () => {
    const s = setup("unrecorded");
    const backend = new TrlBackend({ pollMs: 20, killGraceMs: 300 });
    // the window: the cycle spawned run.sh and was killed before it recorded the launch (no state in the store)
    const folder = writeTrlJob(backend.jobDir("sft", s.job), {
      stage: "sft",
      round: 1,
      model: base,
      modelDir: base,
      data: sft,
      training: s.job.training,
    });
    const orphan = spawn("/bin/sh", [folder.runScript], {
      cwd: folder.dir,
      detached: true,
      stdio: "ignore",
      env: { ...process.env, FAKE_TRL_GATE: join(s.dir, "never") }, // trains, then waits for good
    });
    orphan.unref();
    const pid = orphan.pid!;
    try {
      for (let i = 0; i < 1200 && launches(s.counter) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(launches(s.counter)).toBe(1);
      expect(shellPid(folder.dir)).toEqual({ pid, pidStart: pidStartTime(pid) });
      const res = await backend.train("sft", s.job);
      expect(
        s.logs.some((l) => l.includes(`a job launched by a killed cycle (pid ${pid}) runs in ${folder.dir}`)),
      ).toBe(true);
      expect(s.logs.some((l) => l.includes(`stopping its process group ${pid}`))).toBe(true);
      expect(groupAlive(pid)).toBe(false);
      expect(launches(s.counter)).toBe(2);
      expect(res.steps).toBe(3);
    } finally {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // stopped, as it should be
      }
      s.store.close();
    }
  });

  it("a timed-out job's workers that ignore SIGTERM die with its shell (SIGKILL to the group after the grace)", async () => {
    const worker = `python3 -c 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("ready", flush=True); time.sleep(30)'`;
    const s = setup("stubborn", {}, { launch: worker, timeoutMs: 800 });
    const t0 = Date.now();
    const err = await new TrlBackend({ pollMs: 20, killGraceMs: 300 }).train("sft", s.job).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/training\.trl\.timeoutMs/);
    const pid = Number(/pid (\d+)/.exec((err as Error).message)?.[1]);
    // the whole group is gone (the shell died at SIGTERM; its worker only at SIGKILL, after the grace)
    // (`ps`, not our /proc reader; a killed worker may stay a zombie until init reaps it)
    const members = execFileSync("ps", ["-eo", "pid=,pgid=,stat="], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter(([p, g, st]) => p && Number(g) === pid && !st.startsWith("Z"));
    expect(members).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800 + 300);
    expect(s.logs.some((l) => l.includes(`stopping its process group ${pid}`))).toBe(true);
    s.store.close();
  });

  it("a killed cycle re-attaches to the running job (and picks up a finished one) instead of launching twice", async () => {
    // each job waits at a gate file after its steps, so the test (not the machine's speed) decides when it ends
    const s = setup("reattach", { FAKE_TRL_STEPS: "5", FAKE_TRL_STEP_S: "0.05" });
    const gate1 = join(s.dir, "gate-sft");
    const gate2 = join(s.dir, "gate-dpo");
    process.env.FAKE_TRL_GATE = gate1;
    const runChild = (stage: "sft" | "dpo") =>
      // one process (node with tsx's loader), so SIGKILL really ends the "cycle"
      spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          CHILD,
          JSON.stringify({
            storeFile: s.storeFile,
            outDir: s.job.outDir,
            from: base,
            sft,
            dpo,
            training: s.job.training,
            runId: s.job.runId,
            round: 1,
            stage,
          }),
        ],
        { stdio: "ignore", env: process.env },
      );
    const launchedPid = async (stage: "sft" | "dpo") => {
      const key = (await import("../../../store/store.ts")).keyHash({ runId: s.job.runId, round: 1, stage });
      for (let i = 0; i < 1200; i++) {
        const st = s.store.states.current(TRL_STATE_ENTITY, key);
        if (st?.state === "launched") return (st.detail as { pid: number }).pid;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("the child never recorded a launch");
    };

    // 1. the cycle is SIGKILLed while the job runs; the next call waits for that job
    const child = runChild("sft");
    const pid = await launchedPid("sft");
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(() => process.kill(child.pid ?? -1, 0)).toThrow();
    expect(() => process.kill(pid, 0)).not.toThrow();
    const attached = new TrlBackend({ pollMs: 50 }).train("sft", s.job);
    expect(s.logs.some((l) => l.includes(`re-attaching to the running job (pid ${pid}`))).toBe(true);
    writeFileSync(gate1, "");
    const res = await attached;
    expect(launches(s.counter)).toBe(1);
    expect(res.steps).toBe(5);

    // 2. killed, and the job finishes before the next call: its output is used
    process.env.FAKE_TRL_GATE = gate2;
    const child2 = runChild("dpo");
    const pid2 = await launchedPid("dpo");
    child2.kill("SIGKILL");
    await new Promise((r) => child2.once("exit", r));
    writeFileSync(gate2, "");
    // the job ends on its own (a loaded machine may take a while to start python); its shell may still be exiting
    const status = join(s.job.outDir, "trl-dpo", "exit_status");
    for (let i = 0; i < 1200 && !existsSync(status); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(status)).toBe(true);
    const d = await new TrlBackend({ pollMs: 50 }).train("dpo", s.job);
    expect(s.logs.some((l) => l.includes(`the job (pid ${pid2}) ended while nobody watched`))).toBe(true);
    expect(launches(s.counter)).toBe(2);
    expect(d.model.kind).toBe("folder");
    s.store.close();
  });
});
