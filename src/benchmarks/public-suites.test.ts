/**
 * Every public dataset suite, end to end: the real dataset files from the shared folder, a scripted target behind
 * the project's OpenAI-compatible server (a real HTTP server on 127.0.0.1; `breakfix serve` runs the same server
 * for the demo model), the project's OpenAI-compatible client, and the pattern refusal classifier as judge. Item
 * counts are the datasets' own row counts; metrics are checked against what the script does. Every item of each
 * set is sent, except the four largest (a seeded 600-item sample each, to keep the default test suite fast).
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedDatasetsDir } from "../datasets/paths.ts";
import { PatternRefusalJudge } from "../judges/refusal/classifier.ts";
import type { ChatModel } from "../models/types.ts";
import { suiteConformance } from "./conformance.testkit.ts";
import { resolveSuiteNames } from "./registry.ts";
import { type ScriptedServer, startScriptedServer } from "./testing/scripted-server.ts";
import { baseRefuses, targetScript } from "./testing/scripts.ts";
import type { SuiteRunResult } from "./types.ts";

const hasData = fs.existsSync(sharedDatasetsDir());
let server: ScriptedServer;
let client: ChatModel;
beforeAll(async () => {
  server = await startScriptedServer(targetScript());
  client = server.client(64);
});
afterAll(async () => server?.close());

const judge = new PatternRefusalJudge();
const build = (name: string) => () => resolveSuiteNames(name)[0].build({ judge });

/** Dataset row counts from each SOURCE.md (what the suite must send). */
const EXPECTED: Record<string, number> = {
  harmbench: 320,
  jailbreakbench: 100,
  strongreject: 313,
  "strongreject-small": 60,
  simplesafetytests: 100,
  "do-not-answer": 939,
  ailuminate: 2400,
  catqa: 1650,
  advbench: 520,
  multijail: 3150,
  xstest: 450,
  "jbb-benign": 100,
  jailbreak: 100 * 12,
};

/** The script refuses ~25% by hash; the suite's DR must equal exactly the share it complied with. */
function checkDefectRate(r: SuiteRunResult): void {
  const dr = r.metrics.find((m) => m.headline);
  expect(dr?.name).toBe("DR");
  const expected = r.records.filter((x) => !baseRefuses(x.conversation.at(-2)?.content ?? "")).length;
  expect(dr?.successes).toBe(expected);
  expect(dr?.n).toBe(r.records.length);
  expect(dr?.value).toBeGreaterThan(0.6);
  expect(dr?.value).toBeLessThan(0.9);
}

describe.skipIf(!hasData)("public suites over a real local OpenAI-compatible server", () => {
  for (const name of ["harmbench", "jailbreakbench", "strongreject", "strongreject-small", "simplesafetytests"]) {
    suiteConformance(name, build(name), () => client, { expectedItems: EXPECTED[name], check: checkDefectRate });
  }
  // The four largest sets run a seeded sample of 600 items each (their full item lists are still built and counted)
  // so the folder's tests stay fast; the sample goes through exactly the same code as the full sets above.
  for (const name of ["do-not-answer", "ailuminate", "catqa"]) {
    suiteConformance(name, build(name), () => client, {
      expectedItems: EXPECTED[name],
      limit: 600,
      check: checkDefectRate,
    });
  }
  suiteConformance("advbench", build("advbench"), () => client, {
    expectedItems: EXPECTED.advbench,
    check: checkDefectRate,
  });

  suiteConformance("multijail", build("multijail"), () => client, {
    expectedItems: EXPECTED.multijail,
    limit: 600,
    check: (r) => {
      checkDefectRate(r);
      const langs = r.metrics.filter((m) => m.group?.by === "language");
      expect(langs.map((m) => m.group?.value).sort()).toEqual([
        "ar",
        "bn",
        "en",
        "it",
        "jv",
        "ko",
        "sw",
        "th",
        "vi",
        "zh",
      ]);
      expect(langs.reduce((a, m) => a + (m.n ?? 0), 0)).toBe(600);
    },
  });

  suiteConformance("xstest", build("xstest"), () => client, {
    expectedItems: EXPECTED.xstest,
    check: (r) => {
      const vprr = r.metrics.find((m) => m.name === "VPRR");
      const iprr = r.metrics.find((m) => m.name === "IPRR");
      expect(vprr).toMatchObject({ n: 250, headline: true, higherIsBetter: false });
      expect(iprr).toMatchObject({ n: 200, higherIsBetter: true });
      const refusedSafe = r.records.filter(
        (x) => x.label === "safe" && baseRefuses(x.conversation.at(-2)?.content ?? ""),
      );
      expect(vprr?.successes).toBe(refusedSafe.length);
      expect(r.metrics.find((m) => m.name === "VPRR/partial")?.successes).toBe(0);
      // one breakdown row per XSTest type (18 types x 25 prompts)
      const types = r.metrics.filter((m) => m.group?.by === "variant");
      expect(types).toHaveLength(18);
      for (const t of types) expect(t.n).toBe(25);
    },
  });

  suiteConformance("jbb-benign", build("jbb-benign"), () => client, {
    expectedItems: EXPECTED["jbb-benign"],
    check: (r) => {
      const m = r.metrics.find((x) => x.headline);
      expect(m).toMatchObject({ name: "benign_refusal_rate", n: 100 });
    },
  });

  suiteConformance("jailbreak", build("jailbreak"), () => client, {
    expectedItems: EXPECTED.jailbreak,
    check: (r) => {
      const techniques = r.metrics.filter((m) => m.group?.by === "variant");
      expect(techniques).toHaveLength(12);
      for (const t of techniques) expect(t.n).toBe(100);
      // the target saw the transformed prompt, the judge the original goal
      const b64 = r.records.find((x) => x.variant === "base64");
      expect(b64?.conversation.at(-2)?.content).not.toContain(b64?.probeId);
    },
  });

  it("every named dataset suite has a probe-count expectation here", () => {
    const covered = new Set(Object.keys(EXPECTED));
    const dataSuites = resolveSuiteNames("harmful,overrefusal,multijail,advbench,strongreject-small,jailbreak");
    for (const s of dataSuites) expect(covered.has(s.name), s.name).toBe(true);
  });
});
