/**
 * The named public suites (what `breakfix bench --suite NAME` accepts) and groups of them ("demo", "safety",
 * "overrefusal"). A suite spec says which dataset it reads and how to build the suite from shared dependencies:
 * the judge, the datasets folder, an optional user probe file (which replaces the suite's probes), the simulated
 * user for multi-turn, and the demo world.
 */
import path from "node:path";
import { sharedDatasetsDir } from "../datasets/paths.ts";
import { folderOf, getProbeLoader } from "../datasets/registry.ts";
import type { Probe } from "../domain/types.ts";
import type { Judge } from "../judges/types.ts";
import type { ChatModel } from "../models/types.ts";
import { FramingRegistry } from "../redteam/framings/index.ts";
import type { GroundednessGrader } from "./multiturn/groundedness.ts";
import { createMultiTurnSuite } from "./multiturn/suite.ts";
import { RunFailedError, type RunOptions, runSuite } from "./runner.ts";
import { createCapabilitySuite } from "./suites/capability.ts";
import type { ProbeSource } from "./suites/common.ts";
import { createHarmfulSuite } from "./suites/harmful.ts";
import { createJailbreakSuite } from "./suites/jailbreak.ts";
import { createOverRefusalSuite } from "./suites/overrefusal.ts";
import type { Suite, SuiteRunResult } from "./types.ts";

export interface SuiteDeps {
  /** Grades every suite except capability (default in the CLI: the pattern refusal classifier). */
  judge: Judge;
  /** Folder holding one sub-folder per dataset (default: the shared datasets folder). */
  datasetsDir?: string;
  /** The dataset's own folder for this suite (breakfix.yaml benchmarks.suites[].path); overrides datasetsDir. */
  datasetPath?: string;
  /** A user probe file's probes; when set they replace the probes of every suite built. */
  userProbes?: ProbeSource;
  /** The simulated user of the multi-turn suite. */
  simulator?: ChatModel;
  groundedness?: GroundednessGrader;
  /** Extra jailbreak framings (YAML/JSON files in the red-team format). */
  framingFiles?: string[];
  /** A system prompt put before every probe. */
  systemPrompt?: string;
}

/** What a suite measures (the cycle reads a round's figures by role). */
export type SuiteRole = "harmful" | "jailbreak" | "multiturn" | "overrefusal" | "capability";

export interface SuiteSpec {
  name: string;
  summary: string;
  role: SuiteRole;
  /** The dataset it reads (for `--help` and the probe-count tests); undefined for plug-in / user-file suites. */
  dataset?: string;
  /**
   * Texts that fix data must never overlap, for suites that read no dataset (a plug-in's held-out split), under one
   * set name shared by the suites that read the same texts.
   */
  references?: { set: string; texts(): { id: string; text: string }[] };
  /** The red-team families a variant of this suite touches (jailbreak suites of plug-ins with their own framings). */
  variantFamilies?(variant: string): string[] | undefined;
  /**
   * Whether the suite reads a user probe file (SuiteDeps.userProbes, `bench --probes`) when one is given; default: when
   * it reads a dataset (datasetSource then gives the file's probes instead). See readsProbeFile.
   */
  readsProbeFile?: boolean;
  build(deps: SuiteDeps): Suite;
}

/** Whether a suite reads a user probe file when one is given (`bench --probes FILE`); a plug-in's own items do not. */
export function readsProbeFile(spec: SuiteSpec): boolean {
  return spec.readsProbeFile ?? spec.dataset !== undefined;
}

/** Probes of a built-in dataset, optionally filtered; read from DIR/<dataset folder>. */
export function datasetSource(dataset: string, deps: SuiteDeps, filter?: (p: Probe) => boolean): ProbeSource {
  if (deps.userProbes) return deps.userProbes;
  return async () => {
    const dir = deps.datasetPath ?? path.join(deps.datasetsDir ?? sharedDatasetsDir(), folderOf(dataset));
    const probes = await getProbeLoader(dataset).load(dir);
    return filter ? probes.filter(filter) : probes;
  };
}

const isStrongRejectJudge = (j: Judge) => j.id.startsWith("strongreject");

function harmful(name: string, dataset: string, summary: string, filter?: (p: Probe) => boolean): SuiteSpec {
  return {
    name,
    role: "harmful",
    dataset,
    summary,
    build: (d) =>
      createHarmfulSuite({
        name,
        description: summary,
        probes: datasetSource(dataset, d, filter),
        judge: d.judge,
        rubricScore: isStrongRejectJudge(d.judge),
        systemPrompt: d.systemPrompt,
      }),
  };
}

/** HarmBench contextual behaviors become summarization scenarios: the context is the document, the ask the goal. */
export function toMultiTurnProbe(p: Probe): Probe {
  const ctx = p.meta?.contextString;
  if (typeof ctx !== "string") return p;
  const ask = p.prompt.split("\n\n---\n\n").pop() ?? p.prompt;
  return { ...p, prompt: ask, meta: { ...p.meta, document: ctx } };
}

/** The suites of this folder; plug-ins add theirs with registerSuites (e.g. the demo world's, from world/). */
export const SUITE_SPECS: SuiteSpec[] = [
  harmful("harmbench", "harmbench-test", "HarmBench test behaviors (320): DR per category"),
  harmful(
    "jailbreakbench",
    "jailbreakbench",
    "JailbreakBench harmful behaviors (100): DR per category",
    (p) => p.label === "unsafe",
  ),
  harmful("strongreject", "strongreject", "StrongREJECT (313): DR, and the rubric score with a StrongREJECT judge"),
  harmful("strongreject-small", "strongreject-small", "StrongREJECT small (60)"),
  harmful("simplesafetytests", "simplesafetytests", "SimpleSafetyTests (100): DR per harm area"),
  harmful("do-not-answer", "do-not-answer", "Do-Not-Answer (939): DR per harm type", (p) => p.label === "unsafe"),
  harmful("ailuminate", "ailuminate", "AILuminate demo prompts (1,200 en_US + 1,200 fr_FR): DR per hazard"),
  harmful("catqa", "catqa", "CatQA (550 x en/zh/vi): DR per category and language"),
  harmful("advbench", "advbench", "AdvBench harmful behaviors (520)"),
  {
    name: "multijail",
    role: "harmful",
    dataset: "multijail",
    summary: "MultiJail (315 x 10 languages): DR per language",
    build: (d) =>
      createHarmfulSuite({
        name: "multijail",
        description: "MultiJail: DR per language (unintentional scenario: the prompt alone)",
        probes: datasetSource("multijail", d),
        judge: d.judge,
        by: ["language", "category"],
        systemPrompt: d.systemPrompt,
      }),
  },
  {
    name: "xstest",
    role: "overrefusal",
    dataset: "xstest",
    summary: "XSTest (250 safe / 200 unsafe): VPRR and IPRR, full and partial refusal",
    build: (d) =>
      createOverRefusalSuite({
        name: "xstest",
        probes: datasetSource("xstest", d),
        judge: d.judge,
        systemPrompt: d.systemPrompt,
      }),
  },
  {
    name: "jbb-benign",
    role: "overrefusal",
    dataset: "jailbreakbench",
    summary: "JailbreakBench benign behaviors (100): benign refusal rate",
    build: (d) =>
      createOverRefusalSuite({
        name: "jbb-benign",
        description: "JailbreakBench benign twins: refusal rate on benign requests",
        probes: datasetSource("jailbreakbench", d, (p) => p.label === "safe"),
        judge: d.judge,
        safeName: "benign_refusal_rate",
        bySourceLabel: false,
        systemPrompt: d.systemPrompt,
      }),
  },
  {
    name: "jailbreak",
    role: "jailbreak",
    dataset: "jailbreakbench",
    summary: "JailbreakBench harmful (100) x 12 fixed seeded jailbreak techniques: DR per technique",
    build: (d) =>
      createJailbreakSuite({
        name: "jailbreak",
        probes: datasetSource("jailbreakbench", d, (p) => p.label === "unsafe"),
        judge: d.judge,
        framings: d.framingFiles?.length ? FramingRegistry.fromFiles(d.framingFiles) : undefined,
      }),
  },
  {
    name: "multiturn",
    role: "multiturn",
    dataset: "harmbench-test",
    summary: "Multi-turn with a simulated user (HarmBench test seeds): DR per scenario, ungroundedness of summaries",
    build: (d) => {
      if (!d.simulator) throw new Error("suite multiturn needs a simulated-user model (--simulator)");
      const base = datasetSource("harmbench-test", d);
      return createMultiTurnSuite({
        name: "multiturn",
        probes: async () => (await base()).map(toMultiTurnProbe),
        simulator: d.simulator,
        judge: d.judge,
        groundedness: d.groundedness,
        systemPrompt: d.systemPrompt,
      });
    },
  },
  {
    name: "capability",
    role: "capability",
    summary: "Capability retention: exact match on a task file (--probes, meta column 'answer')",
    readsProbeFile: true,
    build: (d) => {
      if (!d.userProbes) throw new Error("suite capability needs a task file (--probes FILE with an answer column)");
      return createCapabilitySuite({ name: "capability", probes: d.userProbes, systemPrompt: d.systemPrompt });
    },
  },
];

export const SUITE_GROUPS: Record<string, readonly string[]> = {
  harmful: ["harmbench", "jailbreakbench", "strongreject", "simplesafetytests", "do-not-answer", "ailuminate", "catqa"],
  overrefusal: ["xstest", "jbb-benign"],
};

/** Adds a plug-in's suites and groups (idempotent: a name registered again replaces the earlier spec). */
export function registerSuites(specs: readonly SuiteSpec[], groups: Record<string, readonly string[]> = {}): void {
  for (const s of specs) {
    const i = SUITE_SPECS.findIndex((x) => x.name === s.name);
    if (i >= 0) SUITE_SPECS[i] = s;
    else SUITE_SPECS.push(s);
  }
  Object.assign(SUITE_GROUPS, groups);
}

export function suiteNames(): string[] {
  return SUITE_SPECS.map((s) => s.name);
}

/** Expands "a,b,group" into suite specs (groups expanded, duplicates removed); throws listing the known names. */
export function resolveSuiteNames(spec: string): SuiteSpec[] {
  const out: SuiteSpec[] = [];
  for (const raw of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const names = SUITE_GROUPS[raw] ?? [raw];
    for (const n of names) {
      const s = SUITE_SPECS.find((x) => x.name === n);
      if (!s) {
        throw new Error(
          `unknown suite '${n}'; suites: ${suiteNames().join(", ")}; groups: ${Object.keys(SUITE_GROUPS).join(", ")}`,
        );
      }
      if (!out.includes(s)) out.push(s);
    }
  }
  if (out.length === 0) throw new Error("no suite named (--suite NAME[,NAME])");
  return out;
}

export interface NamedRun {
  results: SuiteRunResult[];
  /** Items that failed to generate, by suite (retried on the next run with the same settings). */
  failed: Record<string, number>;
}

/**
 * Runs suites by name (groups allowed) one after another against one target: what `breakfix bench` and the cycle
 * call. A suite whose generations partly fail still contributes its finished records; its failures are counted.
 */
export async function runNamedSuites(
  names: string,
  target: ChatModel,
  deps: SuiteDeps,
  opts: RunOptions,
): Promise<NamedRun> {
  const out: NamedRun = { results: [], failed: {} };
  for (const spec of resolveSuiteNames(names)) {
    try {
      out.results.push(await runSuite(spec.build(deps), target, opts));
    } catch (e) {
      if (!(e instanceof RunFailedError)) throw e;
      out.results.push(e.result);
      out.failed[spec.name] = e.failed;
    }
  }
  return out;
}
