/**
 * `breakfix train` with no flags runs what the cycle's local backend runs: both are parsed or built for real and the
 * options each hands to runTraining compared whole (runTraining itself is replaced by a recorder: nothing trains).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../config/index.ts";
import { DEMO_MODEL_DIR } from "../../models/registry.ts";
import { LocalBackend } from "../../train/backends/local.ts";
import type { BackendJob } from "../../train/backends/types.ts";
import type { RunOptions } from "../../train/run.ts";
import { withExitScheme } from "../errors.ts";
import { registerTrain } from "./train.ts";

const calls: RunOptions[] = [];
vi.mock("../../train/run.ts", () => ({
  runTraining: async (o: RunOptions) => {
    calls.push(o);
    return {
      method: o.method,
      rows: 0,
      trainRows: 0,
      evalRows: 0,
      droppedTooLong: 0,
      steps: 0,
      final: {},
      outputs: { model: path.join(o.outDir, "model"), metrics: path.join(o.outDir, "metrics.jsonl") },
    };
  },
}));

const dir = mkdtempSync(path.join(tmpdir(), "bf-train-cli-"));
const data = path.join(dir, "rows.jsonl");
const val = path.join(dir, "val.jsonl");
writeFileSync(data, "");
writeFileSync(val, "");

/** The options `breakfix train METHOD ARGS` hands to runTraining, through commander's real parsing and defaults. */
async function cliRun(args: string[]): Promise<RunOptions> {
  const program = withExitScheme(new Command().exitOverride());
  registerTrain(program);
  const spy = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    calls.length = 0;
    await program.parseAsync(["node", "breakfix", "train", ...args]);
  } finally {
    spy.mockRestore();
  }
  expect(calls).toHaveLength(1);
  return calls[0];
}

/** The options the cycle's local backend hands to runTraining for round 0 of the default config (the demo preset). */
async function localRun(method: "sft" | "dpo", out: string): Promise<RunOptions> {
  const job = {
    runId: "r",
    round: 0,
    from: { kind: "folder", dir: DEMO_MODEL_DIR },
    data: { sft: data, dpo: data, sftVal: val, dpoVal: val },
    outDir: out,
    training: loadConfig(undefined).training,
    store: undefined,
    log: () => {},
  } as unknown as BackendJob;
  calls.length = 0;
  await new LocalBackend().train(method, job);
  expect(calls).toHaveLength(1);
  return calls[0];
}

/** What decides the weights: everything but the callbacks and which exports are written. */
const decisive = ({ events: _e, onLockWait: _l, exportMerged: _m, overwrite: _o, ...rest }: RunOptions) => rest;

describe("breakfix train: one way to build training options", () => {
  beforeEach(() => {
    calls.length = 0;
  });

  for (const method of ["sft", "dpo"] as const) {
    it(`${method} with no flags runs what the cycle's local backend runs (loss on the last assistant turn, no held-out share)`, async () => {
      const out = path.join(dir, `out-${method}`);
      const cli = await cliRun([method, "--model", DEMO_MODEL_DIR, "--data", data, "--eval-data", val, "--out", out]);
      const local = await localRun(method, out);
      expect(decisive(cli)).toEqual(decisive(local));
      expect(cli.lossOn).toBe("last_assistant");
      // without --eval-data nothing is held out of --data either, as in the cycle
      const noEval = await cliRun([method, "--model", DEMO_MODEL_DIR, "--data", data, "--out", out]);
      expect(noEval.evalFraction).toBe(0);
      expect(decisive(noEval)).toEqual({ ...decisive(local), evalFile: undefined });
    });
  }

  it("a flag replaces its value only", async () => {
    const out = path.join(dir, "out-flags");
    const base = ["dpo", "--model", DEMO_MODEL_DIR, "--data", data, "--eval-data", val, "--out", out];
    const cfg = loadConfig(undefined).training;
    const local = await localRun("dpo", out);
    const cli = await cliRun([...base, "--lr", "0.001", "--beta", "0.2", "--seed", "9", "--loss-on", "all"]);
    expect(decisive(cli)).toEqual({
      ...decisive(local),
      lossOn: "all",
      train: {
        ...local.train,
        lr: 0.001,
        seed: 9,
        objective: { kind: "dpo", loss: cfg.dpo.loss, beta: 0.2, sftAlpha: 1 },
      },
    });
    const frac = await cliRun([
      "sft",
      "--model",
      DEMO_MODEL_DIR,
      "--data",
      data,
      "--out",
      out,
      "--eval-fraction",
      "0.1",
    ]);
    expect(frac.evalFraction).toBe(0.1);
  });

  it("rejects an unknown --loss-on with exit 2", async () => {
    const out = path.join(dir, "out-bad");
    const err = await cliRun([
      "sft",
      "--model",
      DEMO_MODEL_DIR,
      "--data",
      data,
      "--out",
      out,
      "--loss-on",
      "every",
    ]).catch((e: unknown) => e as { exitCode?: number; message: string });
    expect(err).toMatchObject({ exitCode: 2 });
    expect(calls).toHaveLength(0);
  });
});
