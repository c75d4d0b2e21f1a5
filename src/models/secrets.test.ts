import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Store } from "../store/index.ts";
import { createChatModel } from "./registry.ts";
import { StoreResponseCache } from "./reliability/store-cache.ts";
import { UsageMeter } from "./reliability/usage.ts";
import { listUsage, saveUsage } from "./reliability/usage-store.ts";
import {
  maskCredentials,
  parseSecretsFile,
  redactModelIds,
  redactSecretFormats,
  redactSecrets,
  redactUrl,
  registerSecret,
  resolveApiKey,
  secretRedactor,
} from "./secrets.ts";
import { MockChatServer } from "./testing/mock-server.ts";

const root = mkdtempSync(path.join(tmpdir(), "secrets-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("secrets", () => {
  it("parses dotenv and YAML/JSON secrets files", () => {
    expect(parseSecretsFile('# c\nexport A_KEY=one\nB="two words"\n', "s.env")).toEqual({
      A_KEY: "one",
      B: "two words",
    });
    expect(parseSecretsFile("A_KEY: one\nB: 2\n", "s.yaml")).toEqual({ A_KEY: "one", B: "2" });
    expect(parseSecretsFile('{"A_KEY": "one"}', "s.json")).toEqual({ A_KEY: "one" });
    expect(() => parseSecretsFile("- a\n- b\n", "s.yaml")).toThrow(/s\.yaml: secrets file must be a mapping/);
    expect(() => parseSecretsFile("A: [1]\n", "s.yaml")).toThrow(/s\.yaml: A: expected a string/);
  });

  it("resolves from the env var first, then the secrets file, and names what is missing (never the value)", () => {
    const file = path.join(root, "secrets.env");
    writeFileSync(file, "MY_KEY=from-file-123456789\n");
    expect(resolveApiKey({ apiKeyEnv: "MY_KEY" }, { MY_KEY: "from-env-123456789" })).toBe("from-env-123456789");
    expect(resolveApiKey({ apiKeyEnv: "MY_KEY", secretsFile: file }, {})).toBe("from-file-123456789");
    expect(resolveApiKey({}, {})).toBeUndefined();
    expect(() => resolveApiKey({ apiKeyEnv: "NOPE_KEY" }, {})).toThrow(/environment variable NOPE_KEY is not set/);
    expect(() => resolveApiKey({ apiKeyEnv: "OTHER", secretsFile: file }, {})).toThrow(
      /secrets\.env: no non-empty entry "OTHER"/,
    );
    expect(() => resolveApiKey({ apiKeyEnv: "X", secretsFile: path.join(root, "missing.env") }, {})).toThrow(
      /cannot read secrets file/,
    );
  });

  it("redacts registered secrets", () => {
    registerSecret("sk-redact-me-0123456789");
    expect(redactSecrets("key sk-redact-me-0123456789 twice sk-redact-me-0123456789")).toBe(
      "key [REDACTED] twice [REDACTED]",
    );
  });

  it("redacts well-known token formats by shape, and leaves prose and ids alone", () => {
    // fake tokens in the providers' formats
    for (const token of [
      "sk-Abcdefghijklmnopqrstuvwx0123",
      "sk-proj-Abcdefghijklmnopqrstuvwx0123",
      "sk-ant-api03-Abcdefghijklmnopqrstuvwx0123",
      "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
      "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
      "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
      "glpat-abcdefghij0123456789",
      "xoxb-123456789012-abcdefghijklmnop",
      "xoxp-123456789012-abcdefghijklmnop",
      "AKIAABCDEFGHIJKLMNOP",
      "AIzaSyA0123456789abcdefghijklmnopqrstuv",
      "sk_live_0123456789abcdefABCDEF",
      "npm_abcdefghijklmnopqrstuvwxyz0123456789",
    ])
      expect([token, redactSecretFormats(`a ${token}, b`)]).toEqual([token, "a [REDACTED], b"]);
    expect(redactSecretFormats("Authorization: Bearer eyJhbGciOi.J9.sig")).toBe("Authorization: Bearer [REDACTED]");
    expect(redactSecretFormats("Authorization: Basic dXNlcjpwYXNz")).toBe("Authorization: Basic [REDACTED]");
    for (const prose of [
      "Bearer authentication is used; Basic settings apply",
      "task-0123456789abcdefghij scikit-learn risk-assessment-of-everything",
      "model Qwen/Qwen2.5-0.5B-Instruct at /tmp/out/hf_cache",
    ])
      expect(redactSecretFormats(prose)).toBe(prose);
  });

  it("secretRedactor: also the values a command line gives credential-named variables and flags", () => {
    const redact = secretRedactor(
      `WANDB_API_KEY="plain-value-1" export MY_SECRET=plain-value-2; trainer --hub-token plain-value-3 --api-key=plain-value-4 --data {data} --token $HF_TOKEN --key abc`,
    );
    expect(redact("1 plain-value-1 2 plain-value-2 3 plain-value-3 4 plain-value-4 data $HF_TOKEN abc")).toBe(
      "1 [REDACTED] 2 [REDACTED] 3 [REDACTED] 4 [REDACTED] data $HF_TOKEN abc",
    );
    registerSecret("registered-secret-0001");
    expect(redact("registered-secret-0001 hf_abcdefghijklmnopqrstuvwxyz")).toBe("[REDACTED] [REDACTED]");
  });
});

describe("an API key set in the environment never reaches the database, logs or reports", () => {
  it("after a run with successes, retries, echoed keys in errors and a permanent failure", async () => {
    const key = `sk-leaktest-${randomBytes(16).toString("hex")}`;
    const envName = "BREAKFIX_LEAKTEST_API_KEY";
    process.env[envName] = key;
    const workspace = path.join(root, "ws");
    // the server requires the key, and echoes the Authorization header into its error bodies
    const server = new MockChatServer({
      apiKey: key,
      echoAuthOnError: true,
      fault: (n, body) => (body.messages?.[0]?.content === "permanent failure" ? "400" : n % 4 === 1 ? "500" : "ok"),
    });
    const baseUrl = await server.start();
    const store = Store.open(workspace);
    const logFile = path.join(workspace, "run.log");
    const meter = new UsageMeter();
    try {
      const model = await createChatModel(
        {
          provider: "openai-compatible",
          baseUrl,
          model: "mock",
          apiKeyEnv: envName,
          retries: 4,
          pricing: { inputPerMTok: 1, outputPerMTok: 2 },
        },
        {
          cache: new StoreResponseCache(store),
          meter,
          reliability: { baseMs: 1 },
          onEvent: (e) => appendFileSync(logFile, `${JSON.stringify(e)}\n`),
        },
      );
      const prompts = Array.from({ length: 12 }, (_, i) => `question ${i}`);
      const results = await Promise.all(prompts.map((p) => model.chat({ messages: [{ role: "user", content: p }] })));
      expect(results).toHaveLength(12);
      const failure = await model
        .chat({ messages: [{ role: "user", content: "permanent failure" }] })
        .catch((e: Error) => e);
      expect(failure).toBeInstanceOf(Error);
      appendFileSync(logFile, `error: ${(failure as Error).message}\n`);
      // reports: usage snapshot as JSON and Markdown
      const snap = meter.snapshot();
      writeFileSync(path.join(workspace, "report.json"), JSON.stringify({ model: model.id, usage: snap }, null, 2));
      writeFileSync(path.join(workspace, "report.md"), `# Run\n\nmodel ${model.id}\n\n${JSON.stringify(snap)}\n`);
      // responses recorded in the store as the stages do
      store.responses.putMany(
        results.map((r, i) => ({
          key: { model: model.id, prompt: prompts[i] },
          value: {
            id: `r${i}`,
            model: r.model,
            conversation: [{ role: "user" as const, content: prompts[i] }],
            content: r.content,
            finishReason: r.finishReason,
            usage: r.usage,
          },
        })),
      );
      // usage and cost of the run, saved in the store as the cycle does
      const saved = saveUsage(store, "run-leaktest", meter, "break");
      expect(listUsage(store, "run-leaktest")).toEqual([saved]);
      expect(saved.totalCostUsd).toBeGreaterThan(0);
      await (model as { close?: () => Promise<void> }).close?.();
    } finally {
      store.close();
      await server.stop();
      delete process.env[envName];
    }
    // the test is meaningful: the key was used, errors did echo it, and the echo was redacted
    expect(server.count("ok")).toBeGreaterThan(0);
    expect(server.count("500")).toBeGreaterThan(0);
    const log = readFileSync(logFile, "utf8");
    expect(log).toContain("[REDACTED]");
    expect(log).toContain("bad request");
    // scan every file the run left (db, WAL, SHM, log, reports) as raw bytes, including a base64 form of the key
    const needles = [Buffer.from(key), Buffer.from(Buffer.from(key).toString("base64"))];
    const files = readdirSync(workspace)
      .map((f) => path.join(workspace, f))
      .filter((f) => statSync(f).isFile());
    expect(files.map((f) => path.basename(f)).sort()).toEqual(
      expect.arrayContaining(["breakfix.db", "report.json", "report.md", "run.log"]),
    );
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const n of needles) expect(bytes.includes(n), `${path.basename(f)} contains the API key`).toBe(false);
    }
  });
});

describe("redactModelIds (exports of stored records)", () => {
  it("cuts credentials from model and endpoint ids at any depth and leaves every other string as stored", () => {
    const id = "openai-compatible:https://ann:sk-x1@gw.example/v1?api-key=q2#m";
    const said = "see https://ann:pw@site.example/a?api-key=kept&page=2";
    const record = {
      target: id,
      attack: { target: id, steps: [{ params: { via: id } }] },
      judgement: { judgeId: id, rationale: said },
      response: { model: id, content: said },
      turns: [{ response: { model: id, content: said } }],
      n: 3,
      ok: null,
    };
    const out = redactModelIds(record);
    const text = JSON.stringify(out);
    expect(text).not.toContain("sk-x1");
    expect(text).not.toMatch(/api-key=q2/);
    expect(out.target).toBe("openai-compatible:https://gw.example/v1#m");
    expect(out.attack.steps[0].params.via).toBe(out.target);
    // model output and rationales are data: unchanged
    expect(out.response.content).toBe(said);
    expect(out.turns[0].response.content).toBe(said);
    expect(out.judgement.rationale).toBe(said);
    expect({ n: out.n, ok: out.ok }).toEqual({ n: 3, ok: null });
    expect(record.target).toBe(id); // the input is not changed
  });
});

describe("credentials in text that is not a valid URL", () => {
  it("maskCredentials masks user-info and credential query values by shape; redactUrl falls back to it", () => {
    expect(maskCredentials("http://ann:sk-1@exa mple.com/v1?api-version=2024&api-key=q2&x=3")).toBe(
      "http://[REDACTED]@exa mple.com/v1?api-version=2024&api-key=[REDACTED]&x=[REDACTED]",
    );
    expect(maskCredentials("ftp//sk-1@host/v1")).toBe("ftp//[REDACTED]@host/v1");
    expect(maskCredentials("http://ann:k@y@host/v1")).toBe("http://[REDACTED]@host/v1"); // "@" in the password
    expect(maskCredentials("https:/ann:sk-1@host/v1")).toBe("https:/[REDACTED]@host/v1");
    expect(maskCredentials('got "ann:sk-1@api.example.com/v1"')).toBe('got "[REDACTED]@api.example.com/v1"');
    expect(maskCredentials("no url here, ann@example.com")).toBe("no url here, ann@example.com");
    expect(redactUrl("failed: http://ann:sk-1@host:99999/v1?key=q2 (bad port)")).toBe(
      "failed: http://[REDACTED]@host:99999/v1?key=[REDACTED] (bad port)",
    );
    // a valid URL is still rewritten exactly, credentials removed
    expect(redactUrl("see https://ann:sk-1@host/v1?api-key=q2#m")).toBe("see https://host/v1#m");
  });
});
