/**
 * The command backend with real trainer commands (/bin/sh scripts standing in for a trainer): the contract's output
 * check, and the time limit stopping the trainer itself, not only the shell that started it.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configSchema } from "../../config/schema.ts";
import { groupAlive } from "../../domain/shell.ts";
import { registerSecret } from "../../models/secrets.ts";
import { Store } from "../../store/store.ts";
import { CommandBackend } from "./command.ts";
import type { BackendJob } from "./types.ts";

let work: string;
let store: Store;
const started: number[] = [];

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), "bf-command-"));
  store = Store.open(path.join(work, "ws"));
});
afterEach(() => {
  store.close();
  for (const pid of started.splice(0))
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
});

function makeJob(run: string, timeoutMs: number, log: string[]): BackendJob {
  const base = path.join(work, "base");
  mkdirSync(base, { recursive: true });
  const data = path.join(work, "sft.jsonl");
  writeFileSync(data, "");
  return {
    runId: "run-command-test",
    round: 1,
    from: { kind: "folder", dir: base },
    data: { sft: data, dpo: data },
    outDir: path.join(work, "out"),
    training: configSchema.shape.training.parse({ backend: "command", command: { run, timeoutMs } }),
    store,
    log: (l) => log.push(l),
  };
}

const pidIn = (file: string): number => {
  const pid = Number(readFileSync(file, "utf8").trim());
  started.push(pid);
  return pid;
};

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !["Z", "X"].includes(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]);
  } catch {
    return false;
  }
}

describe("command backend", () => {
  it("a trainer that leaves a merged model folder: the stage's model is that folder", async () => {
    const log: string[] = [];
    const run =
      "mkdir -p {out_dir}/model && cd {out_dir}/model && echo '{}' > config.json && touch tokenizer.json w.safetensors && echo trained {stage}";
    const r = await new CommandBackend().train("sft", makeJob(run, 10_000, log));
    expect(r.model).toEqual({ kind: "folder", dir: path.join(work, "out", "model") });
    expect(log).toContain("round 1: train-sft: trained sft");
  });

  it("the trainer's output is logged and quoted redacted of known secrets and escaped for the terminal", async () => {
    const key = "sk-command-backend-0123456789";
    registerSecret(key); // as resolveApiKey does for every key it reads; the trainer inherits the environment
    const log: string[] = [];
    const run = `echo "using ${key}"; printf 'sample: \\033]8;;http://x\\007link\\n'; : '\u001b]0;title\u0007'; exit 4`;
    const err = await new CommandBackend().train("sft", makeJob(run, 10_000, log)).catch((e: Error) => e);
    const out = log.filter((l) => l.startsWith("round 1: train-sft: "));
    // the command line itself is logged too (it holds the key here): redacted and terminal-safe as well
    expect(log.join("\n")).not.toContain(key);
    for (const control of ["\u001b", "\u0007"]) expect(log.join("\n")).not.toContain(control);
    expect(log[0]).toMatch(/^round 1: train-sft \(command\) echo "using \[REDACTED\]"; printf 'sample: \\033/);
    expect(log[0]).toContain(": '\\u{1b}]0;title\\u{7}'");
    expect(out).toEqual([
      "round 1: train-sft: using [REDACTED]",
      "round 1: train-sft: sample: \\u{1b}]8;;http://x\\u{7}link",
    ]);
    expect((err as Error).message).toBe(
      "training.command.run failed (exit 4): using [REDACTED] | sample: \\u{1b}]8;;http://x\\u{7}link",
    );
  });

  it("a token typed into training.command.run (never registered) is redacted from every line, the error and the record", async () => {
    // fake tokens in the shapes of the providers' formats
    const hf = "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH";
    const sk = "sk-proj-Abcdefghijklmnopqrstuvwxyz012345";
    const gh = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    const slack = "xoxb-123456789012-abcdefghijklmnop";
    const aws = "AKIAABCDEFGHIJKLMNOP";
    const bearer = "eyJhbGciOiJIUzI1NiJ9.payload.sig";
    const plain = "plain-but-secret-42"; // no known format: redacted because the command names it a token
    const run =
      `HF_TOKEN=${hf} OPENAI_API_KEY='${sk}' WANDB_API_KEY="${plain}" sh -c 'echo "hub $HF_TOKEN"; echo "openai $OPENAI_API_KEY"; echo "wandb $WANDB_API_KEY"'; ` +
      `echo "gh ${gh}"; echo "slack ${slack}"; echo "aws ${aws}"; echo "Authorization: Bearer ${bearer}"; ` +
      "trainer --hub-token " +
      hf +
      "; mkdir -p {out_dir}/model && cd {out_dir}/model && echo '{}' > config.json && touch tokenizer.json w.safetensors";
    const log: string[] = [];
    const r = await new CommandBackend().train("sft", makeJob(run, 10_000, log));
    const all = `${log.join("\n")}\n${JSON.stringify(r.params)}`;
    for (const secret of [hf, sk, gh, slack, aws, bearer, plain]) expect(all).not.toContain(secret);
    expect(log).toContain("round 1: train-sft: hub [REDACTED]");
    expect(log).toContain("round 1: train-sft: openai [REDACTED]");
    expect(log).toContain("round 1: train-sft: wandb [REDACTED]");
    expect(log).toContain("round 1: train-sft: gh [REDACTED]");
    expect(log).toContain("round 1: train-sft: slack [REDACTED]");
    expect(log).toContain("round 1: train-sft: aws [REDACTED]");
    expect(log).toContain("round 1: train-sft: Authorization: Bearer [REDACTED]");
    expect(log[0]).toMatch(/^round 1: train-sft \(command\) HF_TOKEN=\[REDACTED\] OPENAI_API_KEY='\[REDACTED\]'/);
    // and a trainer that fails quotes its last lines redacted
    const failing = `echo "token ${hf}"; exit 3`;
    const err = await new CommandBackend().train("dpo", makeJob(failing, 10_000, [])).catch((e: Error) => e);
    expect((err as Error).message).toBe("training.command.run failed (exit 3): token [REDACTED]");
  });

  it("past training.command.timeoutMs the trainer itself is stopped and the stage fails within seconds", async () => {
    // The trainer is a grandchild of /bin/sh -c that holds the output pipes (as `python train.py` would).
    const log: string[] = [];
    const run = "echo $$ > shell.pid; echo training; sh -c 'echo $$ > trainer.pid; exec sleep 30'; echo never";
    const t0 = Date.now();
    const err = await new CommandBackend().train("sft", makeJob(run, 500, log)).catch((e: Error) => e);
    const elapsed = Date.now() - t0;
    const shell = pidIn(path.join(work, "out", "shell.pid"));
    const trainer = pidIn(path.join(work, "out", "trainer.pid"));
    expect((err as Error).message).toBe(
      "training.command.run failed (ran over training.command.timeoutMs 500 ms; its process group was stopped with SIGTERM): training",
    );
    expect(elapsed).toBeLessThan(3_500);
    expect(running(trainer)).toBe(false);
    expect(groupAlive(shell)).toBe(false);
    expect(log.filter((l) => l.startsWith("round 1: train-sft: "))).toEqual(["round 1: train-sft: training"]);
  }, 15_000);
});
