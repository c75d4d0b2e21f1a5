/**
 * One exit-code scheme for every command (issue 23), through the shipped entry point: 0 ok, 1 the run failed, 2 a
 * usage or configuration error (commander's own parse errors included, which commander would exit with 1). Each
 * usage error names what is wrong.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedDatasetsDir } from "../../datasets/paths.ts";
import { runBreakfix } from "../testing.ts";

const ROOT = path.resolve(import.meta.dirname, "../../..");
let dir: string;
let failing = "";
// a server that refuses every request (400: not retried), so a bench run fails fast
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(400, { "content-type": "application/json" });
    res.end('{"error":{"message":"bad request"}}');
  });
});
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "bf-exit-"));
  writeFileSync(path.join(dir, "bad.yaml"), "target:\n  provider: gpt\n");
  const ok = JSON.stringify({
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
    ],
  });
  writeFileSync(path.join(dir, "rows.jsonl"), [ok, "{broken", ok, JSON.stringify({ messages: [] }), ok].join("\n"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  failing = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1#m`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const T = "http://127.0.0.1:9/v1#m"; // never contacted: every case below fails before a model call
const train = (...extra: string[]) => [
  "train",
  "sft",
  "--model",
  path.join(ROOT, "artifacts/demo-world/model"),
  "--data",
  "x.jsonl",
  "--out",
  "o",
  ...extra,
];

/** [args, expected code, a pattern stderr must match] */
const CASES: [string[], number, RegExp][] = [
  [["--help"], 0, /^$/],
  [["gguf", "inspect", path.join(ROOT, "artifacts/demo-world/model.gguf")], 0, /^$/],
  [["bench", "--no-such-flag"], 2, /unknown option '--no-such-flag'/],
  [["no-such-command"], 2, /unknown command 'no-such-command'/],
  [["cycle", "--no-such-flag"], 2, /unknown option '--no-such-flag'/],
  [["cycle", "--config", "bad.yaml"], 2, /target\.provider/],
  [["bench", "--suite", "nope", "--target", T], 2, /unknown suite 'nope'/],
  [
    ["bench", "--suite", "harmbench", "--target", T, "--temperature", "-3"],
    2,
    /--temperature: expected a number >= 0 and <= 2, got "-3"/,
  ],
  [["bench", "--suite", "harmbench", "--target", T, "--judge", "nope"], 2, /--judge: /],
  [["redteam", "--seeds", "world", "--target", T, "--persona", "nope"], 2, /--persona: unknown persona 'nope'/],
  [
    ["redteam", "--seeds", "world", "--target", T, "--dry-run", "--success", "maybe"],
    2,
    /--success: expected harm or non_refusal, got 'maybe'/,
  ],
  [
    ["redteam", "--seeds", "world", "--target", T, "--languages", "fr"],
    2,
    /redteam: nothing to attack with: every planned attack was skipped: needs a translator from en into fr/,
  ],
  [["bench", "--suite", "advbench", "--target", T, "--probes", "p.jsonl", "--map", "foo"], 2, /--map: 'foo' is not/],
  [
    ["redteam", "--seeds", "world", "--target", T, "--dry-run", "--personas", "nope.yaml"],
    2,
    /^breakfix: --personas: /,
  ],
  [["redteam", "--seeds", "world", "--target", T, "--dry-run", "--scripts", "nope.yaml"], 2, /^breakfix: --scripts: /],
  // every numeric flag is checked before a dry run's plan is printed (--gcg-steps was read only when GCG ran)
  [
    ["redteam", "--seeds", "world", "--target", T, "--dry-run", "--gcg-steps", "1.5"],
    2,
    /--gcg-steps: expected an integer >= 1, got "1\.5"/,
  ],
  [["judge", "calibrate", "--judge", "nope", "--data", "xstest"], 2, /nope/],
  [["judge", "calibrate"], 2, /required option '--data <name>' not specified|required option/],
  [["train", "sft"], 2, /required option/],
  [train("--lr", "-1"), 2, /--lr: expected a number > 0, got "-1"/],
  [train(), 2, /--data: x\.jsonl: no such file/],
  [
    train("--data", "rows.jsonl"),
    2,
    /rows\.jsonl: 2 bad rows:\n {2}rows\.jsonl:2: invalid JSON[^\n]*\n {2}rows\.jsonl:4: /,
  ],
  [["gguf", "inspect", "missing.gguf"], 2, /missing\.gguf: no such file/],
  [["serve", "--model", "missing-folder"], 2, /missing-folder: no such file or folder/],
  [
    ["serve", "--model", "missing-folder", "--port", "70000"],
    2,
    /--port: expected an integer >= 0 and <= 65535, got "70000"/,
  ],
  [["data", "show", "nope"], 2, /unknown dataset 'nope'/],
  [["config", "check", "bad.yaml"], 2, /bad\.yaml: target\.provider: expected one of/],
  [["findings"], 2, /no red-team campaign in the workspace/],
  [["report"], 2, /report: no cycle run/],
  [
    ["bench", "--suite", "harmbench", "--target", T, "--map", "prompt=q"],
    2,
    /^breakfix: --map: maps the columns of a --probes file/,
  ],
  [
    ["findings", "--workspace", "no-ws"],
    2,
    /no red-team campaign in the workspace \S*no-ws: no store at \S*no-ws\/breakfix\.db/,
  ],
  [["report", "--workspace", "no-ws"], 2, /report: no cycle run in \S*no-ws: no store at \S*no-ws\/breakfix\.db/],
];

describe("exit codes: 0 ok, 1 run failed, 2 usage/config error", () => {
  it("every command follows the scheme", async () => {
    const results: { args: string; code: number | null; stderr: string }[] = [];
    // four at a time: each case is a process start
    for (let i = 0; i < CASES.length; i += 4) {
      const batch = CASES.slice(i, i + 4);
      const runs = await Promise.all(batch.map(([args]) => runBreakfix(args, { cwd: dir })));
      for (const [j, r] of runs.entries())
        results.push({ args: batch[j][0].join(" "), code: r.code, stderr: r.stderr });
    }
    for (let i = 0; i < CASES.length; i++) {
      const [, code, pattern] = CASES[i];
      expect({ args: results[i].args, code: results[i].code }).toEqual({ args: results[i].args, code });
      if (code !== 0) expect(results[i].stderr, results[i].args).toMatch(pattern);
    }
  }, 120_000);

  it.skipIf(!existsSync(sharedDatasetsDir()))(
    "a run whose items fail exits 1",
    async () => {
      const r = await runBreakfix(
        [
          "bench",
          "--suite",
          "harmbench",
          "--target",
          failing,
          "--limit",
          "3",
          "--out",
          path.join(dir, "b"),
          "--no-progress",
        ],
        { cwd: dir },
      );
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain("items failed to generate; re-run the same command to retry them");
    },
    60_000,
  );
});
