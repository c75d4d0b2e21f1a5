/**
 * What identifies a cycle run (runIdentityOf, cycleArgs). The training backends' operational settings (time limits,
 * launch command and rendezvous address, polling, API key names, prices) are not part of it: raising a timeout, as its
 * error advises, resumes the run (and its recorded jobs) instead of starting another. The demo preset's and the
 * default config's identities are pinned: the published demo figures come from runs with these ids, so a change of
 * what is hashed must leave them byte-identical.
 */
import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { contentHash } from "../domain/hash.ts";
import { type CycleOptions, cycleArgs, runIdentityOf } from "./cycle.ts";

const config = (yaml: string) => ({ ...parseConfig(yaml, "breakfix.yaml", "/w"), workspace: "/w", dataCache: "/d" });
const configHash = (c: Config) => contentHash(runIdentityOf(c));
/** cycleArgs with a fixed scenario and budgets: what the config adds to the run id beside configHash. */
const argsHash = (c: Config) =>
  contentHash(
    cycleArgs({
      config: c,
      scenario: { identity: { pin: true }, models: { base: { kind: "remote", id: "pin" }, identity: {} } },
      workspace: "/w",
      rounds: c.cycle.rounds,
      budgets: { seedsPerCategory: 1, maxAttacks: 1, maxTokens: 32, personas: [] },
    } as unknown as CycleOptions),
  );
const id = (c: Config) => `${configHash(c)} ${argsHash(c)}`;

describe("the run identity", () => {
  it("leaves out the training backends' operational settings", () => {
    const same: [string, string][] = [
      [
        "training: {backend: command, command: {run: 'train {x}'}}",
        "training: {backend: command, command: {run: 'train {x}', timeoutMs: 1000}}",
      ],
      [
        "training: {backend: trl, trl: {topology: ddp, numProcesses: 2}}",
        "training: {backend: trl, trl: {topology: ddp, numProcesses: 2, timeoutMs: 5, launch: 'sbatch {script}', mainProcessIp: 10.0.0.1, mainProcessPort: 29500}}",
      ],
      [
        "training: {backend: openai, openai: {model: gpt-4o-mini}}",
        "training: {backend: openai, openai: {model: gpt-4o-mini, pollSeconds: 60, apiKeyEnv: MY_KEY, secretsFile: s.env, trainingPerMTok: 3}}",
      ],
    ];
    for (const [a, b] of same) expect(id(config(b)), b).toBe(id(config(a)));
  });

  it("keeps what changes results", () => {
    const differ: [string, string][] = [
      [
        "training: {backend: command, command: {run: 'train {x}'}}",
        "training: {backend: command, command: {run: 'other {x}'}}",
      ],
      ["training: {backend: trl, trl: {}}", "training: {backend: trl, trl: {precision: fp32}}"],
      [
        "training: {backend: openai, openai: {model: gpt-4o-mini}}",
        "training: {backend: openai, openai: {model: gpt-4o-mini, epochs: 2}}",
      ],
      ["training: {seed: 0}", "training: {seed: 1}"],
    ];
    for (const [a, b] of differ) {
      expect(configHash(config(b)), b).not.toBe(configHash(config(a)));
      expect(argsHash(config(b)), b).not.toBe(argsHash(config(a)));
    }
  });

  it("of the demo preset and of the default config is pinned (the published demo figures' run ids)", () => {
    const demo = config("extends: demo\n");
    expect(configHash(demo)).toBe("45918e20fac72708222ab7fc4daededb8dee37f73e18d6c1690dce848e003f5c");
    expect(argsHash(demo)).toBe("82df657456c01b8ad8e3f9051a229d29a84f1d604a841fb53fb6ec34006b565f");
    const dflt = { ...defaultConfig("/w"), dataCache: "/d" };
    expect(configHash(dflt)).toBe("831300856bd38589b1ecf31d8d8fdbbdcb08734e6e84cd05d971789771d66daf");
    expect(argsHash(dflt)).toBe("ba6baee6fc49a219aa5a9e8f0fab422fc88c9545e90b169a2e67debf9daaf4d5");
  });
});
