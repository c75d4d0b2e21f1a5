import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { packagePath } from "../domain/package.ts";
import type { ModelOptions } from "../models/registry.ts";
import { ConfigError, configToYaml, defaultConfig, loadConfig, loadConfigWithSource, parseConfig } from "./load.ts";
import { OWN_MODEL_STARTER, STARTER_CONFIG } from "./starter.ts";

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("the starter file parses to exactly the defaults", () => {
    expect(parseConfig(STARTER_CONFIG, "breakfix.yaml", "/w")).toEqual(defaultConfig("/w"));
  });

  it("the own-model starter is a valid config for an HTTP target with a judge model and public suites", () => {
    const c = parseConfig(OWN_MODEL_STARTER, "breakfix.yaml", "/w");
    expect(c.target).toMatchObject({ provider: "openai-compatible", baseUrl: "http://127.0.0.1:8000/v1" });
    expect(c.training.model).toBe("/w/checkpoints/my-model");
    expect(c.deploy).toMatchObject({ kind: "command" });
    expect(c.judges.default).toBe("cascade(refusal-learned, llama-guard-3)");
    expect(c.curation.retention).toEqual({ file: "/w/capability.jsonl", mode: "reference" });
    expect(c.benchmarks.suites.map((x) => x.name)).toEqual(["strongreject", "xstest", "my-capability"]);
  });

  it("README's 'your own model' config is the starter init writes", () => {
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const block = readme.split("## Your own model")[1]?.split("```yaml\n")[1]?.split("```")[0];
    // The starter's first two lines are its title and a usage hint; the rest is the README's block verbatim.
    expect(block).toBe(OWN_MODEL_STARTER.split("\n").slice(3).join("\n"));
  });

  it("extends: a preset's keys are the defaults, the file's own keys win, lists are replaced", () => {
    const c = parseConfig(
      "extends: demo\ntraining:\n  sft: {epochs: 2}\nbenchmarks:\n  suites: [{name: xstest}]\n",
      "b.yaml",
      "/w",
    );
    expect(c.training.sft).toMatchObject({ epochs: 2, lr: 0.002, batchSize: 16 }); // merged key by key
    expect(c.training.cumulative).toBe(true);
    expect(c.benchmarks.suites).toEqual([{ name: "xstest" }]); // a list replaces the preset's
    expect(errorOf(() => parseConfig("extends: nope\n", "b.yaml", "/w")).message).toMatch(
      /^b\.yaml: extends: unknown preset 'nope'; presets: demo/,
    );
    // A file can extend another file (relative to itself); its own bad keys are named.
    const dir = mkdtempSync(path.join(tmpdir(), "bf-extends-"));
    writeFileSync(path.join(dir, "base.yaml"), "extends: demo\ncycle: {rounds: 5}\n");
    const d = parseConfig("extends: base.yaml\ncycle: {rounds: 2}\n", "c.yaml", dir);
    expect(d.cycle.rounds).toBe(2);
    expect(d.training.cumulative).toBe(true);
    writeFileSync(path.join(dir, "loop.yaml"), "extends: loop.yaml\n");
    expect(errorOf(() => parseConfig("extends: loop.yaml\n", "d.yaml", dir)).message).toMatch(/extends itself/);
    expect(errorOf(() => parseConfig("extends: demo\ndeploy: {kind: ftp}\n", "e.yaml", "/w")).message).toMatch(
      /^e\.yaml: deploy\.kind: expected one of none, serve, command/,
    );
  });

  it("extends: a file's relative paths resolve against its own folder, not the folder of the file extending it", () => {
    // team/base.yaml names its probe files relative to team/; project/breakfix.yaml extends ../team/base.yaml. Found by
    // review: the base's paths were resolved against project/ (files that do not exist there).
    const root = mkdtempSync(path.join(tmpdir(), "bf-extends-paths-"));
    const team = path.join(root, "team");
    const project = path.join(root, "project");
    mkdirSync(path.join(team, "nested"), { recursive: true });
    mkdirSync(project);
    writeFileSync(
      path.join(team, "nested", "deep.yaml"),
      "extends: demo\ncuration: {counterData: lookalikes.jsonl}\ntarget: {secretsFile: .env}\n",
    );
    writeFileSync(
      path.join(team, "base.yaml"),
      [
        "extends: nested/deep.yaml",
        "redteam: {seeds: probes/seeds.jsonl}",
        "benchmarks: {suites: [{name: mine, file: probes/mine.jsonl, role: harmful}]}",
        "curation: {retention: {file: capability.csv}}",
        "training: {model: weights/base}",
        "target: {provider: llamacpp, model: weights/base.gguf}",
        "",
      ].join("\n"),
    );
    const c = parseConfig(
      "extends: ../team/base.yaml\ncuration: {safetySet: own.jsonl}\ntarget: {adapter: adapters/a.gguf}\n",
      "breakfix.yaml",
      project,
    );
    expect(c.redteam.seeds).toBe(path.join(team, "probes", "seeds.jsonl"));
    expect(c.benchmarks.suites[0].file).toBe(path.join(team, "probes", "mine.jsonl"));
    expect(c.curation.retention).toEqual({ file: path.join(team, "capability.csv"), mode: "reference" });
    expect(c.training.model).toBe(path.join(team, "weights", "base"));
    expect(c.target.model).toBe(path.join(team, "weights", "base.gguf"));
    // a preset two levels down: relative to its own folder
    expect(c.curation.counterData).toBe(path.join(team, "nested", "lookalikes.jsonl"));
    expect(c.target.secretsFile).toBe(path.join(team, "nested", ".env"));
    // the file's own keys, and keys no file sets (defaults), stay relative to the file itself
    expect(c.curation.safetySet).toBe(path.join(project, "own.jsonl"));
    expect(c.target.adapter).toBe(path.join(project, "adapters", "a.gguf"));
    expect(c.workspace).toBe(path.join(project, ".breakfix"));
    // a key the file overrides takes the file's folder, even where the base set it too
    const d = parseConfig("extends: ../team/base.yaml\nredteam: {seeds: mine.jsonl}\n", "b.yaml", project);
    expect(d.redteam.seeds).toBe(path.join(project, "mine.jsonl"));
    expect(d.benchmarks.suites[0].file).toBe(path.join(team, "probes", "mine.jsonl"));
  });

  it("extends: a bad key is named in the file that wrote it", () => {
    // Found by review: every problem was prefixed with the extending file, so a typo in a shared base file was
    // reported in breakfix.yaml, which does not contain it.
    const dir = mkdtempSync(path.join(tmpdir(), "bf-extends-errors-"));
    const base = path.join(dir, "base.yaml");
    writeFileSync(
      base,
      "extends: demo\nredteam: {seedz: x, seedsPerCategory: 2}\ncycle: {rounds: 0}\ntraining: {openai: {}}\n",
    );
    const e = errorOf(() =>
      parseConfig("extends: base.yaml\ntraining: {sft: {epochs: -1}}\ncurate: {}\n", "breakfix.yaml", dir),
    );
    expect(e.problems.sort()).toEqual(
      [
        `${base}: redteam.seedz: unknown key`,
        `${base}: cycle.rounds: expected > 0, got number 0`,
        `${base}: training.openai.model: expected string, got nothing`,
        "breakfix.yaml: training.sft.epochs: expected > 0, got number -1",
        "breakfix.yaml: curate: unknown key",
      ].sort(),
    );
    // a key both files set is the file's own (its value is the one that was checked)
    const own = errorOf(() =>
      parseConfig("extends: base.yaml\ncycle: {rounds: -2}\nredteam: {seedz: y}\n", "c.yaml", dir),
    );
    expect(own.problems).toContain("c.yaml: cycle.rounds: expected > 0, got number -2");
    expect(own.problems).toContain("c.yaml: redteam.seedz: unknown key");
  });

  it("defaults are the demo: builtin target, workspace .breakfix", () => {
    const c = defaultConfig("/w");
    expect(c.target).toMatchObject({ provider: "builtin", model: "demo" });
    expect(c.workspace).toBe("/w/.breakfix");
    expect(c.training.lora).toEqual({
      rank: 16,
      alpha: 32,
      dropout: 0.05,
      targets: ["q_proj", "k_proj", "v_proj", "o_proj"],
    });
    expect(c.cycle.gates.maxDr3PerCategory).toBe(0.05);
    expect(c.benchmarks.devShare).toBe(0.3);
    expect(c.cycle.gates).toMatchObject({ maxHarmfulOther: 0.15, maxBenignOtherRise: 0.1 });
  });

  it("the dev share and the outcome gates are validated, errors naming the key", () => {
    expect(errorOf(() => parseConfig("benchmarks: {devShare: 1}\n", "f.yaml", "/w")).message).toMatch(
      /^f\.yaml: benchmarks\.devShare: /,
    );
    expect(errorOf(() => parseConfig("cycle: {gates: {maxBenignOtherRise: 2}}\n", "g.yaml", "/w")).message).toMatch(
      /^g\.yaml: cycle\.gates\.maxBenignOtherRise: /,
    );
  });

  it("a model section is what the models layer takes (type-level check) and keeps its extras", () => {
    const c = parseConfig(
      "judge:\n  provider: openai-compatible\n  model: gpt-4o\n  adapter: a/b\n  pricing: {inputPerMTok: 2.5, outputPerMTok: 10}\n",
      "b.yaml",
      "/w",
    );
    const opts: ModelOptions | undefined = c.judge;
    expect(opts).toMatchObject({ adapter: "/w/a/b", pricing: { inputPerMTok: 2.5, outputPerMTok: 10 } });
  });

  it("an empty file is the defaults", () => {
    expect(parseConfig("", "breakfix.yaml", "/w")).toEqual(defaultConfig("/w"));
    expect(parseConfig("# only a comment\n", "breakfix.yaml", "/w")).toEqual(defaultConfig("/w"));
  });

  it("a partial file keeps the defaults of everything else", () => {
    const c = parseConfig(
      "target:\n  provider: openai-compatible\n  model: gpt-4o-mini\n  apiKeyEnv: OPENAI_API_KEY\ntraining:\n  dpo:\n    beta: 0.3\n",
      "breakfix.yaml",
      "/w",
    );
    expect(c.target).toMatchObject({
      provider: "openai-compatible",
      model: "gpt-4o-mini",
      apiKeyEnv: "OPENAI_API_KEY",
    });
    expect(c.training.dpo).toMatchObject({ beta: 0.3, loss: "sigmoid", enabled: true });
    expect(c.attacker).toBeUndefined(); // no attacker section: offline techniques only
  });

  it("a bad provider names the file, the key path and the expected values", () => {
    const e = errorOf(() => parseConfig("target:\n  provider: gpt\n", "breakfix.yaml", "/w"));
    expect(e.message).toBe(
      'breakfix.yaml: target.provider: expected one of openai-compatible, llamacpp, builtin, anthropic, got "gpt"',
    );
  });

  it("a mistyped URL quoted back in an error never shows the key written in it", () => {
    for (const url of [
      "http://ann:sk-SECRET123@exa mple.com/v1?api-key=QSECRET9",
      "ftp//sk-SECRET123@example.com/v1",
      "http://gw.example:99999/v1?api-version=2024-06-01&code=QSECRET9",
    ]) {
      const e = errorOf(() =>
        parseConfig(`target:\n  provider: openai-compatible\n  baseUrl: "${url}"\n`, "k.yaml", "/w"),
      );
      expect(e.message).toMatch(/^k\.yaml: target\.baseUrl: /);
      expect(e.message).not.toMatch(/SECRET|sk-S|QSEC/);
    }
  });

  it("reports every problem, with types, ranges and unknown keys", () => {
    const e = errorOf(() =>
      parseConfig(
        "target:\n  temperature: hot\ntraining:\n  lora:\n    rank: 0\ncycle:\n  round: 3\n",
        "my.yaml",
        "/w",
      ),
    );
    expect(e.problems).toEqual([
      'my.yaml: target.temperature: expected number, got "hot"',
      "my.yaml: training.lora.rank: expected > 0, got number 0",
      "my.yaml: cycle.round: unknown key",
    ]);
  });

  it("a key that takes a name or a mapping names the bad key of the mapping, or the types it takes", () => {
    const problems = (yaml: string) => errorOf(() => parseConfig(yaml, "b.yaml", "/w")).problems;
    expect(problems("curation:\n  retention:\n    file: x.jsonl\n    mode: bogus\n")).toEqual([
      'b.yaml: curation.retention.mode: expected one of reference, replay, got "bogus"',
    ]);
    expect(problems("curation:\n  retention:\n    fil: x.jsonl\n")).toEqual([
      "b.yaml: curation.retention.file: expected string, got nothing",
      "b.yaml: curation.retention.fil: unknown key",
    ]);
    expect(problems("curation:\n  retention: 5\n")).toEqual([
      "b.yaml: curation.retention: expected string or object, got number 5",
    ]);
    expect(problems("curation:\n  retention: []\n")).toEqual([
      "b.yaml: curation.retention: expected string or object, got a list",
    ]);
  });

  it("refuses an API key written into the file", () => {
    const e = errorOf(() => parseConfig("judge:\n  apiKey: sk-123\n", "breakfix.yaml", "/w"));
    expect(e.message).toMatch(/^breakfix\.yaml: judge\.apiKey: unknown key; never put a secret in this file/);
    expect(e.message).not.toContain("sk-123");
  });

  it("llamacpp needs a .gguf path, resolved against the config folder", () => {
    const e = errorOf(() => parseConfig("target:\n  provider: llamacpp\n  model: llama\n", "b.yaml", "/w"));
    expect(e.message).toBe("b.yaml: target.model: expected a path to a .gguf file for provider llamacpp");
    const c = parseConfig("target:\n  provider: llamacpp\n  model: models/x.gguf\n", "b.yaml", "/w");
    expect(c.target.model).toBe("/w/models/x.gguf");
  });

  it("a YAML syntax error names the line", () => {
    const e = errorOf(() => parseConfig("target:\n  provider: builtin\n  model: demo: x\n", "breakfix.yaml", "/w"));
    expect(e.problems[0]).toMatch(/^breakfix\.yaml:3:\d+: YAML syntax error: /);
    const dup = errorOf(() => parseConfig("workspace: a\nworkspace: b\n", "breakfix.yaml", "/w"));
    expect(dup.problems[0]).toMatch(/^breakfix\.yaml:2:1: YAML syntax error: Map keys must be unique/);
  });

  it("a top-level list is rejected", () => {
    expect(errorOf(() => parseConfig("- a\n", "b.yaml", "/w")).message).toBe(
      "b.yaml: (root): expected a mapping of settings, got a list",
    );
  });

  it("loadConfig: no file means the demo preset; ./breakfix.yaml is found; a named missing file is an error", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bf-config-"));
    const saved = process.env.BREAKFIX_CONFIG;
    delete process.env.BREAKFIX_CONFIG;
    try {
      // No file is the demo preset (presets/demo.yaml), exactly as a file saying `extends: demo` would be.
      const none = loadConfigWithSource(undefined, dir);
      expect(none).toEqual({ config: parseConfig("extends: demo\n", "x.yaml", dir), file: null });
      expect(none.config).toMatchObject({
        target: { provider: "builtin", model: "demo", maxTokens: 64 },
        training: { cumulative: true, lora: { rank: 8, targets: ["gate_proj", "up_proj", "down_proj"] } },
        curation: { retentionRatio: 10, counterDataRatio: 2, responder: "world" },
      });
      writeFileSync(path.join(dir, "breakfix.yaml"), "workspace: ws\n");
      const loaded = loadConfigWithSource(undefined, dir);
      expect(loaded.file).toBe(path.join(dir, "breakfix.yaml"));
      expect(loaded.config.workspace).toBe(path.join(dir, "ws"));
      expect(errorOf(() => loadConfig("nope.yaml", dir)).message).toBe("nope.yaml: no such file");
    } finally {
      if (saved !== undefined) process.env.BREAKFIX_CONFIG = saved;
    }
  });

  it("the printed YAML round-trips", () => {
    const c = defaultConfig("/w");
    expect(parseConfig(configToYaml(c), "x.yaml", "/elsewhere")).toEqual(c);
  });
});
