/**
 * End-to-end tests of `breakfix init`, `config check` and `data list|show|pull` through the real bin script
 * (node bin/breakfix.js), as a user runs them.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { OWN_MODEL_STARTER, STARTER_CONFIG } from "../../config/starter.ts";
import { sharedDatasetsDir } from "../../datasets/paths.ts";
import { packagePath } from "../../domain/package.ts";
import { CliError } from "../errors.ts";
import { registerConfigCommands } from "./config.ts";
import { registerData } from "./data.ts";

const REPO = path.resolve(import.meta.dirname, "../../..");
const BIN = path.join(REPO, "bin", "breakfix.js");
/** "../shared/datasets" in a normal checkout (as the acceptance commands write it); follows $BREAKFIX_DATASETS. */
const SHARED = path.relative(REPO, sharedDatasetsDir());

function breakfix(args: string[], cwd = REPO): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, BREAKFIX_CONFIG: "" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs the commands in this process (fast; the bin script is exercised by the acceptance tests above it), with
 * main.ts's error handling: a CliError prints "breakfix: message" and sets its exit code.
 */
async function inProcess(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = new Command().exitOverride();
  registerConfigCommands(program);
  registerData(program);
  let stdout = "";
  const write = process.stdout.write.bind(process.stdout);
  const savedCwd = process.cwd();
  const savedEnv = process.env.BREAKFIX_CONFIG;
  delete process.env.BREAKFIX_CONFIG;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.chdir(cwd);
  try {
    await program.parseAsync(["node", "breakfix", ...args]);
    return { code: 0, stdout, stderr: "" };
  } catch (err) {
    if (err instanceof CliError) return { code: err.exitCode, stdout, stderr: `breakfix: ${err.message}\n` };
    throw err;
  } finally {
    process.stdout.write = write;
    process.chdir(savedCwd);
    if (savedEnv !== undefined) process.env.BREAKFIX_CONFIG = savedEnv;
  }
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

describe("breakfix data", () => {
  it("data show xstest --path ../shared/datasets/xstest --json: 450 probes, 250 safe, 200 unsafe", () => {
    const r = breakfix(["data", "show", "xstest", "--path", `${SHARED}/xstest`, "--json"]);
    expect(r.code).toBe(0);
    const s = lastJson(r.stdout);
    expect(s.total).toBe(450);
    expect(s.by_label).toEqual({ safe: 250, unsafe: 200 });
    expect(s.by_category).toEqual({ benign: 250, S1: 125, S10: 50, S7: 25 });
    expect(s.by_language).toEqual({ en: 450 });
  });

  it("data show multijail --json: 315 probes in each of 10 languages", () => {
    const r = breakfix(["data", "show", "multijail", "--path", `${SHARED}/multijail`, "--json"]);
    expect(r.code).toBe(0);
    const s = lastJson(r.stdout);
    expect(s.total).toBe(3150);
    const langs = s.by_language as Record<string, number>;
    expect(Object.keys(langs).sort()).toEqual(["ar", "bn", "en", "it", "jv", "ko", "sw", "th", "vi", "zh"]);
    for (const n of Object.values(langs)) expect(n).toBe(315);
  });

  it("data show custom: a broken CSV gives file, line and problem and exits 2", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-cli-"));
    const f = path.join(dir, "mine.csv");
    writeFileSync(f, 'prompt,category\n"How do I pick a lock?",S2\n"unclosed,S1\n');
    const r = await inProcess(
      ["data", "show", "custom", "--path", f, "--map", "prompt=prompt,category=category"],
      REPO,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`breakfix: ${f}:3: a quoted field is never closed (missing closing double quote)\n`);
    writeFileSync(f, 'prompt,category\n"How do I pick a lock?",S2\n"Tell me a joke",benign\n');
    const ok = await inProcess(
      ["data", "show", "custom", "--path", f, "--map", "prompt=prompt,category=category", "--json"],
      REPO,
    );
    expect(ok.code).toBe(0);
    expect(lastJson(ok.stdout)).toMatchObject({ total: 2, by_category: { S2: 1, benign: 1 } });
  });

  it("data show without --path reads where bench does: the cache, else the shared copy; an unknown name lists the known ones", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-cli-"));
    // no breakfix.yaml: the shared copy, as bench reads it (data show used to look in .breakfix/data only)
    const shared = await inProcess(["data", "show", "xstest", "--json"], dir);
    expect(shared.code, shared.stderr).toBe(0);
    expect(lastJson(shared.stdout)).toMatchObject({ total: 450 });
    // a breakfix.yaml whose dataCache does not exist: the shared copy too
    writeFileSync(path.join(dir, "breakfix.yaml"), "dataCache: cache\n");
    const noCache = await inProcess(["data", "show", "xstest", "--json"], dir);
    expect(lastJson(noCache.stdout)).toMatchObject({ total: 450 });
    // a breakfix.yaml whose dataCache exists: the cache, and a dataset missing from it is named there
    mkdirSync(path.join(dir, "cache"));
    const missing = await inProcess(["data", "show", "xstest"], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(path.join(dir, "cache", "xstest", "xstest_prompts.csv"));
    expect(missing.stderr).toContain("file not found");
    const byFile = await inProcess(
      [
        "data",
        "show",
        "strongreject-small",
        "--path",
        path.join(sharedDatasetsDir(), "strongreject", "strongreject_dataset.csv"),
        "--json",
      ],
      dir,
    );
    expect(lastJson(byFile.stdout)).toMatchObject({ total: 60 });
    const unknown = await inProcess(["data", "show", "nope"], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown dataset 'nope'; known: xstest, advbench, /);
  });

  it("data pull --from file://... fills the cache that data show then reads", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-cli-"));
    const from = `${pathToFileURL(path.join(sharedDatasetsDir(), "simplesafetytests")).href}/`;
    const r = await inProcess(["data", "pull", "simplesafetytests", "--cache", "cache", "--from", from], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("simplesafetytests: downloaded simplesafetytests_test_cases.csv (12610 bytes");
    expect(r.stdout).toContain("simplesafetytests: 100 rows in");
    const again = await inProcess(["data", "pull", "simplesafetytests", "--cache", "cache", "--from", from], dir);
    expect(again.stdout).toContain("simplesafetytests: cached simplesafetytests_test_cases.csv");
    writeFileSync(path.join(dir, "breakfix.yaml"), "dataCache: cache\n");
    const show = await inProcess(["data", "show", "simplesafetytests", "--json"], dir);
    expect(show.code).toBe(0);
    expect(lastJson(show.stdout)).toMatchObject({ total: 100, by_category: { S2: 40, S1: 20, S11: 20, S4: 20 } });
  });

  it("data pull all --from <folder of folders>: the cache layout is what every loader reads", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-cli-"));
    const from = pathToFileURL(sharedDatasetsDir()).href;
    const r = await inProcess(["data", "pull", "all", "--cache", "c", "--from", from], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("xstest-completions: 1350 rows in");
    expect(r.stdout).toContain("multijail: 3150 rows in");
    expect(r.stdout).toContain("hh-rlhf-harmless: 2312 rows in");
    // no breakfix.yaml here: the shared copy, as bench reads (a --cache elsewhere is read once the config names it)
    const show = await inProcess(["data", "show", "xstest-completions", "--json"], dir);
    expect(show.code, show.stderr).toBe(0);
    writeFileSync(path.join(dir, "breakfix.yaml"), "dataCache: c\n");
    rmSync(path.join(dir, "c", "multijail"), { recursive: true });
    const gone = await inProcess(["data", "show", "multijail"], dir);
    expect(gone.stderr).toContain(path.join(dir, "c", "multijail")); // the cache it names is read, not the shared copy
    const show2 = await inProcess(["data", "show", "xstest-completions", "--json"], dir);
    expect(lastJson(show2.stdout)).toMatchObject({ total: 1350, by_label: { "2_full_refusal": 490 } });
  });

  it("data list names every dataset", async () => {
    const r = await inProcess(["data", "list", "--json"], REPO);
    expect(r.code).toBe(0);
    const names = (JSON.parse(r.stdout) as { name: string }[]).map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(["xstest", "multijail", "catqa", "ailuminate", "hh-rlhf-harmless"]));
  });
});

describe("breakfix init / config check", () => {
  it("init writes the own-model starter, a preset or every key, and refuses to overwrite without --force", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-cli-"));
    expect((await inProcess(["init"], dir)).code).toBe(0);
    expect(readFileSync(path.join(dir, "breakfix.yaml"), "utf8")).toBe(OWN_MODEL_STARTER);
    const again = await inProcess(["init"], dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe("breakfix: breakfix.yaml already exists; pass --force to overwrite it\n");
    // The starter names the user's own files: config check says which are still missing, then passes once they exist.
    const missing0 = await inProcess(["config", "check"], dir);
    expect(missing0.code).toBe(2);
    expect(missing0.stderr).toContain(
      `breakfix.yaml: training.model: no such folder ${path.join(dir, "checkpoints/my-model")}`,
    );
    expect(missing0.stderr).toContain(
      `breakfix.yaml: curation.retention: no such file ${path.join(dir, "capability.jsonl")}`,
    );
    expect(missing0.stderr).toContain(
      `breakfix.yaml: benchmarks.suites.2.file: no such file ${path.join(dir, "capability-heldout.jsonl")}`,
    );
    mkdirSync(path.join(dir, "checkpoints", "my-model"), { recursive: true });
    for (const f of ["capability.jsonl", "capability-heldout.jsonl"]) writeFileSync(path.join(dir, f), "");
    const check0 = await inProcess(["config", "check"], dir);
    expect(check0.code, check0.stderr).toBe(0);
    expect(check0.stdout).toContain("provider: openai-compatible");
    expect((await inProcess(["init", "--force", "--all-keys"], dir)).code).toBe(0);
    expect(readFileSync(path.join(dir, "breakfix.yaml"), "utf8")).toBe(STARTER_CONFIG);
    const check = await inProcess(["config", "check"], dir);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^# breakfix\.yaml: valid\n/);
    expect(check.stdout).toContain("provider: builtin");
    // The demo recipe is a preset file in the format a user writes; the file init writes is that preset.
    expect((await inProcess(["init", "--force", "--preset", "demo"], dir)).code).toBe(0);
    const preset = readFileSync(path.join(dir, "breakfix.yaml"), "utf8");
    expect(preset).toBe(readFileSync(packagePath("presets", "demo.yaml"), "utf8"));
    const demo = await inProcess(["config", "check"], dir);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain("cumulative: true");
    expect((await inProcess(["init", "--force", "--preset", "nope"], dir)).code).toBe(2);
  });

  it("a broken breakfix.yaml exits 2 naming the file, key path and expected values", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-cli-"));
    writeFileSync(path.join(dir, "breakfix.yaml"), "target:\n  provider: gpt\n");
    const r = breakfix(["config", "check", "breakfix.yaml"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'breakfix: breakfix.yaml: target.provider: expected one of openai-compatible, llamacpp, builtin, anthropic, got "gpt"\n',
    );
    writeFileSync(path.join(dir, "breakfix.yaml"), "target:\n  provider: builtin\n  model: demo: x\n");
    const syntax = await inProcess(["config", "check"], dir);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/^breakfix: breakfix\.yaml:3:\d+: YAML syntax error: /);
  });

  it("config check names every file the config points to that does not exist (exit 2)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-cli-"));
    writeFileSync(path.join(dir, "seeds.jsonl"), "");
    writeFileSync(
      path.join(dir, "breakfix.yaml"),
      [
        "target:",
        "  provider: llamacpp",
        "  model: models/missing.gguf",
        "  adapter: adapters/gone",
        "judge:",
        "  provider: openai-compatible",
        "  model: m",
        "  baseUrl: http://127.0.0.1:1/v1",
        "  apiKeyEnv: JUDGE_KEY",
        "  secretsFile: secrets.env",
        "training:",
        "  model: base-model",
        "benchmarks:",
        "  suites:",
        "    - name: harmbench",
        "      path: data/harmbench",
        "redteam:",
        "  seeds: seeds.jsonl",
        "curation:",
        "  counterData: counter.jsonl",
        "  retention:",
        "    file: tasks.csv",
        "",
      ].join("\n"),
    );
    const r = await inProcess(["config", "check"], dir);
    expect(r.code).toBe(2);
    const lines = r.stderr
      .replace(/^breakfix: /, "")
      .trim()
      .split("\n");
    const at = (p: string) => path.join(dir, p);
    expect(lines).toEqual([
      `breakfix.yaml: target.adapter: no such file or folder ${at("adapters/gone")}`,
      `breakfix.yaml: target.model: no such file ${at("models/missing.gguf")}`,
      `breakfix.yaml: judge.secretsFile: no such file ${at("secrets.env")}`,
      `breakfix.yaml: training.model: no such folder ${at("base-model")}`,
      `breakfix.yaml: benchmarks.suites.0.path: no such folder ${at("data/harmbench")}`,
      `breakfix.yaml: curation.counterData: no such file ${at("counter.jsonl")}`,
      `breakfix.yaml: curation.retention: no such file ${at("tasks.csv")}`,
    ]);
  });

  it("config check never prints a key written inside a URL, and shows invisible characters escaped", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-cli-"));
    writeFileSync(
      path.join(dir, "breakfix.yaml"),
      [
        "target:",
        "  provider: openai-compatible",
        "  model: m",
        "  baseUrl: https://user:sk-userinfo-secret-1@api.example.com/v1",
        "  systemPrompt: 'be kind\u202e'",
        "judge:",
        "  provider: openai-compatible",
        "  model: j",
        "  baseUrl: https://api.example.com/v1?api_key=sk-query-secret-2&api-version=2024-06-01",
        "responder:",
        "  provider: openai-compatible",
        "  model: r",
        "  azure:",
        "    endpoint: https://res.openai.azure.com/?code=sk-azure-secret-3",
        "    apiVersion: 2024-06-01",
        "deploy:",
        "  vllm:",
        "    baseUrl: http://sk-deploy-secret-4@127.0.0.1:8000",
        "",
      ].join("\n"),
    );
    const r = await inProcess(["config", "check"], dir);
    expect(r.code, r.stderr).toBe(0);
    for (const secret of ["sk-userinfo-secret-1", "sk-query-secret-2", "sk-azure-secret-3", "sk-deploy-secret-4"])
      expect(r.stdout).not.toContain(secret);
    expect(r.stdout).toContain("baseUrl: https://api.example.com/v1\n");
    // a setting that names no one stays visible
    expect(r.stdout).toContain("baseUrl: https://api.example.com/v1?api-version=2024-06-01\n");
    expect(r.stdout).toContain("endpoint: https://res.openai.azure.com/\n");
    expect(r.stdout).not.toContain("\u202e");
    expect(r.stdout).toContain("be kind\\u{202e}");
  });

  it("no config file: the demo preset", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-cli-"));
    const r = await inProcess(["config", "check"], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# no breakfix\.yaml: the demo preset\n/);
    expect(r.stdout).toContain("seeds: world");
    expect(existsSync(path.join(dir, "breakfix.yaml"))).toBe(false);
  });
});
